"""The configuration schema: frozen dataclasses, one per section, each default commented with why.

A key with a fixed set of values is typed `Literal[...]`: `kit.config.layers` checks every value
against its type when the config is resolved, so a wrong value is one error naming the key and the
allowed values, before any data is read. Add a key here and it is settable from competition.toml,
presets, tuned parameters and `SET=` at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kit.errors import KitError

# kit.metrics; besides these, map@K for any K (PATTERNS): K labels per image, best first
Metric = Literal["accuracy", "macro_f1", "micro_f1", "log_loss", "roc_auc", "qwk", "rmse", "mae", "f2", "f1_samples"]
# what a label is (kit.targets): auto = from the metric (map@K top-k, rmse/mae regression, f2 and
# f1_samples multi-label, else one class per image); macro_f1 over tags needs multilabel said.
# ordinal: grades (qwk) trained as one number, cut at thresholds chosen on the out-of-fold
# predictions to maximise the metric (APTOS 2019 winners'); qwk under auto stays classification
Target = Literal["auto", "classification", "topk", "regression", "multilabel", "ordinal"]
FillMode = Literal["nearest", "constant", "reflect", "wrap"]
# values a Literal key also takes when they match the whole pattern (one metric per K), and how
# an error names them
PATTERNS: dict[str, tuple[str, str]] = {"competition.metric": (r"map@[1-9][0-9]*", "map@K")}


# numeric keys with bounds (inclusive; None = open), checked when a config is resolved: `epochs=-1`
# is one error line before any data is read, not a run folder left behind by a failed fit
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "data.height": (1, None),
    "data.width": (1, None),
    "data.channels": (1, 8),
    "data.val_fraction": (0.0, 0.9),
    "data.folds": (0, None),
    "data.limit": (0, None),
    "train.width": (1e-3, None),
    "train.dropout": (0.0, 0.95),
    "train.epochs": (1, None),
    "train.batch_size": (1, None),
    "train.learning_rate": (1e-12, None),
    "train.label_smoothing": (0.0, 0.99),
    "train.weight_decay": (0.0, 1.0),
    "train.fine_tune_epochs": (0, None),
    "train.image_size": (0, None),
    "train.steps_per_execution": (1, None),
    "train.time_budget_s": (0.0, None),
    "train.warmup_fraction": (0.0, 0.9),
    "train.ema": (0.0, 0.99999),
    "train.gradient_accumulation": (1, None),
    "train.discriminative_lr": (1e-6, 1.0),
    "train.progressive_scale": (0.1, 1.0),
    "train.progressive_epochs": (0, None),
    "augment.mixup": (0.0, None),
    "augment.cutmix": (0.0, None),
    "predict.tta": (1, None),
    "predict.tta_crop": (0.0, 0.99),
    "predict.batch_size": (1, None),
}


@dataclass(frozen=True)
class CompetitionSection:
    slug: str = ""
    aliases: tuple[str, ...] = ()
    title: str = ""
    kaggle: str = ""  # Kaggle competition slug; "" means offline, scored locally on test labels
    metric: Metric = "accuracy"  # what tuning, early stopping, checkpoint choice and CV report
    class_names: tuple[str, ...] = ()  # index = label (a tag, for multi-label); their count fixes the output layer
    target: Target = "auto"


@dataclass(frozen=True)
class DataSection:
    # pixels: label,pixel0.. CSVs | images: a CSV of image paths or ids + image folders |
    # class_folders: train/<class name>/<image> (the folder names the class, sub-folders of any
    # depth below it) + a test folder | file_names: train/<class>.<n>.jpg (Dogs vs. Cats)
    format: Literal["pixels", "images", "class_folders", "file_names"] = "pixels"
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
    # one image split over one grayscale file per channel, <id>_<suffix>.<ext> (Human Protein
    # Atlas: red green blue yellow), stacked in this order (kit.data.channels); () = one file per
    # image. data.channels then keeps the first N of them (3: an RGB backbone sees red, green, blue)
    channel_files: tuple[str, ...] = ()
    # images under the training folder that no label names are an error (kit.data.census) unless true
    allow_unused: bool = False
    workers: int = 0  # decoding threads; 0 = CPU count + 4 (Pillow releases the GIL)
    cache: bool = True  # keep decoded arrays in artifacts/<slug>/cache (keyed by files and size)
    # auto | on | off: read training batches from the memory-mapped cache instead of holding every
    # decoded image in memory (kit.data.stream); auto streams image folders above stream_above_mb
    stream: Literal["auto", "on", "off"] = "auto"
    stream_above_mb: int = 4096  # 200k living-species photos: 2.3 GB at 64x64, 29 GB at 224x224

    def __post_init__(self):
        check_channels(self)


def check_channels(data: DataSection) -> None:
    """An image is 1 or 3 channels (gray, RGB), or as many as its channel files (the first N of
    them): a decoder asked for another count could only guess which channels to make up."""
    files = len(data.channel_files)
    if files and data.channels > files:
        raise KitError(
            f"data.channels={data.channels}, but data.channel_files names {files} "
            f"({' '.join(data.channel_files)}): set data.channels to at most {files}"
        )
    if not files and data.format != "pixels" and data.channels not in (1, 3):
        raise KitError(f"data.channels={data.channels}: images are read as 1 (gray) or 3 (RGB) channels")
    if len(set(data.channel_files)) < files or "" in data.channel_files:
        raise KitError(f"data.channel_files: {list(data.channel_files)} must be distinct non-empty suffixes")


@dataclass(frozen=True)
class AugmentSection:
    """ImageDataGenerator's knobs, same names and meaning, so notebook settings carry over."""

    rotation_range: float = 0.0  # degrees, uniform in [-r, r]
    width_shift_range: float = 0.0  # fraction of the width (< 1) or pixels (>= 1)
    height_shift_range: float = 0.0
    zoom_range: float = 0.0  # scale uniform in [1 - z, 1 + z], x and y drawn independently
    shear_range: float = 0.0  # degrees
    horizontal_flip: bool = False  # off by default: digits must not be mirrored
    fill_mode: FillMode = "nearest"
    cval: float = 0.0  # fill value for fill_mode=constant, in the 0..1 pixel scale
    # not an ImageDataGenerator knob: brightness, contrast and saturation factors uniform in
    # [1 - j, 1 + j] per image (kit.augment.colour); 0 = off, since colour may be what tells classes apart
    colour_jitter: float = 0.0
    # MixUp / CutMix (kit.augment.mixing, Keras' own layers): the Beta(a, a) of each batch's mixing
    # weight; 0 = off; both set = alternate batches (timm's switch). Off by default: on the
    # Fashion-MNIST recipe's 24 CPU epochs neither gained (docs/performance.md), they pay off
    # over long schedules
    mixup: float = 0.0
    cutmix: float = 0.0


@dataclass(frozen=True)
class TrainSection:
    model: str = "cnn"  # a name in the model registry (`python -m kit models` lists them)
    width: float = 1.0  # multiplies every layer's filters/units
    dropout: float = 0.25
    epochs: int = 10
    batch_size: int = 64  # the anchors' 0.9976 CNN used 64
    learning_rate: float = 1e-3  # Adam's default, also the anchors'
    # decoupled weight decay (AdamW's): each step shrinks the weights by learning_rate x weight_decay;
    # BatchNorm scales and offsets and biases are left alone (fastai's default)
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    reduce_lr_factor: float = 0.5  # ReduceLROnPlateau: halve ...
    reduce_lr_patience: int = 3  # ... after 3 flat epochs (the 0.99657 recipe)
    min_lr: float = 1e-5
    early_stopping_patience: int = 0  # 0 = off; otherwise restores the best weights
    # auto: float16 on a GPU, float32 on a CPU; auto_bfloat16: the same, but bfloat16 on a CPU that
    # computes it natively (kit.training.device.resolve_policy; the pixel recipes measured with it opt in)
    mixed_precision: Literal["auto", "auto_bfloat16", "off", "mixed_float16", "mixed_bfloat16"] = "auto"
    jit_compile: Literal["auto", "on", "off"] = "auto"  # XLA for the whole step, augmentation included
    seed: int = 42  # weights, shuffling and augmentation
    # auto | on | off: deterministic ops (kit.training.determinism), so that `make reproduce` retrains
    # bit-identical weights; auto = on without a GPU (free on a CPU), off on a GPU (slower there)
    deterministic: Literal["auto", "on", "off"] = "auto"
    # imbalance (kit.training.resample): none | over (random over-sampling of the smaller classes up to the
    # largest) | under (random under-sampling of the larger classes down to the smallest); on the
    # training split only, so validation keeps the true class mix
    resample: Literal["none", "over", "under"] = "none"
    class_weight: Literal["none", "balanced"] = "none"  # balanced: loss weights n / (k * count), sklearn's
    # transfer learning (kit.training.fine_tune): imagenet (Keras cache, $KERAS_HOME/models; for a
    # KerasHub preset the kagglehub cache, never downloaded) | none (from scratch) | a path to a local
    # weights file (.h5 / .weights.h5) or, for a KerasHub preset, its folder
    weights: str = "imagenet"
    # the side a KerasHub backbone sees (kit.models.hub): 0 = its preset's own (224 for most);
    # smaller trains faster on a CPU, and a ViT's pretrained weights take only their own size
    image_size: int = 0
    fine_tune_epochs: int = 0  # after `epochs` with the base frozen, this many with its top unfrozen
    fine_tune_layers: int = 30  # the base's top N layers unfrozen (BatchNorm stays frozen)
    fine_tune_learning_rate: float = 1e-4  # lower than the head's, so the unfrozen layers move gently
    # plateau: constant rate, halved by ReduceLROnPlateau; onecycle: linear warm-up over
    # `warmup_fraction` of the steps to learning_rate, then cosine decay to 0
    schedule: Literal["plateau", "onecycle"] = "plateau"
    # 0: cosine from the peak. The Fashion-MNIST recipe scored 0.65 points higher without its 20%
    # warm-up on two seeds (docs/performance.md); a pretrained base gets its warm-up from the
    # frozen stage, where only the new head learns
    warmup_fraction: float = 0.0
    # weight EMA momentum (kit.training.ema), warmed up as TensorFlow's (kit.training.optimizers):
    # validation, the best checkpoint and predictions use the averaged weights. 0.99 gained 0.6
    # points on the Fashion-MNIST recipe with its old 20% learning-rate warm-up and lost 0.1 to
    # 0.15 without it (two seeds, docs/performance.md), so it is off unless set
    ema: float = 0.0
    # one update per N batches, the gradients averaged: a batch N times larger than memory holds
    # (large inputs on a GPU); 1 = every batch, as there is no measured gain where the batch fits
    gradient_accumulation: int = 1
    # discriminative learning rates for a pretrained base's unfrozen layers (kit.training.optimizers):
    # the bottom one at this fraction of the head's rate, the ones above geometrically nearer it
    # (fastai's fine_tune: 0.01); 1 = one rate. Off until a fine-tuning measurement says otherwise
    discriminative_lr: float = 1.0
    # progressive resizing (kit.training.progressive): the first `progressive_epochs` train at this
    # fraction of a KerasHub conv backbone's side, then the full side; validation is always at the
    # full side. 1 = off, for the same reason as discriminative_lr
    progressive_scale: float = 1.0
    progressive_epochs: int = 0
    steps_per_execution: int = 1  # batches per compiled call: >1 keeps a GPU busy on small models
    # auto: data-parallel over every accelerator when more than one is visible (Kaggle's 2 x T4),
    # else off (a CPU trains as always); data_parallel: over every local device, CPUs included.
    # With N devices batch_size is per device: global batch N x batch_size, learning rates x N
    # (kit.training.distribute)
    distribute: Literal["auto", "off", "data_parallel"] = "auto"
    # scikit-learn models only: fit on at most this many (stratified, seeded) rows. Kernel SVMs and
    # KNN grow quadratically / per query with the rows, so a full-size fit can take an hour.
    # 0 = the model's own cap (kit.models.classical.ROW_CAPS: svm 30k, knn 50k); -1 = every row.
    max_train_rows: int = 0
    # seconds a run's folds may take (kit.training.budget): no fold starts that the folds done say
    # would not end in time, and the folds done make the run. 0 = no limit; a Kaggle kernel with 0
    # takes its machine's run-time limit minus a margin (kit.commands.kernel_runner)
    time_budget_s: float = 0.0


@dataclass(frozen=True)
class PredictSection:
    tta: int = 1  # deterministic views averaged per image (1 = none); see kit.augment.affine.tta_views
    # crop views (kit.augment.affine.tta_views): the centre and four corners cut to this fraction of
    # the side and resized back, after the mirror; 0 = none (shifts instead), as measured in docs/performance.md
    tta_crop: float = 0.0
    batch_size: int = 1024
    runs: tuple[str, ...] = ()  # run ids to ensemble; () = the latest run (all its folds)


@dataclass(frozen=True)
class SubmissionSection:
    sample_file: str = "sample_submission.csv"  # in the data folder; its columns rule if present
    id_column: str = "ImageId"  # used when the competition ships no sample submission
    label_column: str = "Label"
    id_start: int = 1  # Kaggle's digit-recognizer counts ImageId from 1
    # no sample submission: the test ids are the test folder's file names (file) or their names
    # without the extension (stem: a train.csv whose ids have none, APTOS' id_code)
    ids: Literal["file", "stem"] = "file"
    # label: one class per image | probabilities: one column per class (named as class_names) |
    # probability: the positive class's probability (two classes) | auto: read off the sample
    # topk: K labels per image, space-separated, best first (map@K) | value: a number (regression) |
    # tags: the labels an image has, space-separated | columns: one 0/1 column per label (multi-label)
    # grade: one grade per image, cut from an ordinal target's number at its run's thresholds
    form: Literal["auto", "label", "probabilities", "probability", "topk", "value", "tags", "columns", "grade"] = "auto"
    # what a label submission writes: the class names (or the integers they spell) | the class
    # indices (a competition whose train.csv labels are 0..k-1 beside named classes) | auto:
    # names when there is a sample submission, indices without one (the kit's own format)
    labels: Literal["auto", "names", "indices"] = "auto"
    # log-loss only: probabilities written in [clip, 1 - clip], so one confident mistake costs at
    # most ln(1 / clip) (6.9 at 1e-3) instead of Kaggle's 34.5 at its own 1e-15 clipping
    clip: float = 1e-3


@dataclass(frozen=True)
class CompareSection:
    """`make compare` and `make learning-curve` (kit.commands.compare)."""

    # the baseline list: four scikit-learn models, then the networks from small to large
    models: tuple[str, ...] = (
        "logreg",
        "knn",
        "svm",
        "random_forest",
        "dense",
        "dnn",
        "dnn_dropout",
        "cnn",
        "dcnn",
        "deotte_cnn",
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
    sampler: Literal["tpe", "random"] = "tpe"
    pruner: Literal["median", "hyperband", "none"] = "median"
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
