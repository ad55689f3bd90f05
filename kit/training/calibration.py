"""Probabilities fitted for log-loss: temperature scaling on a run's out-of-fold predictions.

A network trained with label smoothing never predicts above 1 - smoothing, which puts a floor
under its log-loss; one trained long is over-confident. Dividing the log-probabilities by one
temperature T (fitted on the validation rows, where the model never trained) fixes either, and
never changes a row's argmax, so labels, accuracy and F1 are untouched. Only a metric that reads
the probabilities' values themselves gains from it: log-loss.

>>> probabilities = np.array([[0.6, 0.4], [0.3, 0.7]])
>>> scale(probabilities, 0.5).argmax(axis=1).tolist() == probabilities.argmax(axis=1).tolist()
True
"""

from __future__ import annotations

import numpy as np

from kit import metrics

CALIBRATED_METRICS = frozenset({"log_loss"})
BOUNDS = (np.log(0.05), np.log(20.0))  # log T: from 20x sharper to 20x softer


def wanted(metric: str) -> bool:
    return metric in CALIBRATED_METRICS


def scale(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(log p / T), rows summing to 1; T = 1 returns the probabilities unchanged."""
    if temperature == 1.0:
        return probabilities
    logits = np.log(np.clip(probabilities.astype(np.float64), metrics.CLIP, 1.0)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def fit(labels: np.ndarray, probabilities: np.ndarray) -> dict:
    """The temperature that minimises the log-loss of `probabilities` on `labels`, with the
    log-loss before and after: {'temperature', 'log_loss_before', 'log_loss_after', 'rows'}.
    T stays 1 when no temperature does better (a calibrated model)."""
    from scipy.optimize import minimize_scalar

    def loss(temperature: float) -> float:
        return metrics.metric_value(labels, None, scale(probabilities, temperature), "log_loss")

    before = loss(1.0)
    found = minimize_scalar(lambda log_t: loss(float(np.exp(log_t))), bounds=BOUNDS, method="bounded")
    temperature, after = float(np.exp(found.x)), float(found.fun)
    if not after < before:
        temperature, after = 1.0, before
    return {"temperature": temperature, "log_loss_before": before, "log_loss_after": after, "rows": len(labels)}


def temperature_of(record: dict, metric: str) -> float:
    """The temperature a run's record holds for `metric` (1 when none was fitted for it)."""
    fitted = record.get("calibration") or {}
    return float(fitted.get("temperature", 1.0)) if wanted(metric) else 1.0


def describe(fitted: dict) -> str:
    """'temperature 0.62 fitted on 1,200 out-of-fold rows: validation log_loss 0.4120 -> 0.3502'."""
    if fitted["temperature"] == 1.0:
        return f"no temperature lowers the validation log_loss ({fitted['log_loss_before']:.4f}): probabilities kept"
    return (
        f"temperature {fitted['temperature']:.3g} fitted on {fitted['rows']:,} out-of-fold rows: "
        f"validation log_loss {fitted['log_loss_before']:.4f} -> {fitted['log_loss_after']:.4f}"
    )
