"""Class names travel with every probability array: column j of a run's, a fold's or a
submission's probabilities is the class its names list at j. Two runs may name the same classes
in different orders (a config edited by hand, another release's sample), so whoever combines
arrays aligns them by name to one reference order and refuses different sets of classes, instead
of trusting positions.

>>> align(np.array([[0.9, 0.1]]), ("fox", "cat"), ("cat", "fox"), "run a").tolist()
[[0.1, 0.9]]
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from kit import fileio
from kit.errors import KitError

INTEGER = re.compile(r"-?(0|[1-9][0-9]*)")  # written back as the same text: "7", not "07"


def align(probabilities: np.ndarray, names, reference, source: str) -> np.ndarray:
    """`probabilities` (columns in `names`' order) with columns in `reference`'s order; one
    KitError line naming both sets when they are not the same classes."""
    names, reference = tuple(map(str, names)), tuple(map(str, reference))
    if names == reference:
        return probabilities
    if len(set(names)) != len(names) or set(names) != set(reference) or probabilities.shape[-1] != len(names):
        raise KitError(
            f"{source}: its classes {list(names)} are not the classes {list(reference)}: "
            "only predictions of the same classes can be combined (competition.class_names)"
        )
    return probabilities[..., [names.index(name) for name in reference]]


def of_run(run_dir: Path) -> tuple[str, ...]:
    """The class names, in the order of a run's probability columns: its record's, else (a run
    trained before runs recorded them) its saved config's."""
    names = fileio.read_json(run_dir / "run.json").get("class_names")
    if names is None:
        names = fileio.read_json(run_dir / "config.json").get("competition", {}).get("class_names", [])
    return tuple(map(str, names))


def of_file(saved, fallback: tuple[str, ...]) -> tuple[str, ...]:
    """The names stored in an `.npz` beside its probabilities, else `fallback` (older files)."""
    return tuple(map(str, saved["class_names"])) if "class_names" in saved.files else fallback


def are_integers(names) -> bool:
    """Class names that are integers ('0'..'9'): a label submission writes them as numbers."""
    return bool(names) and all(INTEGER.fullmatch(str(name)) for name in names)


def label_domain(names) -> tuple:
    """What a label submission writes for each class: the integer a name spells, else the name."""
    return tuple(int(name) for name in names) if are_integers(names) else tuple(map(str, names))


def holds_class_names(values: pd.Series, names: tuple[str, ...]) -> bool:
    """Whether a sample's label column spells class names (words, not numbers or blanks)."""
    return not are_integers(names) and values.astype(str).str.strip().isin(names).any()
