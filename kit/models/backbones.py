"""ImageNet backbones from `keras.applications` under a new head (the Keras side of
`kit.models.transfer`, imported when a network is built).

The base is frozen and called with `training=False`, so its BatchNorm layers stay in inference
mode even when unfrozen later; the head is global average pooling, dropout and a softmax with an
L2 penalty. Weight problems (offline without the file, a wrong file) become one-line KitErrors
naming the file and where to put it; the registry entry's `Pretrained` record says which file.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from kit.errors import KitError
from kit.models.pretrained import NO_WEIGHTS, backbone_shape, keras_cache
from kit.models.registry import Pretrained

HEAD_L2 = 1e-4  # the head's L2 penalty: MobileNetV2 overfit without it (anchors: 80% train, 52% val)


def resolve_weights(model: str, pretrained: Pretrained, weights: str, input_shape) -> str | None:
    """keras.applications' `weights` argument for train.weights, with a clear error offline."""
    if weights in NO_WEIGHTS:
        return None
    if weights != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_file():
            raise KitError(
                f"train.weights={weights}: file not found (a {pretrained.file_for(input_shape)} "
                f"from keras.applications, or weights=imagenet / weights=none)"
            )
        return str(path)
    if input_shape[-1] != 3:
        raise KitError(f"{model}: ImageNet weights need 3 colour channels (data.channels={input_shape[-1]})")
    return "imagenet"


def offline_message(model: str, pretrained: Pretrained, input_shape, error: Exception) -> str:
    name = pretrained.file_for(input_shape)
    return (
        f"{model}: ImageNet weights are not in the Keras cache and could not be downloaded "
        f"({error.__class__.__name__}). Copy {name} (from {pretrained.url_for(input_shape)}) to "
        f"{keras_cache() / name}, or set train.weights=/path/to/{name}, "
        f"or train.weights=none to train from scratch"
    )


def build_base(model: str, pretrained: Pretrained, application, input_shape, weights: str, **options) -> keras.Model:
    """The application without its top, frozen; weight problems become one-line KitErrors."""
    resolved = resolve_weights(model, pretrained, weights, input_shape)
    cached = (keras_cache() / pretrained.file_for(input_shape)).is_file()
    try:
        base = application(include_top=False, weights=resolved, input_shape=tuple(input_shape), **options)
    except (ValueError, OSError) as exc:
        if resolved not in (None, "imagenet"):
            raise KitError(
                f"train.weights={weights}: not {model} no-top weights for input {tuple(input_shape)} ({exc})"
            ) from None
        if resolved == "imagenet" and not cached:
            raise KitError(offline_message(model, pretrained, input_shape, exc)) from None
        raise KitError(f"{model}: cannot build for input {tuple(input_shape)}: {exc}") from None
    except Exception as exc:  # keras.utils.get_file raises a bare Exception when offline
        if resolved == "imagenet" and not cached:
            raise KitError(offline_message(model, pretrained, input_shape, exc)) from None
        raise
    base.trainable = False  # stage one trains the new head only
    return base


def transfer_head(inputs, features, num_classes: int, dropout: float, name: str) -> keras.Model:
    return classifier(inputs, layers.GlobalAveragePooling2D(name="pool")(features), num_classes, dropout, name)


def classifier(inputs, pooled, num_classes: int, dropout: float, name: str) -> keras.Model:
    """The new head every pretrained backbone gets: dropout, then an L2-penalised float32 softmax
    named `probabilities` (the layer kit.targets swaps for other heads)."""
    x = layers.Dropout(dropout, name="head_dropout")(pooled)
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


def build_efficientnetv2s(pretrained: Pretrained, input_shape, num_classes, dropout, weights) -> keras.Model:
    from keras.applications import EfficientNetV2S

    shape = backbone_shape(pretrained, input_shape[0], input_shape[1])
    base = build_base("efficientnetv2s", pretrained, EfficientNetV2S, shape, weights, include_preprocessing=True)
    inputs = keras.Input(input_shape)
    x = layers.Rescaling(255.0, name="to_0_255")(adapt_input(inputs, input_shape))
    features = base(x, training=False)  # BatchNorm in inference mode, frozen or not
    return transfer_head(inputs, features, num_classes, dropout, "transfer_efficientnetv2s")


def build_mobilenetv2(pretrained: Pretrained, input_shape, num_classes, dropout, weights) -> keras.Model:
    from keras.applications import MobileNetV2

    shape = backbone_shape(pretrained, input_shape[0], input_shape[1])
    base = build_base("mobilenetv2", pretrained, MobileNetV2, shape, weights, alpha=1.0)
    inputs = keras.Input(input_shape)
    x = adapt_input(inputs, input_shape)
    x = layers.Rescaling(2.0, offset=-1.0, name="to_minus1_1")(x)  # MobileNetV2 wants -1..1
    features = base(x, training=False)
    return transfer_head(inputs, features, num_classes, dropout, "transfer_mobilenetv2")
