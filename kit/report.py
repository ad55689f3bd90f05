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

from kit.config import Config


def write_run_reports(cfg: Config, result, images) -> Path:
    """Every report of a finished run into `<run>/reports/`; returns that folder."""
    folder = result.run_dir / "reports"
    folder.mkdir(exist_ok=True)
    plot_learning_curves([f.checkpoint.parent / "history.csv" for f in result.folds], folder / "learning_curves.png")
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


def plot_learning_curves(histories: list[Path], target: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for fold, path in enumerate(histories):
        history = pd.read_csv(path)
        for ax, key in zip(axes, ("loss", "accuracy"), strict=True):
            if key not in history or f"val_{key}" not in history:  # a regression has no accuracy
                continue
            ax.plot(history["epoch"] + 1, history[key], label=f"train (fold {fold})")
            ax.plot(history["epoch"] + 1, history[f"val_{key}"], "--", label=f"validation (fold {fold})")
            ax.set(xlabel="epoch", ylabel=key, title=key)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
    axes[0].legend(fontsize="small")
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


def plot_examples(images, labels, predicted, names: list[str], target: Path, count: int = 32) -> None:
    """A grid of validation images, mistakes first and titled in red with 'true -> predicted'."""
    order = np.argsort(labels == predicted, kind="stable")[:count]
    columns = 8
    rows = int(np.ceil(len(order) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.4, rows * 1.6), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, order, strict=False):
        ax.imshow(images[i].squeeze(), cmap="gray" if images.shape[-1] == 1 else None)
        wrong = labels[i] != predicted[i]
        title = f"{names[labels[i]]}\n-> {names[predicted[i]]}" if wrong else names[labels[i]]
        ax.set_title(title, fontsize=7, color="red" if wrong else "black")
    fig.suptitle("validation predictions (mistakes in red)")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_comparison(table: pd.DataFrame, target: Path) -> None:
    """`make compare`'s chart: scores, training time and prediction time per model."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    y = np.arange(len(table))
    axes[0].barh(y - 0.2, table["accuracy"], height=0.4, label="accuracy")
    axes[0].barh(y + 0.2, table["macro_f1"], height=0.4, label="macro-F1")
    low = max(0.0, float(table[["accuracy", "macro_f1"]].min().min()) - 0.05)
    axes[0].set(xlim=(low, 1.0), title="validation scores")
    axes[0].legend(fontsize="small", loc="lower right")
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
    low = 10.0 ** np.floor(np.log10(values.min()))
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
