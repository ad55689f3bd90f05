"""Augmentation inside the compiled training step, and the deterministic views of TTA.

    affine.py  ImageDataGenerator's geometric knobs (rotation, shifts, zoom, shear, flips) as one
               random affine matrix per image (RandomAffine); the fixed TTA views (FixedAffine)
    colour.py  brightness, contrast and saturation jitter (ColourJitter)
    mixing.py  MixUp / CutMix on the training batches (Keras' layers: they mix the labels too)

The first two are Keras layers registered for serialisation, so checkpoints load with them.
"""

from kit.augment.affine import AffineParams, FixedAffine, RandomAffine, augmentation_enabled, tta_views
from kit.augment.colour import ColourJitter

__all__ = ["AffineParams", "ColourJitter", "FixedAffine", "RandomAffine", "augmentation_enabled", "tta_views"]
