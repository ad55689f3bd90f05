"""The models: small factory functions registered by name (timm's habit).

    registry.py         `register`, the registry, and what an entry carries (ModelSpec, Pretrained)
    pretrained.py       where the built-in backbones' weights come from, and this machine's copies
    zoo.py              the built-in networks trained from scratch (dense ... deotte_cnn, colour_cnn)
    batchnorm.py        BatchNorm: Keras' layer, trained with TensorFlow's fused kernel
    transfer.py         ImageNet backbones (EfficientNetV2-S, MobileNetV2), registered
    backbones.py        their networks: keras.applications bases under a new head
    hub.py              KerasHub presets by name (ResNet, EfficientNet, MobileNetV3, ViT, DINOv2),
                        registered; hub_presets.py their configs and handles, hub_network.py the networks
    resizing.py         TrainingResize: a conv backbone's input resize, smaller while training (progressive)
    classical.py        scikit-learn baselines on pixels (logreg, knn, svm, random_forest)
    image_baselines.py  scikit-learn baselines on colour photographs (thumbnails, embeddings)

A competition adds its own in `competitions/<slug>/models.py`:

    from kit.models import register

    @register("my_net")
    def my_net(input_shape, num_classes, width=1.0, dropout=0.25) -> keras.Model: ...

Keras factories take float images in 0..1 and end in a float32 softmax; the kit adds input
scaling and augmentation around them. An unknown name is an error listing the known ones.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

from kit.config.layers import did_you_mean
from kit.errors import KitError
from kit.models.registry import REGISTRY, ModelSpec, Pretrained, register

__all__ = ["REGISTRY", "ModelSpec", "Pretrained", "check_channels", "check_name", "get", "names", "register"]

BUILTIN = ("classical", "hub", "image_baselines", "transfer", "zoo")  # the modules load_builtin imports


def get(name: str) -> ModelSpec:
    """The registry entry `name`, importing only the built-in module that registers it (the
    transfer entries without Keras: `make kernel` reads where their weights come from)."""
    if name not in REGISTRY and name in builtin_names():
        importlib.import_module(f"kit.models.{builtin_modules()[name]}")
    check_name(name)
    return REGISTRY[name]


def check_name(name: str) -> None:
    """An unknown model name is an error, answered before Keras loads (seconds): the built-in
    names are read from their `@register("...")` lines, a competition's own from the registry
    (its models.py is imported with its config)."""
    known = set(REGISTRY) | builtin_names()
    if name not in known:
        hint = did_you_mean(name, sorted(known))
        raise KitError(f"unknown model '{name}'{hint} (known: {', '.join(sorted(known))})")


def check_channels(name: str, channels: int, channel_files: tuple[str, ...] = ()) -> None:
    """A backbone pretrained on RGB images takes 3 channels (or 1, repeated to 3): any other count
    is refused before the data loads, saying what to set, instead of channels dropped or made up."""
    if channels in (1, 3) or get(name).pretrained is None:
        return
    first = f" ({' '.join(channel_files[:3])})" if len(channel_files) >= 3 else ""
    shown = f" ({' '.join(channel_files[:channels])})" if channel_files else ""
    raise KitError(
        f"{name}: its backbone was pretrained on 3-channel (RGB) images, and the images have {channels} "
        f"channels{shown}: set SET=data.channels=3 to read the first three{first}, or choose a model "
        "trained from scratch (SET=train.model=colour_cnn)"
    )


def builtin_names() -> set[str]:
    """The names the built-in modules register, read from their source without importing them."""
    return set(builtin_modules())


@functools.cache
def builtin_modules() -> dict[str, str]:
    """{model name: the built-in module whose `@register("...")` line names it}."""
    found = {}
    for module in BUILTIN:
        tree = ast.parse((Path(__file__).parent / f"{module}.py").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "register" and node.args:
                found[ast.literal_eval(node.args[0])] = module
    return found


def names(kind: str | None = None) -> list[str]:
    load_builtin()
    return sorted(n for n, spec in REGISTRY.items() if kind is None or spec.kind == kind)


def load_builtin() -> None:
    """Import the built-in zoo and the scikit-learn baselines (lazily: Keras costs seconds)."""
    from kit.models import classical, hub, image_baselines, transfer, zoo  # noqa: F401
