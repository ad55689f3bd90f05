"""Seeded, stratified validation splits: one holdout or k folds, saved with the run."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from kit.config import DataSection
from kit.errors import KitError


def make_splits(labels: np.ndarray, data: DataSection) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(train_index, val_index), ...]: one pair for a holdout, `data.folds` pairs for k-fold."""
    counts = np.bincount(labels)
    smallest = int(counts[counts > 0].min())
    index = np.arange(len(labels))
    if data.folds:
        if data.folds < 2 or data.folds > smallest:
            raise KitError(f"data.folds={data.folds}: needs 2..{smallest} (the smallest class has {smallest} rows)")
        folds = StratifiedKFold(n_splits=data.folds, shuffle=True, random_state=data.seed)
        return [(train, val) for train, val in folds.split(index, labels)]
    if not 0 < data.val_fraction < 1:
        raise KitError(f"data.val_fraction={data.val_fraction}: must be between 0 and 1")
    val_rows = math.ceil(len(labels) * data.val_fraction)  # scikit-learn's rounding
    if len(labels) - val_rows < 1:
        raise KitError(f"{len(labels)} labelled row(s): too few to hold out data.val_fraction={data.val_fraction}")
    present = int((counts > 0).sum())
    # stratifying needs a row of every class on both sides; tiny or lopsided sets get a plain split
    stratified = smallest >= 2 and min(val_rows, len(labels) - val_rows) >= present
    if not stratified:
        print(
            f"note: {len(labels)} rows of {present} classes cannot be split stratified "
            f"(smallest class {smallest} rows, {val_rows} held out): using a plain seeded split"
        )
    train, val = train_test_split(
        index, test_size=data.val_fraction, stratify=labels if stratified else None, random_state=data.seed
    )
    return [(np.sort(train), np.sort(val))]


def save_splits(splits: list[tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    """Record the exact indices, so a resumed run or a later ensemble uses the same split."""
    arrays = {}
    for fold, (train, val) in enumerate(splits):
        arrays[f"train_{fold}"], arrays[f"val_{fold}"] = train, val
    np.savez_compressed(path, **arrays)


def load_splits(path: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    with np.load(path, allow_pickle=False) as saved:  # a received run's split.npz runs no code
        folds = len(saved.files) // 2
        return [(saved[f"train_{fold}"], saved[f"val_{fold}"]) for fold in range(folds)]


def split_sha256(splits: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """A content hash of the indices (int64, fold by fold, train then validation): a submission
    records it, so that `make reproduce` can check that re-deriving the split gave the same rows."""
    digest = hashlib.sha256()
    for train, val in splits:
        for index in (train, val):
            digest.update(np.ascontiguousarray(index, dtype=np.int64).tobytes())
    return digest.hexdigest()


def subsample_index(labels: np.ndarray, index: np.ndarray, rows: int, seed: int) -> np.ndarray:
    """At most `rows` of `index`, stratified by label and seeded (sorted; all of it if it fits)."""
    if not rows or len(index) <= rows:
        return index
    counts = np.bincount(labels[index])
    classes = int((counts > 0).sum())
    # scikit-learn stratifies only when every class has 2 rows and both parts can hold every class
    stratifiable = counts[counts > 0].min() >= 2 and min(rows, len(index) - rows) >= classes
    stratify = labels[index] if stratifiable else None
    chosen, _ = train_test_split(index, train_size=rows, stratify=stratify, random_state=seed)
    return np.sort(chosen)
