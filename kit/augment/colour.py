"""Colour jitter inside the model, like the affine augmentation: random brightness, contrast and
saturation per image while training, identity otherwise, plain `keras.ops` (jit on every backend).

`augment.colour_jitter = j` draws each factor uniformly in [1 - j, 1 + j] (torchvision's
ColorJitter convention). Off by default: where colour tells the classes apart it erases signal;
photographs of plants and animals (the living-species transfer presets) take 0.1-0.2 well.

>>> import numpy as np
>>> x = np.full((2, 4, 4, 3), 0.5, dtype="float32")
>>> bool(np.allclose(np.asarray(ColourJitter(0.2)(x, training=False)), x))
True
"""

from __future__ import annotations

import keras
from keras import ops

from kit.errors import KitError


@keras.saving.register_keras_serializable(package="kit")
class ColourJitter(keras.layers.Layer):
    """Brightness, contrast and saturation scaled by random factors in [1 - s, 1 + s] per image,
    on 0..1 images, clipped back to 0..1. Active only when training."""

    def __init__(self, strength: float = 0.0, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= strength < 1:
            raise KitError(f"augment.colour_jitter={strength}: must be in [0, 1)")
        self.strength = float(strength)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def factor(self, batch, dtype):
        s = self.strength  # drawn in the images' dtype: Keras 3.13 would not multiply float32 into bfloat16
        return keras.random.uniform((batch, 1, 1, 1), 1 - s, 1 + s, dtype=dtype, seed=self.seed_generator)

    def call(self, images, training=None):
        if not training or not self.strength:
            return images
        batch = ops.shape(images)[0]
        x = images * self.factor(batch, images.dtype)  # brightness
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        x = (x - mean) * self.factor(batch, images.dtype) + mean  # contrast: spread around the image's mean
        if images.shape[-1] == 3:
            gray = ops.mean(x, axis=-1, keepdims=True)
            x = (x - gray) * self.factor(batch, images.dtype) + gray  # saturation: distance from gray
        return ops.clip(x, 0.0, 1.0)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "strength": self.strength, "seed": self.seed}
