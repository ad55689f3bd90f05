"""What a label is: read from the training table, encoded for the network (its head, activation
and loss), and decoded from predictions into the submission's values.

    classification  one class per image: softmax, cross-entropy, a label or probabilities
    topk            one class per image, K guesses written best first (map@K): softmax
    regression      a number per image (rmse, mae): one linear unit on a standardised target
    ordinal         ordered grades (qwk) as a number: one linear unit, cut into grades at thresholds
                    chosen on out-of-fold predictions (APTOS winners'); never chosen by `auto`
    multilabel      a set of tags per image (f2, f1_samples, macro_f1 of tags): sigmoids,
                    binary cross-entropy, per-tag thresholds chosen on out-of-fold predictions

`competition.target` names one; `auto` reads it off the metric (`kind_for_metric`). Keras is
imported only inside the functions that build heads and losses.

>>> kind_for_metric("map@5"), kind_for_metric("rmse"), kind_for_metric("f2"), kind_for_metric("accuracy")
('topk', 'regression', 'multilabel', 'classification')
"""

from __future__ import annotations

from kit import metrics
from kit.config import Config
from kit.targets.classification import Classification, Target
from kit.targets.multilabel import MultiLabel
from kit.targets.ordinal import Ordinal
from kit.targets.regression import Regression
from kit.targets.topk import TopK

KINDS: dict[str, Target] = {
    "classification": Classification(),
    "topk": TopK(),
    "regression": Regression(),
    "multilabel": MultiLabel(),
    "ordinal": Ordinal(),
}
# the submission forms a target other than classification writes (kit.submission asks them)
FORMS = {
    "topk": KINDS["topk"],
    "value": KINDS["regression"],
    "tags": KINDS["multilabel"],
    "columns": KINDS["multilabel"],
    "grade": KINDS["ordinal"],
}


def kind_for_metric(metric: str) -> str:
    if metrics.top_k(metric):
        return "topk"
    if metric in metrics.REGRESSION_METRICS:
        return "regression"
    if metric in metrics.MULTILABEL_METRICS:
        return "multilabel"
    return "classification"


def kind_of(cfg: Config) -> str:
    target = cfg.competition.target
    return kind_for_metric(cfg.competition.metric) if target == "auto" else target


def for_config(cfg: Config) -> Target:
    return KINDS[kind_of(cfg)]
