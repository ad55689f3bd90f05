"""Tiny images for the replica corpus, written with Pillow: the label is in the colour (or a
simple pattern), so a small CNN learns it in a few epochs on the CPU.

    hue(k, n)         class k of n: its own hue, jittered
    tinted(rgb)       a flat colour plus noise (regression levels, tag channels, AUC overlap)
    grey(level)       one grayscale channel file: a flat level plus noise (Human Protein Atlas)
    shaped(k)         living_species_data.draw: a colour and a shape per class (8 classes)
"""

from __future__ import annotations

import colorsys
from pathlib import Path

import numpy as np
from living_species_data import draw
from PIL import Image

SIZE = 16


def tinted(path: Path, rgb, rng: np.random.Generator, size: int = SIZE, noise: float = 12) -> None:
    """A flat colour plus Gaussian noise, saved as the suffix says (.png .jpg .tif)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = np.asarray(rgb, dtype=np.float64) + rng.normal(0, noise, (size, size, 3))
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    image.save(path, quality=95) if path.suffix == ".jpg" else image.save(path)


def grey(path: Path, level: float, rng: np.random.Generator, size: int = SIZE, noise: float = 12) -> None:
    """A grayscale (mode L) PNG: a flat level plus Gaussian noise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = level + rng.normal(0, noise, (size, size))
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), mode="L").save(path)


def hue(path: Path, k: int, n: int, rng: np.random.Generator, size: int = SIZE) -> None:
    """Class k of n: a hue of its own (n up to ~16 stay apart), brightness jittered."""
    red, green, blue = colorsys.hsv_to_rgb(k / n, 0.85, rng.uniform(0.75, 0.95))
    tinted(path, (255 * red, 255 * green, 255 * blue), rng, size)


def shaped(path: Path, k: int, rng: np.random.Generator, size: int = 24) -> None:
    """Class k (of up to 8): a colour and a shape (tests/data/living_species_data.py)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    image = draw(k, size, rng)
    image.save(path, quality=92) if path.suffix == ".jpg" else image.save(path)
