"""Small file helpers shared by every writer: atomic writes, locks, JSON, and content hashes."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np


def atomic_write(path: Path, data: bytes, exclusive: bool = False) -> Path:
    """Write `data` to `path` so that readers see the old file or the whole new one, never half.

    `exclusive=True` never replaces an existing file: it raises FileExistsError instead.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)  # fails if `path` exists: nothing is overwritten
        else:
            os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` (created if absent) for the block: other processes wait.

    An advisory `flock`: the kernel releases it when the holder exits, even killed with -9, so a
    crash never leaves a stale lock. Where `fcntl` does not exist (Windows) the block runs unlocked.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def write_json(path: Path, data: Any, exclusive: bool = False) -> Path:
    text = json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"
    return atomic_write(path, text.encode(), exclusive=exclusive)


def read_json(path: Path) -> dict:
    """A JSON file's object, or {} when the file does not exist (a run that never finished)."""
    return json.loads(path.read_text()) if path.exists() else {}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_arrays(*arrays) -> str:
    """A content hash of the data a model saw (images and labels), for the submission record.
    Read in blocks of rows (the bytes of `array.tobytes()`), so memory-mapped sets stay on disk."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is not None:
            for block in chunks(array):
                digest.update(memoryview(np.ascontiguousarray(block)).cast("B"))
    return digest.hexdigest()


CHUNK = 4096  # rows per read when a whole array is scanned (hashes, audits)


def chunks(images, size: int = CHUNK):
    """Consecutive blocks of rows of an array, memory map or RowView: whole-set scans in bounded memory."""
    for start in range(0, len(images), size):
        yield np.asarray(images[start : start + size])
