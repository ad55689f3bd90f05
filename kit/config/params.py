"""Tuned parameters: `artifacts/<slug>/best_params.toml`, written by `make tune`, read by
`PARAMS=best` (or PARAMS=<file>) as a config layer between the preset and `--set`.

The file holds the study name, trial number and value at the top, then config sections:

    study = "digit-recognizer"
    trial = 12
    value = 0.9931
    [train]
    learning_rate = 0.0021
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kit import paths
from kit.config.layers import read_toml
from kit.errors import KitError

# what a study never changes, so what tuned parameters never hold: the data and the submission
# are the competition's, and [tune] names a Python file (tune.space) that the next study imports
FIXED_SECTIONS = ("competition", "data", "submission", "tune")


def best_params_path(slug: str) -> Path:
    return paths.artifacts_dir(slug) / "best_params.toml"


def load_params(path: Path) -> dict[str, Any]:
    """The config sections of a params file (its study/trial/value header is left out)."""
    if not path.exists():
        hint = " (run `make tune` first)" if path.name == "best_params.toml" else ""
        raise KitError(f"{path}: no tuned parameters{hint}")
    sections = {key: table for key, table in read_toml(path).items() if isinstance(table, dict)}
    fixed = sorted(set(sections) & set(FIXED_SECTIONS))
    if fixed:
        raise KitError(
            f"{path}: tuned parameters never set [{', '.join(fixed)}] (a study keeps them fixed): remove those tables"
        )
    return sections


def tunable(sections: dict[str, Any]) -> dict[str, Any]:
    """`sections` without what tuned parameters never hold (a trial's stored config comes from a
    shared database, which anyone with access to it can write)."""
    return {name: table for name, table in sections.items() if name not in FIXED_SECTIONS}


def unchanged_note(path: Path) -> str:
    """The line PARAMS= prints when its file changes nothing: the study's best trial was the
    untuned configuration (its first), or the file holds no tables."""
    header = read_toml(path)
    if header.get("untuned"):
        return (
            f"PARAMS: {path}: the study's best trial (trial {header.get('trial')}) is the untuned baseline, "
            "so nothing is changed (tuning found nothing better)"
        )
    return f"PARAMS: {path} holds no tuned parameters: nothing is changed"
