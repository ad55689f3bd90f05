"""`make new`'s reading of where the images are: which layout, which folders, which columns.

    a CSV names image files     images         (Dog Breeds, Aerial Cactus, APTOS; images may sit
                                               in sub-folders of train/: train/part1/a.png)
    train/<class>/.../<image>   class_folders  (Plant Seedlings; sub-folders of any depth)
    train/<class>.<n>.jpg       file_names     (Dogs vs. Cats)
    a CSV of ids, train/<id>_red.png, <id>_green.png, ...
                                images with data.channel_files (Human Protein Atlas: one file per
                                channel, kit.data.channels)

The CSV is tried first: a competition that labels its images in a CSV may still keep them in
sub-folders, which are not classes. Every image file is then counted (kit.data.census): the
summary says what each split uses, and labelled-looking images left out are an error.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

from kit.data.census import Census
from kit.data.channels import describe, detect_channels, listed
from kit.data.finder import FileFinder, image_files, keep_spelling
from kit.data.images import MAX_PIXELS, Stacked
from kit.data.inferred import Inferred
from kit.data.layouts import (
    SPLIT_NAMES,
    class_dirs,
    class_folder_root,
    class_order,
    file_name_root,
    label_table,
)
from kit.data.pixels import COMPRESSED, read_csv, read_frame
from kit.data.sample_check import check_ids
from kit.errors import KitError

MAX_SIDE = 64  # a from-scratch CNN on a CPU; larger images are squashed to this (data.height/width)
SIZE_PROBES = 24  # images opened to read sizes and colour modes
PROBES = 20  # values of a column tried as file names


def relative(folder: Path, path: Path) -> str:
    return path.relative_to(folder).as_posix()


def path_layout(found: Inferred, folder: Path) -> tuple[str, Path] | None:
    """('class_folders' | 'file_names', the training folder), SET= first, else what the folders show."""
    layout, train_dir = found.given("data.format"), found.given("data.train_dir")
    if layout in ("class_folders", "file_names"):
        return layout, folder / (train_dir or "train")
    if layout:
        return None
    if train_dir:  # SET=data.train_dir=...: that folder, whichever way it holds its labels
        root = folder / train_dir
        return ("class_folders" if len(class_dirs(root)) >= 2 else "file_names", root) if root.is_dir() else None
    if (root := class_folder_root(folder)) is not None:
        return "class_folders", root
    if (root := file_name_root(folder)) is not None:
        return "file_names", root
    return None


def infer_path_layout(found: Inferred, folder: Path, layout: str, root: Path) -> tuple[list[str], list, list]:
    """data.* for a layout whose labels are paths; (class names (numbers in numeric order), the
    training files, whether each has a label)."""
    train_dir = relative(folder, root)
    table = label_table(layout, folder, train_dir)
    names = class_order(table["label"].dropna().astype(str))
    what = "a folder per class" if layout == "class_folders" else "images named <class>.<n>"
    found.set("data.format", layout, f"{train_dir}/ holds {what}")
    found.set("data.train_dir", train_dir, "the folder of training images")
    found.set("competition.class_names", names, f"the {'folder' if layout == 'class_folders' else 'file'} names")
    set_image_size(found, [folder / p for p in table["image"].head(SIZE_PROBES)])
    test_dir = image_test_dir(found, folder, exclude=root)
    found.set("data.test_dir", relative(folder, test_dir), "the other folder of images")
    shape = "<class>/" if layout == "class_folders" else "<class>.<n>.<ext>"
    found.summary.append(f"layout: {train_dir}/{shape} ({len(names)} classes), test {relative(folder, test_dir)}/")
    return names, [folder / p for p in table["image"]], table["label"].notna().tolist()


def image_table(found: Inferred, folder: Path, sample_path: Path | None):
    """(table path, frame, training folder, image column) of the CSV whose values name image files,
    or None when no CSV does. SET=data.train_file / data.train_dir / data.image_column are obeyed."""
    given = found.given("data.train_file")
    # a test.csv naming the test images labels nothing
    tables = [folder / given] if given else [p for p in csv_files(folder) if p != sample_path and not test_table(p)]
    tables.sort(key=lambda p: not ("train" in p.name.lower() or "label" in p.name.lower()))
    for path in tables:
        frame = keep_spelling(path, read_frame(path))
        train_dir = image_train_dir(found, folder, path)
        finder = FileFinder(folder, relative(folder, train_dir), path.name)
        column = table_column(found, frame, finder)
        if column:
            return path, frame, train_dir, column
    return None


def table_column(found: Inferred, frame: pd.DataFrame, finder: FileFinder) -> str:
    """The column naming the images: its values name files, else its ids have one file per
    channel (SET= data.image_column and data.channel_files obeyed); '' when none does."""
    given = found.given("data.image_column")
    probed = frame[[given]] if given in frame.columns else frame
    if not found.given("data.channel_files") and (column := best_image_column(probed, finder)):
        return column
    return channel_column(found, frame, finder) or given or ""


def channel_column(found: Inferred, frame: pd.DataFrame, finder: FileFinder) -> str:
    """The column of ids whose images are one file per channel (kit.data.channels), their
    suffixes set as data.channel_files; '' when no column's ids are (or SET= said there are none)."""
    given = found.given("data.channel_files")
    if given is not None and not listed(given):
        return ""
    if given:  # SET= names the suffixes: the ids are those that have these files
        finder.channels = listed(given)
        return found.given("data.image_column") or best_image_column(frame, finder)
    column, suffixes = detect_channels(frame, finder, found.given("data.image_column") or "")
    if column:
        source = f"{finder.roots[0].name}/: each {column} has one file per channel, <{column}>_<suffix>"
        found.set("data.channel_files", list(suffixes), source)
        found.summary.append(describe(suffixes))
    return column


def data_finder(found: Inferred, folder: Path, subdir: str, source: str) -> FileFinder:
    """A FileFinder for the layout found so far (one file per channel when data.channel_files)."""
    channels = listed(found.sections.get("data", {}).get("channel_files", ()))
    return FileFinder(folder, subdir, source, channels)


def label_by_elimination(frame: pd.DataFrame, columns: list[str], folder: Path, sample) -> str:
    """The one column of `columns` whose values are the sample's class columns (Leaf
    Classification's species, State Farm's classname), else the one a test table lacks
    (iWildCam's category_id beside ten metadata columns); '' when neither is one column."""
    if sample is not None and sample.shape[1] > 2:
        classes = set(map(str, sample.columns))
        named = [c for c in columns if frame[c].dropna().astype(str).isin(classes).mean() > 0.9]
        if len(named) == 1:
            return named[0]
    for path in (p for p in csv_files(folder) if test_table(p)):
        header = set(map(str, read_csv(path, nrows=0).columns))
        missing = [c for c in columns if c not in header]
        if len(missing) == 1 and len(header & set(columns)) > 0:
            return missing[0]
    return ""


def test_table(path: Path) -> bool:
    name = path.name.lower()
    return "test" in name and "train" not in name


def csv_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and csv_name(p.name))


def csv_name(name: str) -> bool:
    stem = name.lower()
    for ext in COMPRESSED:
        stem = stem.removesuffix(ext)
    return stem.endswith(".csv")


def image_train_dir(found: Inferred, folder: Path, path: Path) -> Path:
    if given := found.given("data.train_dir"):
        return folder / given
    dirs = image_dirs(folder)
    named = [d for d in dirs if "train" in d.name.lower()]
    if not (named or dirs):
        raise KitError(f"{folder}: no folder of images for {path.name}: set SET=data.train_dir=<folder>")
    return (named or dirs)[0]


def best_image_column(frame: pd.DataFrame, finder: FileFinder) -> str:
    """The column whose first values name the most image files ('' when none names any)."""
    hits = {str(c): sum(finder.find(str(v)) is not None for v in frame[c].dropna().head(PROBES)) for c in frame}
    best = max(hits, key=hits.get, default="")
    return best if best and hits[best] else ""


def image_test_dir(found: Inferred, folder: Path, exclude: Path | None = None) -> Path:
    if given := found.given("data.test_dir"):
        return folder / given
    candidates = [d for d in image_dirs(folder) if d != exclude]
    named = [d for d in candidates if "test" in d.name.lower()]
    if not (named or candidates) and exclude is not None:
        return exclude  # one folder of every image (Leaf Classification's images/): the sample's ids say which
    if not (named or candidates):
        raise KitError(f"{folder}: no folder of test images: set SET=data.test_dir=<folder>")
    return (named or candidates)[0]


def image_dirs(folder: Path) -> list[Path]:
    """The folders of images at the top of `folder`; a folder whose sub-folders are train/ and
    test/ (State Farm's imgs/train, imgs/test) stands for them."""
    dirs = []
    for top in (d for d in sorted(folder.iterdir()) if d.is_dir() and image_files(d)):
        splits = [d for d in sorted(top.iterdir()) if d.is_dir() and d.name.lower() in SPLIT_NAMES]
        dirs += [d for d in splits if image_files(d)] if len(splits) >= 2 else [top]
    return dirs


def sample_id_column(found: Inferred, folder: Path, sample: pd.DataFrame, sample_path: Path) -> str:
    """The sample's column naming the test images, wherever it stands; an error when none does."""
    test_dir = found.sections["data"]["test_dir"]
    finder = data_finder(found, folder, test_dir, sample_path.name)
    if given := found.given("submission.id_column"):
        return given
    column = best_image_column(sample, finder)
    if not column:  # refused with the line, the id and the nearest file (kit.data.sample_check)
        check_ids(sample_path, folder, test_dir, channels=finder.channels)
        column = str(sample.columns[0])
    found.set("submission.id_column", column, f"{sample_path.name}: its values name the files in {test_dir}/")
    return column


def count_images(found: Inferred, folder: Path, train: list, labelled: list[bool], test: list) -> None:
    """The census (kit.data.census) of what the inferred layout would read, into the summary."""
    census = Census(folder)
    census.add("train", train, ["" if ok else "unlabelled" for ok in labelled])
    census.add("test", test)
    data = found.sections["data"]
    root = folder / data["train_dir"] if data["format"] in ("class_folders", "file_names") else None
    found.summary += census.report(root, bool(found.given("data.allow_unused", False)))


def set_image_size(found: Inferred, images: list) -> None:
    """data.height, width and channels from the first images' headers (found files, or
    channel files: the first of each); as many channels as channel files."""
    if all(found.given(f"data.{key}") for key in ("height", "width", "channels")):
        return
    sizes, modes = [], set()
    images = [p.paths[0] if isinstance(p, Stacked) else p for p in images if isinstance(p, Path | Stacked)]
    for path in images[:SIZE_PROBES]:
        try:
            with Image.open(path) as image:  # the header only
                if image.width * image.height > MAX_PIXELS:  # a decompression bomb says nothing of the rest
                    continue
                sizes.append(min(image.size))
                modes.add(image.mode)
        except (OSError, Image.DecompressionBombError):
            continue
    if not sizes:
        raise KitError("no readable image to read the size from: set SET='data.height=H data.width=W data.channels=C'")
    side = int(min(MAX_SIDE, np.median(sizes)))
    channels = 1 if modes <= {"L", "1", "I;16", "I"} else 3
    source = f"{len(sizes)} images: median side {int(np.median(sizes))}, modes {', '.join(sorted(modes))}"
    found.set("data.height", side, source)
    found.set("data.width", side, source)
    if files := listed(found.sections["data"].get("channel_files", ())):
        channels, source = len(files), f"one file per channel: {' '.join(files)}"
    found.set("data.channels", channels, source)
