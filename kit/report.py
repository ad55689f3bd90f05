"""Pictures and tables of a run: learning curves, confusion matrix, per-class report, mistakes."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on servers and CI
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.metrics import ConfusionMatrixDisplay, classification_report

from kit.config import Config


def write_run_reports(cfg: Config, result, images) -> Path:
    """Every report of a finished run into `<run>/reports/`; returns that folder."""
    folder = result.run_dir / "reports"
    folder.mkdir(exist_ok=True)
    plot_learning_curves([f.checkpoint.parent / "history.csv" for f in result.folds], folder / "learning_curves.png")
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
            ax.plot(history["epoch"] + 1, history[key], label=f"train (fold {fold})")
            ax.plot(history["epoch"] + 1, history[f"val_{key}"], "--", label=f"validation (fold {fold})")
            ax.set(xlabel="epoch", ylabel=key, title=key)
    axes[0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_confusion(labels, predicted, names: list[str], target: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 7))
    ConfusionMatrixDisplay.from_predictions(
        labels, predicted, labels=range(len(names)), display_labels=names, ax=ax, xticks_rotation=45, colorbar=False
    )
    ax.set_title("validation confusion matrix")
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
        ax.barh(y, table[column].clip(lower=1e-3), color="tab:gray")
        ax.set(xscale="log", title=title)
    for ax in axes:
        ax.set_yticks(y, table["model"])
        ax.invert_yaxis()  # first model on top, as in the table
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_learning_curve(table: pd.DataFrame, model: str, metric: str, target: Path) -> None:
    """Train and validation score against the number of training examples."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(table["examples"], table["train_score"], "o-", label="train")
    ax.plot(table["examples"], table["val_score"], "o--", label="validation")
    ax.set(xscale="log", xlabel="training examples", ylabel=metric, title=f"learning curve: {model}")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
