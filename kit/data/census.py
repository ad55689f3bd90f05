"""Nothing dropped in silence: every image file under the data folder, counted and accounted for.

`make new` and `make data` walk the whole data folder and say how many image files each split
uses and why any others are not used: unreadable (the decoder's fault kinds), unlabelled (a
label that is not a class), or outside any split (no label table, class folder or sample
names them). Unused images that look labelled (under the training folder, or any folder named
like `train`) are an error naming a few of them and their count: a layout that leaves them out
would train on part of the data and say "data ok".
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pandas as pd

from kit.data.finder import image_files
from kit.data.images import members
from kit.errors import KitError

EXAMPLES = 3


def key_of(folder: Path, path) -> str | None:
    """A file's path relative to the data folder, normalised (`a/../b` is `b`); None outside it."""
    if not isinstance(path, Path):
        return None
    relative = os.path.relpath(os.path.normpath(os.path.abspath(path)), os.path.abspath(folder))
    return None if relative.startswith("..") else Path(relative).as_posix()


class Census:
    """Which split uses each image file, and the reason ('' = used) for those it does not."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.uses: dict[str, tuple[str, str]] = {}

    def add(self, split: str, files, reasons=None) -> None:
        """`files` read for `split` (a channel-file image counts each of its files); `reasons[i]`
        is why file i is not used ('' = used)."""
        for i, found in enumerate(files):
            reason = reasons[i] if reasons is not None else ""
            for path in members(found):
                key = key_of(self.folder, path)
                if key is not None and (key not in self.uses or not reason):  # a duplicate row used once
                    self.uses[key] = (split, reason)

    def report(self, train_root: Path | None, allow_unused: bool = False) -> list[str]:
        """Lines for the terminal; a KitError when labelled-looking images are left out."""
        counts: dict[str, Counter] = {}
        unused: dict[str, list[str]] = {}
        total = 0
        for path in image_files(self.folder):
            total += 1
            key = key_of(self.folder, path)
            split, reason = self.uses.get(key, ("", "outside any split"))
            if not split and leads_out(path, self.folder):
                reason = "a link leading out of the data folder (never read)"
            counts.setdefault(split, Counter())[reason] += 1
            if not split:
                unused.setdefault(reason, []).append(key)
        lines = [f"images: {total} files under {self.folder}"]
        for split in sorted(s for s in counts if s):
            used = counts[split].pop("", 0)
            lines.append(f"  {split}: {used} used{not_used(counts[split])}")
        for reason, keys in unused.items():
            lines.append(f"  not used: {len(keys)} {reason}, e.g. {', '.join(keys[:EXAMPLES])}")
        outside = unused.get("outside any split", [])
        looking = [k for k in outside if looks_labelled(k, self.folder, train_root)]
        if looking and not allow_unused:
            raise KitError(
                f"{self.folder}: {len(looking)} images that look labelled would not be used "
                f"(e.g. {', '.join(looking[:EXAMPLES])}): set SET=data.train_dir=<their folder> if the layout "
                "is wrong, or SET=data.allow_unused=true to train without them"
            )
        return lines


def leads_out(path: Path, folder: Path) -> bool:
    return path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder))


def not_used(reasons: Counter) -> str:
    if not reasons:
        return ""
    return ", not used: " + ", ".join(f"{n} {reason}" for reason, n in sorted(reasons.items()))


def looks_labelled(key: str, folder: Path, train_root: Path | None) -> bool:
    """Under the training folder, or under any folder named like `train`."""
    parts = Path(key).parts[:-1]
    if any("train" in part.lower() for part in parts):
        return True
    root = key_of(folder, train_root) if train_root is not None else None
    return root not in (None, ".") and key.startswith(root + "/")


def fault_counts(faults: pd.DataFrame) -> dict[str, int]:
    """{'missing': 2, 'truncated': 1, ...} over the rows of a faults table."""
    return {str(k): int(v) for k, v in faults["fault"].value_counts().sort_index().items()}


def describe_faults(faults: pd.DataFrame) -> str:
    """One line for the terminal: how many rows were skipped (train) or blanked (test), and why."""
    parts = []
    for split, label in (("train", "skipped"), ("test", "unreadable, predicted as the most frequent class")):
        rows = faults[faults.split != "test"] if split == "train" else faults[faults.split == "test"]
        if len(rows):
            counts = ", ".join(f"{n} {k}" for k, n in fault_counts(rows).items())
            parts.append(f"{len(rows)} {split} rows {label} ({counts})")
    return "; ".join(parts) or "no unreadable or missing image files"
