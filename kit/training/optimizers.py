"""The optimizer a network compiles with: Adam (AdamW's decoupled decay when `train.weight_decay`),
its learning-rate schedule, weight EMA, gradient accumulation and discriminative learning rates.

    schedule=plateau    a constant rate that ReduceLROnPlateau halves (kit.training.keras_kind)
    schedule=onecycle   linear warm-up over `train.warmup_fraction` of the steps, then cosine to 0
    ema > 0             Keras' weight EMA (`use_ema`) with TensorFlow's warm-up (WarmedEma);
                        kit.training.ema puts the averaged weights in the model for validation
                        and the saved checkpoint
    gradient_accumulation = k   Keras' own: one update per k batches (an effective batch k times larger)
    discriminative_lr < 1       the pretrained base's trainable layers learn at geometrically
                        smaller rates the deeper they are: the bottom one at `discriminative_lr`
                        times the head's rate (fastai's `slice(lr / 100, lr)` is 0.01)

Keras 3 has no per-variable learning rate (MultiOptimizer would need one optimizer per layer and
hides `learning_rate` from ReduceLROnPlateau), so `ScaledAdam` scales the rate inside Adam's own
`update_step`, per variable, by a factor fixed when the optimizer is made: the same traced step on
every backend, the schedule, EMA, accumulation and the backup untouched.

>>> import keras
>>> dense = keras.layers.Dense(2, kernel_initializer="zeros")
>>> dense.build((None, 3))
>>> adam = ScaledAdam({dense.kernel.path: 0.1}, learning_rate=0.01)
>>> adam.build(dense.trainable_variables)
>>> adam.apply([keras.ops.ones((3, 2)), keras.ops.ones((2,))])  # Adam's first step: the rate
>>> round(float(dense.kernel.numpy()[0, 0]), 6), round(float(dense.bias.numpy()[0]), 6)
(-0.001, -0.01)
"""

from __future__ import annotations

import keras

from kit.config import Config

DECAY_EXEMPT = ["gamma", "beta", "bias"]  # BatchNorm's scales and offsets and biases keep their size


class WarmedEma:
    """Keras' weight EMA with the warm-up of TensorFlow's ExponentialMovingAverage(num_updates):
    the momentum at step t is min(ema_momentum, (1 + t) / (10 + t)). Keras' own is constant from
    the second step, so a short run's average stays near the first weights (at 0.99, 89% of them
    after 12 steps); warmed, it follows the recent weights and reaches the momentum by step ~900."""

    def _update_model_variables_moving_average(self, trainable_variables):
        if not self.use_ema:
            return
        step = keras.ops.cast(self.iterations, "float32")
        warmed = keras.ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))
        momentum = keras.ops.where(step > 0, warmed, 0.0)  # the first step copies: averages start at 0
        for variable, average in zip(trainable_variables, self._model_variables_moving_average, strict=True):
            if average is not None:
                kept = keras.ops.cast(momentum, variable.dtype)
                average.assign(kept * average + (1 - kept) * variable)


@keras.saving.register_keras_serializable(package="kit")
class WarmedAdam(WarmedEma, keras.optimizers.Adam):
    """Adam (AdamW with `weight_decay`) whose EMA warms up."""


@keras.saving.register_keras_serializable(package="kit")
class ScaledAdam(WarmedEma, keras.optimizers.Adam):
    """Adam whose step for a variable (by its path) is multiplied by `rate_scales[path]` (1 for the
    rest); the decoupled weight decay is scaled alike, as in AdamW's parameter groups."""

    def __init__(self, rate_scales: dict[str, float] | None = None, weight_decay=None, **kwargs):
        super().__init__(**kwargs)  # the decay is applied per variable in update_step, scaled
        self.rate_scales = dict(rate_scales or {})
        self.scaled_decay = weight_decay

    def build(self, var_list):
        super().build(var_list)
        self._scales = [self.rate_scales.get(variable.path, 1.0) for variable in var_list]

    def update_step(self, gradient, variable, learning_rate):
        scale = self._scales[self._get_variable_index(variable)]
        rate = learning_rate if scale == 1.0 else learning_rate * scale  # a constant of the traced step
        if self.scaled_decay and self._use_weight_decay(variable):
            decay = keras.ops.cast(rate, variable.dtype) * keras.ops.cast(self.scaled_decay, variable.dtype)
            self.assign_sub(variable, variable * decay)
        return super().update_step(gradient, variable, rate)

    def get_config(self):
        return {**super().get_config(), "rate_scales": self.rate_scales, "weight_decay": self.scaled_decay}


def optimizer(cfg: Config, steps_per_epoch: int, model: keras.Model | None = None) -> keras.optimizers.Adam:
    """Adam for `cfg.train`; `model` (compiled with it) tells which variables the discriminative
    rates scale."""
    train = cfg.train
    options = {
        "learning_rate": learning_rate(cfg, steps_per_epoch),
        "use_ema": train.ema > 0,
        "ema_momentum": train.ema or 0.99,
        # Keras counts every batch in `iterations`, so the schedule's steps stay batches
        "gradient_accumulation_steps": train.gradient_accumulation if train.gradient_accumulation > 1 else None,
    }
    scales = rate_scales(model, train.discriminative_lr) if model is not None else {}
    if scales:
        chosen = ScaledAdam(scales, weight_decay=train.weight_decay or None, **options)
    else:
        chosen = WarmedAdam(weight_decay=train.weight_decay or None, **options)
    if train.weight_decay:
        chosen.exclude_from_weight_decay(var_names=DECAY_EXEMPT)
    return chosen


def learning_rate(cfg: Config, steps_per_epoch: int):
    """A float for `plateau` (ReduceLROnPlateau adjusts it), a schedule for `onecycle`: from a tenth
    of the rate up to it over the warm-up, then cosine to 0 by the last step."""
    if cfg.train.schedule == "plateau":
        return cfg.train.learning_rate
    total = max(1, steps_per_epoch * cfg.train.epochs)
    warmup = min(total - 1, round(total * cfg.train.warmup_fraction))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=cfg.train.learning_rate / 10 if warmup else cfg.train.learning_rate,
        decay_steps=total - warmup,
        alpha=0.0,
        warmup_target=cfg.train.learning_rate if warmup else None,
        warmup_steps=warmup,
    )


def rate_scales(model: keras.Model, ratio: float) -> dict[str, float]:
    """{variable path: rate factor} for the pretrained base's trainable layers, top (nearest the
    head) to bottom ratio^(1/n), ratio^(2/n) .. ratio; {} when `ratio` is 1 or nothing is trainable
    (stage one: the base frozen, only the head learns, at the full rate)."""
    from kit.training.fine_tune import find_backbone

    backbone = find_backbone(model) if ratio < 1 else None
    if backbone is None:
        return {}
    trainable = [layer for layer in backbone.layers if layer.trainable_variables]
    scales = {}
    for depth, layer in enumerate(reversed(trainable), start=1):
        for variable in layer.trainable_variables:
            scales[variable.path] = ratio ** (depth / len(trainable))
    return scales
