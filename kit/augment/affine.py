"""ImageDataGenerator's augmentation as one random affine transform per image, inside the model.

Why not Keras' own layers: RandomRotation, RandomZoom, RandomTranslation, RandomShear and
RandomCrop set `supports_jit=False`, which silently turns jit off for the whole model, and
`keras.ops.image.affine_transform` lowers to `ImageProjectiveTransformV3` on TensorFlow, which has
no XLA kernel. So the parameters (ImageDataGenerator's names and meaning) compose into one 2x3
matrix per image and the image is resampled bilinearly with gather ops, which compile everywhere.

The same sampler serves test-time augmentation with fixed, deterministic views (`tta_views`).

>>> import numpy as np
>>> from kit.config import AugmentSection
>>> x = np.random.default_rng(0).random((2, 8, 8, 1)).astype("float32")
>>> y = RandomAffine(AugmentSection())(x, training=True)  # all ranges 0: the identity
>>> bool(np.allclose(np.asarray(y), x))
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np
from keras import ops

from kit.config import AugmentSection
from kit.errors import KitError

FILL_MODES = ("nearest", "constant", "reflect", "wrap")


@dataclass(frozen=True)
class AffineParams:
    """One view's parameters, in ImageDataGenerator's units (degrees, pixels, scale factors)."""

    rotation: float = 0.0
    shift_x: float = 0.0
    shift_y: float = 0.0
    shear: float = 0.0
    zoom_x: float = 1.0
    zoom_y: float = 1.0
    flip: bool = False


def affine_matrix(rotation, shift_x, shift_y, shear, zoom_x, zoom_y, flip_sign):
    """(B, 6) rows [a, b, tx, c, d, ty]: input = A @ (output - centre) + centre + t.

    A = rotation @ shear @ zoom @ flip, the order ImageDataGenerator composes them in.
    Angles in degrees; all arguments are (B,) tensors.
    """
    theta = rotation * (math.pi / 180.0)
    phi = shear * (math.pi / 180.0)
    cos, sin = ops.cos(theta), ops.sin(theta)
    # rotation [[cos, -sin], [sin, cos]] @ shear [[1, -sin(phi)], [0, cos(phi)]]
    r00, r01 = cos, -cos * ops.sin(phi) - sin * ops.cos(phi)
    r10, r11 = sin, -sin * ops.sin(phi) + cos * ops.cos(phi)
    # @ diag(zoom_x * flip, zoom_y)
    sx = zoom_x * flip_sign
    return ops.stack([r00 * sx, r01 * zoom_y, shift_x, r10 * sx, r11 * zoom_y, shift_y], axis=1)


def transform(images, matrices, fill_mode: str = "nearest", cval: float = 0.0):
    """Resample (B, H, W, C) images through (B, 6) affine matrices, bilinearly, with gathers."""
    shape = ops.shape(images)
    height, width, channels = shape[1], shape[2], shape[3]
    ys, xs = ops.meshgrid(ops.arange(height, dtype="float32"), ops.arange(width, dtype="float32"), indexing="ij")
    cx, cy = (ops.cast(width, "float32") - 1) / 2, (ops.cast(height, "float32") - 1) / 2
    px, py = ops.reshape(xs, (1, -1)) - cx, ops.reshape(ys, (1, -1)) - cy  # (1, HW), centred
    m = ops.cast(matrices, "float32")
    x = m[:, 0:1] * px + m[:, 1:2] * py + cx + m[:, 2:3]  # (B, HW) source coordinates
    y = m[:, 3:4] * px + m[:, 4:5] * py + cy + m[:, 5:6]
    x0, y0 = ops.floor(x), ops.floor(y)
    wx, wy = x - x0, y - y0
    flat = ops.reshape(images, (shape[0], -1, channels))
    out = 0.0
    for dy, weight_y in ((0.0, 1.0 - wy), (1.0, wy)):
        for dx, weight_x in ((0.0, 1.0 - wx), (1.0, wx)):
            ix, valid_x = fold_index(x0 + dx, width, fill_mode)
            iy, valid_y = fold_index(y0 + dy, height, fill_mode)
            index = ops.cast(iy * ops.cast(width, "float32") + ix, "int32")
            index = ops.broadcast_to(ops.expand_dims(index, -1), ops.shape(flat))
            pixels = ops.take_along_axis(flat, index, axis=1)
            weight = ops.expand_dims(weight_x * weight_y * valid_x * valid_y, -1)
            out = out + weight * ops.cast(pixels, "float32")
            if fill_mode == "constant":
                out = out + ops.expand_dims(weight_x * weight_y * (1 - valid_x * valid_y), -1) * cval
    return ops.reshape(ops.cast(out, images.dtype), shape)


def fold_index(index, size, fill_mode: str):
    """Map integer source coordinates outside [0, size) back inside, per ImageDataGenerator's
    fill modes; returns (index, valid) where valid is 0 for `constant` pixels outside."""
    size = ops.cast(size, "float32")
    if fill_mode == "nearest":
        return ops.clip(index, 0, size - 1), 1.0
    if fill_mode == "wrap":
        return ops.mod(index, size), 1.0
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        folded = ops.mod(index, 2 * size)
        return ops.where(folded >= size, 2 * size - 1 - folded, folded), 1.0
    inside = ops.cast((index >= 0) & (index <= size - 1), "float32")
    return ops.clip(index, 0, size - 1), inside


def shift_in_pixels(shift_range: float, size: int) -> float:
    """ImageDataGenerator: a range below 1 is a fraction of the size, otherwise pixels."""
    return shift_range * size if shift_range < 1 else shift_range


@keras.saving.register_keras_serializable(package="kit")
class RandomAffine(keras.layers.Layer):
    """Random rotation, shift, shear, zoom and horizontal flip, one affine draw per image.

    Active only when training. Jit-compatible on every backend (unlike keras.layers.RandomRotation).
    """

    def __init__(self, config: AugmentSection | None = None, seed: int | None = None, **kwargs):
        settings = kwargs.pop("settings", None)
        super().__init__(**kwargs)
        self.settings = AugmentSection(**settings) if settings else (config or AugmentSection())
        if self.settings.fill_mode not in FILL_MODES:
            raise KitError(f"augment.fill_mode '{self.settings.fill_mode}' is not one of {', '.join(FILL_MODES)}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=None):
        if not training:
            return images
        return transform(images, self.random_matrices(images), self.settings.fill_mode, self.settings.cval)

    def random_matrices(self, images):
        s = self.settings
        shape = ops.shape(images)
        batch = (shape[0],)

        def uniform(half_width, low=None, high=None):
            low = -half_width if low is None else low
            high = half_width if high is None else high
            return keras.random.uniform(batch, low, high, seed=self.seed_generator)

        max_x = shift_in_pixels(s.width_shift_range, images.shape[2])
        max_y = shift_in_pixels(s.height_shift_range, images.shape[1])
        flip = ops.where(uniform(1.0) < 0, -1.0, 1.0) if s.horizontal_flip else ops.ones(batch)
        return affine_matrix(
            uniform(s.rotation_range),
            uniform(max_x),
            uniform(max_y),
            uniform(s.shear_range),
            uniform(0, 1 - s.zoom_range, 1 + s.zoom_range),
            uniform(0, 1 - s.zoom_range, 1 + s.zoom_range),
            flip,
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        from dataclasses import asdict

        return {**super().get_config(), "settings": asdict(self.settings), "seed": self.seed}


@keras.saving.register_keras_serializable(package="kit")
class FixedAffine(keras.layers.Layer):
    """A deterministic view for test-time augmentation (the same transform for every image)."""

    def __init__(self, params: dict | None = None, fill_mode: str = "nearest", cval: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.params = dict(params or {})
        self.fill_mode = fill_mode
        self.cval = cval

    def call(self, images):
        p = AffineParams(**self.params)
        if is_pixel_move(p):
            return move_pixels(images, p, self.fill_mode, self.cval)
        batch = (ops.shape(images)[0],)
        row = affine_matrix(
            *(ops.full(batch, float(v)) for v in (p.rotation, p.shift_x, p.shift_y, p.shear, p.zoom_x, p.zoom_y)),
            ops.full(batch, -1.0 if p.flip else 1.0),
        )
        return transform(images, row, self.fill_mode, self.cval)

    def get_config(self):
        return {**super().get_config(), "params": self.params, "fill_mode": self.fill_mode, "cval": self.cval}


def is_pixel_move(view: AffineParams) -> bool:
    """A view that only mirrors and shifts by whole pixels (every TTA view of a shift-and-flip
    recipe): each output pixel is one input pixel, so no resampling is needed."""
    whole = all(float(v).is_integer() for v in (view.shift_x, view.shift_y))
    return whole and view.rotation == view.shear == 0 and view.zoom_x == view.zoom_y == 1


def move_pixels(images, view: AffineParams, fill_mode: str, cval: float):
    """`transform` for a pixel move, as two gathers of whole rows and columns: the same numbers
    (bilinear weights are then exactly 0 and 1), a fraction of the work and of the time to trace
    a graph of eight views."""
    height, width = images.shape[1], images.shape[2]
    out = images
    for axis, size, shift, flip in ((1, height, view.shift_y, False), (2, width, view.shift_x, view.flip)):
        source = (size - 1 - np.arange(size) if flip else np.arange(size)) + int(shift)
        index, valid = fold_index(ops.convert_to_tensor(source, "float32"), size, fill_mode)
        out = ops.take(out, ops.cast(index, "int32"), axis=axis)
        if fill_mode == "constant":
            shape = [1, 1, 1, 1]
            shape[axis] = size
            valid = ops.reshape(valid, shape)
            out = ops.cast(ops.cast(out, "float32") * valid + (1 - valid) * cval, images.dtype)
    return out


def augmentation_enabled(aug: AugmentSection) -> bool:
    ranges = (aug.rotation_range, aug.width_shift_range, aug.height_shift_range, aug.zoom_range, aug.shear_range)
    return any(ranges) or aug.horizontal_flip


def tta_views(
    count: int, settings: AugmentSection, crop: float = 0.0, size: tuple[int, int] = (0, 0)
) -> list[AffineParams]:
    """`count` deterministic views, most useful first: identity, the mirror (only where training
    flipped), then with `crop` the centre and four corner crops at that fraction of the side (each
    resized back to `size`, (height, width)), then one-pixel shifts, small rotations and zooms
    (only where training used them), mirrored shifts."""
    views = [AffineParams()]
    if settings.horizontal_flip:
        views.append(AffineParams(flip=True))
    if crop:
        views += crop_views(crop, size, settings.horizontal_flip)
    views += [AffineParams(shift_x=1), AffineParams(shift_x=-1), AffineParams(shift_y=1), AffineParams(shift_y=-1)]
    if settings.rotation_range:
        angle = min(settings.rotation_range / 2, 10.0)
        views += [AffineParams(rotation=angle), AffineParams(rotation=-angle)]
    if settings.zoom_range:
        zoom = settings.zoom_range / 2
        views += [AffineParams(zoom_x=1 - zoom, zoom_y=1 - zoom), AffineParams(zoom_x=1 + zoom, zoom_y=1 + zoom)]
    if settings.horizontal_flip:
        views += [AffineParams(flip=True, shift_x=1), AffineParams(flip=True, shift_x=-1)]
    if count < 1 or count > len(views):
        raise KitError(f"predict.tta={count}: this augmentation config offers 1..{len(views)} views")
    return views[:count]


def crop_views(crop: float, size: tuple[int, int], flip: bool) -> list[AffineParams]:
    """The centre crop (and its mirror where training flipped), then the four corner crops: a
    `crop` fraction of each side sampled over the whole output (a zoom by 1 / crop), the corners
    moved by half of what the crop leaves out."""
    height, width = size
    dx, dy = (1 - crop) * (width - 1) / 2, (1 - crop) * (height - 1) / 2
    centre = [AffineParams(zoom_x=crop, zoom_y=crop)]
    if flip:
        centre.append(AffineParams(zoom_x=crop, zoom_y=crop, flip=True))
    corners = [AffineParams(zoom_x=crop, zoom_y=crop, shift_x=sx, shift_y=sy) for sx in (-dx, dx) for sy in (-dy, dy)]
    return centre + corners
