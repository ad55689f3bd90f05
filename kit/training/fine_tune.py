"""The transfer-learning schedule: train the new head on a frozen base, then fine-tune its top.

    stage 1  `train.epochs` epochs; the pretrained base frozen, only the head learns
    stage 2  `train.fine_tune_epochs` more; the base's top `train.fine_tune_layers` layers unfrozen
             (BatchNorm layers stay frozen and, being called with training=False, in inference
             mode), recompiled at `train.fine_tune_learning_rate` (1e-4) so they move gently

Which nested model is the pretrained base, its registry entry says (`pretrained.backbone`: the
name keras.applications gives it); a model without pretrained weights or with
`fine_tune_epochs = 0` trains in one stage, as before. The callbacks carry over: the
checkpoint keeps the best epoch of both stages, the CSV log continues.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import keras

from kit import config, models
from kit.config import Config
from kit.training import checkpoints


def backbone_name(cfg: Config) -> str | None:
    """The name of the configured model's pretrained base (its registry entry); None without one."""
    pretrained = models.get(cfg.train.model).pretrained
    return pretrained.backbone if pretrained else None


def find_backbone(model: keras.Model, name: str | None = None) -> keras.Model | None:
    """The pretrained base called `name` (by default: any registered model's backbone) nested
    anywhere inside `model`, or None."""
    names = (name,) if name else registered_backbones()
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            if layer.name.startswith(names):
                return layer
            inner = find_backbone(layer, name)
            if inner is not None:
                return inner
    return None


def registered_backbones() -> tuple[str, ...]:
    models.load_builtin()
    return tuple({spec.pretrained.backbone for spec in models.REGISTRY.values() if spec.pretrained})


def unfreeze_top(backbone: keras.Model, count: int) -> list[str]:
    """Make the base's top `count` layers trainable, BatchNorm excepted; returns their names."""
    backbone.trainable = True
    unfrozen = []
    for position, layer in enumerate(backbone.layers):
        in_top = position >= len(backbone.layers) - count
        # frozen BatchNorm: its statistics were learned on ImageNet's millions of images; a few
        # thousand new ones would only add noise (and the base runs it in inference mode anyway)
        layer.trainable = in_top and not isinstance(layer, keras.layers.BatchNormalization)
        if layer.trainable and layer.weights:
            unfrozen.append(layer.name)
    return unfrozen


def fit_stages(model: keras.Model, cfg: Config, compile_fn: Callable, x, y, **fit_args) -> keras.callbacks.History:
    """`model.fit(x, y, **fit_args)`, then, for a pretrained base, the fine-tuning stage."""
    name = backbone_name(cfg)
    backbone = find_backbone(model, name) if name else None
    stages = backbone is not None and cfg.train.fine_tune_epochs > 0
    if stages and backed_up_epoch(fit_args.get("callbacks", [])) >= cfg.train.epochs:
        # resuming inside stage two: its backup holds the unfrozen layers' optimizer state
        fine_tune(model, backbone, cfg, compile_fn, fit_args)
        return model.fit(x, y, **{**fit_args, "epochs": cfg.train.epochs + cfg.train.fine_tune_epochs})
    history = model.fit(x, y, **fit_args)
    if not stages or not history.epoch:
        return history
    fine_tune(model, backbone, cfg, compile_fn, fit_args)
    done = history.epoch[-1] + 1  # early stopping may end stage one before train.epochs
    stage_two = model.fit(x, y, **{**fit_args, "initial_epoch": done, "epochs": done + cfg.train.fine_tune_epochs})
    for key, values in stage_two.history.items():
        history.history.setdefault(key, []).extend(values)
    history.epoch.extend(stage_two.epoch)
    return history


def fine_tune(model, backbone, cfg: Config, compile_fn: Callable, fit_args: dict) -> None:
    """Unfreeze the base's top, recompile at the fine-tuning rate, let the CSV log continue."""
    unfrozen = unfreeze_top(backbone, cfg.train.fine_tune_layers)
    print(
        f"fine-tuning {len(unfrozen)} layers of {backbone.name} (top {cfg.train.fine_tune_layers}, "
        f"BatchNorm frozen) at learning rate {cfg.train.fine_tune_learning_rate:g}"
    )
    # a one-cycle schedule spans this stage's epochs; the discriminative rates (kit.training.optimizers)
    # read which layers are now trainable from the model
    stage = {"learning_rate": cfg.train.fine_tune_learning_rate, "epochs": cfg.train.fine_tune_epochs}
    compile_fn(model, config.replace(cfg, train=stage))
    for callback in fit_args.get("callbacks", []):
        if isinstance(callback, keras.callbacks.CSVLogger):
            callback.append = True  # continue stage one's log instead of overwriting it


def backed_up_epoch(callbacks) -> int:
    """The epoch a BackupAndRestore callback would resume at (-1 without a backup)."""
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.BackupAndRestore):
            epoch = checkpoints.backed_up_epoch(Path(callback.backup_dir))
            if epoch is not None:
                return epoch
    return -1
