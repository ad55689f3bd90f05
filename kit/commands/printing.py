"""What the verbs print about a run and a submission: one printer, shared by run, train, predict
and reproduce."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from kit.config import Config


def validation_scheme(cfg: Config, folds: int) -> str:
    """How the validation score was measured, in words: one holdout is not cross-validation."""
    if folds > 1:
        return f"mean over {folds} folds (each image validated once)"
    return f"on a {cfg.data.val_fraction:.0%} holdout"


def print_run(cfg: Config, result) -> None:
    print(
        f"run {result.run_dir.name}: validation {cfg.competition.metric} {result.score:.4f}, "
        f"{validation_scheme(cfg, len(result.folds))}"
    )
    scores = [fold.scores for fold in result.folds]
    if all("accuracy" in s and "macro_f1" in s for s in scores):  # a regression has neither
        print(
            f"  accuracy {np.mean([s['accuracy'] for s in scores]):.4f}, "
            f"macro-F1 {np.mean([s['macro_f1'] for s in scores]):.4f}"
        )
    per_class = result.run_dir / "reports" / "per_class.csv"
    if per_class.exists():  # imbalanced data: a class the model never predicts shows up here
        import pandas as pd

        recall = pd.read_csv(per_class, index_col=0)["recall"].iloc[: cfg.num_classes]
        print("  recall per class: " + ", ".join(f"{name} {value:.2f}" for name, value in recall.items()))
    if getattr(result, "calibration", None):  # a log-loss run's temperature (kit.training.calibration)
        from kit.training import calibration  # scikit-learn: not before a verb's cheap errors are said

        print(f"  probabilities fitted for {cfg.competition.metric}: {calibration.describe(result.calibration)}")
    print(f"  checkpoints and history: {result.run_dir}")
    print(f"  reports: {result.run_dir / 'reports'}")
    warn_at_chance(cfg, result.score)


def warn_at_chance(cfg: Config, value: float) -> None:
    """A run that learned nothing says so (as a study does), instead of a score that looks like one."""
    from kit import metrics, models  # scikit-learn: not before a verb's cheap errors are said

    metric = cfg.competition.metric
    if np.isfinite(value) and metrics.at_chance(metric, value, cfg.num_classes):
        chance = metrics.chance_score(metric, cfg.num_classes)
        if models.get(cfg.train.model).kind == "keras":
            advice = (
                f"nothing learned in {cfg.train.epochs} epoch(s); train longer (a quick preset is a smoke test), "
                "or check the data and learning rate"
            )
        else:  # one fit: no epochs to add
            advice = f"{cfg.train.model} learned nothing; check the data, or try another model (make compare)"
        print(
            f"warning: validation {metric} {value:.4f} is at chance ({chance:.4f} for guessing among "
            f"{cfg.num_classes} classes): {advice}",
            file=sys.stderr,
        )


def print_submission(path: Path, record: dict) -> None:
    from kit.training import calibration
    from kit.training.budget import partial_note

    print(f"submission: {path}")
    print(f"  record: {path.with_suffix('.json')}")
    if partial_note(record):
        print(f"  partial ensemble (time budget): {partial_note(record)}")
    if record.get("cv_score") is not None:
        method = record.get("cv_method", "validation")
        print(f"  CV {record['metric']}: {record['cv_score']:.4f}{'' if method == 'validation' else f' ({method})'}")
        if method.startswith("mean of members"):
            print("  warning: no ensemble CV; the leaderboard is the only measure of this ensemble", file=sys.stderr)
    for run, fitted in (record.get("calibration") or {}).items():
        said = calibration.describe(fitted) if fitted else "trained before runs fitted a temperature: not scaled"
        print(f"  probabilities fitted for {record['metric']} ({run}): {said}")
    if "local_score" in record:
        score = record["local_score"]
        own = "" if record["metric"] in ("accuracy", "macro_f1") else f"{record['metric']} {score['score']:.4f}, "
        print(f"  test {own}accuracy {score['accuracy']:.4f}, macro-F1 {score['macro_f1']:.4f} (scored locally)")
    if record.get("embedded_sample"):
        print("  made from the embedded sample: for trying the kit, not for the leaderboard")
