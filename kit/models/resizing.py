"""`TrainingResize`: the resize in front of a KerasHub convolutional backbone, which progressive
resizing (kit.training.progressive) can shrink for training alone.

Inference (validation, prediction, the saved model) always resizes to the full side; in training
the side is `train_scale` times it. The scale is a Python attribute, read when the training step is
traced, so a change takes effect when the step is traced again (the callback forces that). A
convolutional backbone under global pooling takes any side, which is why only those get it.

>>> import numpy as np
>>> layer = TrainingResize(8, 8)
>>> layer.train_scale = 0.5
>>> pixels = np.zeros((1, 4, 4, 3), "float32")
>>> tuple(layer(pixels, training=True).shape), tuple(layer(pixels).shape)
((1, 4, 4, 3), (1, 8, 8, 3))
"""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="kit")
class TrainingResize(keras.layers.Layer):
    """Bilinear resize to (height, width), or to `train_scale` of it while training."""

    def __init__(self, height: int, width: int, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = int(height), int(width)
        self.train_scale = 1.0  # runtime state only: a saved model predicts at the full side

    def call(self, images, training=None):
        scale = self.train_scale if training else 1.0
        size = (max(1, round(self.height * scale)), max(1, round(self.width * scale)))
        if tuple(images.shape[1:3]) == size:
            return images
        return keras.ops.image.resize(images, size, interpolation="bilinear")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
