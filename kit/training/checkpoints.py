"""A fold's files that must survive Ctrl-C and `kill -9` at any moment: the best checkpoint, the
resume backup and the history log.

- `best.keras` is saved under a temporary name and renamed, so it is always a whole model; the
  best value so far is kept in `best.json`, so a resumed fold replaces it only with a better one
  (Keras' ModelCheckpoint forgets it and overwrites the best model with the first resumed epoch).
- The backup (kit.training.backup) is written whole or not at all, the previous one kept until the
  new one is complete, so a kill while it writes falls back to the epoch before (or, with no
  complete backup, to `best.keras` at its epoch); it is removed only once the fold has finished.
- `history.csv` is written before the backup at each epoch's end and cut back to the backed-up
  epoch on resume: an epoch run twice is logged once.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from kit import fileio
from kit.training.backup import AtomicBackup, restore

BEST_RECORD = "best.json"
BACKUP = "backup"
HISTORY = "history.csv"
METADATA = "training_metadata.json"  # Keras' name for the backup's epoch counter


class BestCheckpoint(keras.callbacks.Callback):
    """`ModelCheckpoint(save_best_only=True)` that never leaves half a file and remembers its best
    value across a resume."""

    def __init__(self, path: Path, monitor: str, mode: str):
        super().__init__()
        self.path, self.monitor = path, monitor
        self.better = np.greater if mode == "max" else np.less
        self.best = fileio.read_json(path.with_name(BEST_RECORD)).get("value")  # set when resumed

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not np.isfinite(value):
            return
        if self.best is not None and not self.better(value, self.best):
            return
        temporary = self.path.with_name(f".{self.path.stem}.tmp{self.path.suffix}")  # Keras wants .keras
        self.model.save(temporary)
        os.replace(temporary, self.path)
        self.best = float(value)
        fileio.write_json(
            self.path.with_name(BEST_RECORD), {"epoch": epoch + 1, "monitor": self.monitor, "value": self.best}
        )


def backup(fold_dir: Path) -> AtomicBackup:
    return AtomicBackup(fold_dir / BACKUP)


def prepare_resume(fold_dir: Path, checkpoint: str) -> int:
    """Before a resumed fold trains: its newest complete backup is the one restored (else the best
    checkpoint's weights at its epoch: kit.training.backup), and history.csv keeps only the epochs
    it holds. Returns the epoch training continues at."""
    best_epoch = fileio.read_json(fold_dir / BEST_RECORD).get("epoch")  # written whole (atomic_write)
    epoch = restore(fold_dir / BACKUP, fold_dir / checkpoint, best_epoch)
    trim_history(fold_dir / HISTORY, epoch)
    return epoch


def backed_up_epoch(folder: Path) -> int | None:
    """The epoch a backup folder resumes at; None without one, or when a kill tore its record."""
    try:
        return int(json.loads((folder / METADATA).read_text())["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def trim_history(path: Path, epochs: int) -> None:
    """Keep the log's first `epochs` epochs (none: the file goes, training starts over)."""
    if not path.exists():
        return
    if epochs == 0:
        path.unlink()
        return
    try:
        history = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError):
        path.unlink()
        return
    kept = history[history["epoch"] < epochs] if "epoch" in history else history.iloc[:0]
    fileio.atomic_write(path, kept.to_csv(index=False).encode())


def finish(fold_dir: Path) -> None:
    """The fold is done and recorded: its backup is no longer needed."""
    shutil.rmtree(fold_dir / BACKUP, ignore_errors=True)
