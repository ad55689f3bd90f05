"""Small file helpers shared by every writer: atomic writes, content hashes, and what made a file
(the git commit, the library versions and the machine, for `make reproduce`)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import importlib.metadata
import io
import json
import lzma
import os
import platform
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from kit import paths
from kit.errors import KitError

# How far a compressed file may inflate: past it, a decompression bomb is refused in one line.
# Generous for real competitions (the largest pixel CSVs are a few GB; image archives tens of
# GB); each overridable by its environment variable (a test sets them small).
MAX_CSV_BYTES = ("KIT_MAX_CSV_BYTES", 16 * 2**30)
MAX_ARCHIVE_BYTES = ("KIT_MAX_ARCHIVE_BYTES", 256 * 2**30)


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


def git_commit() -> str:
    """The repository's HEAD commit (with '+dirty' when there are local changes), or ''.

    A kernel bundle has no .git: its runner passes the commit it was built from as KIT_GIT_COMMIT."""
    if os.environ.get("KIT_GIT_COMMIT"):
        return os.environ["KIT_GIT_COMMIT"]
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


# the libraries whose versions change a model's numbers; each with the distributions it ships as
LIBRARIES = {
    "numpy": ("numpy",),
    "keras": ("keras",),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tf-nightly"),
    "jax": ("jax",),
    "jaxlib": ("jaxlib",),
    "scikit-learn": ("scikit-learn",),
    "imbalanced-learn": ("imbalanced-learn",),
    "pandas": ("pandas",),
}


def library_versions() -> dict[str, str]:
    """Python's version and each installed library's (read from package metadata: nothing imported)."""
    versions = {"python": platform.python_version()}
    for name, distributions in LIBRARIES.items():
        for distribution in distributions:
            try:
                versions[name] = importlib.metadata.version(distribution)
                break
            except importlib.metadata.PackageNotFoundError:
                continue
    return versions


def environment(precision: str | None = None) -> dict:
    """What a result depends on besides data, code and seeds: versions, backend, device, CPUs, and
    for a run the Keras dtype policy its networks trained under (a fit's, not the process's: the
    fit restores the policy before it, kit.training.device)."""
    found = {
        "versions": library_versions(),
        "keras_backend": keras_backend(),
        "device": device(),
        "cpus": os.cpu_count(),
        "onednn": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset"),  # TensorFlow's CPU kernels (kit/__init__.py)
        "platform": f"{platform.system()} {platform.machine()}",
    }
    return found | ({"precision": precision} if precision else {})


def keras_backend() -> str:
    """The backend Keras runs (or would run) on, without importing Keras for it."""
    keras = sys.modules.get("keras")
    if keras is not None:
        return keras.backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def device() -> str:
    """'gpu' when the backend already running sees one ('2 x gpu' for two: data-parallel runs
    differ with the count, kit.training.distribute), else 'cpu' (scikit-learn runs never start a
    backend, and need none)."""
    backend = keras_backend()
    gpus = 0
    if backend == "jax" and "jax" in sys.modules:
        jax = sys.modules["jax"]
        gpus = jax.local_device_count() if jax.default_backend() == "gpu" else 0
    if backend == "tensorflow" and "tensorflow" in sys.modules:
        gpus = len(sys.modules["tensorflow"].config.list_physical_devices("GPU"))
    return "cpu" if not gpus else "gpu" if gpus == 1 else f"{gpus} x gpu"


def byte_cap(cap: tuple[str, int]) -> int:
    """A cap's value: its environment variable when set to a number of bytes, else its default."""
    variable, default = cap
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise KitError(f"{variable}={text!r}: a number of bytes, e.g. {default}")
    return int(text)


class Inflated(Exception):
    """A compressed file inflated past its cap (deliberately no OSError or ValueError: the
    readers' handlers for damaged files must not take it for one)."""


def too_large(path: Path, cap: tuple[str, int]) -> KitError:
    limit = byte_cap(cap)
    return KitError(
        f"{path}: inflates to more than {limit:,} bytes: refused as a likely decompression bomb "
        f"(if the file is genuine, raise {cap[0]})"
    )


class CappedReader(io.RawIOBase):
    """A decompressing stream that raises `Inflated` once more than `limit` bytes came out."""

    def __init__(self, stream, limit: int, closing=()):
        self.stream, self.limit, self.count, self.closing = stream, limit, 0, closing

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.stream.read(len(buffer))
        self.count += len(data)
        if self.count > self.limit:
            raise Inflated(self.count)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        for stream in (self.stream, *self.closing):
            stream.close()
        super().close()


def open_inflating(path: Path, kind: str, cap: tuple[str, int] = MAX_CSV_BYTES) -> io.BufferedReader:
    """`path` decompressed as it is read (`kind`: gzip, bz2, xz or zip, whose one file it reads,
    like pandas), raising `Inflated` past the cap. Damaged files raise what their module raises."""
    if kind == "zip":
        archive = zipfile.ZipFile(path)
        names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
        if len(names) != 1:
            archive.close()
            found = "Zero files" if not names else f"Multiple files found in ZIP file ({', '.join(names[:3])})"
            raise ValueError(f"{found}: a zip must hold exactly one CSV")
        return io.BufferedReader(CappedReader(archive.open(names[0]), byte_cap(cap), (archive,)), 1 << 20)
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}[kind]
    return io.BufferedReader(CappedReader(opener(path, "rb"), byte_cap(cap)), 1 << 20)


def extract_zip(archive: zipfile.ZipFile, path: Path, dest: Path, cap: tuple[str, int] = MAX_ARCHIVE_BYTES) -> None:
    """`archive.extractall(dest)` unless its files declare more than the cap (zipfile never
    inflates a member past its declared size: a lying header fails its CRC check instead).
    extractall drops absolute paths and '..' parts, so nothing lands outside `dest`."""
    if sum(info.file_size for info in archive.infolist()) > byte_cap(cap):
        raise too_large(path, cap)
    archive.extractall(dest)
