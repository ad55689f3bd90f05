"""Classical baselines for colour photographs: scikit-learn models in imbalanced-learn pipelines.

| name          | features                                                  | model                   |
| ------------- | --------------------------------------------------------- | ----------------------- |
| `rf_colour`   | 8x8 thumbnail + joint colour histogram + channel mean/std | Random Forest, 300 trees |
| `svm_colour`  | the same, standardised                                    | RBF SVC (C=10)          |
| `rf_embed`    | global-pooled MobileNetV2 features of a frozen backbone   | Random Forest, 300 trees |
| `svm_embed`   | the same, standardised                                    | RBF SVC (C=10)          |

Each pipeline over-samples the minority classes (RandomOverSampler) before the model; the
sampler acts only while fitting. The anchors' Random Forest on raw pixels reached 48% on living
species, EfficientNetV2-S transfer 83%: these show where between those a cheap model lands.
They take flattened uint8 pixels like every model of `kit.models.classical`, so `make train
MODEL=rf_colour`, `make compare` and prediction treat them alike.

The embedding models read `train.weights` like the transfer models (their registry entries
carry the MobileNetV2 weights they need, kit.models.pretrained): `imagenet` from the Keras cache
(`mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96_no_top.h5` in `$KERAS_HOME/models`) or
downloaded, a path a local file, and offline without the file the error names it; only
`train.weights=none` embeds with a random backbone, seeded so that fit and prediction (another
process) see the same one. The factories' own default, `auto`, takes the cached ImageNet weights
or warns and uses the random backbone (the registry's tests build every model offline).
"""

from __future__ import annotations

import warnings

import numpy as np
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

from kit.models.pretrained import EMBED_SIZE, MOBILENETV2_EMBEDDING, NO_WEIGHTS, keras_cache
from kit.models.registry import register

THUMB = 8  # thumbnail side: coarse layout (sky on top, ground below) without the pixel noise
LEVELS = 4  # histogram levels per channel: 4**3 = 64 joint colour bins
RANDOM_BACKBONE_SEED = 0  # a random backbone's weights: the same in the fitting and the predicting process
_EMBEDDERS: dict[tuple, object] = {}  # built Keras models, per (weights, shape): never pickled


def colour_features(pixels: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Flattened uint8 images -> thumbnail, joint colour histogram and per-channel mean and std
    (in chunks: float copies of 200k photos would not fit in memory)."""
    images = np.asarray(pixels, dtype=np.uint8).reshape(-1, *shape)
    return np.vstack(
        [chunk_features(images[i : i + 2048]) for i in range(0, len(images), 2048)]
        or [np.zeros((0, feature_count(shape)), np.float32)]
    )


def feature_count(shape: tuple[int, int, int]) -> int:
    return min(THUMB, shape[0]) * min(THUMB, shape[1]) * shape[2] + LEVELS ** shape[2] + 2 * shape[2]


def chunk_features(images: np.ndarray) -> np.ndarray:
    n, height, width, channels = images.shape
    values = images.astype(np.float32) / 255.0
    # block means: reduceat sums each of THUMB x THUMB cells, then divides by the cell sizes
    rows = np.linspace(0, height, min(THUMB, height) + 1).astype(int)
    cols = np.linspace(0, width, min(THUMB, width) + 1).astype(int)
    sums = np.add.reduceat(np.add.reduceat(values, rows[:-1], axis=1), cols[:-1], axis=2)
    thumb = sums / (np.diff(rows)[:, None, None] * np.diff(cols)[None, :, None])
    levels = (images // (256 // LEVELS)).reshape(n, -1, channels).astype(np.int64)
    codes = (levels * LEVELS ** np.arange(channels)).sum(axis=2)  # one joint bin per pixel
    bins = LEVELS**channels
    histogram = np.bincount((codes + np.arange(n)[:, None] * bins).ravel(), minlength=n * bins)
    flat = values.reshape(n, -1, channels)
    parts = [thumb.reshape(n, -1), histogram.reshape(n, bins) / (height * width), flat.mean(1), flat.std(1)]
    return np.hstack(parts).astype(np.float32)


def colour_step(input_shape) -> FunctionTransformer:
    # a module-level function with its shape as an argument: skops stores the fitted pipeline
    return FunctionTransformer(colour_features, kw_args={"shape": tuple(input_shape)})


def forest(width: float) -> RandomForestClassifier:
    return RandomForestClassifier(max(10, round(300 * width)), n_jobs=-1)


@register("rf_colour", kind="sklearn")
def rf_colour(input_shape, num_classes, width=1.0, dropout=0.0):
    """Random Forest (300 trees) on thumbnail + colour histogram, minority classes over-sampled."""
    return Pipeline(
        [("features", colour_step(input_shape)), ("resample", RandomOverSampler()), ("model", forest(width))]
    )


@register("svm_colour", kind="sklearn")
def svm_colour(input_shape, num_classes, width=1.0, dropout=0.0):
    """RBF SVM (C=10) on standardised thumbnail + colour histogram, minority over-sampled."""
    return Pipeline(
        [
            ("features", colour_step(input_shape)),
            ("scale", StandardScaler()),
            ("resample", RandomOverSampler()),
            ("model", SVC(C=10.0)),
        ]
    )


class BackboneEmbedding(TransformerMixin, BaseEstimator):
    """Flattened uint8 images -> the global-pooled features of a frozen MobileNetV2.

    `weights`: auto (ImageNet when cached, else random, with a warning), imagenet, none or a path.
    The Keras model is built on first use and kept outside the estimator, so saved models stay small.
    """

    def __init__(self, shape=(32, 32, 3), weights="auto", batch_size=256):
        self.shape = shape
        self.weights = weights
        self.batch_size = batch_size

    def fit(self, pixels, labels=None):
        return self

    def transform(self, pixels):
        images = np.asarray(pixels, dtype=np.uint8).reshape(-1, *self.shape)
        return (
            embedder(tuple(self.shape), resolve_embed_weights(self.weights))
            .predict(images, batch_size=self.batch_size, verbose=0)
            .astype(np.float32)
        )


def resolve_embed_weights(weights: str) -> str:
    if weights != "auto":
        return weights
    name = MOBILENETV2_EMBEDDING.file_for((EMBED_SIZE, EMBED_SIZE, 3))
    if (keras_cache() / name).is_file():
        return "imagenet"
    warnings.warn(
        f"embeddings from a randomly initialised MobileNetV2: for ImageNet features put {name} in {keras_cache()}",
        stacklevel=3,
    )
    return "none"


def embedder(shape: tuple[int, int, int], weights: str):
    """A Keras model: uint8 images of `shape` -> pooled MobileNetV2 features (built once)."""
    key = (shape, weights)
    if key not in _EMBEDDERS:
        import keras

        from kit.models.transfer import mobilenetv2

        if weights in NO_WEIGHTS:  # random: Keras' initialisers draw from the global seed
            keras.utils.set_random_seed(RANDOM_BACKBONE_SEED)
        network = mobilenetv2((EMBED_SIZE, EMBED_SIZE, 3), 2, weights=weights)
        pooled = keras.Model(network.inputs, network.get_layer("pool").output)
        inputs = keras.Input(shape)
        x = keras.layers.Rescaling(1 / 255.0)(inputs)
        if shape[-1] == 1:
            x = keras.layers.Concatenate()([x, x, x])
        x = keras.layers.Resizing(EMBED_SIZE, EMBED_SIZE)(x)
        _EMBEDDERS[key] = keras.Model(inputs, pooled(x))
    return _EMBEDDERS[key]


@register("rf_embed", kind="sklearn", pretrained=MOBILENETV2_EMBEDDING)
def rf_embed(input_shape, num_classes, width=1.0, dropout=0.0, weights="auto"):
    """Random Forest (300 trees) on frozen MobileNetV2 embeddings, minority over-sampled."""
    # standardised although trees ignore scale: a random backbone's activations shrink to
    # ~1e-13, and scikit-learn's trees never split a feature spanning less than 1e-7
    return Pipeline(
        [
            ("features", BackboneEmbedding(tuple(input_shape), weights)),
            ("scale", StandardScaler()),
            ("resample", RandomOverSampler()),
            ("model", forest(width)),
        ]
    )


@register("svm_embed", kind="sklearn", pretrained=MOBILENETV2_EMBEDDING)
def svm_embed(input_shape, num_classes, width=1.0, dropout=0.0, weights="auto"):
    """RBF SVM (C=10) on standardised frozen MobileNetV2 embeddings, minority over-sampled."""
    return Pipeline(
        [
            ("features", BackboneEmbedding(tuple(input_shape), weights)),
            ("scale", StandardScaler()),
            ("resample", RandomOverSampler()),
            ("model", SVC(C=10.0)),
        ]
    )
