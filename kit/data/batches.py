"""`Batches`: a keras.utils.PyDataset over rows of a (memory-mapped) image array (kit.data.stream)."""

from __future__ import annotations

import math
import os

import keras
import numpy as np

from kit.data.stream import read_rows


def reader_threads(configured: int) -> int:
    """`data.workers`, or (0) the CPU count capped at 8: enough to keep one accelerator fed."""
    return configured or min(8, os.cpu_count() or 1)


class Batches(keras.utils.PyDataset):
    """Batches of `images[index]` (uint8) with their one-hot labels, reshuffled every epoch when
    `shuffle`; without labels, images only (for `predict`). Keras' PyDataset queue reads `workers`
    batches ahead on threads. `fit`'s class_weight applies to it as to arrays."""

    def __init__(
        self, images, index, batch_size: int, onehot=None, shuffle: bool = False, seed: int = 0, workers: int = 2
    ):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=2 * max(1, workers))
        self.images, self.onehot, self.batch_size, self.shuffle = images, onehot, batch_size, shuffle
        self.index = np.asarray(index, dtype=np.int64)
        self.order = self.index
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return math.ceil(len(self.index) / self.batch_size)

    def __getitem__(self, batch: int):
        rows = self.order[batch * self.batch_size : (batch + 1) * self.batch_size]
        x = read_rows(self.images, rows)
        return (x,) if self.onehot is None else (x, self.onehot[rows])

    def on_epoch_end(self) -> None:
        if self.shuffle:  # a new order of rows, so batches mix differently every epoch
            self.order = self.rng.permutation(self.index)


def endless_batches(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int):
    """`x`, `y` (in memory) as one endless TensorFlow dataset of batches, reshuffled every epoch
    (seeded), for `fit(..., steps_per_epoch=ceil(rows / batch_size))`: each epoch is exactly one
    pass, its last batch partial, as Keras batches arrays. Keras' own path for arrays builds a new
    tf.data iterator every epoch; on a 2-core CPU creating it stalled an epoch's start by up to 2.5 s
    with both cores idle, about one epoch in two (bench/HISTORY.md). One iterator serves all."""
    import tensorflow as tf

    rows = len(x)
    order = tf.data.Dataset.range(rows).shuffle(rows, seed=seed, reshuffle_each_iteration=True)
    arrays = tf.data.Dataset.from_tensors((x, y)).repeat()  # the arrays once, rows gathered per batch
    batches = tf.data.Dataset.zip(order.batch(batch_size).repeat(), arrays).map(
        lambda index, xy: (tf.gather(xy[0], index), tf.gather(xy[1], index)), num_parallel_calls=tf.data.AUTOTUNE
    )
    return batches.prefetch(tf.data.AUTOTUNE)
