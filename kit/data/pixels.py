"""Kaggle pixel CSVs (`label,pixel0..pixel783` or `label,pixel1..pixel784`), read and validated.

Every defect a user can meet in such a file stops with a `KitError` naming the file, the row (1 =
the first data row, the line after the header) and the column: missing or empty file, wrong
columns, non-numeric, NaN, fractional or out-of-range pixels, missing or unknown labels and
duplicated ids.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kit.data.archives import MAX_CSV_BYTES, Inflated, open_inflating, too_large
from kit.data.classes import are_integers
from kit.data.stream import take_rows
from kit.errors import KitError

COMPRESSED = (".gz", ".bz2", ".xz", ".zip")  # pandas reads these transparently
# what pandas lets through from a damaged compressed file: a corrupt stream (zlib.error from gzip
# and zip, LZMAError, OSError from bz2 and gzip headers, BadZipFile) or a truncated one (EOFError)
DAMAGED = (zlib.error, lzma.LZMAError, zipfile.BadZipFile, EOFError, OSError)
# and from a file it cannot read otherwise: an encrypted or exotic zip member (RuntimeError), a
# zip of several files (ValueError), text in no known encoding
UNREADABLE = (*DAMAGED, RuntimeError, ValueError)


@dataclass(frozen=True)
class Images:
    """Images as uint8 (N, H, W, C) with their labels (None for an unlabelled test set) and ids.
    `targets`: what the metric compares with when that is not the class index (kit.targets: a
    number per image, a 0/1 row of tags); `labels` then only group rows (splits, audit)."""

    images: np.ndarray
    labels: np.ndarray | None
    ids: np.ndarray
    source: Path
    targets: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.images)

    @property
    def truth(self) -> np.ndarray | None:
        """What predictions are scored against: the targets, else the class labels."""
        return self.labels if self.targets is None else self.targets

    def take(self, index: np.ndarray) -> Images:
        labels = None if self.labels is None else self.labels[index]
        targets = None if self.targets is None else self.targets[index]
        # memory-mapped images stay on disk (a RowView)
        return Images(take_rows(self.images, index), labels, self.ids[index], self.source, targets)


def find_file(folder: Path, name: str) -> Path:
    """`name` in `folder`, or a compressed twin (`train.csv.gz`, `.bz2`, `.xz`, `.zip`)."""
    for candidate in [folder / name] + [folder / f"{name}{ext}" for ext in COMPRESSED]:
        if candidate.is_file():
            return candidate
    if (folder / name).is_dir():
        raise KitError(f"{folder / name}: is a folder, not a CSV file")
    raise KitError(f"{folder / name}: file not found")


def read_pixel_csv(
    path: Path,
    shape: tuple[int, int, int],
    num_classes: int,
    label_column: str | None,
    id_column: str = "",
    id_start: int = 1,
    class_names: tuple[str, ...] = (),
) -> Images:
    """Read and validate one pixel CSV. `label_column=None` reads an unlabelled (test) file.
    A label is the index of its class, or, when the classes are named by integers ('0'..'9'),
    the class of that name (digits listed in another order keep their meaning)."""
    frame = read_frame(path)
    if label_column and id_column not in frame.columns:
        id_column = ""  # Kannada-MNIST: the test file has an id column, the training file none
    pixel_columns = check_columns(path, list(frame.columns), shape, label_column, id_column)
    pixels = numeric_block(path, frame, pixel_columns, "pixel")
    check_pixel_values(path, pixels, pixel_columns)
    labels = None
    if label_column:
        labels = check_labels(path, frame[label_column], label_column, num_classes, class_names)
    ids = np.arange(id_start, id_start + len(frame))
    if id_column:
        ids = check_ids(path, frame[id_column], id_column)
    images = pixels.astype(np.uint8).reshape((len(frame), *shape))
    return Images(images, labels, ids, path)


def read_frame(path: Path) -> pd.DataFrame:
    if path.is_dir():
        raise KitError(f"{path}: is a folder, not a CSV file")
    if not path.is_file():
        raise KitError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise KitError(f"{path}: file is empty")
    try:
        frame = read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError:
        raise KitError(f"{path}: file is empty (no header row)") from None
    except pd.errors.ParserError as exc:
        raise KitError(f"{path}: malformed CSV: {describe_parser_error(exc)}") from None
    except UNREADABLE as exc:
        raise unreadable(path, exc) from None
    if frame.empty:
        raise KitError(f"{path}: has a header but no data rows")
    return frame


def read_csv(path: Path, sniffed: bool = True, **kwargs) -> pd.DataFrame:
    """`pd.read_csv` (with `sniff`'s options unless `sniffed=False`), a compressed file inflated
    here under `MAX_CSV_BYTES`: pandas' own decompression has no cap. Past it, one
    KitError; a damaged file raises what its decompressor raises (see `unreadable`)."""
    options = {k: v for k, v in sniff(path).items() if k != "compression"} if sniffed else {}
    kind = compression_of(path)
    if not kind:
        return pd.read_csv(path, **options, **kwargs)
    try:
        with open_inflating(path, kind) as source:
            return pd.read_csv(source, **options, **kwargs)
    except Inflated:
        raise too_large(path, MAX_CSV_BYTES) from None


MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bz2", b"PK\x03\x04": "zip", b"\xfd7zXZ\x00": "xz"}


def sniff(path: Path) -> dict:
    """pandas options for files re-saved by other tools: compressed under a plain `.csv` name,
    UTF-16 text (Excel's "Unicode text"), or separated by semicolons or tabs."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    kind = next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)
    if kind:  # pandas infers compression from the suffix only
        return {} if path.suffix.lower() in COMPRESSED else {"compression": kind}
    options: dict = {}
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        options["encoding"] = "utf-16"
        head = head.decode("utf-16", errors="ignore").encode()
    first_line = head.split(b"\n", 1)[0]
    if b"," not in first_line:
        separator = next((sep for sep in (";", "\t") if sep.encode() in first_line), None)
        if separator:
            options["sep"] = separator
    return options


def compression_of(path: Path) -> str | None:
    """'gzip', 'bz2', 'xz' or 'zip' by the file's first bytes (else its suffix), or None."""
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError:
        head = b""
    kind = next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)
    by_suffix = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}.get(path.suffix.lower())
    return kind or by_suffix


def unreadable(path: Path, exc: BaseException) -> KitError:
    """One line for a file that cannot be read at all: a damaged archive says so."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = "zlib.error" if isinstance(exc, zlib.error) else type(exc).__name__
    reason = f"{name}: {text}" if text else name
    kind = compression_of(path)
    if kind and isinstance(exc, DAMAGED):
        return KitError(f"{path}: damaged {kind} file, truncated or corrupt ({reason})")
    return KitError(f"{path}: not a readable CSV file ({reason})")


def describe_parser_error(exc: Exception) -> str:
    """pandas says 'Expected 785 fields in line 7, saw 786'; name it as a row of ours too."""
    text = str(exc).strip().splitlines()[-1]
    words = text.replace(",", "").split()
    if "line" in words:
        line = int(words[words.index("line") + 1])
        return f"row {line - 1} (line {line}): {text}"
    return text


def check_columns(
    path: Path, columns: list[str], shape: tuple[int, int, int], label_column: str | None, id_column: str
) -> list[str]:
    """Return the pixel columns in order; any missing, extra or misnumbered column is an error."""
    expected_pixels = int(np.prod(shape))
    required = [c for c in (label_column, id_column) if c]
    if all(is_number(c) for c in columns[:3]):
        expected = ", ".join([*required, "pixel0"])
        raise KitError(f"{path}: the first line is data, not a header (expected {expected}, ...)")
    for name in required:
        if name not in columns:
            shown = ", ".join(str(c)[:40] for c in columns[:5])
            raise KitError(f"{path}: no '{name}' column (header starts: {shown}{', ...' if len(columns) > 5 else ''})")
    pixel_columns = [c for c in columns if c not in required]
    if len(pixel_columns) != expected_pixels:
        size = "x".join(map(str, shape))
        raise KitError(
            f"{path}: expected {len(required) + expected_pixels} columns "
            f"({' + '.join(required + [f'{expected_pixels} pixels for {size} images'])}), "
            f"found {len(columns)}"
        )
    first = 0 if pixel_columns[0] == "pixel0" else 1
    for offset, name in enumerate(pixel_columns):
        if name != f"pixel{first + offset}":
            raise KitError(f"{path}: column {offset + 1 + len(required)} is '{name}', expected 'pixel{first + offset}'")
    return pixel_columns


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def numeric_block(path: Path, frame: pd.DataFrame, columns: list[str], what: str) -> np.ndarray:
    """The columns as float64, stopping at the first non-numeric or empty cell."""
    block = frame[columns]
    text_columns = [c for c in columns if not pd.api.types.is_numeric_dtype(block[c])]
    if text_columns:
        coerced = block[text_columns].apply(pd.to_numeric, errors="coerce")
        bad = coerced.isna() & block[text_columns].notna()
        row, col = first_true(bad.to_numpy())
        value = plain(block[text_columns].iat[row, col])
        raise KitError(f"{where(path, row, text_columns[col])}: {what} {value!r} is not a number")
    values = block.to_numpy(dtype=np.float64)
    missing = np.isnan(values)
    if missing.any():
        row, col = first_true(missing)
        raise KitError(f"{where(path, row, columns[col])}: {what} is missing (empty or NaN)")
    return values


def check_pixel_values(path: Path, pixels: np.ndarray, columns: list[str]) -> None:
    bad = (pixels < 0) | (pixels > 255) | (pixels != np.round(pixels))
    if bad.any():
        row, col = first_true(bad)
        value = pixels[row, col]
        raise KitError(f"{where(path, row, columns[col])}: pixel {value:g} is not an integer in 0..255")


def check_labels(path: Path, column: pd.Series, name: str, num_classes: int, class_names=()) -> np.ndarray:
    """Class indices: the label itself, or the index of the class the label names when the
    classes are named by integers."""
    values = pd.to_numeric(column, errors="coerce")
    if are_integers(class_names):
        values = values.map({int(name): i for i, name in enumerate(class_names)})
        expected = ", ".join(class_names)
    else:
        expected = f"0..{num_classes - 1}"
    values = values.to_numpy(dtype=np.float64)
    bad = np.isnan(values) | (values != np.round(values)) | (values < 0) | (values >= num_classes)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raw = column.iat[row]
        shown = "missing" if pd.isna(raw) else f"{plain(raw)!r} is not a known label"
        raise KitError(f"{where(path, row, name)}: label {shown} (expected an integer in {expected})")
    return values.astype(np.int64)


def check_ids(path: Path, column: pd.Series, name: str) -> np.ndarray:
    if column.isna().any():
        row = int(np.flatnonzero(column.isna().to_numpy())[0])
        raise KitError(f"{where(path, row, name)}: id is missing")
    duplicated = column.duplicated(keep="first").to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        first = int(np.flatnonzero((column == column.iat[row]).to_numpy())[0])
        raise KitError(f"{where(path, row, name)}: id {plain(column.iat[row])!r} duplicates row {first + 1}")
    return column.to_numpy()


def plain(value):
    """numpy scalars as plain Python values, so messages say 10, not np.int64(10)."""
    return value.item() if isinstance(value, np.generic) else value


def first_true(mask: np.ndarray) -> tuple[int, int]:
    """(row, column) of the first True in row-major order."""
    row, col = np.argwhere(mask)[0]
    return int(row), int(col)


def where(path: Path, row: int, column: str) -> str:
    """`file: row R (line L), column C` with R counting data rows from 1."""
    return f"{path}: row {row + 1} (line {row + 2}), column '{column}'"
