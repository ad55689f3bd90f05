"""One class per image: the kit's first target, and the interface the others follow."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kit.config import Config
from kit.errors import KitError


@dataclass(frozen=True)
class Read:
    """A label table read for training: `strata` is a class index per row (-1: unusable; splits,
    audit and reports group rows by it), `truth` what the metric compares predictions with
    when that is not the class index (numbers, a 0/1 matrix of tags), `bad` why a row is unusable."""

    strata: np.ndarray
    truth: np.ndarray | None = None
    bad: str = ""
    values: np.ndarray | None = None  # classification: the labels as read, NaN where unusable


class Target:
    """Classification; the other targets override what differs."""

    name = "classification"
    activation = "softmax"
    form: str | None = None  # the submission form it writes; None: label or probabilities (kit.submission)

    def units(self, cfg: Config) -> int:
        return cfg.num_classes

    def read(self, frame: pd.DataFrame, column: str, cfg: Config) -> Read:
        values = label_values(frame[column], cfg.competition.class_names)
        good = np.isfinite(values) & (values == np.round(values)) & (values >= 0) & (values < cfg.num_classes)
        strata = np.where(good, np.nan_to_num(values), -1).astype(np.int64)
        return Read(strata, None, f"label not an integer in 0..{cfg.num_classes - 1}", values)

    def encode(self, images, cfg: Config) -> np.ndarray:
        """What the network is trained to output: one-hot rows (label smoothing needs them)."""
        return np.eye(cfg.num_classes, dtype=np.float32)[images.labels]

    def loss(self, cfg: Config, truth: np.ndarray | None):
        """(Keras loss, its weight)."""
        import keras

        return keras.losses.CategoricalCrossentropy(label_smoothing=cfg.train.label_smoothing), 1.0

    def head(self, outputs, truth: np.ndarray | None):
        """The network's output made the target's (regression un-scales it)."""
        return outputs

    def blind_guess(self, cfg: Config, images) -> np.ndarray:
        """The prediction for an image that could not be read: the classes' frequencies."""
        return np.bincount(images.labels, minlength=cfg.num_classes) / len(images.labels)

    def decode(self, exp, predictions: np.ndarray) -> dict[str, object]:
        raise NotImplementedError  # kit.submission writes labels and probabilities itself

    def check(self, frame: pd.DataFrame, exp, name: str) -> None:
        raise NotImplementedError


def label_values(column: pd.Series, class_names: tuple[str, ...]) -> np.ndarray:
    """Labels as floats (NaN where unusable): class names mapped to their index, else integers
    (a table of 0/1 for names 'cat', 'dog'). Names come first: the labels 1..5 of classes named
    '1'..'5', or digits listed in another order, are the classes of those names."""
    values = pd.to_numeric(column, errors="coerce")
    by_name = column.astype(str).str.strip().map({name: i for i, name in enumerate(class_names)})
    if by_name.notna().sum() >= values.notna().sum():  # a table of names, not indices
        values = by_name
    return values.to_numpy(dtype=np.float64)


def swap_activation(network, activation: str) -> None:
    """Make the factory's final float32 softmax `activation` (every registered network ends in a
    Dense softmax; the layer looks its activation up when called, and saves it by name)."""
    import keras

    last = network.layers[-1]
    if not isinstance(last, keras.layers.Dense):
        raise KitError(
            f"model {network.name} does not end in a Dense softmax like the registered networks, so it "
            f"cannot take this target's {activation} head: end its factory in kit.models.zoo.classifier_head"
        )
    last.activation = keras.activations.get(activation)


def tokens(value) -> list[str]:
    """The space-separated words of a cell ('' and NaN: none)."""
    return [] if pd.isna(value) else str(value).split()


Classification = Target
