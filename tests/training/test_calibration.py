"""Temperature scaling for log-loss: fitted on validation predictions, it lowers their log-loss
when the model is over- or under-confident, and never changes a label."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kit import metrics
from kit.training import calibration


def miscalibrated(sharpness: float, rows: int = 600, classes: int = 5, seed: int = 0):
    """Labels drawn from known probabilities, and a model that reports those probabilities made
    sharper (> 1: over-confident) or flatter (< 1: under-confident, as label smoothing makes it)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (rows, classes))
    truth = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(classes, p=row) for row in truth])
    reported = np.exp(logits * sharpness)
    return labels, reported / reported.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("sharpness", [3.0, 0.4], ids=["over-confident", "under-confident"])
def test_the_fitted_temperature_lowers_validation_log_loss_and_keeps_labels(sharpness):
    labels, probabilities = miscalibrated(sharpness)
    fitted = calibration.fit(labels, probabilities)
    assert fitted["temperature"] == pytest.approx(sharpness, rel=0.25)  # undoes the distortion
    scaled = calibration.scale(probabilities, fitted["temperature"])
    after = metrics.score(labels, scaled, "log_loss")["score"]
    assert after == pytest.approx(fitted["log_loss_after"], abs=1e-9)
    assert fitted["log_loss_after"] < fitted["log_loss_before"] - 0.02
    assert fitted["log_loss_before"] == pytest.approx(metrics.score(labels, probabilities, "log_loss")["score"])
    assert (scaled.argmax(axis=1) == probabilities.argmax(axis=1)).all()
    assert fitted["rows"] == len(labels)


def test_label_smoothings_floor_is_lifted():
    """A perfect classifier trained with label smoothing 0.1 says 0.9 at most: log-loss 0.105
    at best; a temperature below 1 sharpens it towards 0."""
    labels = np.arange(200) % 4
    probabilities = np.full((200, 4), 0.1 / 3)
    probabilities[np.arange(200), labels] = 0.9
    fitted = calibration.fit(labels, probabilities)
    assert fitted["temperature"] < 1 and fitted["log_loss_after"] < fitted["log_loss_before"] / 10


def test_a_calibrated_model_keeps_its_probabilities():
    labels, probabilities = miscalibrated(1.0, rows=2000)
    fitted = calibration.fit(labels, probabilities)
    assert fitted["log_loss_after"] <= fitted["log_loss_before"]
    if fitted["temperature"] == 1.0:
        assert "probabilities kept" in calibration.describe(fitted)


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(2, 5)), elements=st.floats(1e-6, 1.0)),
    st.floats(0.05, 20),
)
def test_scaling_never_changes_the_argmax_and_rows_sum_to_one(raw, temperature):
    probabilities = raw / raw.sum(axis=1, keepdims=True)
    scaled = calibration.scale(probabilities, temperature)
    np.testing.assert_allclose(scaled.sum(axis=1), 1.0, atol=1e-9)
    top = probabilities.max(axis=1, keepdims=True)
    # a tie, or a lead of a few ulps (which log and exp round away), may break either way
    unique_top = (probabilities >= top * (1 - 1e-9)).sum(axis=1) == 1
    assert (scaled.argmax(axis=1) == probabilities.argmax(axis=1))[unique_top].all()


def test_only_log_loss_is_calibrated():
    record = {"calibration": {"temperature": 0.7}}
    assert calibration.temperature_of(record, "log_loss") == 0.7
    assert [calibration.temperature_of(record, metric) for metric in ("accuracy", "roc_auc", "qwk")] == [1.0] * 3
    assert calibration.temperature_of({}, "log_loss") == 1.0
