"""Image-folder competitions: CSVs of image paths (or ids) and labels, folders of JPEG/PNG files.

The living-species layout:

    train.csv, val.csv       an image column (a path, a file name or an id) and an integer label
    train/ val/ test/        the images
    sample_submission.csv    its id column names the test images, its columns the submission

Train and val are merged (the kit re-splits them, stratified). Every readable image is decoded
once with Pillow on a thread pool (Pillow releases the GIL while decoding and resizing), turned
into RGB (grayscale, palette, RGBA composited on white, CMYK), squashed to `data.height` x
`data.width` and stored as the same uint8 `Images` arrays the pixel competitions use, so audit,
training, tuning and prediction run unchanged. The decoded arrays are written straight into a
cache under `artifacts/<slug>/cache/`, keyed by the file list, sizes, modification times and
image size; with `data.stream` the cache is memory-mapped instead of loaded (kit.data.stream).

A file that is missing, empty, not an image, truncated or otherwise unreadable, above the pixel
cap, or outside the data folder (an absolute path, `../`, or a symlink leading out: never opened),
or a row whose label is not a class, never stops the run: training rows are skipped, test rows
(which need a prediction) get a blank placeholder and, in the submission, the most frequent
training class; every such row is listed in `faults` with its kind (see kit.data.images).

Every image file under the data folder is counted (kit.data.census): what each split uses, why
the others are not used, and an error when labelled-looking images would be left out. Label tables
for class folders and labels in file names come from kit.data.layouts; a CSV value finds its file
through kit.data.finder (by path, name or stem, at any depth).

Two processes decoding the same uncached set (`make tune WORKERS=2`) take turns on a lock: the
second reads what the first wrote. The cache's files appear whole (temporary name, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from kit import fileio, paths, targets
from kit.config import Config
from kit.console.progress import progress
from kit.data.census import Census
from kit.data.channels import folder_ids, say_channels
from kit.data.classes import are_integers, holds_class_names
from kit.data.finder import FileFinder, image_files, keep_spelling
from kit.data.images import decode, members
from kit.data.layouts import label_table
from kit.data.pixels import Images, read_frame
from kit.data.stream import stream_wanted, take_rows
from kit.errors import KitError

FAULT_COLUMNS = ["split", "row", "file", "fault", "detail"]
LABEL_NAMES = ("label", "labels", "class", "class_id", "category", "target", "y")
IMAGE_HINTS = ("path", "file", "image", "img", "id", "name")
CACHE_VERSION = 1  # bump when decoding changes, so old caches are not reused


@dataclass(frozen=True)
class Decoded:
    """Decoded images (N, H, W, C) uint8 and one (kind, detail) per row; kind '' = fine."""

    images: np.ndarray
    faults: list[tuple[str, str]]


def load_folders(cfg: Config, folder: Path, sample: pd.DataFrame | None, with_test: bool = True):
    """(train Images, test Images or None, faults DataFrame, census lines) for an image-folder
    competition. The census counts every image file under the folder (kit.data.census)."""
    tables = path_tables(cfg, folder) if cfg.data.format in PATH_LAYOUTS else read_label_tables(cfg, folder)
    finder = FileFinder(folder, tables[0][2] or tables[0][0].stem, channels=cfg.data.channel_files)
    say_channels(cfg)
    image_column, label_column = choose_columns(cfg, tables[0][1], tables[0][0], sample, finder)
    census = Census(folder)
    train, faults = read_labelled(cfg, folder, tables, image_column, label_column, census)
    test = None
    if with_test:
        test, test_faults = read_test(cfg, folder, sample, census)
        faults = fault_table(pd.concat([faults, test_faults], ignore_index=True))
    train_root = folder / cfg.data.train_dir if cfg.data.format in PATH_LAYOUTS else None
    lines = census.report(train_root, cfg.data.allow_unused) if with_test else []
    return train, test, faults, lines


PATH_LAYOUTS = ("class_folders", "file_names")


def path_tables(cfg: Config, folder: Path) -> list[tuple[Path, pd.DataFrame, str]]:
    """The label table a class-folder or file-name layout makes (kit.data.layouts)."""
    root = folder / (cfg.data.train_dir or "train")
    return [(root, label_table(cfg.data.format, folder, cfg.data.train_dir), "")]


def read_label_tables(cfg: Config, folder: Path) -> list[tuple[Path, pd.DataFrame, str]]:
    """[(csv path, frame, image folder), ...] for train.csv and (when configured) val.csv."""
    tables = [(folder / cfg.data.train_file, cfg.data.train_dir)]
    if cfg.data.val_file and (folder / cfg.data.val_file).exists():
        tables.append((folder / cfg.data.val_file, cfg.data.val_dir))
    elif cfg.data.val_file:  # some releases ship one labelled table: train on it alone
        print(f"note: no {cfg.data.val_file} in {folder}; using {cfg.data.train_file} alone")
    return [(path, keep_spelling(path, read_frame(path)), subdir) for path, subdir in tables]


def choose_columns(cfg: Config, frame: pd.DataFrame, path: Path, sample, finder) -> tuple[str, str]:
    """The image and label columns: as configured, else guessed from the sample submission's
    column names, common names and (for images) which column's values name existing files.
    The real competition's names are not known in advance."""
    columns = [str(c) for c in frame.columns]
    sample_columns = [] if sample is None else [str(c) for c in sample.columns]
    if sample is not None:  # the id column first, wherever the sample puts it
        first = sample_id_column(cfg, sample)
        sample_columns = [first, *(c for c in sample_columns if c != first)]
    label = pick_column(
        path,
        columns,
        cfg.data.label_column,
        "data.label_column",
        [*sample_columns[1:2], *LABEL_NAMES],
    )
    if not label:
        candidates = [c for c in columns if looks_like_labels(frame[c], cfg.num_classes)]
        if len(candidates) != 1:
            raise KitError(
                f"{path}: cannot tell which column holds the labels (columns: "
                f"{', '.join(columns)}): set data.label_column"
            )
        label = candidates[0]
    others = [c for c in columns if c != label]
    if cfg.data.image_column:
        return pick_column(path, others, cfg.data.image_column, "data.image_column", []), label
    if not others:
        raise KitError(f"{path}: no column names the images (columns: {', '.join(columns)})")
    # hinted columns first (the sample's id column, then path/file/image/id/name), then the rest;
    # the winner is the one whose first values resolve to files (an index column never does)
    hinted = [c for c in others if c in sample_columns[:1]]
    hinted += [c for c in others if any(h in c.lower() for h in IMAGE_HINTS)] + others
    order = list(dict.fromkeys(hinted))
    hits = {c: sum(finder.find(str(v)) is not None for v in frame[c].dropna().head(20)) for c in order}
    return max(order, key=lambda c: (hits[c], -order.index(c))), label


def pick_column(path: Path, columns: list[str], configured: str, key: str, hints: list[str]) -> str:
    """The configured column (an error if absent), else the first hint present, else ''."""
    if configured:
        if configured not in columns:
            raise KitError(
                f"{path}: no '{configured}' column (columns: {', '.join(columns)}); "
                f'set {key} to one of them, or to "" to guess'
            )
        return configured
    lowered = {c.lower(): c for c in columns}
    return next((lowered[h.lower()] for h in hints if h.lower() in lowered), "")


def looks_like_labels(column: pd.Series, num_classes: int) -> bool:
    values = pd.to_numeric(column, errors="coerce")
    return bool(
        values.notna().mean() > 0.9
        and values.dropna().between(0, num_classes - 1).all()
        and (values.dropna() == values.dropna().round()).all()
    )


def read_labelled(cfg, folder, tables, image_column, label_column, census) -> tuple[Images, pd.DataFrame]:
    """Merge the labelled tables, decode their images, drop faulty rows (listed in the faults)."""
    names, files, labels, fault_rows, truths = [], [], [], [], []
    for path, frame, subdir in tables:
        if image_column not in frame.columns or label_column not in frame.columns:
            raise KitError(
                f"{path}: expected columns '{image_column}' and '{label_column}' "
                f"like {tables[0][0].name} (found {', '.join(map(str, frame.columns))})"
            )
        split = path.stem
        finder = FileFinder(folder, subdir or split, path.name, cfg.data.channel_files)
        read = targets.for_config(cfg).read(frame, label_column, cfg)  # class index, number or tags
        truths.append(read.truth)
        if read.truth is None:  # one class per image: how its labels are spelt (kit.data.classes)
            check_label_spelling(cfg, folder, path, frame[label_column], read.values)
        for row, (name, stratum) in enumerate(zip(frame[image_column].astype(str), read.strata, strict=True)):
            names.append((split, row + 1, name))
            files.append(finder.locate(name))
            labels.append(int(stratum))
    decoded = decode_cached(cfg, "train", files, stream_wanted(cfg, len(files)))
    for i, (split, row, name) in enumerate(names):
        kind, detail = decoded.faults[i]
        if not kind and labels[i] < 0:
            kind, detail = "bad_label", read.bad
        if kind:
            fault_rows.append((split, row, name, kind, detail))
    keep = np.array([not decoded.faults[i][0] and labels[i] >= 0 for i in range(len(names))], dtype=bool)
    reasons = [decoded.faults[i][0] or ("" if keep[i] else "unlabelled") for i in range(len(names))]
    census.add("train", files, reasons)
    if not keep.any():
        raise KitError(
            f"{tables[0][0]}: none of the {len(names)} labelled images could be read "
            f"(first problem: {fault_rows[0][2]}: {fault_rows[0][3]})"
        )
    ids = np.array([name for _, _, name in names], dtype=object)[keep]
    kept = decoded.images if keep.all() else take_rows(decoded.images, np.flatnonzero(keep))
    truth = None if truths[0] is None else np.concatenate(truths)[keep]
    train = Images(kept, np.array(labels, dtype=np.int64)[keep], ids, tables[0][0], truth)
    return train, fault_table(fault_rows)


def read_test(cfg: Config, folder: Path, sample: pd.DataFrame | None, census=None) -> tuple[Images, pd.DataFrame]:
    """The test images named by the sample submission's id column (`submission.id_column` when
    the sample has it, else its first), else every file of the test folder. Unreadable ones get
    a blank placeholder: the submission needs a row for each id."""
    finder = FileFinder(folder, cfg.data.test_dir or "test", cfg.submission.sample_file, cfg.data.channel_files)
    if sample is not None:
        ids = sample[sample_id_column(cfg, sample)].to_numpy()
    else:
        files = image_files(finder.roots[0])
        ids = np.array(folder_ids(files, cfg.submission.ids, cfg.data.channel_files), dtype=object)
        if not len(ids) or finder.roots[0] == folder:
            where = folder / (cfg.data.test_dir or "test")
            raise KitError(f"{where}: no test images, and no {cfg.submission.sample_file} naming them")
    files = [finder.locate(str(value)) for value in ids]
    decoded = decode_cached(cfg, "test", files, stream_wanted(cfg, len(files)))
    rows = [("test", i + 1, str(ids[i]), kind, detail) for i, (kind, detail) in enumerate(decoded.faults) if kind]
    if census is not None:
        census.add("test", files, [kind for kind, _ in decoded.faults])
    source = folder / cfg.submission.sample_file if sample is not None else finder.roots[0]
    return Images(decoded.images, None, ids, source), fault_table(rows)


def fault_table(rows) -> pd.DataFrame:
    """A faults table (rows or frames) with integer row numbers: pandas 3 makes the column of an
    empty frame, and so of a concatenation with one, object dtype, which no index accepts."""
    return pd.DataFrame(rows, columns=FAULT_COLUMNS).astype({"row": np.int64})


def check_label_spelling(cfg, folder: Path, path: Path, column: pd.Series, values: np.ndarray) -> None:
    """Numbers 0..k-1 in the table beside classes named by words: the submission could write
    either, and the sample's placeholders cannot say which, so the user says it (once)."""
    numbers = pd.to_numeric(column, errors="coerce").notna().all()
    words = not are_integers(cfg.competition.class_names)
    sample = folder / cfg.submission.sample_file
    if not (numbers and words and sample.is_file() and cfg.submission.labels == "auto" and np.isfinite(values).any()):
        return
    frame = read_frame(sample)
    answers = [frame[c] for c in frame.columns if c != sample_id_column(cfg, frame)]
    if not any(holds_class_names(values, cfg.competition.class_names) for values in answers):  # names settle it
        raise KitError(
            f"{path}: labels are class numbers (0..{cfg.num_classes - 1}) while competition.class_names are "
            "words: set submission.labels=indices to write the numbers in the submission, or =names for the words"
        )


def sample_id_column(cfg: Config, sample: pd.DataFrame) -> str:
    """The sample's id column: `submission.id_column` (written by `make new`) when present, else the first."""
    columns = [str(c) for c in sample.columns]
    return cfg.submission.id_column if cfg.submission.id_column in columns else columns[0]


def decode_cached(cfg: Config, split: str, files: list, stream: bool = False) -> Decoded:
    """`decode_all`, reusing the decoded arrays cached for the same files and image size.
    `stream`: decode straight into the cache file and return it memory-mapped, never whole in
    memory (the cache is then kept whatever `data.cache` says: it is where batches come from)."""
    size = (cfg.data.height, cfg.data.width, cfg.data.channels)
    if not (cfg.data.cache or stream):
        return decode_all(files, size, cfg.data.workers)
    key = cache_key(files, size)
    folder = paths.artifacts_dir(cfg.competition.slug) / "cache"
    array_path, faults_path = folder / f"{split}-{key}.npy", folder / f"{split}-{key}.json"
    mode = "r" if stream else None
    cached = read_cache(array_path, faults_path, mode)
    if cached is not None:
        return cached
    folder.mkdir(parents=True, exist_ok=True)
    # another process decoding the same set (tune workers) holds the lock: wait, then read its cache
    with fileio.locked(folder / f"{split}-{key}.lock"):
        cached = read_cache(array_path, faults_path, mode)
        if cached is not None:
            return cached
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{array_path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            target = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(files), *size))
            decoded = decode_all(files, size, cfg.data.workers, out=target)
            target.flush()
            del target
            fileio.write_json(faults_path, decoded.faults)  # first: a reader wants both files
            os.replace(tmp, array_path)  # a concurrent reader sees the whole file or none
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return Decoded(np.load(array_path, mmap_mode=mode, allow_pickle=False), decoded.faults)


def read_cache(array_path: Path, faults_path: Path, mode: str | None) -> Decoded | None:
    """The cached arrays and faults when both files are there (the faults are written first)."""
    if not (array_path.exists() and faults_path.exists()):
        return None
    faults = [tuple(f) for f in json.loads(faults_path.read_text())]
    return Decoded(np.load(array_path, mmap_mode=mode, allow_pickle=False), faults)


def cache_key(files: list, size: tuple[int, int, int]) -> str:
    """A digest of every file's path, size and modification time, the image size and the version."""
    digest = hashlib.blake2b(digest_size=10)
    digest.update(json.dumps([CACHE_VERSION, size]).encode())
    for path in (member for found in files for member in members(found)):  # each channel file
        try:
            stat = path.stat() if isinstance(path, Path) else None  # never an Outside file
        except OSError:
            stat = None
        digest.update(f"{path}|{stat.st_size if stat else -1}|{stat.st_mtime_ns if stat else -1}\n".encode())
    return digest.hexdigest()


def decode_all(files: list, size: tuple[int, int, int], workers: int = 0, out=None) -> Decoded:
    """Decode every file on a thread pool into `out` (a new array, or a zeroed memory map);
    faulty ones stay zero with their fault recorded."""
    height, width, channels = size
    images = np.zeros((len(files), height, width, channels), dtype=np.uint8) if out is None else out
    faults: list[tuple[str, str]] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers or min(32, (os.cpu_count() or 1) + 4)) as pool:
        decoding = progress(pool.map(partial(decode, size=size), files), "decoding images", len(files), "images")
        for i, (array, kind, detail) in enumerate(decoding):
            if array is not None:
                images[i] = array
            faults.append((kind, detail))
    seconds = time.perf_counter() - started
    if len(files) >= 1000:
        print(f"decoded {len(files)} images in {seconds:.1f} s ({len(files) / seconds:.0f}/s)")
    return Decoded(images, faults)
