"""Progressive resizing (`train.progressive_scale`, `train.progressive_epochs`): the first epochs
train on smaller images, the rest at the full side (fast.ai's DAWNBench habit: early epochs learn
coarse features as well from fewer pixels, at a fraction of the cost).

The network's `TrainingResize` layer (kit.models.resizing, in front of a KerasHub convolutional
backbone) takes the scale; at the epoch where it changes, the training step is traced again.
Validation and the saved checkpoint always see the full side. A network without that layer (the
kit's own, keras.applications, a ViT's fixed-size position embeddings) is refused before training.
"""

from __future__ import annotations

import keras

from kit.config import Config
from kit.errors import KitError
from kit.models.resizing import TrainingResize


class ProgressiveResize(keras.callbacks.Callback):
    """Sets every TrainingResize's scale at each epoch's start; retraces the step when it changes."""

    def __init__(self, layers: list[TrainingResize], scale: float, epochs: int):
        super().__init__()
        self.layers, self.scale, self.epochs = layers, scale, epochs

    def on_epoch_begin(self, epoch, logs=None):
        wanted = self.scale if epoch < self.epochs else 1.0
        if self.layers[0].train_scale != wanted:
            for layer in self.layers:
                layer.train_scale = wanted
            self.model.make_train_function(force=True)


def resize_layers(model: keras.Model) -> list[TrainingResize]:
    found = []
    for layer in model.layers:
        if isinstance(layer, TrainingResize):
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found += resize_layers(layer)
    return found


def callbacks(cfg: Config, model: keras.Model) -> list[keras.callbacks.Callback]:
    """[ProgressiveResize] when configured, [] when off; a network that cannot change size stops here."""
    scale, epochs = cfg.train.progressive_scale, cfg.train.progressive_epochs
    if scale == 1.0 or epochs == 0:
        return []
    layers = resize_layers(model)
    if not layers:
        raise KitError(
            f"train.progressive_scale={scale:g}: model '{cfg.train.model}' takes one input size; it needs a "
            "KerasHub convolutional backbone (resnet, efficientnet, mobilenet): set train.progressive_scale=1"
        )
    return [ProgressiveResize(layers, scale, epochs)]
