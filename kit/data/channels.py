"""Channel files: one image split over several grayscale files, one per channel.

The Human Protein Atlas ships `train/<Id>_red.png`, `<Id>_green.png`, `<Id>_blue.png` and
`<Id>_yellow.png`, one stain each, and a train.csv whose Id names no file. `make new` reads this
layout off the files: the CSV's ids are not file stems, but (nearly) every id has the same small
set of files `<id>_<suffix>` (or `<id>-<suffix>`). The suffixes become `data.channel_files`, in
stacking order: red, green, blue first when present (an RGB backbone then sees RGB), the rest
after them in natural order; the loader (kit.data.finder, kit.data.images) stacks the files into
one H x W x C image.

Numbered copies (`<id>_0.png`, `<id>_1.png`: augmentations, several views) are not channels:
their sets differ from id to id. A few ids lacking files of the common set stay channels and are
refused by name when their files are looked up; an id holding a suffix outside the set is not.

>>> channel_order(["yellow", "blue", "red", "green"])
('red', 'green', 'blue', 'yellow')
>>> channel_order(["w10", "w2", "w1"])
('w1', 'w2', 'w10')
"""

from __future__ import annotations

import re
from collections import Counter

import pandas as pd

from kit.data.finder import FileFinder

MAX_CHANNELS = 8  # the most channel files one image may have (the bound of data.channels)
ODD_SHARE = 0.05  # ids whose set of files differs from the common one (a missing file) tolerated
SEPARATORS = "_-"
RGB = ("red", "green", "blue")
PROBES = 20  # values of a column tried as ids


def channel_order(suffixes) -> tuple[str, ...]:
    """Red, green, blue first (those present), then the rest in natural order (w2 before w10)."""
    rgb = [name for colour in RGB for name in suffixes if name.lower() == colour]
    rest = [s for s in suffixes if s not in rgb]
    natural = sorted(rest, key=lambda s: [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", s)])
    return (*rgb, *natural)


def cuts(stem: str):
    """(id, suffix) for each way of cutting a file's stem at its last `_` or `-`."""
    for separator in SEPARATORS:
        base, cut, suffix = stem.rpartition(separator)
        if cut and base and suffix:
            yield base, suffix


def suffix_sets(finder: FileFinder) -> dict[str, set[str]]:
    """For every way of cutting a file's stem: the part before the cut (a candidate id) -> the
    suffixes after it."""
    groups: dict[str, set[str]] = {}
    paths = {path for found in finder.listing().values() for path in found}
    for path in paths:
        for base, suffix in cuts(path.stem):
            groups.setdefault(base, set()).add(suffix)
    return groups


def common_suffixes(ids, groups: dict[str, set[str]]) -> tuple[str, ...]:
    """The suffixes every id has a file for, in stacking order, when the ids' files make a
    channel layout (see the module's docstring); () when they do not."""
    sets = [frozenset(groups[i]) for i in ids if i in groups]
    if not sets or len(sets) < len(ids) / 2:
        return ()
    common, count = Counter(sets).most_common(1)[0]
    odd = len(sets) - count
    if not 2 <= len(common) <= MAX_CHANNELS or odd > max(1, ODD_SHARE * len(sets)):
        return ()
    if any(not s <= common for s in sets):  # a suffix of its own: numbered views, not channels
        return ()
    return channel_order(common)


def detect_channels(frame: pd.DataFrame, finder: FileFinder, column: str = "") -> tuple[str, tuple[str, ...]]:
    """(the column of ids, their channel suffixes) when `frame`'s ids have one file per channel
    under the finder's folder (`column` when given), else ('', ())."""
    groups = suffix_sets(finder)
    columns = [column] if column else [str(c) for c in frame.columns]
    for name in columns:
        probes = frame[name].dropna().astype(str).str.strip().head(PROBES)
        if not len(probes) or not probes.isin(groups).any():
            continue
        suffixes = common_suffixes(frame[name].dropna().astype(str).str.strip().tolist(), groups)
        if suffixes:
            return name, suffixes
    return "", ()


def folder_ids(files, spelling: str, channels: tuple[str, ...]) -> list[str]:
    """The test ids without a sample submission: the files' names (or stems), or with channel
    files the ids they belong to, each once, in file order."""
    if not channels:
        return [p.stem if spelling == "stem" else p.name for p in files]
    ids = {}
    for path in files:
        base = next((base for base, suffix in cuts(path.stem) if suffix in channels), None)
        if base is not None:
            ids.setdefault(base, None)
    return list(ids)


def say_channels(cfg) -> None:
    """The line a load prints when data.channels keeps fewer channel files than there are."""
    files, used = cfg.data.channel_files, cfg.data.channels
    if files and used < len(files):
        print(f"channels: reading {' '.join(files[:used])} of {' '.join(files)} (data.channels={used})")


def listed(value) -> tuple[str, ...]:
    """data.channel_files as a tuple, from a list or from SET='s comma-separated text."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(str(v) for v in value or ())


def describe(suffixes) -> str:
    """`make new`'s line: 'channels: red green blue yellow, one file each'."""
    return f"channels: {' '.join(suffixes)}, one file each"
