"""The built-in networks, usable by every pixel competition.

Each factory builds the classifier only; `kit.training.keras_kind` wraps it with input scaling and the
augmentation layer. `width` multiplies every layer's size so the tuner can scale a model.
"""

from __future__ import annotations

import keras
from keras import layers

from kit.models.batchnorm import BatchNorm
from kit.models.registry import register


def scaled(units: int, width: float) -> int:
    return max(1, round(units * width))


def classifier_head(x, num_classes: int):
    # float32 softmax keeps the loss stable under mixed precision
    return layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)


def conv_bn(x, filters: int, kernel: int, strides: int = 1):
    # momentum 0.9, not Keras' 0.99: with 0.99 the moving statistics still sit near their
    # initial values after the few hundred steps of a short run, and validation collapses to chance
    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False)(x)
    x = BatchNorm(momentum=0.9)(x)
    return layers.Activation("relu")(x)


def conv_blocks(x, filters: tuple[int, ...], width: float, dropout: float):
    """VGG-style blocks: two 3x3 conv-BN-ReLU, 2x2 max pooling and dropout per entry of `filters`."""
    for count in filters:
        x = conv_bn(x, scaled(count, width), 3)
        x = conv_bn(x, scaled(count, width), 3)
        x = layers.MaxPooling2D()(x)
        x = layers.Dropout(dropout)(x)
    return x


@register("dense")
def dense(input_shape, num_classes, width=1.0, dropout=0.0):
    """Seed-style NN: one hidden layer of 128 units."""
    inputs = keras.Input(input_shape)
    x = layers.Flatten()(inputs)
    x = layers.Dense(scaled(128, width), activation="relu")(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="dense")


def mlp(name, input_shape, num_classes, width, dropout):
    inputs = keras.Input(input_shape)
    x = layers.Flatten()(inputs)
    for units in (512, 256, 128):
        x = layers.Dense(scaled(units, width), activation="relu")(x)
        if dropout:
            x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name=name)


@register("dnn")
def dnn(input_shape, num_classes, width=1.0, dropout=0.0):
    """Deep MLP: 512-256-128, no dropout."""
    return mlp("dnn", input_shape, num_classes, width, 0.0)


@register("dnn_dropout")
def dnn_dropout(input_shape, num_classes, width=1.0, dropout=0.3):
    """Deep MLP 512-256-128 with dropout after every layer."""
    return mlp("dnn_dropout", input_shape, num_classes, width, dropout or 0.3)


@register("cnn")
def cnn(input_shape, num_classes, width=1.0, dropout=0.25):
    """Small CNN: two conv blocks (32, 64) with BatchNorm, a 128-unit dense layer."""
    inputs = keras.Input(input_shape)
    x = conv_blocks(inputs, (32, 64), width, dropout)
    x = layers.Flatten()(x)
    x = layers.Dense(scaled(128, width), activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="cnn")


@register("dcnn")
def dcnn(input_shape, num_classes, width=1.0, dropout=0.25):
    """Deeper CNN: three conv blocks (32, 64, 128), global pooling, 256-unit dense layer."""
    inputs = keras.Input(input_shape)
    x = conv_blocks(inputs, (32, 64, 128), width, dropout)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(scaled(256, width), activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="dcnn")


@register("deotte_cnn")
def deotte_cnn(input_shape, num_classes, width=1.0, dropout=0.4):
    """cdeotte's MNIST CNN (0.99757 as a 15-net ensemble): strided convs, BatchNorm, dropout 0.4."""
    inputs = keras.Input(input_shape)
    x = inputs
    for filters in (32, 64):
        x = conv_bn(x, scaled(filters, width), 3)
        x = conv_bn(x, scaled(filters, width), 3)
        x = conv_bn(x, scaled(filters, width), 5, strides=2)
        x = layers.Dropout(dropout)(x)
    x = conv_bn(x, scaled(128, width), 4)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="deotte_cnn")


@register("air")
def air(input_shape, num_classes, width=1.0, dropout=0.0):
    """airbench-style CNN: a stem conv, then per stage conv, 2x2 max pool, BN-ReLU, conv-BN-ReLU;
    global max pooling into the softmax. The fastest to a good score on a CPU (bench/recipe.py)."""
    inputs = keras.Input(input_shape)
    x = conv_bn(inputs, scaled(16, width), 3)
    for filters in (32, 64, 128):
        # pooling right after the first conv of a stage: the normalisation and second conv then
        # run at a quarter of the pixels (airbench's layout)
        x = layers.Conv2D(scaled(filters, width), 3, padding="same", use_bias=False)(x)
        x = layers.MaxPooling2D()(x)
        x = layers.Activation("relu")(BatchNorm(momentum=0.9)(x))
        x = conv_bn(x, scaled(filters, width), 3)
    x = layers.GlobalMaxPooling2D()(x)
    if dropout:
        x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, num_classes), name="air")


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
