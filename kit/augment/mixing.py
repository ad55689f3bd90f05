"""MixUp and CutMix (`augment.mixup`, `augment.cutmix`) on training batches, with Keras' own layers.

They mix labels as well as pixels, so they act where both are, on the batches `fit` reads, not in
the model: as a step of the TensorFlow dataset (kit.data.batches.endless_batches: the layers run
on TensorFlow whatever the backend), or on each batch of a `Batches` reader (arrays on JAX,
streamed images), seeded by epoch and batch so that a run repeats. With both set, batches
alternate between them (timm's Mixup switches at random, half the batches each). Validation and
prediction never mix. The labels must be one row per image (one-hot, soft or tags).

>>> import numpy as np
>>> from kit.config import AugmentSection
>>> layer = mixers(AugmentSection(mixup=0.4), seed=0)[0]
>>> x, y = np.zeros((4, 8, 8, 1), "uint8"), np.eye(2, dtype="float32")[[0, 1, 0, 1]]
>>> mixed_x, mixed_y = mix_batch(layer, x, y, seed=3)
>>> mixed_y.shape, bool(np.allclose(mixed_y.sum(axis=1), 1.0))
((4, 2), True)
"""

from __future__ import annotations

import keras
import numpy as np

from kit.config import AugmentSection
from kit.errors import KitError


def mixers(settings: AugmentSection, seed: int) -> list:
    """The configured layers (MixUp first), float32 whatever the precision policy; [] for none."""
    chosen = []
    if settings.mixup:
        chosen.append(keras.layers.MixUp(alpha=settings.mixup, seed=seed, dtype="float32"))
    if settings.cutmix:
        chosen.append(keras.layers.CutMix(factor=settings.cutmix, seed=seed, dtype="float32"))
    return chosen


def check_labels(settings: AugmentSection, target: str) -> None:
    """Mixing needs one label row per image: refused for a regression's single number."""
    if (settings.mixup or settings.cutmix) and target == "regression":
        raise KitError("augment.mixup / augment.cutmix mix label rows: set them to 0 for a regression target")


def mix_batch(layer, images, labels, seed: int):
    """(images, labels) of one batch mixed by `layer`, drawn from `seed`, as NumPy arrays."""
    data = {"images": images, "labels": labels}
    transformation = layer.get_random_transformation(data, training=True, seed=seed)
    mixed = layer.transform_images(images, transformation, training=True)
    mixed_labels = layer.transform_labels(keras.ops.cast(labels, "float32"), transformation, training=True)
    return keras.ops.convert_to_numpy(mixed), keras.ops.convert_to_numpy(mixed_labels)


def mix_dataset(dataset, layers: list):
    """A TensorFlow dataset of (images, labels) batches, mixed; batch k by layers[k % len(layers)]."""
    import tensorflow as tf

    def mix(index, images, labels):
        def by(layer):
            def apply():
                mixed = layer({"images": images, "labels": tf.cast(labels, "float32")})
                return mixed["images"], mixed["labels"]

            return apply

        if len(layers) == 1:
            return by(layers[0])()
        return tf.cond(index % 2 == 0, by(layers[0]), by(layers[1]))

    # one after another: the layers' seed state advances in the batches' order, so a run repeats
    return dataset.enumerate().map(lambda index, batch: mix(index, *batch)).prefetch(tf.data.AUTOTUNE)


class MixedBatches(keras.utils.PyDataset):
    """`batches` (a kit.data.batches.Batches with labels) with each batch mixed."""

    def __init__(self, batches, layers: list, seed: int):
        super().__init__(workers=batches.workers, use_multiprocessing=False, max_queue_size=batches.max_queue_size)
        self.batches, self.layers, self.seed, self.epoch = batches, layers, seed, 0

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, batch: int):
        images, labels = self.batches[batch]
        seed = int(np.random.SeedSequence([self.seed, self.epoch, batch]).generate_state(1)[0] >> 1)
        return mix_batch(self.layers[batch % len(self.layers)], images, labels, seed)

    def on_epoch_end(self) -> None:
        self.batches.on_epoch_end()
        self.epoch += 1
