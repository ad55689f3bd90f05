"""Compressed inputs read under a cap: a CSV decompressed as it is read (gzip, bz2, xz, a one-file
zip) and archives extracted, each refused in one line past its cap (a decompression bomb) instead of
filling the disk or the memory."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import zipfile
from pathlib import Path

from kit.errors import KitError

# How far a compressed file may inflate: past it, a decompression bomb is refused in one line.
# Generous for real competitions (the largest pixel CSVs are a few GB; image archives tens of
# GB); each overridable by its environment variable (a test sets them small).
MAX_CSV_BYTES = ("KIT_MAX_CSV_BYTES", 16 * 2**30)
MAX_ARCHIVE_BYTES = ("KIT_MAX_ARCHIVE_BYTES", 256 * 2**30)


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
