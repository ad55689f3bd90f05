"""The local verbs: run, data, audit, train, runs, predict, models, config.

`kit.cli.VERBS` names every verb's home (the Kaggle verbs live in `kit.kaggle`, tuning in
`kit.tune`). Each command takes the parsed arguments and the resolved config and returns an exit
code. Heavy imports (Keras) happen inside, so `--help` and config errors stay instant.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from kit import config, paths
from kit.commands.printing import print_run, print_submission
from kit.config import Config


def cmd_data(args, cfg: Config) -> int:
    """Validate the competition's files where the kit will read them, and say where that is."""
    from kit import data
    from kit.kaggle.download import ensure_data

    ensure_data(cfg)  # downloads a Kaggle competition's files when there is no local copy
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

    loaded = data.load(cfg)
    from kit.data.audit import audit, format_summary

    summary = audit(
        cfg, loaded.train, loaded.test, paths.artifacts_dir(cfg.competition.slug) / "audit", faults=loaded.faults
    )
    print(format_summary(summary))
    return 0


def cmd_train(args, cfg: Config) -> int:
    from kit import data, tracker
    from kit.training import catalog, runs

    run_dir = None
    if args.resume is not None:  # the newest interrupted run, or RUN=; a finished one is refused
        run_dir = catalog.resumable_run(cfg.competition.slug, args.resume, cfg.data.dir)
        saved = config.to_dict(config.load_saved(run_dir / "config.json"))
        # DATA= where the data moved replaces the recorded folder (runs.train saves the new one)
        moved = [{"data": {"dir": cfg.data.dir}}] if args.data else []
        cfg = config.resolve(saved, *moved, overrides=args.set)
        print(f"resuming {run_dir}" + (f" on the data in {cfg.data.dir}" if args.data else ""))
    loaded = data.load(cfg, with_test=False)
    result = runs.train(cfg, loaded.train, run_dir=run_dir, resume=run_dir is not None)
    print_run(cfg, result)
    tracker.record_trained(cfg.competition.slug, [result.run_dir])
    return 0


def cmd_predict(args, cfg: Config) -> int:
    """Ensemble the chosen runs (RUN=, predict.runs, MODEL='s newest, else the newest finished
    one). Each run predicts with the settings it was trained with (image size, channels, data
    folder); only TTA and ensembling come from the command line, DATA= where the data moved."""
    from kit import data
    from kit.training import catalog

    slug = cfg.competition.slug
    names = args.runs or list(cfg.predict.runs)
    if not names and model_requested(args.set):  # MODEL=svm: the newest run of that model
        names = [catalog.newest_run_of(slug, cfg.train.model)]
    if names and args.params:  # the runs were named: PARAMS= cannot choose them, nor change them
        print(f"PARAMS={args.params} is not used: each named run predicts with the settings it was trained with")
    # no such run: said before the data and Keras load
    run_dirs = [catalog.find_run(slug, name) for name in names] or [default_run(args, slug)]
    from kit import predict

    cfg = predict.run_settings(cfg, run_dirs[0], data_given=bool(args.data))
    loaded = data.load(cfg)
    path, record = predict.predict_submission(cfg, loaded, run_dirs)
    print_submission(path, record)
    return 0


def default_run(args, slug: str) -> Path:
    """The newest finished run; with PARAMS= the newest trained with those parameters (the newest
    of all may have been trained without them, and predicting it would ignore PARAMS in silence)."""
    from kit.config.competitions import params_path
    from kit.config.params import load_params
    from kit.training import catalog

    if not args.params:
        return catalog.find_run(slug)
    sections = load_params(params_path(slug, args.params))
    return catalog.newest_run_with(slug, sections, f"PARAMS={args.params}")


def model_requested(overrides: list[str]) -> bool:
    """Whether --set names the model (the Makefile's MODEL=), not just the config default."""
    return any(item.split("=", 1)[0].strip() in ("model", "train.model") for item in overrides)


def cmd_run(args, cfg: Config) -> int:
    """The whole pipeline: audit, train, predict with TTA, write and score the submission."""
    run_pipeline(cfg)
    return 0


def run_pipeline(cfg: Config) -> Path:
    """Audit, train, predict and write the submission; its path. `make run` and the kernel runner."""
    from kit import data

    started = time.perf_counter()
    loaded = data.load(cfg)  # a missing file is said before the heavy imports below
    from kit import predict
    from kit.data.audit import audit, format_summary
    from kit.training import runs

    print("== audit")
    print(
        format_summary(
            audit(
                cfg,
                loaded.train,
                loaded.test,
                paths.artifacts_dir(cfg.competition.slug) / "audit",
                faults=loaded.faults,
            )
        )
    )
    print("== train")
    result = runs.train(cfg, loaded.train)
    print_run(cfg, result)
    print("== predict")
    path, record = predict.predict_submission(cfg, loaded, [result.run_dir])
    print_submission(path, record)
    print(f"== done in {time.perf_counter() - started:.0f} s")
    return path


def cmd_runs(args, cfg: Config) -> int:
    """Every run of the competition: status, model, data folder, validation score."""
    import pandas as pd

    from kit.training import catalog

    rows = catalog.listing(cfg.competition.slug)
    if not rows:
        print(f"no runs in {paths.runs_dir(cfg.competition.slug)}: `make train COMP={cfg.competition.slug}` starts one")
        return 0
    print(pd.DataFrame(rows).to_string(index=False))
    print("make predict takes the newest complete run; make train RESUME=1 the newest interrupted one (or RUN=)")
    return 0


def cmd_config(args, cfg: Config) -> int:
    """The resolved settings as TOML: defaults < competition.toml < preset < params < SET (and
    DATA), each section as `make train` would use it (a database password shown as ***)."""
    layers = " < ".join(
        ["defaults", f"competitions/{cfg.competition.slug}/competition.toml"]
        + [f"[presets.{args.preset}]"] * bool(args.preset)
        + [f"params {args.params}"] * bool(args.params)
        + ["SET"] * bool(args.set)
        + ["DATA"] * bool(args.data)
    )
    print(f"# {cfg.competition.slug}: the resolved settings ({layers})")
    print(f"# Keras backend: {os.environ.get('KERAS_BACKEND', 'tensorflow')} (BACKEND=jax picks JAX)")
    for section, values in config.public_dict(cfg).items():
        print(f"\n[{section}]")
        for key, value in values.items():
            print(f"{key} = {toml_value(value)}")
    return 0


def toml_value(value) -> str:
    """A value as TOML, a list on one line (tomli_w puts each item on its own)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(value) if isinstance(value, str) else repr(value)


def cmd_models(args, cfg: Config) -> int:
    """Every registered model: kind, summary, and where pretrained weights come from (for the
    competition's image size: the file names depend on it)."""
    from kit import models
    from kit.models.hub_presets import kagglehub_cache
    from kit.models.pretrained import describe, keras_cache

    names = models.names()
    column = max(map(len, names))  # the KerasHub preset names are long
    for name in names:
        spec = models.get(name)
        print(f"{name:{column}} {spec.kind:8} {spec.summary}")
        if spec.pretrained:
            print(f"{'':{column + 9}} weights: {describe(spec.pretrained, cfg.data.height, cfg.data.width)}")
    print(f"train.weights: imagenet (from {keras_cache()}, downloaded when online) | a file | none (random)")
    print(
        f"  KerasHub presets: imagenet reads {kagglehub_cache() / 'models'} (never downloads) | a preset "
        "folder or .weights.h5 file | none; train.image_size=N resizes (0: the preset's size)"
    )
    return 0
