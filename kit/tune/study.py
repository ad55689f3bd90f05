"""Optuna tuning: a study around the same `kit.training.runs.fit()` as `make train` (optuna-examples).

The search space is one function of the trial in `competitions/<slug>/space.py` returning config
sections, `{"train": {"learning_rate": trial.suggest_float(...)}, "augment": {...}}`. Every trial
trains on the seeded split of `make train` (one holdout, or `data.folds` folds) and is scored with
the competition's metric; `KerasPruningCallback` stops unpromising trials after any epoch.

Storage (`tune.storage`, STORAGE=):
- "" with one worker: SQLite, `artifacts/<slug>/tune/studies.db`;
- "" with WORKERS=N: a journal file, `artifacts/<slug>/tune/journal.log`, shared by N processes;
- a file path: that journal file; an RDB URL (`postgresql://user@host/db`): a study that workers
  on several machines share, with a heartbeat so that a killed worker's trial is marked failed.
Studies are opened with `load_if_exists`: running `make tune` again adds trials.

Everything a study writes lives in `artifacts/<slug>/tune/<study>/` (one `trial<N>/` per trial,
`reports/*.png`, `best_params.toml`); the best trial's parameters also go to
`artifacts/<slug>/best_params.toml`, which `PARAMS=best` reads.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shlex
import sys
from collections.abc import Callable

import numpy as np

from kit import config, metrics
from kit.config import Config
from kit.console.progress import progress
from kit.errors import KitError
from kit.tune.objective import BASELINE, Objective, TrialPrinter
from kit.tune.space import check_space, load_space
from kit.tune.storage import existing_default_storage, open_storage, rdb_url, show_storage, storage_for, study_dir
from kit.tune.summary import print_summary, write_best_params, write_reports
from kit.tune.workers import launch_workers, split_trials, wait_workers

# flags of `python -m kit tune` -> keys of the [tune] section
FLAGS = ("n_trials", "timeout", "storage", "workers", "study", "sampler", "pruner")
# `make dashboard` runs what the optuna-dashboard script runs, with the storage from the environment
DASHBOARD = (
    "import os, sys; from optuna_dashboard._cli import main; "
    "sys.argv = ['optuna-dashboard', os.environ.pop('KIT_DASHBOARD_STORAGE'), *sys.argv[1:]]; main()"
)


def cmd_tune(args, cfg: Config) -> int:
    """`python -m kit tune`: run (or continue) the study, then write best params and reports."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # "A new study created" is printed below
    cfg = apply_flags(cfg, args)
    check_settings(cfg)
    space = load_space(cfg)
    check_space(space, cfg)  # before any data, storage or Keras: a bad space stops in a second
    from kit.data import data_folder

    data_folder(cfg)  # no data: said before a study database is made
    storage_spec = storage_for(cfg)
    storage = open_storage(storage_spec, cfg.tune)
    worker = getattr(args, "worker", 0)
    study = open_study(cfg, storage, storage_spec, worker)
    shares = split_trials(cfg.tune.n_trials, cfg.tune.workers)
    if not worker:
        adding = cfg.tune.n_trials or f"trials for {cfg.tune.timeout:.0f} s"
        print(
            f"study '{study.study_name}' in {show_storage(storage_spec)}: "
            f"{len(study.trials)} trials so far, adding {adding}, {cfg.tune.workers} worker(s)",
            flush=True,
        )
        if not study.trials:  # a new study: its first trial measures the untuned configuration
            study.enqueue_trial({}, user_attrs={BASELINE: True}, skip_if_exists=True)
            print("  trial 0 trains the configuration as it is: what tuning has to beat")
    extra = [] if worker else launch_workers(args, cfg, storage_spec, study.study_name, shares[1:])
    try:
        optimize(study, cfg, space, shares[0], worker)
    except BaseException:
        for _, proc in extra:  # this study stops on an error or Ctrl-C: so do its other workers
            proc.terminate()
        raise
    failed = wait_workers(extra)
    if worker:
        return 0
    finish(cfg, study, storage_spec, follow_up(cfg, args))
    return 1 if failed else 0


def follow_up(cfg: Config, args) -> str:
    """`make train ... PARAMS=best` with the COMP, PRESET and DATA this study ran on."""
    words = [f"COMP={cfg.competition.slug}"]
    words += [f"PRESET={args.preset}"] if args.preset else []
    words += [f"DATA={shlex.quote(args.data)}"] if args.data else []
    return f"make train {' '.join(words)} PARAMS=best"


def cmd_dashboard(args, cfg: Config) -> int:
    """`python -m kit dashboard`: optuna-dashboard on the study's storage, on localhost only."""
    cfg = apply_flags(cfg, args)
    spec = cfg.tune.storage or existing_default_storage(cfg)
    if importlib.util.find_spec("optuna_dashboard") is None:
        raise KitError("optuna-dashboard is not installed: pip install optuna-dashboard")
    target = rdb_url(spec) if "://" in spec else spec
    print(
        f"optuna-dashboard on http://127.0.0.1:{args.port} for {show_storage(spec)} (Ctrl-C stops it)",
        flush=True,
    )
    # replace this process (Ctrl-C and a terminating signal reach the server itself) with what the
    # optuna-dashboard script runs, the storage handed over in the environment: a password on its
    # command line would be visible to every user of the machine (ps)
    argv = [sys.executable, "-c", DASHBOARD, "--host", "127.0.0.1", "--port", str(args.port)]
    os.execve(sys.executable, argv, {**os.environ, "KIT_DASHBOARD_STORAGE": target})


def apply_flags(cfg: Config, args) -> Config:
    """The command-line flags (N_TRIALS=, STORAGE=, ...) override the [tune] section."""
    given = {key: getattr(args, key) for key in FLAGS if getattr(args, key, None) is not None}
    return config.replace(cfg, tune=given) if given else cfg


def check_settings(cfg: Config) -> None:
    """Names and counts of the [tune] section, checked before anything slow starts."""
    tune = cfg.tune
    if tune.n_trials < 0 or tune.timeout < 0:
        raise KitError("N_TRIALS and TIMEOUT must not be negative")
    if not tune.n_trials and not tune.timeout:
        raise KitError("N_TRIALS=0 runs until TIMEOUT: give a TIMEOUT in seconds too")
    if tune.workers < 1:
        raise KitError(f"WORKERS={tune.workers}: needs 1 or more")
    if tune.heartbeat_interval < 1 or tune.grace_period <= tune.heartbeat_interval:
        raise KitError("tune.heartbeat_interval must be >= 1 and tune.grace_period longer than it")


def open_study(cfg: Config, storage, storage_spec: str, worker: int):
    """Create the study, or load it when it exists (re-running continues it)."""
    import optuna

    name = cfg.tune.study or cfg.competition.slug
    try:
        existing = len(storage.get_all_trials(storage.get_study_id_from_name(name), deepcopy=False))
    except KeyError:  # a new study
        existing = 0
    shared = cfg.tune.workers > 1 or worker > 0 or not storage_spec.startswith("sqlite")
    # a fresh seed per call: a continued study must not replay the first call's random trials,
    # and workers sharing a study must not draw the same ones
    entropy = [cfg.train.seed, existing] + ([os.getpid()] if shared else [])
    seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        direction=metrics.direction(cfg.competition.metric),
        load_if_exists=True,
        sampler=make_sampler(cfg.tune, seed),
        pruner=make_pruner(cfg),
    )
    check_base_config(study, cfg)
    return study


def check_base_config(study, cfg: Config) -> None:
    """Record the configuration the study's trials start from; warn when a later call differs.

    Trials compare only on one base (same preset, SET, data): a continued study with another one
    mixes scores of different experiments. The [tune] section and the data folder's path (which
    differs between machines) are left out.
    """
    base = config.to_dict(cfg)
    base.pop("tune")
    base["data"].pop("dir")
    digest = hashlib.sha256(json.dumps(base, sort_keys=True).encode()).hexdigest()[:16]
    recorded = study.user_attrs.get("base_config")
    if recorded is None:
        study.set_user_attr("base_config", digest)
    elif recorded != digest:
        print(
            f"warning: study '{study.study_name}' was started from another configuration (PRESET, SET or "
            "PARAMS differ): its trials will not compare; use a new STUDY= for a new experiment",
            file=sys.stderr,
        )


def verdict(cfg: Config, trials, best, command: str) -> str:
    """Whether the tuned parameters are worth using: not when the untuned configuration (the
    study's first trial) scores as well, nor when the best trial is no better than chance."""
    metric = cfg.competition.metric
    chance = metrics.chance_score(metric, cfg.num_classes)
    if metrics.at_chance(metric, best.value, cfg.num_classes):
        return f"at chance ({metric} {chance:.4f} for guessing): nothing learned; check the data, lr and epochs first"
    baseline = [t for t in trials if t.user_attrs.get(BASELINE) and t.value is not None]
    if baseline and (best.number == baseline[0].number or not metrics.better(metric, best.value, baseline[0].value)):
        return (
            f"no better than the untuned configuration (trial {baseline[0].number}, {metric} "
            f"{baseline[0].value:.4f}): keep the defaults; PARAMS=best is not worth using yet"
        )
    return f"use it: {command}"


def make_sampler(tune: config.TuneSection, seed: int):
    import optuna

    if tune.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # constant_liar: parallel workers see each other's running trials and spread out
    return optuna.samplers.TPESampler(n_startup_trials=tune.startup_trials, seed=seed, constant_liar=True)


def make_pruner(cfg: Config):
    import optuna

    if cfg.tune.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=cfg.tune.startup_trials)
    if cfg.tune.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(cfg.train.epochs, 1))
    return optuna.pruners.NopPruner()


def optimize(study, cfg: Config, space: Callable, n_trials: int, worker: int) -> None:
    """Run this process's share of trials (n_trials 0 = until the timeout)."""
    import optuna

    from kit import data
    from kit.data.splits import make_splits

    if cfg.tune.n_trials and not n_trials:
        return
    # one line per trial is printed instead of Optuna's (TensorFlow's notes: kit.console.quiet)
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    images = data.load(cfg, with_test=False).train
    splits = make_splits(images.labels, cfg.data)  # seeded: the same split for every trial
    objective = Objective(cfg, space, images, splits, study_dir(cfg, study.study_name))
    with progress(desc="trials", total=n_trials or None, unit="trials") as bar:  # ETA of this worker's share
        study.optimize(
            objective,
            n_trials=n_trials or None,
            timeout=cfg.tune.timeout or None,
            callbacks=[TrialPrinter(cfg.competition.metric, worker), lambda study, trial: bar.update(1)],
            gc_after_trial=True,
        )


def finish(cfg: Config, study, storage_spec: str, command: str) -> None:
    """Summary table, reports and best_params.toml, once every worker is done."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    print_summary(cfg, study, trials)
    reports = write_reports(study, study_dir(cfg, study.study_name) / "reports", cfg.competition.metric)
    if reports:
        print(f"reports: {', '.join(str(p) for p in reports)}")
    if not any(t.state == TrialState.COMPLETE for t in trials):
        raise KitError(f"study '{study.study_name}' has no completed trial yet: nothing to write")
    best = study.best_trial
    path = write_best_params(cfg, study.study_name, best, storage_spec)
    print(f"best: trial {best.number}, {cfg.competition.metric} {best.value:.4f} -> {path}")
    print(f"  {verdict(cfg, trials, best, command)}")
