"""What the verbs print about a run and a submission: one printer, shared by run, train, predict
and reproduce."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from kit.config import Config


def print_run(cfg: Config, result) -> None:
    print(
        f"run {result.run_dir.name}: validation {cfg.competition.metric} {result.score:.4f} "
        f"over {len(result.folds)} fold(s)"
    )
    scores = [fold.scores for fold in result.folds]
    print(
        f"  accuracy {np.mean([s['accuracy'] for s in scores]):.4f}, "
        f"macro-F1 {np.mean([s['macro_f1'] for s in scores]):.4f}"
    )
    per_class = result.run_dir / "reports" / "per_class.csv"
    if per_class.exists():  # imbalanced data: a class the model never predicts shows up here
        import pandas as pd

        recall = pd.read_csv(per_class, index_col=0)["recall"].iloc[: cfg.num_classes]
        print("  recall per class: " + ", ".join(f"{name} {value:.2f}" for name, value in recall.items()))
    print(f"  checkpoints and history: {result.run_dir}")
    print(f"  reports: {result.run_dir / 'reports'}")


def print_submission(path: Path, record: dict) -> None:
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
    if "local_score" in record:
        score = record["local_score"]
        own = "" if record["metric"] in ("accuracy", "macro_f1") else f"{record['metric']} {score['score']:.4f}, "
        print(f"  test {own}accuracy {score['accuracy']:.4f}, macro-F1 {score['macro_f1']:.4f} (scored locally)")
    if record.get("embedded_sample"):
        print("  made from the embedded sample: for trying the kit, not for the leaderboard")
