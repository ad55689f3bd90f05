"""The Keras side of `kit.models.hub`: a KerasHub backbone under the kit's head (imported when a
network is built; needs keras-hub, the `hub` extra).

    pixels in 0..1 -> gray to RGB -> resized to the preset's size -> the preset's normalisation
    -> backbone (frozen, training=False) -> average pooling or class token -> dropout -> softmax

Everything in the graph is a built-in Keras or KerasHub layer, so a saved run loads with
`safe_mode` (Keras imports keras_hub's modules by name), except a convolutional backbone's resize:
kit.models.resizing's TrainingResize, which progressive resizing shrinks while training (such a
backbone is built for any side; a ViT's position embeddings fix its side, so it keeps Resizing).
"""

from __future__ import annotations

import keras
from keras import layers

from kit.errors import KitError
from kit.models.backbones import classifier
from kit.models.hub_presets import HubPreset, weights_source
from kit.models.resizing import TrainingResize


def keras_hub_models():
    try:
        import keras_hub
    except ImportError:
        raise KitError(
            "KerasHub backbones need keras-hub: `.venv/bin/pip install -e '.[hub]'` (make setup installs it)"
        ) from None
    return keras_hub.models


def input_side(preset: HubPreset, image_size: int, pretrained: bool) -> int:
    """The side the backbone sees: train.image_size, else the preset's; a size its weights cannot
    take (a ViT's position embeddings are sized by its input) is refused before anything builds."""
    side = image_size or preset.size
    patch = preset.config.get("patch_size")
    patch = patch[0] if isinstance(patch, list) else patch
    if patch and side % patch:
        raise KitError(f"{preset.name}: train.image_size={side} must be a multiple of the patch size {patch}")
    if pretrained and preset.fixed_size and side != preset.size:
        raise KitError(
            f"{preset.name}: its weights take {preset.size} x {preset.size} images only "
            f"(train.image_size={side}); set train.image_size=0 or train.weights=none"
        )
    return side


def load_backbone(preset: HubPreset, weights: str, side: int) -> keras.Model:
    """The backbone, named `hub_<preset>` (fine-tuning finds it by that name), frozen."""
    hub_models = keras_hub_models()
    source = weights_source(preset, weights)
    backbone_class = getattr(hub_models, preset.backbone_class)
    any_side = preset.pooling != "token"  # convolutions and pooling take any side (progressive resizing)
    options = {"image_shape": (None, None, 3) if any_side else (side, side, 3), "name": preset.pretrained.backbone}
    try:
        if source is not None and source.is_dir():  # a preset folder brings its own config.json
            backbone = backbone_class.from_preset(str(source), **options)
        else:
            backbone = backbone_class.from_config({**preset.config, **options})
            if source is not None:
                backbone.load_weights(str(source))
    except (ValueError, OSError, KeyError) as exc:
        raise KitError(f"train.weights={weights}: not {preset.name} weights for {side} px ({exc})") from None
    backbone.trainable = False  # stage one trains the new head only
    return backbone


def build_hub_classifier(
    preset: HubPreset, input_shape, num_classes: int, dropout: float, weights: str, image_size: int = 0
) -> keras.Model:
    side = input_side(preset, image_size, weights_source(preset, weights) is not None)
    backbone = load_backbone(preset, weights, side)
    inputs = keras.Input(input_shape)
    x = inputs
    if input_shape[-1] == 1:
        x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    if preset.pooling != "token":
        x = TrainingResize(side, side, name="to_preset_size")(x)  # the identity at the side itself
    elif tuple(input_shape[:2]) != (side, side):
        x = layers.Resizing(side, side, name="to_preset_size")(x)
    variance = [s * s for s in preset.std]
    x = layers.Normalization(mean=list(preset.mean), variance=variance, name="preset_normalisation")(x)
    features = backbone(x, training=False)  # BatchNorm in inference mode, frozen or not
    if preset.pooling == "token":  # the class token comes first: crop the rest (no Lambda layer)
        tokens = features.shape[1]
        x = layers.Flatten(name="class_token")(layers.Cropping1D((0, tokens - 1))(features))
    else:
        x = layers.GlobalAveragePooling2D(name="pool")(features)
    return classifier(inputs, x, num_classes, dropout, f"head_on_{preset.name}")
