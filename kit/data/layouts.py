"""Layouts whose labels live in the file paths, not in a CSV.

    class_folders   train/<class>/<image>, and sub-folders of any depth below a class folder
                    (train/<class>/<session>/<image>): every image under a class folder is that class
    file_names      train/<class>.<n>.jpg (Dogs vs. Cats): the label is the name's leading word

Class names that are all integers (`1`..`12`) are ordered as numbers and kept as spelt; others
are sorted as text. Both the loader (`kit.data.folders`) and `make new` (`kit.data.infer`) build
their label table here, so what `make new` counts is what training reads.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd

from kit.data.finder import image_files, is_image_name
from kit.errors import KitError

# the leading word of a file name and its separator: cat.123.jpg, dog_7.png, Cat-0001.jpg
NAME_LABEL = re.compile(r"^([^\W\d_]+)[._-]")
SPLIT_NAMES = {"train", "test", "val", "valid", "validation"}


def class_order(names) -> list[str]:
    """Integers in numeric order (1, 2, ..., 12, not 1, 10, 11, 12, 2), as spelt; else as text."""
    names = sorted(set(names))
    if names and all(re.fullmatch(r"[+-]?\d+", n.strip()) for n in names):
        return sorted(names, key=lambda n: int(n))
    return names


def class_dirs(root: Path) -> list[Path]:
    """The sub-folders of `root` holding at least one image at any depth."""
    return [d for d in sorted(root.iterdir()) if d.is_dir() and d.name[0] not in "._" and has_images(d)]


def has_images(folder: Path) -> bool:
    return bool(next(iter_images(folder), None))


def iter_images(folder: Path):
    for parent, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__MACOSX"]
        yield from (Path(parent) / f for f in files if is_image_name(f) and not f.startswith("._"))


def candidates(folder: Path) -> list[Path]:
    """The folders that may hold the training images: train/, then those named like it, then the rest."""
    dirs = [p for p in folder.iterdir() if p.is_dir() and p.name[0] not in "._"]
    return sorted(dirs, key=lambda p: (p.name.lower() != "train", "train" not in p.name.lower(), p.name))


def class_folder_root(folder: Path) -> Path | None:
    """A folder holding at least two sub-folders of images (train/<class>/...), or None. A folder
    whose sub-folders are train/, test/ is a wrapper (images/train/<class>/): its train/ is looked into."""
    for root in candidates(folder):
        while len(inner := class_dirs(root)) == 1 and not any(map(is_image_name, os.listdir(root))):
            root = inner[0]  # seg_train/seg_train/<class>/: a zip's folder inside a folder of its name
        dirs = {d.name.lower(): d for d in class_dirs(root)}
        if "train" in dirs and len(class_dirs(dirs["train"])) >= 2:
            return dirs["train"]
        if len(dirs) >= 2 and not dirs.keys() & SPLIT_NAMES:
            return root
    return None


def class_folder_rows(root: Path) -> list[tuple[Path, str]]:
    """(image, class name) for every image under a class folder, at any depth."""
    return [(path, d.name) for d in class_dirs(root) for path in image_files(d)]


def name_label(path: Path) -> str | None:
    match = NAME_LABEL.match(path.name)
    return match.group(1).lower() if match else None


def file_name_rows(root: Path) -> list[tuple[Path, str | None]]:
    """(image, label or None) for every image under `root`: the label is the name's leading word."""
    return [(path, name_label(path)) for path in image_files(root)]


def file_name_root(folder: Path) -> Path | None:
    """The folder whose images carry their class in their names (train/cat.1.jpg, train/dog.2.jpg):
    every image named `<word>.<...>`, at least two words, each on at least two images, and fewer
    words than half the images (a word per image is an id, not a class)."""
    for root in candidates(folder):
        if "test" in root.name.lower():
            continue
        rows = file_name_rows(root)
        labels = pd.Series([label for _, label in rows], dtype=object)
        if len(rows) < 4 or labels.isna().any():
            continue
        counts = labels.value_counts()
        if 2 <= len(counts) <= len(rows) / 2 and counts.min() >= 2:
            return root
    return None


def label_table(layout: str, folder: Path, train_dir: str) -> pd.DataFrame:
    """The label table a path layout makes: image (relative to the data folder), label."""
    root = folder / (train_dir or "train")
    if not root.is_dir():
        raise KitError(f"{root}: no such folder: set SET=data.train_dir=<the folder of training images>")
    rows = class_folder_rows(root) if layout == "class_folders" else file_name_rows(root)
    if not rows:
        shape = "<class>/<image>" if layout == "class_folders" else "<class>.<n>.jpg"
        raise KitError(f"{root}: no images laid out as {root.name}/{shape}: set SET=data.train_dir=<folder>")
    frame = pd.DataFrame(
        [(path.relative_to(folder).as_posix(), label) for path, label in rows], columns=["image", "label"]
    )
    return frame
