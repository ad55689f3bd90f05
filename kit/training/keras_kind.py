"""The Keras model kind: fit a network on one fold, load its checkpoint, predict with TTA.

A fold folder holds `best.keras` (the best epoch by the competition's metric), `history.csv`
and, while it trains, `backup/` (weights, optimizer state and epoch, so `make train RESUME=1`
continues an interrupted run where it stopped; kit.training.checkpoints keeps all three whole
through Ctrl-C and kill -9). The training step reads top to bottom in `fit`:
resampled rows in, seeded model built and compiled, one or two stages (kit.training.fine_tune),
best checkpoint scored on the validation rows.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import asdict
from pathlib import Path

import keras
import numpy as np

from kit import metrics, models, targets
from kit.augment import ColourJitter, FixedAffine, RandomAffine, augmentation_enabled, mixing, tta_views
from kit.config import Config
from kit.data.batches import Batches, endless_batches, reader_threads
from kit.data.pixels import Images
from kit.data.stream import is_streamed
from kit.errors import KitError, TrainingDiverged
from kit.models import resizing  # noqa: F401  (registers TrainingResize: checkpoints load with it)
from kit.models.batchnorm import BatchNorm  # noqa: F401 (registered for load_model: `make predict` builds no model)
from kit.targets.classification import swap_activation
from kit.training import checkpoints, determinism, device, distribute, ema, optimizers, progressive
from kit.training.fine_tune import fit_stages
from kit.training.resample import class_weights
from kit.training.results import FoldResult, float32_outputs

CHECKPOINT = "best.keras"


def build_model(cfg: Config, truth: np.ndarray | None = None) -> keras.Model:
    """Input scaling + augmentation (active in training only) + the registered network, its head
    made the target's (kit.targets: softmax, sigmoids, or a unit un-scaled by `truth`'s spread)."""
    spec = models.get(cfg.train.model)
    if spec.kind != "keras":
        raise KitError(f"model '{cfg.train.model}' is a {spec.kind} model; `make train` fits Keras networks")
    target = targets.for_config(cfg)
    network = spec.build(
        cfg.image_shape,
        target.units(cfg),
        width=cfg.train.width,
        dropout=cfg.train.dropout,
        weights=cfg.train.weights,
        image_size=cfg.train.image_size,
    )
    if target.activation != "softmax":
        swap_activation(network, target.activation)
    inputs = keras.Input(cfg.image_shape, name="pixels")
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    if augmentation_enabled(cfg.augment):
        x = RandomAffine(cfg.augment, seed=cfg.train.seed, name="augment")(x)
    if cfg.augment.colour_jitter:  # in the compiled step too, after the geometry
        x = ColourJitter(cfg.augment.colour_jitter, seed=cfg.train.seed, name="colour_jitter")(x)
    return keras.Model(inputs, target.head(network(x), truth), name=f"{cfg.train.model}_classifier")


def compile_model(model: keras.Model, cfg: Config, steps_per_epoch: int = 1, truth: np.ndarray | None = None) -> None:
    jit = {"auto": "auto", "on": True, "off": False}[cfg.train.jit_compile]  # Literal-checked on resolve
    target = targets.for_config(cfg)
    loss, weight = target.loss(cfg, truth)  # a regression's weight makes it the standardised target's loss
    model.compile(
        optimizer=optimizers.optimizer(cfg, steps_per_epoch, model),
        loss=loss,
        loss_weights=None if weight == 1.0 else [weight],
        metrics=compiled_metrics(cfg.competition.metric) if target.name in ("classification", "topk") else [],
        jit_compile=jit,
        steps_per_execution=cfg.train.steps_per_execution,
    )


def compiled_metrics(metric: str) -> list:
    """Accuracy, and macro-F1 where the competition is scored by it: computed in every training
    step and traced into its graph, so not where nothing reads it (kit.metrics scores the rest)."""
    if metric == "macro_f1":
        return ["accuracy", keras.metrics.F1Score(average="macro", name="macro_f1")]
    return ["accuracy"]


def monitor_mode(metric: str) -> str:
    return "max" if metrics.greater_is_better(metric) else "min"


class ValidationMetric(keras.callbacks.Callback):
    """Adds `val_<metric>` to each epoch's logs for the metrics Keras does not compute itself
    (log_loss, roc_auc, qwk, micro_f1), scored by `kit.metrics` on the validation rows, so the
    checkpoint, early stopping, the CSV log and pruning all see the competition's own number.
    It must come first among the callbacks: the later ones read the logs it fills."""

    NATIVE = ("accuracy", "macro_f1")  # compiled metrics (compiled_metrics): Keras logs val_<metric>

    def __init__(self, cfg: Config, images: Images, val_index: np.ndarray, spread: distribute.Plan | None = None):
        super().__init__()
        self.cfg, self.images, self.val_index = cfg, images, val_index
        self.spread = spread or distribute.Plan((), cfg)

    def on_epoch_end(self, epoch, logs=None):
        metric = self.cfg.competition.metric
        native = metric in self.NATIVE and self.images.targets is None  # tags: scored here
        if logs is None or native:
            return
        if metric == "micro_f1":  # one label per image: micro-F1 is accuracy, no second pass
            logs["val_micro_f1"] = logs.get("val_accuracy")
            return
        workers, batch = self.cfg.data.workers, self.spread.batch(self.cfg.predict.batch_size)
        rows = self.spread.even(self.val_index)  # predicted across the devices; the padding cut off
        outputs = predict_images(self.model, self.images.images, rows, batch, workers, is_softmax(self.cfg))
        probabilities = outputs[: len(self.val_index)]
        labels = self.images.truth[self.val_index]
        logs[f"val_{metric}"] = metrics.score(labels, probabilities, metric)["score"]


def callbacks_for(cfg: Config, fold_dir: Path, resume: bool, before_backup=()) -> list[keras.callbacks.Callback]:
    monitor, mode = f"val_{cfg.competition.metric}", monitor_mode(cfg.competition.metric)
    chosen = [
        # the log and the best checkpoint before the backup: an epoch backed up is always logged
        # and weighed for the best (kit.training.checkpoints)
        keras.callbacks.CSVLogger(str(fold_dir / checkpoints.HISTORY), append=resume),
        checkpoints.BestCheckpoint(fold_dir / CHECKPOINT, monitor, mode),
        *before_backup,  # the raw weights back after an EMA epoch (kit.training.ema)
        # restores weights, optimizer state and epoch when the run is resumed
        checkpoints.backup(fold_dir),
        keras.callbacks.TerminateOnNaN(),
    ]
    if cfg.train.schedule == "plateau":  # a one-cycle schedule owns the learning rate itself
        chosen.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor="val_loss",
                factor=cfg.train.reduce_lr_factor,
                patience=cfg.train.reduce_lr_patience,
                min_lr=cfg.train.min_lr,
                verbose=1,
            )
        )
    if cfg.train.early_stopping_patience:
        chosen.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                mode=mode,
                patience=cfg.train.early_stopping_patience,
                restore_best_weights=True,
            )
        )
    return chosen


def fit(
    cfg: Config,
    images: Images,
    train_index: np.ndarray,
    val_index: np.ndarray,
    fold_dir: Path,
    resume: bool = False,
    extra_callbacks: tuple = (),
    verbose: int | str = "auto",
) -> FoldResult:
    """Train one network on `train_index` (already resampled), validate on `val_index`; the best
    epoch is kept as `fold_dir/best.keras`."""
    fold_dir.mkdir(parents=True, exist_ok=True)
    resumed_at = checkpoints.prepare_resume(fold_dir, CHECKPOINT) if resume else 0
    keras.utils.set_random_seed(cfg.train.seed)
    deterministic = determinism.apply(cfg.train.deterministic, device.has_gpu(), keras.backend.backend())
    # the policy holds for this fit alone (restored after it, also on Ctrl-C): the fold records it,
    # and prediction builds its layers under that recorded policy, in this process or another
    with device.training_precision(cfg.train.mixed_precision) as precision:
        history, seconds = fit_network(cfg, images, train_index, val_index, fold_dir, resume, extra_callbacks, verbose)
        if history.history.get("loss") and not np.isfinite(history.history["loss"][-1]):
            loss = history.history["loss"][-1]
            raise TrainingDiverged(f"training diverged (loss {loss}): lower train.learning_rate")
        best = load(fold_dir / CHECKPOINT)
        probabilities = predict_images(
            best, images.images, val_index, cfg.predict.batch_size, cfg.data.workers, is_softmax(cfg)
        )
    scores = metrics.score(images.truth[val_index], probabilities, cfg.competition.metric)
    checkpoints.finish(fold_dir)
    epochs = resumed_at + len(history.epoch)
    return FoldResult(
        fold_dir / CHECKPOINT, val_index, probabilities, scores, epochs, seconds, deterministic, precision
    )


def fit_network(cfg, images: Images, train_index, val_index, fold_dir: Path, resume, extra_callbacks, verbose):
    """Build, compile and fit the network under the policy set; (history, seconds of fitting)."""
    # several devices: the global batch and the scaled learning rate from here on (kit.training.distribute)
    spread = distribute.plan(cfg)
    cfg, rows = spread.cfg, spread.even(train_index)
    steps = distribute.steps_per_epoch(cfg, len(rows))
    truth = None if images.targets is None else images.targets[train_index]  # a regression's scale
    compile_for_data = functools.partial(compile_model, steps_per_epoch=steps, truth=truth)
    # what the network outputs (kit.targets): one-hot labels (label smoothing and the macro-F1
    # metric need them), a number, or a 0/1 row of tags
    onehot = targets.for_config(cfg).encode(images, cfg)
    x, y, validation, endless = training_data(cfg, images, onehot, rows, spread.even(val_index))
    ema_first, ema_before_backup = ema.callbacks(cfg.train.ema)
    with spread.scope():
        model = build_model(cfg, truth)
        compile_for_data(model, cfg)
        started = time.perf_counter()
        # one stage, or two for a pretrained base (kit.training.fine_tune: frozen, then its top fine-tuned)
        history = fit_stages(
            model,
            cfg,
            compile_for_data,
            x,
            y,
            # per class only: numbers and tags (targets) have no class to weigh
            class_weight=class_weights(cfg, images.labels[train_index]) if images.targets is None else None,
            validation_data=validation,
            epochs=cfg.train.epochs,
            batch_size=cfg.train.batch_size,  # ignored by Keras for datasets, which are batched
            steps_per_epoch=steps if endless else None,
            shuffle=isinstance(x, np.ndarray),  # datasets and Batches shuffle themselves
            callbacks=[
                *ema_first,  # the averaged weights for everything up to the backup (kit.training.ema)
                ValidationMetric(cfg, images, val_index, spread),
                *callbacks_for(cfg, fold_dir, resume, ema_before_backup),
                *progressive.callbacks(cfg, model),  # smaller images for the first epochs
                *extra_callbacks,
            ],
            verbose=progress_style() if verbose == "auto" else verbose,
        )
    return history, time.perf_counter() - started


def training_data(cfg: Config, images: Images, onehot, train_index, val_index):
    """(x, y, validation_data, endless) for `model.fit`: arrays in memory (the fast path for data
    that fits; on TensorFlow one endless dataset over them, which `fit` then reads
    `steps_per_epoch` batches an epoch), or for memory-mapped images (kit.data.stream) shuffled
    `Batches` read from disk. MixUp / CutMix (kit.augment.mixing) mix the training batches: a step
    of the TensorFlow dataset, or each `Batches` batch (arrays on other backends go through one)."""
    layers = mixing.mixers(cfg.augment, cfg.train.seed)
    mixing.check_labels(cfg.augment, targets.for_config(cfg).name)
    streamed, tensorflow = is_streamed(images.images), keras.backend.backend() == "tensorflow"
    if not streamed and (tensorflow or not layers):
        x, y = images.images[train_index], onehot[train_index]
        validation = (images.images[val_index], onehot[val_index])
        if not tensorflow:
            return x, y, validation, False
        batches = endless_batches(x, y, cfg.train.batch_size, cfg.train.seed)
        return (mixing.mix_dataset(batches, layers) if layers else batches), None, validation, True
    threads = reader_threads(cfg.data.workers)
    if streamed:
        print(f"streaming {len(train_index)} training rows from the memory-mapped cache ({threads} reader threads)")
        validation = Batches(images.images, val_index, cfg.predict.batch_size, onehot, workers=threads)
    else:
        validation = (images.images[val_index], onehot[val_index])
    batches = Batches(
        images.images, train_index, cfg.train.batch_size, onehot, shuffle=True, seed=cfg.train.seed, workers=threads
    )
    return (mixing.MixedBatches(batches, layers, cfg.train.seed) if layers else batches), None, validation, False


def predict_images(
    model: keras.Model, images, index, batch_size: int, workers: int = 0, softmax: bool = True
) -> np.ndarray:
    """`model.predict(images[index])` as float32 probabilities (numbers or sigmoids when not
    `softmax`: kit.targets), batch by batch from disk when the images are streamed."""
    if not is_streamed(images):
        return float32_outputs(model.predict(images[index], batch_size=batch_size, verbose=0), softmax)
    batches = Batches(images, index, batch_size, workers=reader_threads(workers))
    return float32_outputs(model.predict(batches, verbose=0), softmax)


def is_softmax(cfg: Config) -> bool:
    return targets.for_config(cfg).activation == "softmax"


def progress_style() -> int:
    """Keras progress bars on a terminal, one line per epoch in logs and CI."""
    return 1 if sys.stdout.isatty() else 2


def load(path: Path) -> keras.Model:
    """A fold's saved network (compiled for nothing: it only predicts)."""
    if not path.exists():
        raise KitError(f"{path}: checkpoint not found (was the run interrupted before its first epoch?)")
    try:  # safe_mode: a received file's Lambda layers (Python bytecode) are refused, never run
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except ValueError as error:
        if "safe_mode" not in str(error) and "unsafe" not in str(error):
            raise
        raise KitError(f"{path}: refused: it holds code (a Lambda layer), which the kit never runs") from None


def predict(model: keras.Model, cfg: Config, images) -> np.ndarray:
    """Class probabilities for every image (float32, rows summing to 1), averaged over
    `cfg.predict.tta` deterministic views."""
    return predict_images(
        with_tta(model, cfg), images, np.arange(len(images)), cfg.predict.batch_size, cfg.data.workers, is_softmax(cfg)
    )


def with_tta(model: keras.Model, cfg: Config) -> keras.Model:
    """`model` wrapped so that one call averages its softmax over `cfg.predict.tta` views. The
    views and the average are float32 whatever Keras' global policy (a layer takes the policy of
    the moment it is built): the same numbers after a fit as in a fresh `make predict`, and no
    bfloat16 average rounding probabilities to three digits. The network keeps its own policy."""
    views = tta_views(cfg.predict.tta, cfg.augment, cfg.predict.tta_crop, cfg.image_shape[:2])
    if len(views) == 1:
        return model
    inputs = keras.Input(model.input_shape[1:], name="pixels")
    pixels = keras.layers.Activation("linear", dtype="float32")(inputs)  # views resample floats
    fill = {"fill_mode": cfg.augment.fill_mode, "cval": cfg.augment.cval * 255, "dtype": "float32"}
    outputs = [model(FixedAffine(asdict(view), **fill)(pixels)) for view in views]
    average = keras.layers.Average(dtype="float32")(outputs)
    return keras.Model(inputs, average, name=f"{model.name}_tta{len(views)}")


def fitted_index(cfg: Config, labels: np.ndarray, train_index: np.ndarray) -> np.ndarray:
    """The rows `fit` trains on: all of them (a network's cost grows only linearly)."""
    return train_index


def parameter_count(model: keras.Model) -> int:
    return int(model.count_params())
