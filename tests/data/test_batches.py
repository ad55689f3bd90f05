"""kit.data.batches.endless_batches: the in-memory training stream on TensorFlow."""

import math

import keras
import numpy as np
import pytest

from kit.data.batches import endless_batches

pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="a tf.data pipeline")


def epochs_of(dataset, steps: int, epochs: int) -> list[list[np.ndarray]]:
    batches = iter(dataset)  # one iterator for every epoch, as fit(steps_per_epoch=...) reads it
    return [[next(batches) for _ in range(steps)] for _ in range(epochs)]


def test_every_epoch_is_one_seeded_pass_over_the_rows_in_a_new_order():
    rows, batch = 10, 4
    x = np.arange(rows, dtype="float32").reshape(rows, 1, 1, 1) * 10
    y = keras.utils.to_categorical(np.arange(rows) % 3, 3)
    steps = math.ceil(rows / batch)
    seen = epochs_of(endless_batches(x, y, batch, seed=7), steps, epochs=3)
    orders = []
    for epoch in seen:
        assert [len(images) for images, _ in epoch] == [4, 4, 2]  # Keras' batching of arrays
        index = np.concatenate([images.numpy().ravel() / 10 for images, _ in epoch]).astype(int)
        assert sorted(index) == list(range(rows))  # each row once an epoch
        labels = np.concatenate([labels.numpy() for _, labels in epoch])
        np.testing.assert_array_equal(labels, y[index])  # rows keep their labels
        orders.append(list(index))
    assert orders[0] != orders[1] != orders[2]  # reshuffled every epoch
    again = epochs_of(endless_batches(x, y, batch, seed=7), steps, epochs=3)
    assert [list(np.concatenate([i.numpy().ravel() / 10 for i, _ in e]).astype(int)) for e in again] == orders
