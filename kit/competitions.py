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

from kit import config, paths
from kit.errors import KitError


def discover() -> dict[str, dict[str, Any]]:
    """slug -> parsed competition.toml, for every competition folder."""
    found = {}
    for toml_path in sorted(paths.COMPETITIONS.glob("*/competition.toml")):
        found[toml_path.parent.name] = config.read_toml(toml_path)
    return found


def resolve_name(name: str) -> str:
    """A slug or alias -> the slug; an unknown name lists the known ones."""
    known = discover()
    if name in known:
        return name
    for slug, raw in known.items():
        if name in raw.get("competition", {}).get("aliases", []):
            return slug
    names = [f"{s} ({', '.join(r.get('competition', {}).get('aliases', []))})" for s, r in known.items()]
    raise KitError(f"unknown competition '{name}' (known: {', '.join(names)})")


def load_config(
    name: str,
    preset: str = "",
    overrides: list[str] | tuple[str, ...] = (),
    data_dir: str = "",
    params: dict[str, Any] | None = None,
) -> config.Config:
    """The resolved config: defaults < competition.toml < preset < params < --set (< DATA)."""
    slug = resolve_name(name)
    toml_path = paths.competition_dir(slug) / "competition.toml"
    raw = dict(config.read_toml(toml_path))
    presets = raw.pop("presets", {})
    raw.setdefault("competition", {})["slug"] = slug
    layers = [raw]
    if preset:
        if preset not in presets:
            known = ", ".join(presets) or "none"
            raise KitError(f"{toml_path}: unknown preset '{preset}' (known: {known})")
        layers.append(presets[preset])
    if params:
        layers.append(params)
    if data_dir:
        layers.append({"data": {"dir": data_dir}})
    cfg = config.resolve(*layers, overrides=overrides, source=str(toml_path))
    load_plugins(slug)
    return cfg


def data_folder(cfg: config.Config) -> tuple[Path, bool]:
    """Where the competition's files are, and whether that is the committed embedded sample.

    Order: `data.dir` (DATA=...), then `data/<slug>` when `make data` filled it, then the sample.
    """
    slug = cfg.competition.slug
    if cfg.data.dir:
        folder = Path(cfg.data.dir).expanduser()
        if not folder.is_dir():
            raise KitError(f"data folder {folder} does not exist (DATA / data.dir)")
        return folder, False
    downloaded = paths.data_dir(slug)
    if any(downloaded.glob(f"{cfg.data.train_file}*")):
        return downloaded, False
    if cfg.data.embedded:
        return paths.competition_dir(slug) / cfg.data.embedded, True
    raise KitError(
        f"no data for {slug}: run `make data COMP={slug}` (needs a Kaggle account) "
        f"or pass DATA=<folder in the Kaggle layout>"
    )


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
