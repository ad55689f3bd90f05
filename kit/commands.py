"""What each `python -m kit VERB` does. `kit.cli` parses arguments and calls these.

Each command takes the parsed arguments and the resolved config and returns an exit code.
Heavy imports (Keras) happen inside, so `--help` and config errors stay instant.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from kit import config, fileio, paths
from kit.config import Config
from kit.errors import KitError


def cmd_data(args, cfg: Config) -> int:
    """Validate the competition's files where the kit will read them, and say where that is."""
    from kit import compete, data

    compete.ensure_data(cfg)  # downloads a Kaggle competition's files when there is no local copy
    loaded = data.load(cfg)
    source = "the embedded sample" if loaded.embedded else str(loaded.folder)
    print(f"{cfg.competition.slug}: data ok in {source}")
    print(
        f"  train {loaded.train.images.shape}, test {loaded.test.images.shape}"
        f"{'' if loaded.sample_submission is None else f', sample submission {loaded.sample_submission.shape}'}"
    )
    return 0


def cmd_audit(args, cfg: Config) -> int:
    from kit import data
    from kit.data.audit import audit, format_summary

    loaded = data.load(cfg)
    summary = audit(cfg, loaded.train, loaded.test, paths.artifacts_dir(cfg.competition.slug) / "audit",
                    faults=loaded.faults)
    print(format_summary(summary))
    return 0


def cmd_train(args, cfg: Config) -> int:
    from kit import data, train

    run_dir = None
    if args.resume is not None:
        run_dir = train.find_run(cfg.competition.slug, args.resume)
        cfg = config.resolve(config.to_dict(config.load_saved(run_dir / "config.json")), overrides=args.set)
        print(f"resuming {run_dir}")
    loaded = data.load(cfg, with_test=False)
    result = train.train(cfg, loaded.train, run_dir=run_dir, resume=run_dir is not None)
    print_run(cfg, result)
    track_runs(cfg.competition.slug, [result.run_dir])
    return 0


def print_run(cfg: Config, result) -> None:
    print(f"run {result.run_dir.name}: validation {cfg.competition.metric} {result.score:.4f} "
          f"over {len(result.folds)} fold(s)")
    scores = [fold.scores for fold in result.folds]
    print(f"  accuracy {np.mean([s['accuracy'] for s in scores]):.4f}, "
          f"macro-F1 {np.mean([s['macro_f1'] for s in scores]):.4f}")
    per_class = result.run_dir / "reports" / "per_class.csv"
    if per_class.exists():  # imbalanced data: a class the model never predicts shows up here
        import pandas as pd

        recall = pd.read_csv(per_class, index_col=0)["recall"].iloc[: cfg.num_classes]
        print("  recall per class: " + ", ".join(f"{name} {value:.2f}" for name, value in recall.items()))
    print(f"  checkpoints and history: {result.run_dir}")
    print(f"  reports: {result.run_dir / 'reports'}")


def cmd_predict(args, cfg: Config) -> int:
    from kit import data

    loaded = data.load(cfg)
    names = args.runs or list(cfg.predict.runs)
    if not names and model_requested(args.set):  # MODEL=svm: the newest run of that model
        names = [newest_run_of(cfg.competition.slug, cfg.train.model)]
    path, record = predict_and_write(cfg, loaded, names)
    print_submission(path, record)
    return 0


def model_requested(overrides: list[str]) -> bool:
    """Whether --set names the model (the Makefile's MODEL=), not just the config default."""
    return any(item.split("=", 1)[0].strip() in ("model", "train.model") for item in overrides)


def newest_run_of(slug: str, model: str) -> str:
    """The newest run folder of `slug` whose saved config trained `model`."""
    import json

    found = [p.parent for p in paths.runs_dir(slug).glob("*/config.json")
             if json.loads(p.read_text()).get("train", {}).get("model") == model]
    if not found:
        raise KitError(f"no {model} runs in {paths.runs_dir(slug)}: run `make train COMP={slug} MODEL={model}` first")
    return max(found, key=lambda p: (p / "config.json").stat().st_mtime).name




def predict_and_write(cfg: Config, loaded, run_names: list[str]) -> tuple[Path, dict]:
    """Ensemble the runs on the test set, write a validated submission and its record."""
    from kit import metrics, predict, submission, train

    slug = cfg.competition.slug
    run_dirs = [train.find_run(slug, name) for name in run_names] or [train.find_run(slug)]
    probabilities = predict.ensemble(run_dirs, loaded.test.images, tta=cfg.predict.tta)
    predicted = probabilities.argmax(axis=1)
    if loaded.faults is not None and (loaded.faults.split == "test").any():
        # an unreadable test image was predicted from a blank placeholder: the most frequent
        # training class is the better blind guess (it costs the small classes no precision)
        rows = loaded.faults.loc[loaded.faults.split == "test", "row"].to_numpy() - 1
        predicted[rows] = np.bincount(loaded.train.labels).argmax()
        print(f"{len(rows)} unreadable test images given the most frequent class")
    exp = submission.expected(cfg, loaded.test.ids, loaded.sample_submission)
    frame = submission.build(exp, predicted)
    record = submission_record(cfg, loaded, run_dirs)
    if loaded.test.labels is not None:  # offline competition: score it here
        record["local_score"] = metrics.score_labels(loaded.test.labels, predicted, cfg.competition.metric)
    name = run_dirs[0].name if len(run_dirs) == 1 else f"ensemble{len(run_dirs)}"
    path = submission.write(frame, exp, slug, name, record)
    np.save(path.with_suffix(".probabilities.npy"), probabilities.astype(np.float32))
    track_written(slug, path, run_dirs)
    return path, record


def track_written(slug: str, path: Path, run_dirs: list[Path]) -> None:
    """Record the written submission and its runs in artifacts/<slug>/tracker.sqlite."""
    from kit import tracking

    record = fileio.read_json(path.with_suffix(".json"))
    tracking.record_written(slug, path, record, runs=run_entries(run_dirs, record.get("git_commit", "")))


def track_runs(slug: str, run_dirs: list[Path]) -> None:
    """Record trained runs in artifacts/<slug>/tracker.sqlite (every run, submitted or not)."""
    from kit import tracking

    tracking.record_trained(slug, run_entries(run_dirs, fileio.git_commit()))


def run_entries(run_dirs: list[Path], commit: str) -> list[dict]:
    """What the tracker keeps of each run: run.json (model, score), its config and the commit."""
    return [
        fileio.read_json(d / "run.json") | {"run": d.name, "config": fileio.read_json(d / "config.json"),
                                            "git_commit": commit}
        for d in run_dirs
    ]


def submission_record(cfg: Config, loaded, run_dirs: list[Path]) -> dict:
    runs = [fileio.read_json(run_dir / "run.json") | {"run": run_dir.name} for run_dir in run_dirs]
    cv_scores = [run["score"] for run in runs if "score" in run]
    return {
        "competition": cfg.competition.slug,
        "config": config.to_dict(cfg),
        "runs": [run["run"] for run in runs],
        "models": sorted({run.get("model", "?") for run in runs}),
        "cv_score": float(np.mean(cv_scores)) if cv_scores else None,
        "metric": cfg.competition.metric,
        "tta_views": cfg.predict.tta,
        "data_sha256": fileio.sha256_arrays(loaded.train.images, loaded.train.labels, loaded.test.images),
        "embedded_sample": loaded.embedded,
        "git_commit": fileio.git_commit(),
        "seed": cfg.train.seed,
    }


def print_submission(path: Path, record: dict) -> None:
    print(f"submission: {path}")
    print(f"  record: {path.with_suffix('.json')}")
    if record.get("cv_score") is not None:
        print(f"  CV {record['metric']}: {record['cv_score']:.4f}")
    if "local_score" in record:
        score = record["local_score"]
        print(f"  test accuracy {score['accuracy']:.4f}, macro-F1 {score['macro_f1']:.4f} (scored locally)")
    if record.get("embedded_sample"):
        print("  made from the embedded sample: for trying the kit, not for the leaderboard")


def cmd_run(args, cfg: Config) -> int:
    """The whole pipeline: audit, train, predict with TTA, write and score the submission."""
    from kit import data, train
    from kit.data.audit import audit, format_summary

    started = time.perf_counter()
    loaded = data.load(cfg)
    print("== audit")
    print(format_summary(audit(cfg, loaded.train, loaded.test, paths.artifacts_dir(cfg.competition.slug) / "audit",
                               faults=loaded.faults)))
    print("== train")
    result = train.train(cfg, loaded.train)
    print_run(cfg, result)
    print("== predict")
    path, record = predict_and_write(cfg, loaded, [result.run_dir.name])
    print_submission(path, record)
    print(f"== done in {time.perf_counter() - started:.0f} s")
    return 0


def cmd_models(args, cfg: Config) -> int:
    from kit import models

    for name in models.names():
        spec = models.get(name)
        print(f"{name:14} {spec.kind:8} {spec.summary}")
    return 0


def cmd_compare(args, cfg: Config) -> int:
    """Every model of --models (default compare.models) on one seeded split: table and chart."""
    from kit import compare, data

    names = [name for value in args.models for name in value.replace(",", " ").split()] or list(cfg.compare.models)
    loaded = data.load(cfg)
    started = time.perf_counter()
    table, folder = compare.compare(cfg, loaded.train, names, test=loaded.test)
    print((folder / "results.md").read_text())
    print(f"compared {len(table)} models in {time.perf_counter() - started:.0f} s: {folder}")
    print(f"  table: {folder / 'results.md'} (and .csv), chart: {folder / 'compare.png'}")
    return 0


def cmd_learning_curve(args, cfg: Config) -> int:
    """train.model (MODEL=) on growing fractions of the training split: table and plot."""
    from kit import compare, data

    loaded = data.load(cfg, with_test=False)
    table, folder = compare.learning_curve(cfg, loaded.train, args.fractions or None)
    print((folder / "results.md").read_text())
    print(f"learning curve of {cfg.train.model}: {folder / 'learning_curve.png'}")
    return 0


def cmd_tune(args, cfg: Config) -> int:
    from kit import tune

    return tune.cmd_tune(args, cfg)


def cmd_dashboard(args, cfg: Config) -> int:
    from kit import tune

    return tune.cmd_dashboard(args, cfg)


# The Kaggle verbs live in kit.compete, re-exported because kit.cli looks verbs up here.
from kit.compete import (  # noqa: E402, F401
    cmd_kernel,
    cmd_kernel_output,
    cmd_kernel_push,
    cmd_kernel_status,
    cmd_leaderboard,
    cmd_submit,
)
