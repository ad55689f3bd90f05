"""Transfer learning backbones from `keras.applications`, and a small from-scratch colour CNN.

    efficientnetv2s   EfficientNetV2-S (84.2% ImageNet top-1; the anchors' 83% on living species)
    mobilenetv2       MobileNetV2 (a quarter of the compute; needs the head's dropout and L2)
    colour_cnn        four conv blocks, global pooling: trains from scratch on a CPU

The transfer factories put the ImageNet base (frozen, called with `training=False` so its
BatchNorm layers stay in inference mode even when unfrozen later) under a new head: global
average pooling, dropout (0.2 in the presets) and a softmax with an L2 penalty. `kit.training.fine_tune`
runs the schedule: the head first, then the base's top layers at a lower learning rate.

Weights (`train.weights`): `imagenet` reads the Keras cache (`$KERAS_HOME/models`, default
`~/.keras/models`) and downloads there when online; a path loads a local file; `none` starts from
random weights. Offline without the file, the error names the file and where to put it. The
factories themselves default to `none` (the registry's tests build every model offline); the kit
always passes `train.weights`, whose default is `imagenet`.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from kit.errors import KitError
from kit.models.pretrained import WEIGHT_URLS, backbone_shape, keras_cache, weight_file
from kit.models.registry import register
from kit.models.zoo import classifier_head, conv_bn, scaled

HEAD_L2 = 1e-4  # the head's L2 penalty: MobileNetV2 overfit without it (anchors: 80% train, 52% val)
# nested models that kit.training.fine_tune treats as the pretrained base (the names keras.applications gives)
BACKBONE_PREFIXES = ("efficientnetv2", "mobilenetv2")


def resolve_weights(model: str, weights: str, input_shape) -> str | None:
    """keras.applications' `weights` argument for train.weights, with a clear error offline."""
    if weights in ("", "none", "None"):
        return None
    if weights != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise KitError(
                f"train.weights={weights}: file not found (a {weight_file(model, input_shape)} "
                f"from keras.applications, or weights=imagenet / weights=none)"
            )
        return str(path)
    if input_shape[-1] != 3:
        raise KitError(f"{model}: ImageNet weights need 3 colour channels (data.channels={input_shape[-1]})")
    return "imagenet"


def offline_message(model: str, input_shape, error: Exception) -> str:
    name = weight_file(model, input_shape)
    return (
        f"{model}: ImageNet weights are not in the Keras cache and could not be downloaded "
        f"({error.__class__.__name__}). Copy {name} (from {WEIGHT_URLS[model]}{name}) to "
        f"{keras_cache() / name}, or set train.weights=/path/to/{name}, "
        f"or train.weights=none to train from scratch"
    )


def build_base(model: str, application, input_shape, weights: str, **options) -> keras.Model:
    """The application without its top, frozen; weight problems become one-line KitErrors."""
    resolved = resolve_weights(model, weights, input_shape)
    cached = (keras_cache() / weight_file(model, input_shape)).is_file()
    try:
        base = application(include_top=False, weights=resolved, input_shape=tuple(input_shape), **options)
    except (ValueError, OSError) as exc:
        if resolved not in (None, "imagenet"):
            raise KitError(
                f"train.weights={weights}: not {model} no-top weights for input {tuple(input_shape)} ({exc})"
            ) from None
        if resolved == "imagenet" and not cached:
            raise KitError(offline_message(model, input_shape, exc)) from None
        raise KitError(f"{model}: cannot build for input {tuple(input_shape)}: {exc}") from None
    except Exception as exc:  # keras.utils.get_file raises a bare Exception when offline
        if resolved == "imagenet" and not cached:
            raise KitError(offline_message(model, input_shape, exc)) from None
        raise
    base.trainable = False  # stage one trains the new head only
    return base


def transfer_head(inputs, features, num_classes: int, dropout: float, name: str) -> keras.Model:
    x = layers.GlobalAveragePooling2D(name="pool")(features)
    x = layers.Dropout(dropout, name="head_dropout")(x)
    outputs = layers.Dense(
        num_classes,
        activation="softmax",
        dtype="float32",
        name="probabilities",
        kernel_regularizer=keras.regularizers.L2(HEAD_L2),
    )(x)
    return keras.Model(inputs, outputs, name=name)


def adapt_input(inputs, input_shape):
    """Grayscale repeated to RGB and images under 32 pixels enlarged: the applications need
    three channels for ImageNet weights and at least 32x32 (so MNIST-sized data works too)."""
    x = inputs
    if input_shape[-1] == 1:
        x = layers.Concatenate(name="gray_to_rgb")([x, x, x])
    if min(input_shape[:2]) < 32:
        x = layers.Resizing(max(32, input_shape[0]), max(32, input_shape[1]), name="enlarge")(x)
    return x


def rgb_shape(input_shape) -> tuple[int, int, int]:
    return backbone_shape(input_shape[0], input_shape[1])


@register("efficientnetv2s")
def efficientnetv2s(input_shape, num_classes, width=1.0, dropout=0.2, weights="none"):
    """EfficientNetV2-S, ImageNet weights, new head (dropout, L2); frozen, then fine-tuned."""
    from keras.applications import EfficientNetV2S

    shape = rgb_shape(input_shape)
    base = build_base("efficientnetv2s", EfficientNetV2S, shape, weights, include_preprocessing=True)
    inputs = keras.Input(input_shape)
    x = layers.Rescaling(255.0, name="to_0_255")(adapt_input(inputs, input_shape))
    features = base(x, training=False)  # BatchNorm in inference mode, frozen or not
    return transfer_head(inputs, features, num_classes, dropout, "transfer_efficientnetv2s")


@register("mobilenetv2")
def mobilenetv2(input_shape, num_classes, width=1.0, dropout=0.2, weights="none"):
    """MobileNetV2 (alpha 1.0), ImageNet weights, new head (dropout, L2); frozen, then tuned."""
    from keras.applications import MobileNetV2

    shape = rgb_shape(input_shape)
    base = build_base("mobilenetv2", MobileNetV2, shape, weights, alpha=1.0)
    inputs = keras.Input(input_shape)
    x = adapt_input(inputs, input_shape)
    x = layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(x)  # MobileNetV2 wants -1..1
    features = base(x, training=False)
    return transfer_head(inputs, features, num_classes, dropout, "transfer_mobilenetv2")


@register("colour_cnn")
def colour_cnn(input_shape, num_classes, width=1.0, dropout=0.3):
    """Colour CNN from scratch: convs 32-64-128-128-192 between poolings, average+max pooling."""
    inputs = keras.Input(input_shape)
    x = inputs
    # one conv per resolution except the third: ~90 MFLOPs per 64x64 image, a few hundred
    # images/s on two CPU cores; the full-resolution layers are the expensive ones
    for filters, convs in ((32, 1), (64, 1), (128, 2)):
        for _ in range(convs):
            x = conv_bn(x, scaled(filters, width), 3)
        x = layers.MaxPooling2D()(x)
    x = conv_bn(x, scaled(192, width), 3)
    # mean and max: colour (the mean) and small distinctive parts (the max) both survive pooling
    x = layers.Concatenate()([layers.GlobalAveragePooling2D()(x), layers.GlobalMaxPooling2D()(x)])
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(scaled(128, width), activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="colour_cnn")
