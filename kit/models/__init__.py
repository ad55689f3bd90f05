"""The model registry: small factory functions registered by name (timm's habit).

    @register("cnn")
    def cnn(input_shape, num_classes, width=1.0, dropout=0.25) -> keras.Model: ...

Keras factories take float images in 0..1 and end in a float32 softmax; the kit adds input
scaling and augmentation around them. An unknown name is an error listing the known ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kit.errors import KitError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    factory: Callable
    kind: str  # "keras" (trained by kit.train.fit) or "sklearn" (a scikit-learn estimator)
    summary: str


REGISTRY: dict[str, ModelSpec] = {}


def register(name: str, kind: str = "keras") -> Callable[[Callable], Callable]:
    """Decorator: add a factory to the registry under `name` (first docstring line = summary)."""

    def add(factory: Callable) -> Callable:
        if name in REGISTRY and REGISTRY[name].factory is not factory:
            raise ValueError(f"model '{name}' is registered twice")
        summary = (factory.__doc__ or "").strip().splitlines()[0] if factory.__doc__ else ""
        REGISTRY[name] = ModelSpec(name, factory, kind, summary)
        return factory

    return add


def get(name: str) -> ModelSpec:
    load_builtin()
    if name not in REGISTRY:
        raise KitError(f"unknown model '{name}' (known: {', '.join(sorted(REGISTRY))})")
    return REGISTRY[name]


def names(kind: str | None = None) -> list[str]:
    load_builtin()
    return sorted(n for n, spec in REGISTRY.items() if kind is None or spec.kind == kind)


def load_builtin() -> None:
    """Import the built-in zoo and the scikit-learn baselines (lazily: Keras costs seconds)."""
    from kit.models import classical, image_baselines, transfer, zoo  # noqa: F401
