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

from kit import config, paths
from kit.competitions import resolve_name
from kit.errors import KitError


def best_params_path(slug: str) -> Path:
    return paths.artifacts_dir(slug) / "best_params.toml"


def load_params(comp: str, value: str) -> dict[str, Any]:
    """The config sections of a params file; `best` means the competition's best_params.toml."""
    path = best_params_path(resolve_name(comp)) if value == "best" else Path(value)
    if not path.exists():
        hint = f" (run `make tune COMP={comp}` first)" if value == "best" else ""
        raise KitError(f"{path}: no tuned parameters{hint}")
    return {key: table for key, table in config.read_toml(path).items() if isinstance(table, dict)}
