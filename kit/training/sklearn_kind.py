"""The scikit-learn model kind (registry kind "sklearn"): fit, load, predict, count parameters.

These models share the runs, splits, reports, prediction and submission path of the networks
(`kit.training.kinds.SklearnKind` fits them through this module): a fold folder holds
`best.skops` (the fitted pipeline) and a one-row `history.csv` (train and validation scores, the
shape of a Keras history).
TTA does not apply: the views would need one fit per view.

A run folder may come from someone else (a kernel's output, a colleague's zip), so models are
stored with `skops.io`, which rebuilds objects from data instead of running a pickle's code, and
loaded only when every type in the file is one the kit's own models use (`TRUSTED_TYPES`).

Models whose cost explodes with the data fit on a stratified, seeded subsample (see
`train.max_train_rows` and `kit.models.classical.ROW_CAPS`), and say so with a warning.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import log_loss
from threadpoolctl import threadpool_limits

from kit import fileio, metrics, models
from kit.config import Config
from kit.data.pixels import Images
from kit.data.splits import subsample_index
from kit.errors import KitError
from kit.models.classical import ROW_CAPS
from kit.training.results import FoldResult

CHECKPOINT = "best.skops"
# Types in the kit's own fitted models that skops does not trust by default: the kit's feature
# functions and estimator, imbalanced-learn's pipeline and sampler, scikit-learn's tree nodes.
# Anything else in a model file is refused unread (every registered model saves and loads in
# tests/training/test_compare.py::test_every_classical_model_fits_saves_and_predicts).
TRUSTED_TYPES = frozenset(
    {
        "kit.models.classical.to_unit",
        "kit.models.image_baselines.colour_features",
        "kit.models.image_baselines.BackboneEmbedding",
        "imblearn.pipeline.Pipeline",
        "imblearn.over_sampling._random_over_sampler.RandomOverSampler",
        "sklearn.tree._tree.Tree",
    }
)


def flat(images: np.ndarray) -> np.ndarray:
    """(N, H, W, C) uint8 -> (N, H*W*C): scikit-learn wants one row per image."""
    return images.reshape(len(images), -1)


def row_cap(cfg: Config) -> int:
    """The most training rows the configured model fits on (0 = no cap)."""
    if cfg.train.max_train_rows < -1:
        raise KitError(f"train.max_train_rows={cfg.train.max_train_rows}: use -1 (all), 0 (model default) or N")
    if cfg.train.max_train_rows == -1:
        return 0
    return cfg.train.max_train_rows or ROW_CAPS.get(cfg.train.model, 0)


def fitted_index(cfg: Config, labels: np.ndarray, train_index: np.ndarray) -> np.ndarray:
    """The rows `fit` actually trains on: `train_index`, capped by `row_cap`."""
    return subsample_index(labels, train_index, row_cap(cfg), cfg.train.seed)


def build(cfg: Config):
    """The registered estimator, seeded with train.seed wherever it has a random_state; one with
    pretrained weights (the embedding baselines) gets train.weights, as the networks do."""
    spec = models.get(cfg.train.model)
    estimator = spec.build(
        cfg.image_shape, cfg.num_classes, width=cfg.train.width, dropout=cfg.train.dropout, weights=cfg.train.weights
    )
    seeds = {key: cfg.train.seed for key in estimator.get_params() if key.endswith("random_state")}
    return estimator.set_params(**seeds)


def fit(
    cfg: Config,
    images: Images,
    train_index: np.ndarray,
    val_index: np.ndarray,
    fold_dir: Path,
    verbose: int | str = "auto",
) -> FoldResult:
    """Fit on the (capped) training rows, save `best.skops`, score the validation rows.

    One "epoch"; `seconds` is the fit time. `verbose=0` keeps the one summary line quiet (tuning).
    """
    if images.targets is not None:  # numbers or tags: the kit's estimators are classifiers
        raise KitError(
            f"model '{cfg.train.model}' is a scikit-learn classifier; a {cfg.competition.metric} target "
            "(numbers or tags) trains a Keras network: set MODEL=cnn (or another Keras model)"
        )
    fold_dir.mkdir(parents=True, exist_ok=True)
    rows = fitted_index(cfg, images.labels, train_index)
    if len(rows) < len(train_index):
        warn_subsample(cfg.train.model, len(rows), len(train_index))
    estimator = build(cfg)
    started = time.perf_counter()
    fit_estimator(estimator, flat(images.images[rows]), images.labels[rows])
    seconds = time.perf_counter() - started
    checkpoint = fold_dir / CHECKPOINT
    save(estimator, checkpoint)
    probabilities = predict_proba(estimator, images.images[val_index], cfg.num_classes)
    scores = metrics.score(images.labels[val_index], probabilities, cfg.competition.metric)
    write_history(cfg, estimator, images, rows, val_index, probabilities, fold_dir / "history.csv")
    if verbose != 0:
        print(
            f"{cfg.train.model}: fitted on {len(rows)} rows in {seconds:.1f} s, "
            f"validation accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f}",
            flush=True,
        )
    # seeded estimators on one BLAS thread: the same rows give the same model
    return FoldResult(checkpoint, val_index, probabilities, scores, 1, seconds, deterministic=True)


def fit_estimator(estimator, pixels: np.ndarray, labels: np.ndarray):
    """`estimator.fit` with PCA clamped to the data and BLAS on one thread.

    One BLAS thread: on a shared 2-core machine OpenBLAS' threads spin against other processes
    (measured: logistic regression on 450 rows, 30 s with 2 threads under load, 2.5 s with 1);
    the costly models parallelise with n_jobs / OpenMP instead, or not at all (libsvm).
    """
    limit = min(pixels.shape)  # PCA keeps at most min(rows, pixels) components
    clamp = {
        key: min(value, limit)
        for key, value in estimator.get_params().items()
        if key.endswith("n_components") and isinstance(value, int)
    }
    estimator.set_params(**clamp)
    with threadpool_limits(limits=1, user_api="blas"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fitted = estimator.fit(pixels, labels)
    say_warnings(estimator, caught)
    return fitted


def say_warnings(estimator, caught: list[warnings.WarningMessage]) -> None:
    """scikit-learn's ConvergenceWarning (nine lines with its advice on scaling) as one line of
    the kit's own; any other warning is passed on as it came."""
    unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    if unconverged:
        limits = {k: v for k, v in estimator.get_params().items() if k.endswith("max_iter")}
        print(
            f"warning: {type(estimator).__name__} stopped at its iteration limit before converging "
            f"({', '.join(f'{k}={v}' for k, v in limits.items()) or 'max_iter'}): its scores may be a little low",
            file=sys.stderr,
        )
    for other in (w for w in caught if not issubclass(w.category, ConvergenceWarning)):
        warnings.warn_explicit(other.message, other.category, other.filename, other.lineno)


def warn_subsample(model: str, rows: int, total: int) -> None:
    """One line in the log (and the comparison table's `subsampled` column says it too)."""
    print(
        f"warning: {model}: fitting on a stratified subsample of {rows} of {total} training rows "
        f"(its cost explodes with the data); train.max_train_rows=-1 uses every row",
        flush=True,
    )


def write_history(cfg: Config, estimator, images: Images, rows, val_index, val_probabilities, target: Path) -> None:
    """One row in Keras' history.csv columns, so the run reports plot it like a network's."""
    seen = subsample_index(images.labels, rows, cfg.compare.train_score_rows, cfg.train.seed)
    train_probabilities = predict_proba(estimator, images.images[seen], cfg.num_classes)
    classes = list(range(cfg.num_classes))
    row = {
        "epoch": 0,
        "accuracy": float((train_probabilities.argmax(1) == images.labels[seen]).mean()),
        "loss": log_loss(images.labels[seen], train_probabilities, labels=classes),
        "val_accuracy": float((val_probabilities.argmax(1) == images.labels[val_index]).mean()),
        "val_loss": log_loss(images.labels[val_index], val_probabilities, labels=classes),
    }
    pd.DataFrame([row]).to_csv(target, index=False)


def predict_proba(estimator, images: np.ndarray, num_classes: int | None = None) -> np.ndarray:
    """Class probabilities (N, classes) on flattened pixels.

    Estimators without `predict_proba` (an SVC without Platt scaling) get a softmax of their
    decision function: the same argmax, probabilities good enough to average in an ensemble.
    """
    pixels = flat(images)
    with threadpool_limits(limits=1, user_api="blas"):  # see fit_estimator
        if hasattr(estimator, "predict_proba"):
            return align_classes(estimator, estimator.predict_proba(pixels).astype(np.float32), num_classes)
        decision = estimator.decision_function(pixels)
    if decision.ndim == 1:  # two classes: one margin, positive for classes_[1]
        decision = np.column_stack([-decision, decision])
    return align_classes(estimator, softmax(decision, axis=1).astype(np.float32), num_classes)


def align_classes(estimator, probabilities: np.ndarray, num_classes: int | None) -> np.ndarray:
    """Columns for every class 0..num_classes-1, even those missing from a (sub)sample."""
    classes = np.asarray(estimator.classes_)
    width = num_classes or int(classes.max()) + 1
    if len(classes) == width and (classes == np.arange(width)).all():
        return probabilities
    full = np.zeros((len(probabilities), width), dtype=np.float32)
    full[:, classes] = probabilities
    return full


def skops_io():
    """`skops.io`, imported on first use (1 s of start-up that networks need not pay)."""
    try:
        from skops import io
    except ImportError:
        raise KitError("scikit-learn models are saved with skops, which is not installed: pip install skops") from None
    return io


def save(estimator, path: Path) -> Path:
    """`estimator` in skops' format, written atomically (a reader never sees half a model)."""
    return fileio.atomic_write(path, skops_io().dumps(estimator))


def load(path: Path):
    """A fitted estimator saved by `fit`; a file holding any type outside `TRUSTED_TYPES` is
    refused before anything in it is built."""
    if not path.exists():
        raise KitError(f"{path}: model file not found")
    skops = skops_io()
    try:
        untrusted = sorted(set(skops.get_untrusted_types(file=path)) - TRUSTED_TYPES)
    except Exception as error:  # not a zip, no schema, damaged: skops raises many kinds
        raise KitError(f"{path}: not a readable skops model file ({type(error).__name__}: {error})") from None
    if untrusted:
        raise KitError(
            f"{path}: refused: it holds types the kit's models never use, which could run code when "
            f"loaded: {', '.join(untrusted)}"
        )
    return skops.load(path, trusted=sorted(TRUSTED_TYPES))


def predict(estimator, cfg: Config, images: np.ndarray) -> np.ndarray:
    """Class probabilities for every image (no TTA: see the module's docstring)."""
    return predict_proba(estimator, images, cfg.num_classes)


def parameter_count(estimator) -> int | None:
    """Numbers the fitted model learned: weights, support vectors or tree nodes (one per node).
    None for k-NN, which learns none (`kept_rows` says what it keeps), or an estimator this
    function does not know."""
    steps = [step for _, step in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    total = 0
    for step in steps:
        if hasattr(step, "components_"):  # PCA
            total += step.components_.size + step.mean_.size
        elif hasattr(step, "support_vectors_"):  # SVC
            total += step.support_vectors_.size + step.dual_coef_.size + step.intercept_.size
        elif hasattr(step, "coef_"):  # linear models
            total += step.coef_.size + step.intercept_.size
        elif hasattr(step, "_fit_X"):  # KNN keeps its training rows: no parameters to count
            return None
        elif hasattr(step, "estimators_"):  # forests
            total += sum(tree.tree_.node_count for tree in step.estimators_)
        elif hasattr(step, "predict"):  # a model this function does not know
            return None
    return total


def kept_rows(estimator) -> int:
    """The training rows a fitted model keeps to predict (k-NN's neighbours); 0 for the others."""
    steps = [step for _, step in estimator.steps] if hasattr(estimator, "steps") else [estimator]
    return sum(len(step._fit_X) for step in steps if hasattr(step, "_fit_X"))
