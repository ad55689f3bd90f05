"""The six competition metrics, against scikit-learn's own numbers and their edge cases."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score, log_loss, roc_auc_score

from kit import metrics

LABELS = np.array([0, 1, 2, 2, 1, 0])
PROBABILITIES = np.array(
    [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4], [0.3, 0.4, 0.3], [0.6, 0.3, 0.1]]
)


def test_every_metric_has_a_score_and_a_direction():
    assert set(metrics.METRICS) == {"accuracy", "macro_f1", "micro_f1", "log_loss", "roc_auc", "qwk"}
    for metric in metrics.METRICS:
        scores = metrics.score(LABELS, PROBABILITIES, metric)
        assert scores["score"] == scores[metric] and np.isfinite(scores["score"])
    assert metrics.direction("log_loss") == "minimize" and metrics.direction("qwk") == "maximize"


def test_values_are_scikit_learns():
    predicted = PROBABILITIES.argmax(axis=1)
    assert metrics.score(LABELS, PROBABILITIES, "micro_f1")["score"] == pytest.approx(5 / 6)
    assert metrics.score(LABELS, PROBABILITIES, "log_loss")["score"] == pytest.approx(log_loss(LABELS, PROBABILITIES))
    assert metrics.score(LABELS, PROBABILITIES, "qwk")["score"] == pytest.approx(
        cohen_kappa_score(LABELS, predicted, weights="quadratic")
    )
    assert metrics.score(LABELS, PROBABILITIES, "roc_auc")["score"] == pytest.approx(
        roc_auc_score(LABELS, PROBABILITIES, multi_class="ovr")
    )


def test_binary_auc_reads_the_positive_column_and_one_class_is_chance():
    probabilities = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert metrics.score(np.array([0, 1, 1]), probabilities, "roc_auc")["score"] == pytest.approx(1.0)
    assert metrics.score(np.array([1, 1, 1]), probabilities, "roc_auc")["score"] == 0.5


def test_log_loss_clips_certain_mistakes_and_labels_alone_cannot_give_it():
    certain_mistake = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert np.isfinite(metrics.score(np.array([1, 1]), certain_mistake, "log_loss")["score"])
    with pytest.raises(ValueError, match="needs probabilities"):
        metrics.score_labels(np.array([0, 1]), np.array([0, 1]), "log_loss")


@pytest.mark.parametrize(
    ("kaggle_name", "metric"),
    [
        ("Categorization Accuracy", "accuracy"),
        ("MulticlassLoss", "log_loss"),
        ("Multi Class Log Loss", "log_loss"),
        ("AUC", "roc_auc"),
        ("Area Under Receiver Operating Characteristic Curve", "roc_auc"),
        ("Quadratic Weighted Kappa", "qwk"),
        ("MeanFScoreMicro", "micro_f1"),
        ("Micro-averaged F1 Score", "micro_f1"),
        ("Macro F1", "macro_f1"),
        ("MAP@{K}", None),
        ("Mean Columnwise Root Mean Squared Error", None),
    ],
)
def test_kaggle_metric_names_map_onto_the_kits(kaggle_name, metric):
    assert metrics.from_kaggle(kaggle_name) == metric


# ------------------------------------------------------------------ "best" follows the direction

finite_scores = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30)


@given(finite_scores)
def test_best_of_a_minimised_metric_is_the_minimum(scores):
    assert metrics.best("log_loss", scores) == min(scores)
    assert not any(metrics.better("log_loss", s, metrics.best("log_loss", scores)) for s in scores)


@given(finite_scores, st.sampled_from([m for m in metrics.METRICS if m != "log_loss"]))
def test_best_of_a_maximised_metric_is_the_maximum(scores, metric):
    assert metrics.best(metric, scores) == max(scores)


@given(st.lists(st.tuples(st.text(max_size=3), st.floats(0, 10)), min_size=1, max_size=20))
def test_best_picks_by_key_and_keeps_the_first_of_equals(rows):
    chosen = metrics.best("log_loss", rows, key=lambda row: row[1])
    assert chosen is next(row for row in rows if row[1] == min(r[1] for r in rows))
