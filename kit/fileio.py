"""Small file helpers shared by every writer: atomic writes, content hashes, the git commit."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from kit import paths


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
    from kit.data.stream import chunks

    digest = hashlib.sha256()
    for array in arrays:
        if array is not None:
            for block in chunks(array):
                digest.update(memoryview(np.ascontiguousarray(block)).cast("B"))
    return digest.hexdigest()


def git_commit() -> str:
    """The repository's HEAD commit (with '+dirty' when there are local changes), or ''."""
    try:
        head = subprocess.run(
            ["git", "-C", str(paths.ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(paths.ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return f"{head}+dirty" if head and dirty else head
