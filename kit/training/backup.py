"""A fold's resume backup (weights, optimizer state, epoch): whole or not at all.

Keras' BackupAndRestore writes `latest.weights.h5` in place, so Ctrl-C while it writes leaves a
file that opens but holds part of the model, and `make train RESUME=1` died on it (`Layer
'batch_norm' expected 4 variables, but received 0`). `AtomicBackup` writes the new weights under a
temporary name, moves the complete pair before it to `*.bkp`, renames the new weights into place
and only then writes their record (`training_metadata.json`: the epoch and the weights' SHA-256).
A record names the one weights file it belongs to, so whenever a kill lands, `restore` finds a
complete pair: the newest record whose weights hash to it; else the best checkpoint's weights at
its epoch (`best.keras` holds them, optimizer state included); else none, and the fold starts over.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import keras

from kit import fileio
from kit.errors import KitError

WEIGHTS = "latest.weights.h5"  # Keras' names, which `fine_tune` and older backups share
METADATA = "training_metadata.json"
PREVIOUS = ".bkp"
INCOMING = ".incoming.weights.h5"  # Keras saves weights only to names ending in .weights.h5


class AtomicBackup(keras.callbacks.BackupAndRestore):
    """BackupAndRestore whose backup is never torn, and whose unreadable backup is one line."""

    def __init__(self, folder: Path):
        super().__init__(str(folder), delete_checkpoint=False)  # removed once the fold is recorded
        self.folder = folder

    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except (OSError, ValueError) as error:  # h5py's and Keras' words for a file that does not fit
            raise KitError(unreadable(self.folder, error)) from None

    def _save_model(self):
        self.folder.mkdir(parents=True, exist_ok=True)
        incoming = self.folder / INCOMING
        self.model.save_weights(incoming, overwrite=True)
        record = {"epoch": self._current_epoch, "batch": self._last_batch_seen, "weights_sha256": digest(incoming)}
        for name in (WEIGHTS, METADATA):  # the complete pair so far stays, as the previous one
            if (self.folder / name).exists():
                os.replace(self.folder / name, self.folder / f"{name}{PREVIOUS}")
        os.replace(incoming, self.folder / WEIGHTS)
        fileio.write_json(self.folder / METADATA, record)  # last: the pair is complete from here


def unreadable(folder: Path, error: Exception) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"{folder / WEIGHTS}: the resume backup cannot be read ({first[:200]}); delete {folder} to "
        f"continue this fold from its best checkpoint (or from the start when it has none)"
    )


def restore(folder: Path, best: Path, best_epoch: int | None) -> int:
    """Before a fold resumes: leave in `folder` only its newest complete backup, else one made
    from the best checkpoint `best` (saved after `best_epoch` epochs), and return the epoch it
    resumes at (0: none, the fold starts over). A kill inside this leaves a state it restores again."""
    found = newest_complete(folder)
    if found is None and best.exists() and best_epoch:
        found = from_best(folder, best, best_epoch)
    if found is not None:
        weights, record = found
        if weights != folder / WEIGHTS:
            os.replace(weights, folder / WEIGHTS)
        # an older kit's record gets the hash of the weights it was just found whole with
        fileio.write_json(folder / METADATA, record | {"weights_sha256": digest(folder / WEIGHTS)})
    else:
        (folder / METADATA).unlink(missing_ok=True)
    for name in (WEIGHTS + PREVIOUS, METADATA + PREVIOUS, INCOMING, *([] if found else [WEIGHTS])):
        (folder / name).unlink(missing_ok=True)
    return int(found[1]["epoch"]) if found else 0


def newest_complete(folder: Path) -> tuple[Path, dict] | None:
    """(weights file, record) of the newest pair whose weights are whole: the file that hashes to
    the record's SHA-256 (a kill may leave it under any of the three names); a record without one
    (an older kit's) trusts its own weights file when it holds at least as many arrays as the
    previous one (a torn file holds fewer, or cannot be opened)."""
    files = [folder / name for name in (WEIGHTS, WEIGHTS + PREVIOUS, INCOMING) if (folder / name).is_file()]
    hashes: dict[Path, str] = {}
    pairs = []
    for suffix in ("", PREVIOUS):
        record = read_record(folder / f"{METADATA}{suffix}")
        if record is None:
            continue
        if "weights_sha256" not in record:
            if legacy_whole(folder / f"{WEIGHTS}{suffix}", folder / (WEIGHTS + PREVIOUS) if not suffix else None):
                pairs.append((folder / f"{WEIGHTS}{suffix}", record))
            continue
        for path in files:
            hashes.setdefault(path, digest(path))
            if hashes[path] == record["weights_sha256"]:
                pairs.append((path, record))
                break
    return max(pairs, key=lambda pair: int(pair[1]["epoch"]), default=None)


def read_record(path: Path) -> dict | None:
    try:
        record = json.loads(path.read_text())
        return record if isinstance(record, dict) and int(record["epoch"]) >= 0 else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def legacy_whole(path: Path, previous: Path | None) -> bool:
    count = array_count(path)
    return count > 0 and (previous is None or not previous.exists() or count >= array_count(previous))


def array_count(path: Path) -> int:
    """How many arrays an HDF5 weights file holds (0: none, or no file h5py can open)."""
    import h5py

    found = []
    try:
        with h5py.File(path, "r") as store:
            store.visititems(lambda _, item: found.append(1) if isinstance(item, h5py.Dataset) else None)
    except (OSError, ValueError):
        return 0
    return len(found)


def from_best(folder: Path, best: Path, epoch: int) -> tuple[Path, dict] | None:
    """The best checkpoint's weights as a backup at the epoch it was saved (a `.keras` file is a
    zip holding them as `model.weights.h5`, in the layout `save_weights` writes)."""
    try:
        with zipfile.ZipFile(best) as archive:
            data = archive.read("model.weights.h5")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    path = fileio.atomic_write(folder / INCOMING, data)
    print(f"{folder}: no complete backup; the fold resumes from {best.name} (epoch {epoch}), optimizer state included")
    return path, {"epoch": epoch, "batch": 0, "from": best.name}


def digest(path: Path) -> str:
    return fileio.sha256_file(path)
