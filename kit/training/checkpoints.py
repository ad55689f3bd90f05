"""A fold's files that must survive Ctrl-C and `kill -9` at any moment: the best checkpoint, the
resume backup and the history log.

- `best.keras` is saved under a temporary name and renamed, so it is always a whole model; the
  best value so far is kept in `best.json`, so a resumed fold replaces it only with a better one
  (Keras' ModelCheckpoint forgets it and overwrites the best model with the first resumed epoch).
- The backup (Keras BackupAndRestore) keeps the previous copy of its weights and epoch
  (`double_checkpoint`), so a kill while it writes falls back to the epoch before; it is removed
  only once the fold has finished, never by Keras at the end of `fit`.
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


def backup(fold_dir: Path) -> keras.callbacks.BackupAndRestore:
    return keras.callbacks.BackupAndRestore(str(fold_dir / BACKUP), double_checkpoint=True, delete_checkpoint=False)


def prepare_resume(fold_dir: Path) -> int:
    """Before a resumed fold trains: a backup torn by a kill is replaced by its previous copy, and
    history.csv keeps only the epochs the backup holds. Returns the epoch training continues at."""
    folder = fold_dir / BACKUP
    if (folder / METADATA).exists() and backed_up_epoch(folder) is None:
        for name in ("latest.weights.h5", METADATA):
            if (folder / f"{name}.bkp").exists():
                shutil.copyfile(folder / f"{name}.bkp", folder / name)
    epoch = backed_up_epoch(folder) or 0
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
