"""Pictures and tables of a run: learning curves, confusion matrix, per-class report, mistakes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

from kit import metrics
from kit.config import Config


def write_run_reports(cfg: Config, result, images) -> Path:
    """Every report of a finished run into `<run>/reports/`; returns that folder."""
    folder = result.run_dir / "reports"
    folder.mkdir(exist_ok=True)
    histories = [f.checkpoint.parent / "history.csv" for f in result.folds]
    plot_learning_curves(histories, folder / "learning_curves.png", cfg.competition.metric)
    if images.targets is not None:  # numbers or tags: no confusion between classes to draw
        return folder
    val_index = np.concatenate([f.val_index for f in result.folds])
    probabilities = np.concatenate([f.val_probabilities for f in result.folds])
    labels, predicted = images.labels[val_index], probabilities.argmax(axis=1)
    names = list(cfg.competition.class_names)
    plot_confusion(labels, predicted, names, folder / "confusion_matrix.png")
    per_class_report(labels, predicted, names).to_csv(folder / "per_class.csv")
    shown = np.argsort(labels == predicted, kind="stable")[:32]  # mistakes first; read only these
    plot_examples(images.images[val_index[shown]], labels[shown], predicted[shown], names, folder / "predictions.png")
    return folder


def plot_learning_curves(histories: list[Path], target: Path, metric: str = "accuracy") -> None:
    """Loss and the competition's metric per epoch, train solid and validation dashed, one colour
    per fold (numbered as the console does: fold 1/3); a star marks each fold's best validation
    epoch, the one its checkpoint kept."""
    histories = [path for path in histories if path.exists()]  # scikit-learn folds have no epochs
    if not histories:
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for number, path in enumerate(histories, 1):
        history = pd.read_csv(path)
        key = metric if f"val_{metric}" in history else "accuracy"
        fold = f"fold {number}/{len(histories)}"
        for ax, column in zip(axes, ("loss", key), strict=True):
            colour = f"C{number - 1}"
            if column in history:  # Keras logs no training value of a metric the kit scores itself
                ax.plot(history["epoch"] + 1, history[column], color=colour, label=f"train ({fold})")
            ax.plot(history["epoch"] + 1, history[f"val_{column}"], "--", color=colour, label=f"validation ({fold})")
            better = "higher" if column != "loss" and metrics.greater_is_better(column) else "lower"
            ax.set(xlabel="epoch", ylabel=column, title=f"{column} ({better} is better)")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
        values = history[f"val_{key}"]
        best = values.idxmax() if metrics.greater_is_better(key) else values.idxmin()
        axes[1].plot(history["epoch"][best] + 1, values[best], "*", color=colour, markersize=14)
    axes[1].plot([], [], "*", color="gray", markersize=10, label="best validation epoch (kept)")
    axes[1].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_confusion(labels, predicted, names: list[str], target: Path) -> None:
    """Counts beside the row-normalised matrix (each row's share of the true class): on
    imbalanced data the counts of a small class are too faint to read, its recall is not."""
    size = min(8 + 0.25 * len(names), 20)
    fig, axes = plt.subplots(1, 2, figsize=(2 * size, size * 0.9))
    for ax, normalize, title in zip(axes, (None, "true"), ("counts", "share of each true class (recall)"), strict=True):
        ConfusionMatrixDisplay.from_predictions(
            labels,
            predicted,
            labels=range(len(names)),
            display_labels=names,
            normalize=normalize,
            values_format=".2f" if normalize else "d",
            include_values=len(names) <= 30,
            ax=ax,
            xticks_rotation=45,
            colorbar=False,
        )
        ax.set_title(f"validation confusion matrix: {title}")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def per_class_report(labels, predicted, names: list[str]) -> pd.DataFrame:
    """scikit-learn's precision, recall, F1 and support per class, as a table."""
    table = classification_report(
        labels, predicted, labels=range(len(names)), target_names=names, output_dict=True, zero_division=0
    )
    return pd.DataFrame(table).T


def shown(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(pixels, colour map) as imshow draws an image: gray, RGB, or of more channel files the
    first three (red green blue; of two, the first in gray): imshow reads a fourth as transparency."""
    channels = image.shape[-1]
    if channels not in (1, 3):
        image = image[..., :3] if channels > 3 else image[..., :1]
    return image.squeeze(), "gray" if image.shape[-1] == 1 else None


def plot_examples(images, labels, predicted, names: list[str], target: Path, count: int = 32) -> None:
    """A grid of validation images, mistakes first, titled in red 'true A / predicted B'."""
    order = np.argsort(labels == predicted, kind="stable")[:count]
    columns = 8
    rows = int(np.ceil(len(order) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.4, rows * 1.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, order, strict=False):
        ax.imshow(*shown(images[i]))
        wrong = labels[i] != predicted[i]
        title = f"true {names[labels[i]]}\npredicted {names[predicted[i]]}" if wrong else names[labels[i]]
        ax.set_title(title, fontsize=7, color="red" if wrong else "black")
    fig.suptitle("validation images: mistakes first, in red (true class, then what the model predicted)")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_comparison(table: pd.DataFrame, target: Path, chance: float | None = None) -> None:
    """`make compare`'s chart: scores (from 0, each bar's value written, guessing's accuracy as a
    line), training time and prediction time per model."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    y = np.arange(len(table))
    for offset, column, name in ((-0.2, "accuracy", "accuracy"), (0.2, "macro_f1", "macro-F1")):
        bars = axes[0].barh(y + offset, table[column], height=0.4, label=name)
        axes[0].bar_label(bars, labels=[f"{v:.3f}" for v in table[column]], padding=2, fontsize=7)
    if chance is not None:
        axes[0].axvline(chance, color="black", linestyle=":", label=f"guessing ({chance:.2f})")
    axes[0].set(xlim=(0.0, 1.12), title="validation scores (higher is better)")
    axes[0].legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    panels = (
        ("train_seconds", "training time (s, log)"),
        ("predict_seconds_per_1000", "prediction s / 1,000 images (log)"),
    )
    for ax, (column, title) in zip(axes[1:], panels, strict=True):
        values = table[column].clip(lower=1e-3).to_numpy(dtype=float)
        low = log_axis(ax.xaxis, values)
        ax.set_xlim(low, values.max() * 4)  # room for each bar's value at its end
        bars = ax.barh(y, values - low, left=low, color="tab:gray")
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], padding=3, fontsize=8)
        ax.set_title(title)
    for ax in axes:
        ax.set_yticks(y, table["model"])
        ax.invert_yaxis()  # first model on top, as in the table
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def log_axis(axis, values: np.ndarray) -> float:
    """A log-scale axis whose tick labels never overlap: ticks at 1, 2 and 5 times each power of
    ten (or only the powers when the values span many), written as plain numbers, no labels on
    minor ticks (matplotlib's own label them all when the range is under a decade). Returns the
    power of ten below the smallest value, where bars should start."""
    low = 10.0 ** (np.ceil(np.log10(values.min())) - 1)  # strictly below: a bar at a power of ten shows
    decades = np.log10(values.max() / low)
    axis.axes.set_xscale("log") if axis.axis_name == "x" else axis.axes.set_yscale("log")
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0) if decades <= 2 else (1.0,), numticks=8))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())
    return low


def plot_learning_curve(table: pd.DataFrame, model: str, metric: str, target: Path) -> None:
    """Train and validation score against the number of training examples."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(table["examples"], table["train_score"], "o-", label="train")
    ax.plot(table["examples"], table["val_score"], "o--", label="validation")
    log_axis(ax.xaxis, table["examples"].to_numpy(dtype=float))
    ax.set(xlabel="training examples", ylabel=metric, title=f"learning curve: {model}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
