"""Model comparison and learning curves: many models, or one model on growing data, same split.

`compare` trains every listed model (networks and scikit-learn baselines alike, through
`kit.training.runs.fit`) on one seeded holdout and writes, under `artifacts/<slug>/compare/<time>/`:
`results.csv` and `results.md` (one row per model), `compare.png`, `config.json`, and one run
folder per model in `runs/<model>/` (usable by `kit.predict.predict_run`). `learning_curve` fits
one model on growing fractions of the training split and writes the same kind of table and plot
under `artifacts/<slug>/learning-curve/<time>-<model>/`.

Tables and chart are rewritten after every model, so an interrupted comparison keeps what it finished.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_fscore_support

from kit import config, fileio, metrics, models, paths, report
from kit.config import Config
from kit.console.progress import progress
from kit.data.pixels import Images
from kit.data.splits import make_splits, save_splits, subsample_index
from kit.errors import KitError
from kit.training import kinds
from kit.training.runs import fit

COLUMNS = (
    "model",
    "kind",
    "accuracy",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "train_seconds",
    "predict_seconds_per_1000",
    "parameters",
    "train_rows",
    "subsampled",
    "epochs",
)


@dataclass
class Predictor:
    """A loaded checkpoint: `predict(images)` gives class probabilities without TTA."""

    predict: object
    parameters: int | None
    kept_rows: int = 0  # a k-NN's training rows: what it stores instead of parameters


def model_config(cfg: Config, name: str) -> Config:
    """`cfg` with train.model=name and that model's "MODEL:key=value" compare.overrides."""
    models.get(name)  # an unknown name lists the known ones
    own = []
    for item in cfg.compare.overrides:
        target, sep, setting = item.partition(":")
        if not sep or "=" not in setting:
            raise KitError(f"compare.overrides item '{item}' must look like MODEL:key=value (e.g. cnn:train.epochs=3)")
        models.get(target)  # a misspelt model name is an error, not a silently unused setting
        if target == name:
            own.append(setting)
    return config.resolve(config.to_dict(cfg), {"train": {"model": name}}, overrides=own)


def holdout(cfg: Config, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The one seeded, stratified split every model sees (the first fold when data.folds is set)."""
    splits = make_splits(labels, cfg.data)
    if len(splits) > 1:
        print(f"note: data.folds={cfg.data.folds}: comparing on the first fold only")
    return splits[0]


def output_dir(cfg: Config, kind: str, suffix: str = "") -> Path:
    """A new timestamped folder under artifacts/<slug>/<kind>/."""
    return paths.unique_folder(paths.artifacts_dir(cfg.competition.slug) / kind, suffix, create=True)


def load_predictor(path: Path, cfg: Config) -> Predictor:
    """The saved model of a fold, ready to time, without TTA; one warm-up call first (a network
    traces its graph there, outside the timing)."""
    kind = kinds.for_checkpoint(path)
    model = kind.load(path)
    plain = config.replace(cfg, predict={"tta": 1})

    def predict(x):
        return kind.predict(model, plain, x)

    predict(np.zeros((1, *cfg.image_shape), dtype=np.uint8))
    if kind.name == "sklearn":
        from kit.training.sklearn_kind import kept_rows

        return Predictor(predict, kind.parameter_count(model), kept_rows(model))
    return Predictor(predict, kind.parameter_count(model))


def timed(predictor: Predictor, images: np.ndarray) -> tuple[np.ndarray, float]:
    """Probabilities and seconds per 1,000 images."""
    started = time.perf_counter()
    probabilities = predictor.predict(images)
    return probabilities, (time.perf_counter() - started) * 1000 / max(1, len(images))


def macro_scores(labels: np.ndarray, probabilities: np.ndarray, metric: str, prefix: str = "") -> dict:
    """Accuracy, macro-F1, macro precision and recall (scikit-learn), keys prefixed."""
    predicted = probabilities.argmax(axis=1)
    precision, recall, _, _ = precision_recall_fscore_support(labels, predicted, average="macro", zero_division=0)
    scores = metrics.score_labels(labels, predicted, metric)
    return {
        f"{prefix}accuracy": scores["accuracy"],
        f"{prefix}macro_f1": scores["macro_f1"],
        f"{prefix}macro_precision": float(precision),
        f"{prefix}macro_recall": float(recall),
    }


def subsample_note(cfg: Config, labels: np.ndarray, train_index: np.ndarray) -> tuple[int, str]:
    """(rows the model trains on, 'no' or 'yes: N of M rows') for the table."""
    rows = len(kinds.for_model(cfg.train.model).fitted_index(cfg, labels, train_index))
    return rows, (f"yes: {rows} of {len(train_index)} rows" if rows < len(train_index) else "no")


def evaluate_model(
    cfg: Config, images: Images, split: tuple[np.ndarray, np.ndarray], run_dir: Path, test: Images | None
) -> dict:
    """Train one model on the split, time its prediction, and return its table row."""
    train_index, val_index = split
    run_dir.mkdir(parents=True)
    config.save(cfg, run_dir / "config.json")
    rows, note = subsample_note(cfg, images.labels, train_index)
    result = fit(cfg, images, train_index, val_index, run_dir / "fold0", verbose=2)
    predictor = load_predictor(result.checkpoint, cfg)
    probabilities, per_1000 = timed(predictor, images.images[val_index])
    row = {
        "model": cfg.train.model,
        "kind": models.get(cfg.train.model).kind,
        **macro_scores(images.labels[val_index], probabilities, cfg.competition.metric),
        "train_seconds": round(result.seconds, 1),
        "predict_seconds_per_1000": round(per_1000, 3),
        "parameters": predictor.parameters,
        "train_rows": rows,
        "subsampled": note,
        "epochs": epochs_of(cfg, result),
        "kept_rows": predictor.kept_rows,
    }
    if test is not None and test.labels is not None:  # offline competitions: score the test set too
        row.update(macro_scores(test.labels, predictor.predict(test.images), cfg.competition.metric, "test_"))
    # the run.json of `make train`, so `make predict RUN=<this folder>` records the model and score
    fileio.write_json(
        run_dir / "run.json",
        {
            "status": "complete",
            "model": cfg.train.model,
            "metric": cfg.competition.metric,
            "score": result.scores["score"],
        },
    )
    return row


def compare(
    cfg: Config, images: Images, names: list[str], test: Images | None = None, folder: Path | None = None
) -> tuple[pd.DataFrame, Path]:
    """Train every model in `names` on the same seeded holdout; write the table and plot.

    Returns the table (one row per model, COLUMNS first) and the folder holding it.
    """
    if not names:
        raise KitError("no models to compare (compare.models is empty)")
    # every name checked before any training; a repeated name is trained once
    configs = [model_config(cfg, name) for name in dict.fromkeys(names)]
    folder = folder or output_dir(cfg, "compare")
    config.save(cfg, folder / "config.json")
    split = holdout(cfg, images.labels)
    save_splits([split], folder / "split.npz")
    rows = []
    for number, model_cfg in enumerate(progress(configs, "compared models", unit="models"), 1):
        print(
            f"== [{number}/{len(configs)}] {model_cfg.train.model}: {len(split[0])} train, {len(split[1])} val",
            flush=True,
        )
        rows.append(evaluate_model(model_cfg, images, split, folder / "runs" / model_cfg.train.model, test))
        table = write_table(rows, folder)
        report.plot_comparison(table, folder / "compare.png", chance=1.0 / max(cfg.num_classes, 2))
    return table, folder


def write_table(rows: list[dict], folder: Path) -> pd.DataFrame:
    """results.csv and results.md from the rows so far (COLUMNS first, then test scores)."""
    table = pd.DataFrame(rows)
    table = table[list(COLUMNS) + [c for c in table.columns if c not in COLUMNS]]
    table.to_csv(folder / "results.csv", index=False)
    shown = table.copy()
    kept = shown.pop("kept_rows")
    shown["parameters"] = [size_text(n, rows) for n, rows in zip(shown["parameters"], kept, strict=True)]
    write_markdown(shown, folder)
    return table


def size_text(parameters, kept_rows) -> str:
    """The table's parameters cell: a count, or what a model without parameters keeps (k-NN)."""
    if kept_rows:
        return f"none (keeps {int(kept_rows):,} rows)"
    return "n/a" if pd.isna(parameters) else f"{int(parameters):,}"


def epochs_of(cfg: Config, result) -> int | None:
    """Epochs a network trained; None for a scikit-learn model (one fit, no epochs: '—' in tables)."""
    return result.epochs if models.get(cfg.train.model).kind == "keras" else None


def write_markdown(table: pd.DataFrame, folder: Path) -> None:
    """results.md: what has no value in a row (a scikit-learn model's epochs) is '—', not 'nan'."""
    shown = table.copy()
    for column in shown.columns[shown.isna().any()]:  # tabulate formats a column of numbers only
        shown[column] = shown[column].map(cell)
    (folder / "results.md").write_text(shown.to_markdown(index=False, floatfmt=".4g") + "\n")


def cell(value) -> str:
    if pd.isna(value):
        return "—"
    if isinstance(value, float):
        return f"{int(value)}" if value.is_integer() else f"{value:.4g}"
    return str(value)


def check_fractions(fractions: list[float]) -> list[float]:
    if not fractions:
        raise KitError("no fractions for the learning curve (compare.fractions is empty)")
    bad = [f for f in fractions if not 0 < f <= 1]
    if bad:
        raise KitError(f"learning-curve fractions must be in (0, 1], got {bad}")
    return sorted(set(fractions))


def fraction_point(cfg: Config, images: Images, split, fraction: float, run_dir: Path) -> dict:
    """Fit on `fraction` of the training split; score the rows it fitted and the validation rows."""
    train_index, val_index = split
    subset = subsample_index(images.labels, train_index, max(1, round(fraction * len(train_index))), cfg.train.seed)
    rows, note = subsample_note(cfg, images.labels, subset)
    result = fit(cfg, images, subset, val_index, run_dir / "fold0", verbose=2)
    fitted = kinds.for_model(cfg.train.model).fitted_index(cfg, images.labels, subset)
    seen = subsample_index(images.labels, fitted, cfg.compare.train_score_rows, cfg.train.seed)
    predictor = load_predictor(result.checkpoint, cfg)
    train_scores = metrics.score(images.labels[seen], predictor.predict(images.images[seen]), cfg.competition.metric)
    return {
        "fraction": fraction,
        "examples": len(subset),
        "fitted_rows": rows,
        "subsampled": note,
        "train_score": train_scores["score"],
        "val_score": result.scores["score"],
        "train_accuracy": train_scores["accuracy"],
        "val_accuracy": result.scores["accuracy"],
        "train_macro_f1": train_scores["macro_f1"],
        "val_macro_f1": result.scores["macro_f1"],
        "train_seconds": round(result.seconds, 1),
        "epochs": epochs_of(cfg, result),
    }


def learning_curve(
    cfg: Config, images: Images, fractions: list[float] | None = None, folder: Path | None = None
) -> tuple[pd.DataFrame, Path]:
    """Train cfg.train.model on growing fractions of one seeded training split, same validation.

    The train score is measured on at most compare.train_score_rows of the rows the model fitted.
    Returns the table (one row per fraction) and its folder (results.csv/.md, learning_curve.png).
    """
    fractions = check_fractions(list(fractions or cfg.compare.fractions))
    cfg = model_config(cfg, cfg.train.model)  # the model's own compare.overrides apply here too
    folder = folder or output_dir(cfg, "learning-curve", f"-{cfg.train.model}")
    config.save(cfg, folder / "config.json")
    split = holdout(cfg, images.labels)
    save_splits([split], folder / "split.npz")
    rows = []
    for fraction in fractions:
        print(f"== {cfg.train.model} on {fraction:.0%} of {len(split[0])} training rows", flush=True)
        run_dir = folder / "runs" / f"fraction-{fraction:g}"
        run_dir.mkdir(parents=True)
        config.save(cfg, run_dir / "config.json")
        rows.append(fraction_point(cfg, images, split, fraction, run_dir))
        table = pd.DataFrame(rows)
        table.to_csv(folder / "results.csv", index=False)
        write_markdown(table, folder)
    report.plot_learning_curve(table, cfg.train.model, cfg.competition.metric, folder / "learning_curve.png")
    return table, folder


def compared_names(given: list[str], cfg: Config) -> list[str]:
    """--models (MODELS=, commas or spaces), else compare.models with the competition's own model
    (train.model) last when not listed: a comparison that leaves it out says nothing of it."""
    names = [name for value in given for name in value.replace(",", " ").split()]
    return names or list(dict.fromkeys([*cfg.compare.models, cfg.train.model]))


def cmd_compare(args, cfg: Config) -> int:
    """Every model of --models (default compare.models) on one seeded split: table and chart."""
    from kit import data, models

    names = compared_names(args.models, cfg)
    for name in names:
        models.check_name(name)
    loaded = data.load(cfg)
    started = time.perf_counter()
    table, folder = compare(cfg, loaded.train, names, test=loaded.test)
    print((folder / "results.md").read_text())
    print(f"compared {len(table)} models in {time.perf_counter() - started:.0f} s: {folder}")
    name_models_at_chance(table, cfg.num_classes)
    print(f"  table: {folder / 'results.md'} (and .csv), chart: {folder / 'compare.png'}")
    return 0


def name_models_at_chance(table: pd.DataFrame, num_classes: int) -> None:
    """One line naming the compared models whose validation accuracy is at chance: they learned nothing."""
    from kit import metrics

    idle = [
        row.model
        for row in table.itertuples()
        if np.isfinite(row.accuracy) and metrics.at_chance("accuracy", row.accuracy, num_classes)
    ]
    if idle:
        print(f"warning: at chance, learned nothing on this data: {', '.join(idle)}", file=sys.stderr)


def cmd_learning_curve(args, cfg: Config) -> int:
    """train.model (MODEL=) on growing fractions of the training split: table and plot."""
    from kit import data

    loaded = data.load(cfg, with_test=False)
    table, folder = learning_curve(cfg, loaded.train, args.fractions or None)
    print((folder / "results.md").read_text())
    print(f"learning curve of {cfg.train.model}: {folder / 'learning_curve.png'}")
    return 0
