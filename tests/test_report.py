"""The pictures say what they show: a star on each fold's best epoch (the minimum for a loss),
folds numbered as the console numbers them, mistakes titled with which class is the truth,
score bars from zero with their values and guessing's line, log axes whose bars all show."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from kit import report


@pytest.fixture
def figures(monkeypatch) -> list:
    """The figures the report functions draw, kept open to be read."""
    kept, close = [], plt.close
    monkeypatch.setattr(report.plt, "close", kept.append)
    yield kept
    for figure in kept:
        close(figure)


def history(path, val_scores, metric):
    epochs = np.arange(len(val_scores))
    frame = pd.DataFrame({"epoch": epochs, "loss": 1 / (epochs + 1), "val_loss": 1 / (epochs + 1) + 0.1})
    frame[f"val_{metric}"] = val_scores
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("metric", "best_epoch"), [("log_loss", 3), ("accuracy", 2)])
def test_the_star_marks_the_best_validation_epoch_in_the_metrics_direction(tmp_path, figures, metric, best_epoch):
    scores = [0.9, 0.5, 0.95, 0.3, 0.6]  # lowest at epoch 4, highest at epoch 3 (1-based)
    paths = [history(tmp_path / f"h{n}.csv", scores, metric) for n in range(2)]
    report.plot_learning_curves(paths, tmp_path / "curves.png", metric)
    assert (tmp_path / "curves.png").stat().st_size > 1000
    metric_axes = figures[0].axes[1]
    stars = [line for line in metric_axes.lines if line.get_marker() == "*" and len(line.get_xdata())]
    assert [float(line.get_xdata()[0]) for line in stars] == [best_epoch + 1] * 2
    labels = [text.get_text() for text in metric_axes.get_legend().get_texts()]
    assert "validation (fold 1/2)" in labels and "validation (fold 2/2)" in labels
    assert "lower" in metric_axes.get_title() if metric == "log_loss" else "higher" in metric_axes.get_title()


def test_no_learning_curves_for_a_model_without_epochs(tmp_path, figures):
    report.plot_learning_curves([tmp_path / "absent.csv"], tmp_path / "curves.png")
    assert not (tmp_path / "curves.png").exists() and figures == []


def test_a_mistake_says_which_class_is_the_truth(tmp_path, figures):
    images = np.zeros((2, 8, 8, 1), dtype="uint8")
    report.plot_examples(images, np.array([0, 1]), np.array([1, 1]), ["cat", "dog"], tmp_path / "grid.png")
    titles = [ax.get_title() for ax in figures[0].axes if ax.get_title()]
    assert titles[0] == "true cat\npredicted dog" and titles[1] == "dog"


def test_score_bars_start_at_zero_with_values_and_the_guessing_line(tmp_path, figures):
    table = pd.DataFrame(
        {
            "model": ["a", "b"],
            "accuracy": [0.31, 0.25],
            "macro_f1": [0.30, 0.24],
            "train_seconds": [10.0, 1.0],
            "predict_seconds_per_1000": [0.01, 1.0],
        }
    )
    report.plot_comparison(table, tmp_path / "compare.png", chance=0.1)
    scores, _, predict = figures[0].axes
    assert scores.get_xlim()[0] == 0.0
    written = {text.get_text() for text in scores.texts}
    assert {"0.310", "0.250", "0.300", "0.240"} <= written
    assert any(list(line.get_xdata()) == [0.1, 0.1] for line in scores.lines)
    # the smallest bar (0.01, a power of ten) starts below its value, so it is drawn
    assert predict.get_xlim()[0] < 0.01
