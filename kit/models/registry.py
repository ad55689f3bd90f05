"""The model registry itself: `register` adds a factory under a name, `REGISTRY` holds them.

    @register("cnn")
    def cnn(input_shape, num_classes, width=1.0, dropout=0.25) -> keras.Model: ...

Keras factories take float images in 0..1 and end in a float32 softmax; the kit adds input
scaling and augmentation around them. An unknown name is an error listing the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable
    kind: Literal["keras", "sklearn"]  # picks the training interface (kit.training.kinds)
    summary: str


REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, kind: Literal["keras", "sklearn"] = "keras") -> Callable[[Callable], Callable]:
    """Decorator: add a factory to the registry under `name` (first docstring line = summary)."""

    def add(factory: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name].factory is not factory:
            raise ValueError(f"model '{name}' is registered twice")
        summary = (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else ""
        REGISTRY[name] = ModelSpec(name, factory, kind, summary)
        return factory

    return add
