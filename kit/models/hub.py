"""Pretrained backbones from KerasHub, by preset name (`train.model=resnet_50_imagenet`).

    resnet_18_imagenet               ResNet-18 (timm's a1 recipe), 11 M parameters
    resnet_50_imagenet               ResNet-50 (timm's a1 recipe), 24 M
    efficientnet_b0_ra_imagenet      EfficientNet-B0 (RandAugment), 4 M
    mobilenet_v3_small_100_imagenet  MobileNetV3-Small, 1 M: the CPU's choice
    vit_base_patch16_224_imagenet    ViT-B/16 at 224 (fixed size), 86 M
    dinov2_small                     DINOv2 ViT-S/14, self-supervised features, 22 M

Each factory resizes the images to the preset's size (`train.image_size` overrides it), applies
the preset's own normalisation, and puts the frozen backbone under the kit's head (pooling,
dropout, softmax); `kit.training.fine_tune` unfreezes its top later. The architecture, handle and
preprocessing of each preset: kit.models.hub_presets. Keras and keras-hub (the `hub` extra) are
imported when a network is built, not here: `make kernel` and `make models` read these entries.

Weights (`train.weights`): `imagenet` reads the KerasHub cache (kagglehub's,
`$KAGGLEHUB_CACHE/models/<handle>/`) and never downloads; a folder (a preset: config.json and
model.weights.h5, as Kaggle mounts an attached model) or a `.weights.h5` file loads from there;
`none` starts from random weights. In a kernel, the preset is attached as a Kaggle Models source.
"""

from __future__ import annotations

from kit.models.hub_presets import PRESETS
from kit.models.registry import register


def build(preset: str, input_shape, num_classes, dropout, weights, image_size):
    from kit.models.hub_network import build_hub_classifier

    return build_hub_classifier(PRESETS[preset], input_shape, num_classes, dropout, weights, image_size)


@register("resnet_18_imagenet", pretrained=PRESETS["resnet_18_imagenet"].pretrained)
def resnet_18_imagenet(input_shape, num_classes, width=1.0, dropout=0.2, weights="none", image_size=0):
    """ResNet-18, KerasHub preset (ImageNet-1k, 224 px), new head; frozen, then fine-tuned."""
    return build("resnet_18_imagenet", input_shape, num_classes, dropout, weights, image_size)


@register("resnet_50_imagenet", pretrained=PRESETS["resnet_50_imagenet"].pretrained)
def resnet_50_imagenet(input_shape, num_classes, width=1.0, dropout=0.2, weights="none", image_size=0):
    """ResNet-50, KerasHub preset (ImageNet-1k, 224 px), new head; frozen, then fine-tuned."""
    return build("resnet_50_imagenet", input_shape, num_classes, dropout, weights, image_size)


@register("efficientnet_b0_ra_imagenet", pretrained=PRESETS["efficientnet_b0_ra_imagenet"].pretrained)
def efficientnet_b0_ra_imagenet(input_shape, num_classes, width=1.0, dropout=0.2, weights="none", image_size=0):
    """EfficientNet-B0, KerasHub preset (ImageNet-1k, 224 px), new head; frozen, then fine-tuned."""
    return build("efficientnet_b0_ra_imagenet", input_shape, num_classes, dropout, weights, image_size)


@register("mobilenet_v3_small_100_imagenet", pretrained=PRESETS["mobilenet_v3_small_100_imagenet"].pretrained)
def mobilenet_v3_small_100_imagenet(input_shape, num_classes, width=1.0, dropout=0.2, weights="none", image_size=0):
    """MobileNetV3-Small, KerasHub preset (ImageNet-1k, 224 px), new head; frozen, then tuned."""
    return build("mobilenet_v3_small_100_imagenet", input_shape, num_classes, dropout, weights, image_size)


@register("vit_base_patch16_224_imagenet", pretrained=PRESETS["vit_base_patch16_224_imagenet"].pretrained)
def vit_base_patch16_224_imagenet(input_shape, num_classes, width=1.0, dropout=0.2, weights="none", image_size=0):
    """ViT-B/16, KerasHub preset (ImageNet-1k, 224 px only), class token, new head."""
    return build("vit_base_patch16_224_imagenet", input_shape, num_classes, dropout, weights, image_size)


@register("dinov2_small", pretrained=PRESETS["dinov2_small"].pretrained)
def dinov2_small(input_shape, num_classes, width=1.0, dropout=0.2, weights="none", image_size=0):
    """DINOv2 ViT-S/14, KerasHub preset (self-supervised), class token, new head."""
    return build("dinov2_small", input_shape, num_classes, dropout, weights, image_size)
