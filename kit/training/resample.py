"""Class imbalance: re-sampling the training rows (imbalanced-learn) or weighting the loss.

    train.resample = "over"       RandomOverSampler: every class repeated up to the largest
    train.resample = "under"      RandomUnderSampler: every class cut down to the smallest
    train.class_weight = "balanced"  loss weight n / (k * count_c) (scikit-learn's formula)

Only the training split is resampled: the validation split keeps the true class mix, so its
macro-F1 and per-class recall estimate the test set. The samplers work on row indices, so no
image is copied until a batch needs it. Each fold writes `class_distribution.csv` and `.png`
(counts before and after) beside its checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.utils.class_weight import compute_class_weight

from kit.config import Config


def resample_index(cfg: Config, labels: np.ndarray, train_index: np.ndarray, report_dir: Path | None = None):
    """The training row indices after `train.resample` (sorted, repeats allowed)."""
    strategy = cfg.train.resample  # none | over | under, checked when the config was resolved
    index = np.asarray(train_index)
    if strategy != "none":
        sampler_class = RandomOverSampler if strategy == "over" else RandomUnderSampler
        sampler = sampler_class(random_state=cfg.train.seed)
        resampled, _ = sampler.fit_resample(index.reshape(-1, 1), labels[index])
        index = np.sort(resampled.ravel())
    if report_dir is not None and (strategy != "none" or cfg.train.class_weight != "none"):
        write_distribution(cfg, labels[train_index], labels[index], report_dir)
    return index


def class_weights(cfg: Config, labels: np.ndarray) -> dict[int, float] | None:
    """Keras' `class_weight` for `train.class_weight`: every class present, 1.0 for absent ones."""
    if cfg.train.class_weight == "none":
        return None
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    found = dict(zip(present.tolist(), weights.tolist(), strict=True))
    return {c: float(found.get(c, 1.0)) for c in range(cfg.num_classes)}


def distribution_table(cfg: Config, before: np.ndarray, after: np.ndarray) -> pd.DataFrame:
    """Rows per class before and after resampling, with the loss weight that applies after."""
    names = list(cfg.competition.class_names)
    weights = class_weights(cfg, after) or {}
    return pd.DataFrame(
        {
            "class": names,
            "before": np.bincount(before, minlength=len(names)),
            "after": np.bincount(after, minlength=len(names)),
            "loss_weight": [weights.get(c, 1.0) for c in range(len(names))],
        }
    )


def write_distribution(cfg: Config, before: np.ndarray, after: np.ndarray, folder: Path) -> pd.DataFrame:
    """`class_distribution.csv` and a side-by-side bar chart `class_distribution.png`."""
    folder.mkdir(parents=True, exist_ok=True)
    table = distribution_table(cfg, before, after)
    table.to_csv(folder / "class_distribution.csv", index=False)
    fig, ax = plt.subplots(figsize=(9, 4))
    positions = np.arange(len(table))
    ax.bar(positions - 0.2, table["before"], 0.4, label="before")
    ax.bar(positions + 0.2, table["after"], 0.4, label=f"after (resample={cfg.train.resample})")
    ax.set_xticks(positions, table["class"], rotation=45, ha="right")
    ax.set(title=f"training rows per class (class_weight={cfg.train.class_weight})", ylabel="rows")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "class_distribution.png", dpi=100)
    plt.close(fig)
    return table
