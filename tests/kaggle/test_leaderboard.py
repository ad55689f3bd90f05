"""`make leaderboard`'s best score follows the metric's direction (the client's side is in
test_kaggle.py, against the local Kaggle server)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit import metrics
from kit.kaggle import leaderboard
from kit.kaggle.leaderboard import best_scored

scores = st.one_of(st.none(), st.floats(min_value=0, max_value=50, allow_nan=False), st.just(float("nan")))
rows = st.lists(st.builds(lambda file, score: {"file": file, "public_score": score}, st.text(max_size=4), scores))


def scored(board: list[dict]) -> list[float]:
    values = [row["public_score"] for row in board]
    return [value for value in values if value is not None and not math.isnan(value)]


@given(rows)
def test_best_of_a_loss_is_the_lowest_score_and_never_unscored(board):
    best = best_scored(board, "log_loss")
    known = scored(board)
    assert (best is None) == (not known)
    if known:
        assert best["public_score"] == min(known)


@given(rows, st.sampled_from([m for m in metrics.METRICS if metrics.greater_is_better(m)]))
def test_best_of_a_maximised_metric_is_the_highest(board, metric):
    best = best_scored(board, metric)
    assert best is None if not scored(board) else best["public_score"] == max(scored(board))


@pytest.mark.parametrize(("metric", "starred"), [("log_loss", 2), ("accuracy", 3)])
def test_the_plot_stars_the_best_submission_in_the_metrics_direction(monkeypatch, metric, starred):
    import matplotlib.pyplot as plt

    kept, close = [], plt.close
    monkeypatch.setattr(plt, "close", kept.append)
    rows = [
        {"status": "complete", "kaggle_ref": n, "public_score": score, "cv_score": None, "submitted": f"2026-01-0{n}"}
        for n, score in ((1, 0.35), (2, 0.21), (3, 0.50))
    ]
    leaderboard.plot_history("some-competition", rows, [], metric)
    scores = kept[0].axes[0]
    close(kept[0])
    (star,) = [line for line in scores.lines if line.get_marker() == "*"]
    assert list(star.get_xdata()) == [starred]  # submission number, in upload order
    assert ("lower" if metric == "log_loss" else "higher") in scores.get_ylabel()
