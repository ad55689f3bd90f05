"""The competition metrics, from scikit-learn, by the names `competition.metric` takes.

    accuracy   share of exact labels
    macro_f1   F1 averaged over classes, so a small class counts as much as a big one
    micro_f1   F1 over every decision: equal to accuracy when each image has one label
    log_loss   cross-entropy of the probabilities, clipped like Kaggle's scorer (lower is better)
    roc_auc    area under the ROC curve: of the positive class's probability for two classes,
               one-vs-rest averaged over classes otherwise
    qwk        Cohen's kappa with quadratic weights, for ordered grades (APTOS-style); a number
               per image (an ordinal target) is cut into grades first (`grades`)
    map@K      mean average precision of K guesses per image, one true label (Humpback Whale map@5)
    rmse, mae  root mean squared / mean absolute error of a number per image (Pawpularity)
    f2         F-beta (beta 2) per image, averaged over images, of a set of tags (Planet)
    f1_samples F1 per image, averaged over images; macro_f1 of tags averages over the tags instead

Validation, the checkpoint kept, early stopping, tuning and the local score all use the same
function, `score`, so a number means the same thing everywhere.

>>> labels, probabilities = np.array([0, 1, 1]), np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
>>> round(score(labels, probabilities, "roc_auc")["score"], 3)
1.0
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterable

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    f1_score,
    fbeta_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    roc_auc_score,
)

from kit.config.schema import Metric

METRICS: tuple[str, ...] = (*typing.get_args(Metric), "map@K")
LOWER_IS_BETTER = frozenset({"log_loss", "rmse", "mae"})
REGRESSION_METRICS = frozenset({"rmse", "mae"})
MULTILABEL_METRICS = frozenset({"f2", "f1_samples"})  # and macro_f1 when the target is multi-label
PROBABILITY_METRICS = frozenset({"log_loss", "roc_auc"})  # they read probabilities, not labels
CLIP = 1e-15  # Kaggle's log-loss clips predictions to [eps, 1 - eps]
T = typing.TypeVar("T")


# Kaggle's names for them (its competition records' `evaluationMetric`), lower-case letters and
# digits only: "Categorization Accuracy", "Multi Class Log Loss", "MeanFScoreMicro", ...
KAGGLE_NAMES = {
    **dict.fromkeys(("categorizationaccuracy", "accuracy", "classificationaccuracy", "multiclassaccuracy"), "accuracy"),
    **dict.fromkeys(
        ("multiclassloss", "multiclasslogloss", "logloss", "logarithmicloss", "mlogloss", "crossentropy"), "log_loss"
    ),
    **dict.fromkeys(("auc", "rocauc", "aucroc", "areaunderreceiveroperatingcharacteristiccurve"), "roc_auc"),
    **dict.fromkeys(("quadraticweightedkappa", "qwk", "quadraticweightedcohenskappa"), "qwk"),
    **dict.fromkeys(("meanfscoremicro", "microaveragedf1score", "microf1", "f1micro", "microf1score"), "micro_f1"),
    **dict.fromkeys(
        ("macrof1", "meanfscoremacro", "macroaveragedf1score", "f1macro", "macrof1score", "macrofscore"), "macro_f1"
    ),
    **dict.fromkeys(("rmse", "rootmeansquarederror", "rootmeansquareerror"), "rmse"),
    **dict.fromkeys(("mae", "meanabsoluteerror"), "mae"),
    **dict.fromkeys(("meanfscorebeta", "f2", "f2score", "fbeta", "meanf2score"), "f2"),
    **dict.fromkeys(("f1samples", "meanf1score", "samplesf1", "meanfscore"), "f1_samples"),
}


def from_kaggle(name: str) -> str | None:
    """The kit's metric for Kaggle's name of it, or None when the kit has no such metric.

    >>> from_kaggle("Area Under Receiver Operating Characteristic Curve"), from_kaggle("MAP@{5}")
    ('roc_auc', 'map@5')
    """
    plain = re.sub(r"[^a-z0-9]", "", name.lower())
    k = re.fullmatch(r"(?:map|meanaverageprecision)(?:at)?k?([1-9][0-9]*)", plain)
    return f"map@{k.group(1)}" if k else KAGGLE_NAMES.get(plain)


def top_k(metric: str) -> int:
    """K of a map@K metric, else 0."""
    found = re.fullmatch(r"map@([1-9][0-9]*)", metric)
    return int(found.group(1)) if found else 0


def greater_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def direction(metric: str) -> str:
    """Optuna's study direction and Keras' monitor mode for `metric`."""
    return "maximize" if greater_is_better(metric) else "minimize"


def better(metric: str, value: float, than: float) -> bool:
    return value > than if greater_is_better(metric) else value < than


def best(metric: str, items: Iterable[T], key: Callable[[T], float] = float) -> T:
    """The best of `items` by `key` for `metric`: the highest, the lowest for a loss; the first
    of equals. Every "best" the kit reports (leaderboard, plots) is picked here.

    >>> best("log_loss", [0.4, 0.2, 0.3]), best("accuracy", [0.4, 0.2, 0.3])
    (0.2, 0.4)
    """
    return (max if greater_is_better(metric) else min)(items, key=key)


def chance_score(metric: str, num_classes: int) -> float:
    """What guessing scores on balanced classes: uniform probabilities, or a random label (K
    random guesses for map@K); NaN where it depends on the data (numbers, tags)."""
    k = max(num_classes, 2)
    if metric in REGRESSION_METRICS or metric in MULTILABEL_METRICS:
        return float("nan")
    if top_k(metric):
        return float(sum(1 / rank for rank in range(1, min(top_k(metric), k) + 1)) / k)
    return {"log_loss": float(np.log(k)), "roc_auc": 0.5, "qwk": 0.0}.get(metric, 1.0 / k)


def at_chance(metric: str, value: float, num_classes: int) -> bool:
    """Whether `value` is no better than guessing (within 2% of the chance score): nothing learned.

    >>> at_chance("accuracy", 0.105, 10), at_chance("accuracy", 0.9, 10)
    (True, False)
    """
    chance = chance_score(metric, num_classes)
    if not np.isfinite(chance):  # numbers, tags: chance depends on the data, unknown here
        return False
    return abs(value - chance) < 0.02 * max(abs(chance), 1.0) or not better(metric, value, chance)


def score(labels: np.ndarray, probabilities: np.ndarray, metric: str) -> dict[str, float]:
    """{'accuracy', 'macro_f1', the metric, 'score'}: 'score' is the competition's metric.
    `labels` are what a target's truth is (kit.targets): class indices, numbers (rmse, mae) or a
    0/1 matrix of tags, scored at 0.5 (thresholds chosen per tag: `score_tags`)."""
    if metric in REGRESSION_METRICS:
        return with_score(metric, regression_error(labels, probabilities, metric))
    if np.ndim(labels) == 2:
        return score_tags(labels, probabilities, metric)
    if top_k(metric):
        scores = score_labels(labels, probabilities.argmax(axis=1), "accuracy")
        return scores | with_score(metric, mean_average_precision(labels, probabilities, top_k(metric)))
    if np.ndim(probabilities) == 1 or np.shape(probabilities)[1] == 1:  # a grade as a number: no class scores
        labels = np.asarray(labels).astype(np.int64)
        return score_labels(labels, grades(probabilities, midpoints(int(labels.max(initial=0)) + 1)), metric)
    return score_labels(labels, probabilities.argmax(axis=1), metric, probabilities)


def with_score(metric: str, value: float) -> dict[str, float]:
    return {metric: float(value), "score": float(value)}


def regression_error(values: np.ndarray, predicted: np.ndarray, metric: str) -> float:
    predicted = np.asarray(predicted, dtype=np.float64).reshape(len(values))
    if metric == "mae":
        return float(mean_absolute_error(values, predicted))
    return float(np.sqrt(mean_squared_error(values, predicted)))


def mean_average_precision(labels: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    """MAP@K with one true label per image: 1/rank of the true label among the K best guesses
    (0 when it is not among them), averaged over images (Kaggle's Humpback Whale scorer)."""
    guesses = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    hit = guesses == np.asarray(labels).reshape(-1, 1)
    return float((hit / np.arange(1, guesses.shape[1] + 1)).sum(axis=1).mean())


def midpoints(num_grades: int) -> np.ndarray:
    """The thresholds that round a number to the nearest of the grades 0..num_grades-1.

    >>> midpoints(4).tolist()
    [0.5, 1.5, 2.5]
    """
    return np.arange(num_grades - 1) + 0.5


def grades(values: np.ndarray, thresholds) -> np.ndarray:
    """Grade k for each number at or above k of the (ascending) thresholds: an ordinal
    regression's predictions cut into the grades a label metric scores.

    >>> grades(np.array([[-0.3], [0.6], [2.2], [9.0]]), [0.5, 1.5, 2.5]).tolist()
    [0, 1, 2, 3]
    """
    cuts = np.asarray(thresholds, dtype=np.float64)
    return np.searchsorted(cuts, np.asarray(values, dtype=np.float64).reshape(-1), side="right")


def score_tags(truth: np.ndarray, probabilities: np.ndarray, metric: str, thresholds=0.5) -> dict[str, float]:
    """Multi-label scores of per-tag probabilities cut at `thresholds` (one, or one per tag)."""
    predicted = (np.asarray(probabilities) >= np.asarray(thresholds)).astype(np.int64)
    truth = np.asarray(truth).astype(np.int64)
    scores = {
        "f2": float(fbeta_score(truth, predicted, beta=2, average="samples", zero_division=0)),
        "f1_samples": float(f1_score(truth, predicted, average="samples", zero_division=0)),
        "macro_f1": float(f1_score(truth, predicted, average="macro", zero_division=0)),
        "accuracy": float(accuracy_score(truth, predicted)),  # every tag of the image right
    }
    if metric not in scores:
        raise ValueError(f"metric '{metric}' does not score tags (f2, f1_samples, macro_f1, accuracy do)")
    return scores | {"score": scores[metric]}


def score_labels(
    labels: np.ndarray, predicted: np.ndarray, metric: str, probabilities: np.ndarray | None = None
) -> dict[str, float]:
    """Scores of predicted labels; a probability metric needs `probabilities` as well."""
    scores = {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }
    if metric not in scores:
        scores[metric] = metric_value(labels, predicted, probabilities, metric)
    scores["score"] = scores[metric]
    return scores


def metric_value(labels: np.ndarray, predicted: np.ndarray, probabilities: np.ndarray | None, metric: str) -> float:
    if metric == "micro_f1":
        return float(f1_score(labels, predicted, average="micro"))
    if metric == "qwk":
        return float(cohen_kappa_score(labels, predicted, weights="quadratic"))
    if probabilities is None:
        raise ValueError(f"the {metric} metric needs probabilities, not labels")
    classes = np.arange(probabilities.shape[1])
    if metric == "log_loss":
        clipped = np.clip(probabilities, CLIP, 1 - CLIP)
        return float(log_loss(labels, clipped / clipped.sum(axis=1, keepdims=True), labels=classes))
    if metric == "roc_auc":
        return roc_auc(labels, probabilities)
    raise ValueError(f"unknown metric '{metric}' (known: {', '.join(METRICS)})")


def roc_auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """ROC-AUC; 0.5 (chance) when the labels hold a single class, where it is undefined."""
    present = np.unique(labels)
    if len(present) < 2:
        return 0.5
    if probabilities.shape[1] == 2:
        return float(roc_auc_score(labels, probabilities[:, 1]))
    scores = probabilities[:, present]  # one-vs-rest over the classes present in the labels
    scores = scores / np.clip(scores.sum(axis=1, keepdims=True), CLIP, None)
    if len(present) == 2:
        return float(roc_auc_score(labels == present[1], scores[:, 1]))
    return float(roc_auc_score(labels, scores, multi_class="ovr", labels=present))
