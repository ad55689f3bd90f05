"""Where the built-in backbones' ImageNet weights come from, and where this machine has them.

The registry entries of `kit.models.transfer` and `kit.models.image_baselines` carry these
`Pretrained` records (`@register(..., pretrained=MOBILENETV2)`); every consumer reads them from the
entry. Nothing here imports Keras: `make kernel` asks, before anything heavy loads, whether the
resolved config needs a weights file and where this machine has it.

    >>> EFFICIENTNETV2S.file_for((224, 224, 3))
    'efficientnetv2-s_notop.h5'
    >>> MOBILENETV2.file_for((100, 100, 3))  # no ImageNet weights at 100: the 224 ones
    'mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5'
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from kit.models.registry import Pretrained

APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
EFFICIENTNETV2S = Pretrained(
    "keras.applications", "efficientnetv2", file="efficientnetv2-s_notop.h5", url=APPLICATIONS + "efficientnet_v2/"
)
MOBILENETV2 = Pretrained(
    "keras.applications",
    "mobilenetv2",
    file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5",
    url=APPLICATIONS + "mobilenet_v2/",
    sizes=(96, 128, 160, 192, 224),  # the sizes ImageNet weights exist for
)
EMBED_SIZE = 96  # the smallest input MobileNetV2 has ImageNet weights for; cheap on a CPU
MOBILENETV2_EMBEDDING = dataclasses.replace(MOBILENETV2, input_size=EMBED_SIZE)  # kit.models.image_baselines
NO_WEIGHTS = ("", "none", "None")


def keras_cache() -> Path:
    """Where keras.applications looks for downloaded weights."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def backbone_shape(pretrained: Pretrained, height: int, width: int) -> tuple[int, int, int]:
    """The input the backbone gets: its fixed size, or the data's (kit.models.transfer enlarges
    it to 32 and repeats gray to RGB)."""
    if pretrained.input_size:
        return (pretrained.input_size, pretrained.input_size, 3)
    return (max(32, height), max(32, width), 3)


def local_weights(pretrained: Pretrained, weights: str, input_shape) -> Path | None:
    """The local file `train.weights` stands for: the path itself, or the Keras cache's copy of
    the ImageNet weights; None when no file is meant or the cache lacks it."""
    if weights in NO_WEIGHTS:
        return None
    if weights != "imagenet":
        return Path(weights).expanduser()
    cached = keras_cache() / pretrained.file_for(input_shape)
    return cached if cached.is_file() else None


def describe(pretrained: Pretrained, height: int, width: int) -> str:
    """Where the weights come from, for data of `height` x `width`: `make models` prints it."""
    if pretrained.source == "kerashub":
        if not pretrained.handle:
            return f"kerashub preset {pretrained.preset} (no Kaggle Models handle: not attachable to a kernel)"
        size = f", {pretrained.input_size} px" if pretrained.input_size else ""
        return f"kerashub preset {pretrained.preset}{size}; on Kaggle: attachable model {pretrained.handle}"
    shape = backbone_shape(pretrained, height, width)
    return f"keras.applications {pretrained.file_for(shape)} ({pretrained.url}); on Kaggle: a private dataset"
