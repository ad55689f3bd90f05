"""Resolving a configuration: layers of nested dicts applied in a fixed order, later wins:

    defaults (kit.config.schema) < competition.toml < [presets.NAME] < params file (tuned) < --set

An unknown section or key, or a value of the wrong type or outside a `Literal`'s choices, is a
`KitError` naming it. The resolved configuration is saved as JSON beside every checkpoint and
every submission.

>>> cfg = resolve({"train": {"epochs": 3}}, overrides=["batch_size=32"])
>>> (cfg.train.epochs, cfg.train.batch_size)
(3, 32)
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from kit import fileio
from kit.config.redact import hide_passwords
from kit.config.schema import BOUNDS, PATTERNS, Config
from kit.errors import KitError

SECTIONS: dict[str, type] = typing.get_type_hints(Config)


def resolve(
    *layers: dict[str, Any],
    overrides: list[str] | tuple[str, ...] = (),
    source: str = "config",
) -> Config:
    """Apply nested-dict layers in order, then `key=value` overrides, onto the defaults."""
    merged: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for layer in layers:
        for section, values in layer.items():
            check_section(section, values, source)
            merged[section].update(values)
    for text in overrides:
        section, key, value = parse_override(text)
        merged[section][key] = value
    if merged["data"].get("channel_files") and "channels" not in merged["data"]:
        # channel files name the image's channels: every one of them unless data.channels keeps fewer
        merged["data"]["channels"] = len(coerce("data.channel_files", merged["data"]["channel_files"], tuple[str, ...]))
    return Config(**{name: build_section(name, values) for name, values in merged.items()})


def check_section(section: str, values: Any, source: str) -> None:
    if section not in SECTIONS:
        raise KitError(
            f"{source}: unknown section [{section}]{did_you_mean(section, SECTIONS)} (known: {', '.join(SECTIONS)})"
        )
    if not isinstance(values, dict):
        raise KitError(f"{source}: [{section}] must be a table of key = value")


def build_section(name: str, values: dict[str, Any]):
    kind = SECTIONS[name]
    known = {f.name: f for f in dataclasses.fields(kind)}
    hints = typing.get_type_hints(kind)
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            hint = did_you_mean(key, known, prefix=f"{name}.")
            raise KitError(f"unknown config key '{name}.{key}'{hint} (known: {', '.join(known)})")
        kwargs[key] = within_bounds(f"{name}.{key}", coerce(f"{name}.{key}", value, hints[key]))
    return kind(**kwargs)


def within_bounds(key: str, value: Any) -> Any:
    low, high = BOUNDS.get(key, (None, None))
    if (low is not None and value < low) or (high is not None and value > high):
        allowed = f"at least {low}" if high is None else f"between {low} and {high}"
        raise KitError(f"config key '{key}' must be {allowed}, got {value!r}")
    return value


def coerce(key: str, value: Any, hint: Any) -> Any:
    """Check `value` against the field's type; ints widen to floats, lists become tuples."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        choices = typing.get_args(hint)
        if value not in choices and not matches_pattern(key, value):
            allowed = ", ".join([*map(str, choices), *([PATTERNS[key][1]] if key in PATTERNS else [])])
            raise KitError(f"config key '{key}' must be one of {allowed}, got {value!r}")
        return value
    if origin is tuple:
        # a bare `SET=competition.class_names=a,b,c` means three items (a TOML list, ['a,b'], keeps a comma)
        items = [part.strip() for part in value.split(",")] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise KitError(f"config key '{key}' must be a list, got {value!r}")
        (item_type, _) = typing.get_args(hint)
        return tuple(coerce(key, item, item_type) for item in items)
    if origin in (types.UnionType, typing.Union):
        raise TypeError(f"unsupported config type {hint} for {key}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise KitError(f"config key '{key}' must be true or false, got {value!r}")
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise KitError(f"config key '{key}' must be {hint.__name__}, got {value!r}")
    return value


def matches_pattern(key: str, value: Any) -> bool:
    pattern = PATTERNS.get(key)
    return bool(pattern and isinstance(value, str) and re.fullmatch(pattern[0], value))


def parse_override(text: str) -> tuple[str, str, Any]:
    """`train.epochs=3` or `epochs=3` (a key unique across sections) -> (section, key, value)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise KitError(f"override '{text}' must look like key=value (e.g. train.epochs=3)")
    section, key = locate_key(name)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word: a string (model=cnn)
    return section, key, value


def locate_key(name: str) -> tuple[str, str]:
    if "." in name:
        section, key = name.split(".", 1)
        if section not in SECTIONS:
            hint = did_you_mean(section, SECTIONS)
            raise KitError(f"unknown config section '{section}' in '{name}'{hint} (known: {', '.join(SECTIONS)})")
        return section, key
    owners = [s for s, kind in SECTIONS.items() if name in {f.name for f in dataclasses.fields(kind)}]
    if not owners:
        owner = {f.name: s for s, kind in SECTIONS.items() for f in dataclasses.fields(kind)}
        close = difflib.get_close_matches(name, list(owner), n=1, cutoff=0.7)
        hint = did_you_mean(name, close, prefix=f"{owner[close[0]]}.") if close else ""
        raise KitError(f"unknown config key '{name}'{hint} (use section.key; sections: {', '.join(SECTIONS)})")
    if len(owners) > 1:
        raise KitError(f"config key '{name}' is ambiguous: write one of {', '.join(f'{s}.{name}' for s in owners)}")
    return owners[0], name


def did_you_mean(name: str, known, prefix: str = "") -> str:
    """': did you mean train.epochs?' for a near miss among the names `known`, else ''.

    >>> did_you_mean("epoch", ["epochs", "batch_size"], prefix="train.")
    ': did you mean train.epochs?'
    """
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.7)
    return f": did you mean {prefix}{close[0]}?" if close else ""


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise KitError(f"{path}: invalid TOML: {exc}") from None


def to_dict(cfg: Config) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def public_dict(cfg: Config) -> dict[str, Any]:
    """`to_dict` for what is written or shown (config.json files, submission records, the
    tracker): a database password in tune.storage as ***."""
    data = to_dict(cfg)
    data["tune"]["storage"] = hide_passwords(data["tune"]["storage"])
    return data


def save(cfg: Config, path: Path) -> None:
    """Write the resolved config as JSON (beside checkpoints and submissions), no password."""
    fileio.atomic_write(path, (json.dumps(public_dict(cfg), indent=2) + "\n").encode())


def load_saved(path: Path) -> Config:
    """Read a config written by `save` (e.g. a run's config.json) back, with the same checks."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{path}: file not found") from None
    return resolve(data, source=str(path))


def replace(cfg: Config, **sections: dict[str, Any]) -> Config:
    """A copy of `cfg` with some fields changed: replace(cfg, train={"epochs": 1})."""
    return resolve(to_dict(cfg), sections)
