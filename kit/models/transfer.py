"""Transfer learning backbones from `keras.applications` (the networks: kit.models.backbones).

    efficientnetv2s   EfficientNetV2-S (84.2% ImageNet top-1; the anchors' 83% on living species)
    mobilenetv2       MobileNetV2 (a quarter of the compute; needs the head's dropout and L2)

Each factory puts the ImageNet base (frozen, called with `training=False` so its BatchNorm layers
stay in inference mode even when unfrozen later) under a new head: global average pooling,
dropout (0.2 in the presets) and a softmax with an L2 penalty. `kit.training.fine_tune` runs the
schedule: the head first, then the base's top layers at a lower learning rate.

Weights (`train.weights`): `imagenet` reads the Keras cache (`$KERAS_HOME/models`, default
`~/.keras/models`) and downloads there when online; a path loads a local file; `none` starts from
random weights. Offline without the file, the error names the file and where to put it. Which
file, and where it is published, is the registry entry's `pretrained` record
(kit.models.pretrained). The factories themselves default to `none` (the registry's tests build
every model offline); the kit always passes `train.weights`, whose default is `imagenet`.

Keras is imported when a network is built, not here: `make kernel` reads these entries to know
which weights a kernel must carry, before anything heavy loads.
"""

from __future__ import annotations

from kit.models.pretrained import EFFICIENTNETV2S, MOBILENETV2
from kit.models.registry import register


@register("efficientnetv2s", pretrained=EFFICIENTNETV2S)
def efficientnetv2s(input_shape, num_classes, width=1.0, dropout=0.2, weights="none"):
    """EfficientNetV2-S, ImageNet weights, new head (dropout, L2); frozen, then fine-tuned."""
    from kit.models.backbones import build_efficientnetv2s

    return build_efficientnetv2s(EFFICIENTNETV2S, input_shape, num_classes, dropout, weights)


@register("mobilenetv2", pretrained=MOBILENETV2)
def mobilenetv2(input_shape, num_classes, width=1.0, dropout=0.2, weights="none"):
    """MobileNetV2 (alpha 1.0), ImageNet weights, new head (dropout, L2); frozen, then tuned."""
    from kit.models.backbones import build_mobilenetv2

    return build_mobilenetv2(MOBILENETV2, input_shape, num_classes, dropout, weights)
