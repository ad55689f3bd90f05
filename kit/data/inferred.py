"""What `make new` infers, value by value, with the file each value was read from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Inferred:
    """competition.toml's sections, and per `section.key` the file it was read from.

    `settled` holds the values `make new SET=...` names: they are in place before inference
    starts, inference reads them where it would otherwise guess (or fail), and nothing it
    finds replaces them."""

    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    summary: list[str] = field(default_factory=list)
    settled: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, value in self.settled.items():
            self.put(key, value, "SET=")

    def set(self, key: str, value: Any, source: str) -> None:
        if key not in self.settled:
            self.put(key, value, source)

    def put(self, key: str, value: Any, source: str) -> None:
        section, name = key.split(".")
        self.sections.setdefault(section, {})[name] = value
        self.sources[key] = source

    def given(self, key: str, default: Any = None) -> Any:
        """The value SET= gave `key`, else `default`."""
        return self.settled.get(key, default)
