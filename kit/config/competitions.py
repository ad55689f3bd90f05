"""Discovers competitions (`competitions/*/competition.toml`), resolves aliases, loads configs.

A competition folder holds `competition.toml` (sections as in `kit.config`, plus `[presets.NAME]`
tables), optionally `models.py` (extra model factories registered with `kit.models.register`)
and `space.py` (the Optuna search space). The kit never imports a competition by name: it finds
them here.

>>> resolve_name("digits")
'digit-recognizer'
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from kit import paths
from kit.config import layers
from kit.config.params import best_params_path, load_params, unchanged_note
from kit.config.schema import Config
from kit.errors import KitError


def discover() -> dict[str, dict[str, Any]]:
    """slug -> parsed competition.toml, for every competition folder."""
    found = {}
    for toml_path in sorted(paths.COMPETITIONS.glob("*/competition.toml")):
        found[toml_path.parent.name] = layers.read_toml(toml_path)
    return found


def resolve_name(name: str) -> str:
    """A slug or alias -> the slug; an unknown name lists the known ones."""
    known = discover()
    if name in known:
        return name
    for slug, raw in known.items():
        if name in raw.get("competition", {}).get("aliases", []):
            return slug
    aliases = {slug: raw.get("competition", {}).get("aliases", []) for slug, raw in known.items()}
    names = [slug + (f" ({', '.join(names)})" if names else "") for slug, names in aliases.items()]
    hint = layers.did_you_mean(name, [*known, *(alias for names in aliases.values() for alias in names)])
    raise KitError(f"unknown competition '{name}'{hint} (known: {', '.join(names)})")


def load_config(
    name: str,
    preset: str = "",
    overrides: list[str] | tuple[str, ...] = (),
    data_dir: str = "",
    params: str | dict[str, Any] | None = None,
) -> Config:
    """The resolved config: defaults < competition.toml < preset < params < --set (< DATA).

    `params` is a tuned-parameters file, `best` (the competition's best_params.toml), or its
    sections already read (a kernel bundle carries them baked in).
    """
    slug = resolve_name(name)
    if isinstance(params, str) and params:
        path = params_path(slug, params)
        params = load_params(path)
        if not params:  # a study whose best trial is the untuned baseline: applied, but not in silence
            print(unchanged_note(path), flush=True)
    elif isinstance(params, str):
        params = None
    toml_path = paths.competition_dir(slug) / "competition.toml"
    raw = dict(layers.read_toml(toml_path))
    presets = raw.pop("presets", {})
    raw.setdefault("competition", {})["slug"] = slug
    stack = [raw]
    if preset:
        if preset not in presets:
            known = ", ".join(presets) or "none"
            hint = layers.did_you_mean(preset, presets)
            raise KitError(f"{toml_path}: unknown preset '{preset}'{hint} (known: {known})")
        stack.append(presets[preset])
    if params:
        stack.append(params)
    if data_dir:
        stack.append({"data": {"dir": data_dir}})
    cfg = layers.resolve(*stack, overrides=overrides, source=str(toml_path))
    load_plugins(slug)
    return cfg


def params_path(slug: str, value: str) -> Path:
    """`best` -> artifacts/<slug>/best_params.toml; anything else is a file path."""
    if value == "best":
        return best_params_path(slug)
    path = Path(value).expanduser()
    if not path.exists():  # PARAMS=bst: a typo of best, not a file
        raise KitError(
            f"PARAMS={value}: no such file{layers.did_you_mean(value, ['best'])} "
            "(PARAMS=best reads the latest study's best_params.toml; else a TOML file of tuned parameters)"
        )
    return path


def load_plugins(slug: str) -> None:
    """Import competitions/<slug>/models.py once so its model factories register themselves."""
    path = paths.competition_dir(slug) / "models.py"
    module_name = f"kit_competition_{slug.replace('-', '_')}_models"
    if path.exists() and module_name not in sys.modules:
        load_module(path, module_name)


def load_module(path: Path, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
