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
    single = {"accuracy", "macro_f1", "micro_f1", "log_loss", "roc_auc", "qwk"}  # one class per image
    assert set(metrics.METRICS) == single | {"rmse", "mae", "f2", "f1_samples", "map@K"}
    for metric in single:
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


def test_map_at_k_is_the_mean_reciprocal_rank_within_k():
    probabilities = np.array([[0.5, 0.3, 0.2], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3], [0.6, 0.3, 0.1]])
    labels = np.array([0, 1, 2, 2])  # ranks 1, 2, 2, 3
    assert metrics.score(labels, probabilities, "map@3")["score"] == pytest.approx((1 + 1 / 2 + 1 / 2 + 1 / 3) / 4)
    assert metrics.score(labels, probabilities, "map@2")["score"] == pytest.approx((1 + 1 / 2 + 1 / 2 + 0) / 4)
    assert metrics.direction("map@5") == "maximize" and metrics.top_k("map@12") == 12 and not metrics.top_k("f2")


def test_regression_and_tag_metrics_are_scikit_learns():
    from sklearn.metrics import f1_score, fbeta_score, mean_absolute_error, mean_squared_error

    values, predicted = np.array([10.0, 50.0, 90.0]), np.array([[20.0], [40.0], [95.0]])
    rmse = np.sqrt(mean_squared_error(values, predicted))
    assert metrics.score(values, predicted, "rmse")["score"] == pytest.approx(rmse)
    assert metrics.score(values, predicted, "mae")["score"] == pytest.approx(mean_absolute_error(values, predicted))
    assert metrics.direction("rmse") == "minimize" and metrics.direction("mae") == "minimize"
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]])
    probabilities = np.array([[0.9, 0.2, 0.4], [0.6, 0.7, 0.1], [0.8, 0.3, 0.2]])
    cut = (probabilities >= 0.5).astype(int)
    assert metrics.score(truth, probabilities, "f2")["score"] == pytest.approx(
        fbeta_score(truth, cut, beta=2, average="samples")
    )
    assert metrics.score(truth, probabilities, "f1_samples")["score"] == pytest.approx(
        f1_score(truth, cut, average="samples")
    )
    macro = f1_score(truth, cut, average="macro")
    assert metrics.score(truth, probabilities, "macro_f1")["score"] == pytest.approx(macro)


@pytest.mark.parametrize(
    ("kaggle", "kit"),
    [("MAP@{5}", "map@5"), ("MAP@3", "map@3"), ("RMSE", "rmse"), ("MAE", "mae"), ("MeanFScoreBeta", "f2")],
)
def test_kaggle_names_of_the_new_metrics(kaggle, kit):
    assert metrics.from_kaggle(kaggle) == kit


def test_chance_of_k_random_guesses_and_none_for_numbers():
    rng = np.random.default_rng(0)
    labels, probabilities = rng.integers(0, 7, 20000), rng.random((20000, 7))
    random_guessing = metrics.score(labels, probabilities, "map@5")["score"]
    assert metrics.chance_score("map@5", 7) == pytest.approx(random_guessing, abs=0.01)
    assert np.isnan(metrics.chance_score("rmse", 1)) and np.isnan(metrics.chance_score("f2", 5))


# ------------------------------------------------------------------ "best" follows the direction

finite_scores = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=30)


@given(finite_scores)
def test_best_of_a_minimised_metric_is_the_minimum(scores):
    assert metrics.best("log_loss", scores) == min(scores)
    assert not any(metrics.better("log_loss", s, metrics.best("log_loss", scores)) for s in scores)


@given(finite_scores, st.sampled_from([m for m in metrics.METRICS if m not in metrics.LOWER_IS_BETTER]))
def test_best_of_a_maximised_metric_is_the_maximum(scores, metric):
    assert metrics.best(metric, scores) == max(scores)


@given(st.lists(st.tuples(st.text(max_size=3), st.floats(0, 10)), min_size=1, max_size=20))
def test_best_picks_by_key_and_keeps_the_first_of_equals(rows):
    chosen = metrics.best("log_loss", rows, key=lambda row: row[1])
    assert chosen is next(row for row in rows if row[1] == min(r[1] for r in rows))
