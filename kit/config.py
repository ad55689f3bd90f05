"""The configuration: frozen dataclasses, one per section, each default commented with why.

Values are applied in a fixed order, later wins:

    defaults (this file) < competition.toml < [presets.NAME] < params file (tuned) < --set

An unknown section or key, or a value of the wrong type, is a `KitError` naming it. The resolved
configuration is saved as JSON beside every checkpoint and every submission.

>>> cfg = resolve({"train": {"epochs": 3}}, overrides=["batch_size=32"])
>>> (cfg.train.epochs, cfg.train.batch_size)
(3, 32)
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import KitError


@dataclass(frozen=True)
class CompetitionSection:
    slug: str = ""
    aliases: tuple[str, ...] = ()
    title: str = ""
    kaggle: str = ""  # Kaggle competition slug; "" means offline, scored locally on test labels
    metric: str = "accuracy"  # accuracy | macro_f1: what tuning, early stopping and CV report
    class_names: tuple[str, ...] = ()  # index = label; their count fixes the output layer


@dataclass(frozen=True)
class DataSection:
    format: str = "pixels"  # pixels (label,pixel0.. CSVs) | images (CSV of paths + folders)
    dir: str = ""  # a folder in the Kaggle layout; "" = data/<slug> if present, else embedded
    embedded: str = ""  # the committed sample, relative to the competition folder
    train_file: str = "train.csv"
    test_file: str = "test.csv"
    label_column: str = "label"
    id_column: str = ""  # an id column inside the CSVs; "" = ids are row numbers
    test_labels: bool = False  # the test CSV carries labels (offline competitions)
    height: int = 28
    width: int = 28
    channels: int = 1
    val_fraction: float = 0.2  # the stratified holdout; 0.2 is the 80/20 split of the anchors
    folds: int = 0  # 0 = one holdout split; k >= 2 = stratified k-fold, one model per fold
    limit: int = 0  # train on the first N rows only (0 = all): smoke runs and tests
    seed: int = 42  # the split's seed, separate from the training seed so splits stay fixed
    # format = "images" (kit.data.folders): CSVs of image paths and labels, folders of files
    image_column: str = ""  # the CSVs' image path/id column; "" = guess (sample's id column, ...)
    val_file: str = ""  # a second labelled CSV merged with train_file before the re-split
    train_dir: str = ""  # folders of the images, relative to the data folder; "" = the CSV's stem
    val_dir: str = ""  # ... ("" = val for val.csv)
    test_dir: str = ""  # ... ("" = test); the sample submission's ids name its files
    workers: int = 0  # decoding threads; 0 = CPU count + 4 (Pillow releases the GIL)
    cache: bool = True  # keep decoded arrays in artifacts/<slug>/cache (keyed by files and size)
    # auto | on | off: read training batches from the memory-mapped cache instead of holding every
    # decoded image in memory (kit.data.stream); auto streams image folders above stream_above_mb
    stream: str = "auto"
    stream_above_mb: int = 4096  # 200k living-species photos: 2.3 GB at 64x64, 29 GB at 224x224


@dataclass(frozen=True)
class AugmentSection:
    """ImageDataGenerator's knobs, same names and meaning, so notebook settings carry over."""

    rotation_range: float = 0.0  # degrees, uniform in [-r, r]
    width_shift_range: float = 0.0  # fraction of the width (< 1) or pixels (>= 1)
    height_shift_range: float = 0.0
    zoom_range: float = 0.0  # scale uniform in [1 - z, 1 + z], x and y drawn independently
    shear_range: float = 0.0  # degrees
    horizontal_flip: bool = False  # off by default: digits must not be mirrored
    fill_mode: str = "nearest"  # nearest | constant | reflect | wrap
    cval: float = 0.0  # fill value for fill_mode=constant, in the 0..1 pixel scale
    # not an ImageDataGenerator knob: brightness, contrast and saturation factors uniform in
    # [1 - j, 1 + j] per image (kit.colour); 0 = off, since colour may be what tells classes apart
    colour_jitter: float = 0.0


@dataclass(frozen=True)
class TrainSection:
    model: str = "cnn"  # a name in the model registry (`python -m kit models` lists them)
    width: float = 1.0  # multiplies every layer's filters/units
    dropout: float = 0.25
    epochs: int = 10
    batch_size: int = 64  # the anchors' 0.9976 CNN used 64
    learning_rate: float = 1e-3  # Adam's default, also the anchors'
    label_smoothing: float = 0.0
    reduce_lr_factor: float = 0.5  # ReduceLROnPlateau: halve ...
    reduce_lr_patience: int = 3  # ... after 3 flat epochs (the 0.99657 recipe)
    min_lr: float = 1e-5
    early_stopping_patience: int = 0  # 0 = off; otherwise restores the best weights
    mixed_precision: str = "auto"  # auto (on GPU only) | off | mixed_float16 | mixed_bfloat16
    jit_compile: str = "auto"  # auto | on | off: XLA for the whole step, augmentation included
    seed: int = 42  # weights, shuffling and augmentation
    # imbalance (kit.resample): none | over (random over-sampling of the smaller classes up to the
    # largest) | under (random under-sampling of the larger classes down to the smallest); on the
    # training split only, so validation keeps the true class mix
    resample: str = "none"
    class_weight: str = "none"  # none | balanced: loss weights n / (k * count), sklearn's formula
    # transfer learning (kit.transfer): imagenet (Keras cache, $KERAS_HOME/models) | none (from
    # scratch) | a path to a local weights file (.h5 / .weights.h5) for offline machines
    weights: str = "imagenet"
    fine_tune_epochs: int = 0  # after `epochs` with the base frozen, this many with its top unfrozen
    fine_tune_layers: int = 30  # the base's top N layers unfrozen (BatchNorm stays frozen)
    fine_tune_learning_rate: float = 1e-4  # lower than the head's, so the unfrozen layers move gently
    # plateau: constant rate, halved by ReduceLROnPlateau; onecycle: linear warm-up for the first
    # 20% of steps to learning_rate, then cosine decay to 0 (keeps accuracy at large batch sizes)
    schedule: str = "plateau"
    steps_per_execution: int = 1  # batches per compiled call: >1 keeps a GPU busy on small models
    # off | data_parallel: keras.distribution.DataParallel (JAX) or tf.distribute.MirroredStrategy
    # (TensorFlow) over every local device; batch_size is the global batch
    distribute: str = "off"
    # scikit-learn models only: fit on at most this many (stratified, seeded) rows. Kernel SVMs and
    # KNN grow quadratically / per query with the rows, so a full-size fit can take an hour.
    # 0 = the model's own cap (kit.models.classical.ROW_CAPS: svm 30k, knn 50k); -1 = every row.
    max_train_rows: int = 0


@dataclass(frozen=True)
class PredictSection:
    tta: int = 1  # deterministic views averaged per image (1 = none); see kit.augment.tta_params
    batch_size: int = 1024
    runs: tuple[str, ...] = ()  # run ids to ensemble; () = the latest run (all its folds)


@dataclass(frozen=True)
class SubmissionSection:
    sample_file: str = "sample_submission.csv"  # in the data folder; its columns rule if present
    id_column: str = "ImageId"  # used when the competition ships no sample submission
    label_column: str = "Label"
    id_start: int = 1  # Kaggle's digit-recognizer counts ImageId from 1


@dataclass(frozen=True)
class CompareSection:
    """`make compare` and `make learning-curve` (kit.compare)."""

    # the baseline list: four scikit-learn models, then the networks from small to large
    models: tuple[str, ...] = (
        "logreg", "knn", "svm", "random_forest", "dense", "dnn", "dnn_dropout", "cnn", "dcnn", "deotte_cnn",
    )
    fractions: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)  # of the training split, for learning curves
    # per-model settings on top of the config, "MODEL:key=value" (e.g. "cnn:train.epochs=3"): an MLP
    # epoch costs seconds and a CNN epoch minutes on a CPU, so one epoch count rarely fits all
    overrides: tuple[str, ...] = ()
    train_score_rows: int = 5000  # training rows scored for the learning curve's train score


@dataclass(frozen=True)
class TuneSection:
    """`make tune`: an Optuna study around the same fit() as `make train` (see kit.tune)."""

    n_trials: int = 20  # trials per call, split among its workers; 0 = until timeout
    timeout: float = 0.0  # seconds per call (0 = none); a running trial is finished, not cut
    study: str = ""  # "" = the competition's slug; an existing name is continued
    storage: str = ""  # "" = SQLite under artifacts/<slug>/tune (journal file if workers > 1); RDB URL
    workers: int = 1  # processes on this machine sharing the study
    sampler: str = "tpe"  # tpe | random
    pruner: str = "median"  # median | hyperband | none
    startup_trials: int = 5  # random trials (TPE) and finished trials before pruning starts
    space: str = ""  # "" = competitions/<slug>/space.py; or another space file
    heartbeat_interval: int = 30  # RDB storages: seconds between a running trial's heartbeats
    grace_period: int = 120  # a trial silent this long is marked failed (its worker died)
    top: int = 10  # rows of the summary table


@dataclass(frozen=True)
class Config:
    competition: CompetitionSection = field(default_factory=CompetitionSection)
    data: DataSection = field(default_factory=DataSection)
    augment: AugmentSection = field(default_factory=AugmentSection)
    train: TrainSection = field(default_factory=TrainSection)
    predict: PredictSection = field(default_factory=PredictSection)
    submission: SubmissionSection = field(default_factory=SubmissionSection)
    tune: TuneSection = field(default_factory=TuneSection)
    compare: CompareSection = field(default_factory=CompareSection)

    @property
    def num_classes(self) -> int:
        return len(self.competition.class_names)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return (self.data.height, self.data.width, self.data.channels)


SECTIONS: dict[str, type] = typing.get_type_hints(Config)


def resolve(
    *layers: dict[str, Any],
    overrides: list[str] | tuple[str, ...] = (),
    source: str = "config",
) -> Config:
    """Apply nested-dict layers in order, then `key=value` overrides, onto the defaults."""
    merged: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for layer in layers:
        for section, values in layer.items():
            check_section(section, values, source)
            merged[section].update(values)
    for text in overrides:
        section, key, value = parse_override(text)
        merged[section][key] = value
    return Config(**{name: build_section(name, values) for name, values in merged.items()})


def check_section(section: str, values: Any, source: str) -> None:
    if section not in SECTIONS:
        raise KitError(f"{source}: unknown section [{section}] (known: {', '.join(SECTIONS)})")
    if not isinstance(values, dict):
        raise KitError(f"{source}: [{section}] must be a table of key = value")


def build_section(name: str, values: dict[str, Any]):
    kind = SECTIONS[name]
    known = {f.name: f for f in dataclasses.fields(kind)}
    hints = typing.get_type_hints(kind)
    kwargs = {}
    for key, value in values.items():
        if key not in known:
            raise KitError(f"unknown config key '{name}.{key}' (known: {', '.join(known)})")
        kwargs[key] = coerce(f"{name}.{key}", value, hints[key])
    return kind(**kwargs)


def coerce(key: str, value: Any, hint: Any) -> Any:
    """Check `value` against the field's type; ints widen to floats, lists become tuples."""
    origin = typing.get_origin(hint)
    if origin is tuple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise KitError(f"config key '{key}' must be a list, got {value!r}")
        (item_type, _) = typing.get_args(hint)
        return tuple(coerce(key, item, item_type) for item in items)
    if origin in (types.UnionType, typing.Union):
        raise TypeError(f"unsupported config type {hint} for {key}")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise KitError(f"config key '{key}' must be true or false, got {value!r}")
    if hint is int and isinstance(value, bool) or not isinstance(value, hint):
        raise KitError(f"config key '{key}' must be {hint.__name__}, got {value!r}")
    return value


def parse_override(text: str) -> tuple[str, str, Any]:
    """`train.epochs=3` or `epochs=3` (a key unique across sections) -> (section, key, value)."""
    name, sep, raw = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise KitError(f"override '{text}' must look like key=value (e.g. train.epochs=3)")
    section, key = locate_key(name)
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()  # a bare word: a string (model=cnn)
    return section, key, value


def locate_key(name: str) -> tuple[str, str]:
    if "." in name:
        section, key = name.split(".", 1)
        if section not in SECTIONS:
            raise KitError(f"unknown config section '{section}' in '{name}' (known: {', '.join(SECTIONS)})")
        return section, key
    owners = [s for s, kind in SECTIONS.items() if name in {f.name for f in dataclasses.fields(kind)}]
    if not owners:
        raise KitError(f"unknown config key '{name}' (use section.key; sections: {', '.join(SECTIONS)})")
    if len(owners) > 1:
        raise KitError(f"config key '{name}' is ambiguous: write one of {', '.join(f'{s}.{name}' for s in owners)}")
    return owners[0], name


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{path}: file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise KitError(f"{path}: invalid TOML: {exc}") from None


def to_dict(cfg: Config) -> dict[str, Any]:
    return dataclasses.asdict(cfg)


def save(cfg: Config, path: Path) -> None:
    """Write the resolved config as JSON (beside checkpoints and submissions)."""
    path.write_text(json.dumps(to_dict(cfg), indent=2) + "\n")


def load_saved(path: Path) -> Config:
    """Read a config written by `save` (e.g. a run's config.json) back, with the same checks."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise KitError(f"{path}: file not found") from None
    return resolve(data, source=str(path))


def replace(cfg: Config, **sections: dict[str, Any]) -> Config:
    """A copy of `cfg` with some fields changed: replace(cfg, train={"epochs": 1})."""
    return resolve(to_dict(cfg), sections)
