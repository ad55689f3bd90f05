"""From a CSV value (a path, a file name, an id with or without extension) to the image file.

Real competitions write their ids every way: `train/0a1b.png`, `0a1b.png`, `0a1b`, or `i0.png` in
the CSV for an `i0.jpg` on disk. A value is tried as a path first, then as a file name anywhere
under the split's image folder (sub-folders of any depth: `train/part1/a.png`), then by its stem.
Two files answering one value (`i0.jpg` and `i0.png`) is an error naming both: guessing would
train on the wrong picture in silence. With channel files (`data.channel_files`, kit.data.channels)
a value is an id whose image is one file per channel, `<id>_<suffix>` or `<id>-<suffix>`: all of
them are one `Stacked` image, none is a missing image, some but not all is an error naming the
id and the file it lacks.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from kit.data.images import Outside, Stacked
from kit.data.pixels import read_csv
from kit.errors import KitError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


def image_files(root: Path) -> list[Path]:
    """Every image file under `root`, at any depth, sorted; symlinked folders are not entered
    (a link back up would loop); hidden folders (.ipynb_checkpoints, .git) and a Mac zip's
    __MACOSX/ are skipped."""
    found = []
    for parent, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        # `._name.jpg`: the resource forks a zip made on a Mac carries, not images
        found += [Path(parent) / f for f in sorted(files) if is_image_name(f) and not f.startswith("._")]
    return found


def keep_spelling(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its number columns as the CSV spells them where parsing changed the text
    (ids `00012` read as 12 would name no file)."""
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    if not numeric:
        return frame
    text = read_csv(path, dtype=str, usecols=numeric, low_memory=False)
    frame = frame.copy()
    for column in numeric:
        spelt = text[column]
        if (spelt.str.strip().str.match(r"^[+-]?0\d") & spelt.notna()).any():
            frame[column] = spelt
    return frame


class Ambiguous(KitError):
    """One value names two files (by name or by stem)."""


class MissingChannel(KitError):
    """An id has some of its channel files but not all."""


class FileFinder:
    """Resolves a CSV value to a file: a path relative to the data folder or to the split's image
    folder, or a bare name or id (extension optional or different) found anywhere under the image
    folder. A file that resolves outside the data folder is `Outside`, whatever the path's form."""

    def __init__(self, folder: Path, subdir: str, source: str = "", channels: tuple[str, ...] = ()):
        # no such image folder: look under the whole data folder (another naming of the folders)
        self.roots = [folder / subdir, folder] if subdir and (folder / subdir).is_dir() else [folder]
        self.top = Path(os.path.realpath(folder))
        self.source = source  # the CSV the values come from, for error messages
        self.names: dict[str, list[Path]] | None = None
        self.stems: dict[str, list[Path]] = {}
        self.real_dirs: dict[Path, Path] = {}
        self.channels = tuple(channels)  # data.channel_files: a value is an id of one file per channel

    def find(self, value: str) -> Path | None:
        """The file `value` names inside the data folder, else None (ambiguous: None too: this
        probes which column names files)."""
        try:
            found = self.locate(value)
        except Ambiguous:
            return None
        return found if isinstance(found, Path | Stacked) else None

    def locate(self, value: str) -> Path | Outside | Stacked | None:
        """The file `value` names, `Outside` when it leads out of the data folder, None if none;
        `Ambiguous` when two files answer it. With channels: the id's `Stacked` channel files."""
        if self.channels:
            return self.locate_channels(value)
        return self.locate_file(value)

    def locate_channels(self, value: str) -> Stacked | Outside | None:
        """Every channel file of the id `value` (`<id>_<suffix>`, else `<id>-<suffix>`), in the
        order of `channels`; None when it has none; `MissingChannel` when it lacks some."""
        text = value.strip()
        found = {}
        for suffix in self.channels:
            path = self.locate_file(f"{text}_{suffix}") or self.locate_file(f"{text}-{suffix}")
            if isinstance(path, Outside):
                return path  # never opened, listed as its fault
            if path is not None:
                found[suffix] = path
        if not found:
            return None
        if len(found) < len(self.channels):
            missing = next(s for s in self.channels if s not in found)
            have = next(iter(found.values()))
            named = have.with_name(f"{text}{have.stem[len(text) : len(text) + 1]}{missing}{have.suffix}")
            shown = named.relative_to(self.roots[-1]).as_posix() if named.is_relative_to(self.roots[-1]) else named
            raise MissingChannel(
                f"{self.source or self.roots[0]}: id '{text}' lacks its {missing} channel file: no {shown} "
                f"beside {have.name} (data.channel_files: {' '.join(self.channels)})"
            )
        return Stacked(text, tuple(found[s] for s in self.channels))

    def locate_file(self, value: str) -> Path | Outside | None:
        """`locate` for one file per value."""
        text = value.strip().replace("\\", "/")  # paths written on Windows
        if not text:
            return None
        for root in self.roots:
            candidate = root / text  # an absolute `text` replaces the root: checked below
            if candidate.is_file():
                return self.contained(candidate, text)
        self.build()
        name = Path(text).name
        stem = Path(name).stem if is_image_name(name) else name
        keys = ((self.names, name), (self.names, name.lower()), (self.stems, stem), (self.stems, stem.lower()))
        for table, key in keys:
            found = table.get(key)
            if found:
                if len(found) > 1:
                    shown = ", ".join(p.relative_to(self.roots[-1]).as_posix() for p in found[:3])
                    raise Ambiguous(
                        f"{self.source or self.roots[0]}: '{value}' could be any of {len(found)} files "
                        f"({shown}): write the file's path (relative to the data folder) in its place"
                    )
                return self.contained(found[0], text)
        return None

    def contained(self, path: Path, value: str) -> Path | Outside:
        """`path` when its real location (`..` and links resolved) is inside the data folder."""
        parent = self.real_dirs.get(path.parent)
        if parent is None:  # one realpath per folder: 200k images need not cost 200k of them
            parent = self.real_dirs[path.parent] = Path(os.path.realpath(path.parent))
        real = Path(os.path.realpath(path)) if path.is_symlink() else parent / path.name
        return path if real.is_relative_to(self.top) else Outside(value, str(real))

    def build(self) -> None:
        """name -> paths and stem -> paths of every file under the image folder (built once)."""
        if self.names is not None:
            return
        self.names = {}
        if not self.roots[0].is_dir():
            return
        for path in image_files(self.roots[0]):
            for table, key in ((self.names, path.name), (self.stems, path.stem)):
                table.setdefault(key, []).append(path)
                if key.lower() != key:
                    table.setdefault(key.lower(), []).append(path)

    def listing(self) -> dict[str, list[Path]]:
        """file name -> the image files of that name under the image folder."""
        self.build()
        return self.names
