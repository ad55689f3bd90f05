"""The competition metrics, from scikit-learn, by the names `competition.metric` takes.

    accuracy   share of exact labels
    macro_f1   F1 averaged over classes, so a small class counts as much as a big one
    micro_f1   F1 over every decision: equal to accuracy when each image has one label
    log_loss   cross-entropy of the probabilities, clipped like Kaggle's scorer (lower is better)
    roc_auc    area under the ROC curve: of the positive class's probability for two classes,
               one-vs-rest averaged over classes otherwise
    qwk        Cohen's kappa with quadratic weights, for ordered grades (APTOS-style)

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
from sklearn.metrics import accuracy_score, cohen_kappa_score, f1_score, log_loss, roc_auc_score

from kit.config.schema import Metric

METRICS: tuple[str, ...] = typing.get_args(Metric)
LOWER_IS_BETTER = frozenset({"log_loss"})
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
    **dict.fromkeys(("macrof1", "meanfscoremacro", "macroaveragedf1score", "f1macro", "macrof1score"), "macro_f1"),
}


def from_kaggle(name: str) -> str | None:
    """The kit's metric for Kaggle's name of it, or None when the kit has no such metric.

    >>> from_kaggle("Area Under Receiver Operating Characteristic Curve"), from_kaggle("MAP@5")
    ('roc_auc', None)
    """
    return KAGGLE_NAMES.get(re.sub(r"[^a-z0-9]", "", name.lower()))


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
    """What guessing scores on balanced classes: uniform probabilities, or a random label."""
    k = max(num_classes, 2)
    return {"log_loss": float(np.log(k)), "roc_auc": 0.5, "qwk": 0.0}.get(metric, 1.0 / k)


def at_chance(metric: str, value: float, num_classes: int) -> bool:
    """Whether `value` is no better than guessing (within 2% of the chance score): nothing learned.

    >>> at_chance("accuracy", 0.105, 10), at_chance("accuracy", 0.9, 10)
    (True, False)
    """
    chance = chance_score(metric, num_classes)
    return abs(value - chance) < 0.02 * max(abs(chance), 1.0) or not better(metric, value, chance)


def score(labels: np.ndarray, probabilities: np.ndarray, metric: str) -> dict[str, float]:
    """{'accuracy', 'macro_f1', the metric, 'score'}: 'score' is the competition's metric."""
    return score_labels(labels, probabilities.argmax(axis=1), metric, probabilities)


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
