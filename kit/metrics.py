"""Scores from scikit-learn: accuracy and macro-F1 (the living-species metric) side by side."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

METRICS = ("accuracy", "macro_f1")


def score(labels: np.ndarray, probabilities: np.ndarray, metric: str) -> dict[str, float]:
    """{'accuracy', 'macro_f1', 'score'}: 'score' is the competition's metric, what CV reports."""
    return score_labels(labels, probabilities.argmax(axis=1), metric)


def score_labels(labels: np.ndarray, predicted: np.ndarray, metric: str) -> dict[str, float]:
    scores = {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }
    scores["score"] = scores[metric]
    return scores
