"""Which ImageNet weights file a backbone of `kit.models.transfer` reads, and where it is.

Nothing here imports Keras: `make kernel` asks, before anything heavy loads, whether the
resolved config needs a weights file and where this machine has it.

    >>> weight_file("efficientnetv2s", (224, 224, 3))
    'efficientnetv2-s_notop.h5'
    >>> weight_file("mobilenetv2", (100, 100, 3))  # no ImageNet weights at 100: the 224 ones
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5'
"""

from __future__ import annotations

import os
from pathlib import Path

# the backbones built on keras.applications, and where their no-top weights are published
WEIGHT_URLS = {
    "efficientnetv2s": "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/",
    "mobilenetv2": "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/",
}
MOBILENET_SIZES = (96, 128, 160, 192, 224)  # the sizes ImageNet weights exist for
NO_WEIGHTS = ("", "none", "None")


def keras_cache() -> Path:
    """Where keras.applications looks for downloaded weights."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def weight_file(model: str, input_shape) -> str:
    """The file name keras.applications caches the no-top ImageNet weights under."""
    if model == "efficientnetv2s":
        return "efficientnetv2-s_notop.h5"
    rows = input_shape[0] if input_shape[0] in MOBILENET_SIZES else 224
    return f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"


def backbone_shape(height: int, width: int) -> tuple[int, int, int]:
    """The input the backbone gets (kit.models.transfer enlarges to 32 and repeats gray to RGB)."""
    return (max(32, height), max(32, width), 3)


def needs_download(model: str, weights: str) -> bool:
    """Whether `model` with `train.weights=weights` wants ImageNet weights by name (a download,
    unless the Keras cache has them)."""
    return model in WEIGHT_URLS and weights == "imagenet"


def local_weights(model: str, weights: str, input_shape) -> Path | None:
    """The local file `train.weights` stands for: the path itself, or the Keras cache's copy of
    the ImageNet weights; None when the model reads no file or the cache lacks it."""
    if model not in WEIGHT_URLS or weights in NO_WEIGHTS:
        return None
    if weights != "imagenet":
        return Path(weights).expanduser()
    cached = keras_cache() / weight_file(model, input_shape)
    return cached if cached.is_file() else None
