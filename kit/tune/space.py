"""The search space: one function of the trial in `competitions/<slug>/space.py` (or
`tune.space`), returning config sections. Checked on a throwaway trial before anything slow.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit import config, paths
from kit.config import Config
from kit.config.competitions import load_module
from kit.config.params import FIXED_SECTIONS
from kit.errors import KitError
from kit.tune.default_space import default_space

# the split and the competition stay fixed during a study, or its trials could not be compared


def space_path(cfg: Config) -> Path:
    if cfg.tune.space:
        return Path(cfg.tune.space).expanduser()
    return paths.competition_dir(cfg.competition.slug) / "space.py"


def load_space(cfg: Config) -> Callable:
    """The `space(trial)` function of the competition's space.py (or of tune.space)."""
    path = space_path(cfg)
    if not path.exists() and not cfg.tune.space:  # optional: the space `make new` would write
        print(
            f"no {path}: tuning the default space for {cfg.train.model} (kit/tune/default_space.py)",
            flush=True,
        )
        return default_space(cfg)
    if not path.exists():
        raise KitError(f"{path}: no search space (write `def space(trial) -> dict` there)")
    module_name = f"kit_space_{re.sub(r'[^0-9A-Za-z_]', '_', str(path.resolve()))}"
    try:
        module = sys.modules.get(module_name) or load_module(path, module_name)
    except Exception as exc:  # a user's file: any error in it is theirs to fix
        raise KitError(f"{path}: cannot import: {type(exc).__name__}: {exc}") from None
    space = getattr(module, "space", None)
    if not callable(space):
        raise KitError(f"{path}: defines no function space(trial)")
    space.path = path
    return space


def sample_sections(space: Callable, trial) -> dict[str, dict[str, Any]]:
    """Call the space on a trial; check the sections it returns against the config."""
    try:
        sections = space(trial)
    except ValueError as exc:  # Optuna's own checks: empty or inverted ranges, no choices
        raise KitError(f"{space.path}: bad search space: {exc}") from None
    if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
        raise KitError(f"{space.path}: space(trial) must return {{section: {{key: value}}}}, got {sections!r}")
    unknown = sorted(set(sections) - set(config.SECTIONS))
    if unknown:
        raise KitError(f"{space.path}: unknown config section [{unknown[0]}] (known: {', '.join(config.SECTIONS)})")
    fixed = sorted(set(sections) & set(FIXED_SECTIONS))
    if fixed:
        raise KitError(f"{space.path}: the space sets [{', '.join(fixed)}], which must stay fixed during a study")
    return sections


def check_space(space: Callable, cfg: Config) -> None:
    """Draw one sample on a throwaway in-memory study, so a bad space stops before any training."""
    import optuna

    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    try:
        sections = sample_sections(space, trial)
    except KitError:
        raise
    except Exception as exc:  # a bug in the user's space.py: name it on one line
        raise KitError(f"{space.path}: space(trial) failed: {type(exc).__name__}: {exc}") from None
    try:
        config.replace(cfg, **sections)
    except KitError as exc:
        raise KitError(f"{space.path}: {exc}") from None
