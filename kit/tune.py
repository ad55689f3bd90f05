"""Optuna tuning: a study around the same `kit.train.fit()` as `make train` (optuna-examples).

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
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kit import competitions, config, fileio, paths, tuned
from kit.config import Config
from kit.errors import KitError, TrainingDiverged

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "hyperband", "none")
# the split and the competition stay fixed during a study, or its trials could not be compared
FIXED_SECTIONS = ("competition", "data", "submission", "tune")
# flags of `python -m kit tune` -> keys of the [tune] section
FLAGS = ("n_trials", "timeout", "storage", "workers", "study", "sampler", "pruner")
CONNECT_TIMEOUT_S = 5  # an unreachable database server fails the command within seconds


# ---------------------------------------------------------------- the commands


def cmd_tune(args, cfg: Config) -> int:
    """`python -m kit tune`: run (or continue) the study, then write best params and reports."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # "A new study created" is printed below
    cfg = apply_flags(cfg, args)
    check_settings(cfg)
    space = load_space(cfg)
    check_space(space, cfg)  # before any data, storage or Keras: a bad space stops in a second
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
    finish(cfg, study, storage_spec)
    return 1 if failed else 0


def cmd_dashboard(args, cfg: Config) -> int:
    """`python -m kit dashboard`: optuna-dashboard on the study's storage, on localhost only."""
    cfg = apply_flags(cfg, args)
    spec = cfg.tune.storage or existing_default_storage(cfg)
    # the virtualenv's bin folder first: `python -m kit` may run without the venv activated
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    executable = shutil.which("optuna-dashboard", path=search)
    if executable is None:
        raise KitError("optuna-dashboard is not installed: pip install optuna-dashboard")
    target = rdb_url(spec) if "://" in spec else spec
    print(
        f"optuna-dashboard on http://127.0.0.1:{args.port} for {show_storage(spec)} (Ctrl-C stops it)",
        flush=True,
    )
    # replace this process: Ctrl-C and a terminating signal reach the server itself
    os.execv(executable, [executable, target, "--host", "127.0.0.1", "--port", str(args.port)])


def apply_flags(cfg: Config, args) -> Config:
    """The command-line flags (N_TRIALS=, STORAGE=, ...) override the [tune] section."""
    given = {key: getattr(args, key) for key in FLAGS if getattr(args, key, None) is not None}
    return config.replace(cfg, tune=given) if given else cfg


def check_settings(cfg: Config) -> None:
    """Names and counts of the [tune] section, checked before anything slow starts."""
    tune = cfg.tune
    if tune.sampler not in SAMPLERS:
        raise KitError(f"unknown sampler '{tune.sampler}' (known: {', '.join(SAMPLERS)})")
    if tune.pruner not in PRUNERS:
        raise KitError(f"unknown pruner '{tune.pruner}' (known: {', '.join(PRUNERS)})")
    if tune.n_trials < 0 or tune.timeout < 0:
        raise KitError("N_TRIALS and TIMEOUT must not be negative")
    if not tune.n_trials and not tune.timeout:
        raise KitError("N_TRIALS=0 runs until TIMEOUT: give a TIMEOUT in seconds too")
    if tune.workers < 1:
        raise KitError(f"WORKERS={tune.workers}: needs 1 or more")
    if tune.heartbeat_interval < 1 or tune.grace_period <= tune.heartbeat_interval:
        raise KitError("tune.heartbeat_interval must be >= 1 and tune.grace_period longer than it")


# ---------------------------------------------------------------- the search space


def space_path(cfg: Config) -> Path:
    if cfg.tune.space:
        return Path(cfg.tune.space).expanduser()
    return paths.competition_dir(cfg.competition.slug) / "space.py"


def load_space(cfg: Config) -> Callable:
    """The `space(trial)` function of the competition's space.py (or of tune.space)."""
    path = space_path(cfg)
    if not path.exists():
        raise KitError(f"{path}: no search space (write `def space(trial) -> dict` there)")
    module_name = f"kit_space_{re.sub(r'[^0-9A-Za-z_]', '_', str(path.resolve()))}"
    try:
        module = sys.modules.get(module_name) or competitions.load_module(path, module_name)
    except Exception as exc:  # a user's file: any error in it is theirs to fix
        raise KitError(f"{path}: cannot import: {type(exc).__name__}: {exc}") from None
    space = getattr(module, "space", None)
    if not callable(space):
        raise KitError(f"{path}: defines no function space(trial)")
    space.path = path
    return space


def sample_sections(space: Callable, trial) -> dict[str, dict[str, Any]]:
    """Call the space on a trial; check the sections it returns against the config."""
    try:
        sections = space(trial)
    except ValueError as exc:  # Optuna's own checks: empty or inverted ranges, no choices
        raise KitError(f"{space.path}: bad search space: {exc}") from None
    if not isinstance(sections, dict) or not all(isinstance(v, dict) for v in sections.values()):
        raise KitError(f"{space.path}: space(trial) must return {{section: {{key: value}}}}, got {sections!r}")
    unknown = sorted(set(sections) - set(config.SECTIONS))
    if unknown:
        raise KitError(f"{space.path}: unknown config section [{unknown[0]}] (known: {', '.join(config.SECTIONS)})")
    fixed = sorted(set(sections) & set(FIXED_SECTIONS))
    if fixed:
        raise KitError(f"{space.path}: the space sets [{', '.join(fixed)}], which must stay fixed during a study")
    return sections


def check_space(space: Callable, cfg: Config) -> None:
    """Draw one sample on a throwaway in-memory study, so a bad space stops before any training."""
    import optuna

    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    try:
        sections = sample_sections(space, trial)
    except KitError:
        raise
    except Exception as exc:  # a bug in the user's space.py: name it on one line
        raise KitError(f"{space.path}: space(trial) failed: {type(exc).__name__}: {exc}") from None
    try:
        config.replace(cfg, **sections)
    except KitError as exc:
        raise KitError(f"{space.path}: {exc}") from None


# ---------------------------------------------------------------- storage and study


def tune_dir(slug: str) -> Path:
    return paths.artifacts_dir(slug) / "tune"


def storage_for(cfg: Config) -> str:
    """tune.storage, else the default: SQLite for one worker, a journal file for several."""
    if cfg.tune.storage:
        return cfg.tune.storage
    folder = tune_dir(cfg.competition.slug)
    if cfg.tune.workers > 1:
        return str(folder / "journal.log")
    return f"sqlite:///{folder / 'studies.db'}"


def existing_default_storage(cfg: Config) -> str:
    """The default storage that a previous `make tune` wrote (for the dashboard)."""
    folder = tune_dir(cfg.competition.slug)
    if (folder / "studies.db").exists():
        return f"sqlite:///{folder / 'studies.db'}"
    if (folder / "journal.log").exists():
        return str(folder / "journal.log")
    raise KitError(f"no study in {folder}: run `make tune COMP={cfg.competition.slug}` first (or give STORAGE=)")


def rdb_url(url: str) -> str:
    """SQLAlchemy 2.1 reads `postgresql://` as the psycopg 3 driver; the kit installs psycopg2."""
    scheme, _, rest = url.partition("://")
    has = importlib.util.find_spec
    if scheme in ("postgresql", "postgres") and not has("psycopg") and has("psycopg2"):
        return f"postgresql+psycopg2://{rest}"
    return url


def show_storage(spec: str) -> str:
    """The storage as printed: an RDB URL without its password."""
    if "://" not in spec:
        return f"journal file {spec}"
    try:
        from sqlalchemy.engine import make_url

        return make_url(spec).render_as_string(hide_password=True)
    except Exception:  # unparsable: open_storage reports it; never echo a password here
        return spec.split("@")[-1]


def open_storage(spec: str, tune: config.TuneSection):
    """The Optuna storage for `spec`; an unreachable or malformed one is a KitError in seconds."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if "://" not in spec:
        path = Path(spec).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        except OSError as exc:
            raise KitError(f"journal file {path}: {exc.strerror or exc}") from None
    url = rdb_url(spec)
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KitError(f"storage {spec}: cannot create {folder}: {exc.strerror or exc}") from None
    # libpq and MySQL drivers otherwise wait minutes for a host that never answers
    network = url.split(":", 1)[0].split("+")[0] in ("postgresql", "postgres", "mysql", "mariadb")
    engine_kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}} if network else {}
    return connect_rdb(url, spec, engine_kwargs, tune)


def connect_rdb(url: str, spec: str, engine_kwargs: dict, tune: config.TuneSection):
    import optuna
    import sqlalchemy.exc

    with warnings.catch_warnings():  # heartbeat_interval is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=tune.heartbeat_interval,
                grace_period=tune.grace_period,
            )
        except ImportError:
            scheme = url.split("://")[0]
            raise KitError(
                f"storage {show_storage(spec)}: no database driver for '{scheme}' "
                "(PostgreSQL: pip install psycopg2-binary)"
            ) from None
        except sqlalchemy.exc.ArgumentError as exc:
            raise KitError(f"storage '{show_storage(spec)}' is not a database URL: {first_line(exc)}") from None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            reason = first_line(getattr(exc, "orig", None) or exc)
            raise KitError(f"cannot reach storage {show_storage(spec)}: {reason}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


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
        direction="maximize",
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


# ---------------------------------------------------------------- the trials


def optimize(study, cfg: Config, space: Callable, n_trials: int, worker: int) -> None:
    """Run this process's share of trials (n_trials 0 = until the timeout)."""
    import optuna

    from kit import data
    from kit.data.splits import make_splits

    if cfg.tune.n_trials and not n_trials:
        return
    # one line per trial is printed instead of Optuna's; TensorFlow's retracing notes are noise here
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    images = data.load(cfg, with_test=False).train
    splits = make_splits(images.labels, cfg.data)  # seeded: the same split for every trial
    objective = Objective(cfg, space, images, splits, study_dir(cfg, study.study_name))
    study.optimize(
        objective,
        n_trials=n_trials or None,
        timeout=cfg.tune.timeout or None,
        callbacks=[TrialPrinter(cfg.competition.metric, worker)],
        gc_after_trial=True,
    )


def study_dir(cfg: Config, study_name: str) -> Path:
    return tune_dir(cfg.competition.slug) / re.sub(r"[^\w.-]", "_", study_name)


class Objective:
    """One trial: sample the space, fit every fold with pruning, return the mean score."""

    def __init__(self, cfg: Config, space: Callable, images, splits, folder: Path):
        self.cfg, self.space, self.folder = cfg, space, folder
        self.images, self.splits = images, splits

    def __call__(self, trial) -> float:
        sections = sample_sections(self.space, trial)
        cfg = config.replace(self.cfg, **sections)
        trial.set_user_attr("config", sections)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial_dir = self.folder / f"trial{trial.number}"
        shutil.rmtree(trial_dir, ignore_errors=True)  # a stale backup would "resume" another trial
        trial_dir.mkdir(parents=True)
        config.save(cfg, trial_dir / "config.json")
        try:
            return self.fit_folds(trial, cfg, trial_dir)
        except Exception as exc:
            reason = failure_reason(exc)
            if reason is None:
                raise  # pruned, a config mistake or a bug: Optuna records it, the CLI reports it
            trial.set_user_attr("failure", reason)
            return float("nan")  # Optuna marks a NaN value as a failed trial, and the study goes on
        finally:
            clean_up(trial_dir)

    def fit_folds(self, trial, cfg: Config, trial_dir: Path) -> float:
        from optuna_integration import KerasPruningCallback

        from kit import train

        monitor = f"val_{cfg.competition.metric}"
        scores = []
        for fold, (train_index, val_index) in enumerate(self.splits):
            # the callback reports by epoch: later folds would repeat the first fold's steps,
            # so the pruner judges a trial on its first fold
            callbacks = (KerasPruningCallback(trial, monitor),) if fold == 0 else ()
            result = train.fit(
                cfg,
                self.images,
                train_index,
                val_index,
                trial_dir / f"fold{fold}",
                extra_callbacks=callbacks,
                verbose=0,
            )
            scores.append(result.scores["score"])
            trial.set_user_attr(f"fold{fold}", result.scores)
        return float(np.mean(scores))


def failure_reason(exc: BaseException) -> str | None:
    """Why a trial failed when that should fail the trial and not the study; None otherwise.

    A diverged loss or an exhausted memory is a property of the sampled configuration (a huge
    learning rate, a wide model with a big batch): the next trial may be fine.
    """
    if isinstance(exc, TrainingDiverged):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "out of memory"
    text = f"{type(exc).__name__}: {exc}"
    # TensorFlow: ResourceExhaustedError; JAX/XLA: RESOURCE_EXHAUSTED; PyTorch: "out of memory"
    if any(mark in text for mark in ("ResourceExhausted", "RESOURCE_EXHAUSTED", "out of memory")):
        return f"out of memory ({first_line(exc)[:200]})"
    return None


def clean_up(trial_dir: Path) -> None:
    """Free the trial's graphs and weights; keep its config and history, not its checkpoints.

    A trial is a measurement: `make train PARAMS=best` trains the model that is kept, and twenty
    trials' checkpoints would cost hundreds of megabytes.
    """
    import keras

    keras.backend.clear_session()
    for fold_dir in trial_dir.glob("fold*"):
        shutil.rmtree(fold_dir / "backup", ignore_errors=True)  # left behind by a pruned fit
        (fold_dir / "best.keras").unlink(missing_ok=True)


class TrialPrinter:
    """An Optuna callback: one line per finished trial, from whichever worker ran it."""

    def __init__(self, metric: str, worker: int):
        self.metric, self.prefix = metric, f"[worker {worker}] " if worker else ""

    def __call__(self, study, trial) -> None:
        seconds = trial.duration.total_seconds() if trial.duration else 0.0
        state = trial.state.name.lower()
        if state == "pruned":  # its value, if any, is the last epoch's: say which epoch
            outcome = f"stopped after epoch {(trial.last_step or 0) + 1}"
        elif trial.value is not None:
            outcome = f"{self.metric} {trial.value:.4f}"
        else:
            outcome = trial.user_attrs.get("failure", "failed")
        params = ", ".join(f"{k}={format_value(v)}" for k, v in trial.params.items())
        print(
            f"{self.prefix}trial {trial.number} {state}: {outcome} ({seconds:.0f} s) {params}",
            flush=True,
        )


def format_value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------- workers


def split_trials(n_trials: int, workers: int) -> list[int]:
    """Each worker's share of N_TRIALS, so that a call adds exactly N_TRIALS trials.

    >>> split_trials(5, 2)
    [3, 2]
    """
    if not n_trials:
        return [0] * workers  # until the timeout, every one of them
    return [n_trials // workers + (index < n_trials % workers) for index in range(workers)]


def launch_workers(args, cfg: Config, storage_spec: str, study: str, shares: list[int]) -> list:
    """Start `python -m kit tune --worker K` for the other workers, on the same study."""
    if not shares:
        return []
    common = ["--comp", cfg.competition.slug]
    for flag in ("preset", "data", "params"):
        common += [f"--{flag}", getattr(args, flag)] if getattr(args, flag) else []
    common += ["--set", *args.set] if args.set else []
    tune = [
        "--storage",
        storage_spec,
        "--study",
        study,
        "--workers",
        "1",
        "--sampler",
        cfg.tune.sampler,
        "--pruner",
        cfg.tune.pruner,
        "--timeout",
        str(cfg.tune.timeout),
    ]
    # TensorFlow takes the whole GPU and JAX 75% of it at start: workers sharing a GPU would run
    # out of memory, so every one of them (this one too: Keras is not imported yet) grows instead
    os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    procs = []
    for index, share in enumerate(shares, start=1):
        if cfg.tune.n_trials and not share:
            continue
        command = [
            sys.executable,
            "-m",
            "kit",
            "tune",
            *common,
            *tune,
            "--n-trials",
            str(share),
            "--worker",
            str(index),
        ]
        procs.append((index, subprocess.Popen(command, cwd=paths.ROOT)))
    return procs


def wait_workers(procs: list) -> int:
    """Wait for the extra workers (stop them if this one was interrupted); how many failed."""
    failed = 0
    try:
        for index, proc in procs:
            if proc.wait() != 0:
                failed += 1
                print(f"warning: worker {index} exited with code {proc.returncode}", file=sys.stderr)
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                proc.terminate()
    return failed


# ---------------------------------------------------------------- results


def finish(cfg: Config, study, storage_spec: str) -> None:
    """Summary table, reports and best_params.toml, once every worker is done."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    print_summary(cfg, study, trials)
    reports = write_reports(study, study_dir(cfg, study.study_name) / "reports")
    if reports:
        print(f"reports: {', '.join(str(p) for p in reports)}")
    if not any(t.state == TrialState.COMPLETE for t in trials):
        raise KitError(f"study '{study.study_name}' has no completed trial yet: nothing to write")
    best = study.best_trial
    path = write_best_params(cfg, study.study_name, best, storage_spec)
    print(f"best: trial {best.number}, {cfg.competition.metric} {best.value:.4f} -> {path}")
    print(f"  use it: make train COMP={cfg.competition.slug} PARAMS=best")


def print_summary(cfg: Config, study, trials) -> None:
    """The counts by state, then the top trials by value as a table."""
    import pandas as pd

    metric = cfg.competition.metric
    counts = pd.Series([t.state.name.lower() for t in trials]).value_counts()
    states = ", ".join(f"{n} {s}" for s, n in counts.items())
    print(f"study '{study.study_name}': {len(trials)} trials ({states})")
    rows = [
        {
            "trial": t.number,
            "state": t.state.name.lower(),
            metric: t.value,
            "seconds": round(t.duration.total_seconds()) if t.duration else None,
            **{k: format_value(v) for k, v in t.params.items()},
        }
        for t in trials
    ]
    if not rows:
        return
    table = pd.DataFrame(rows).sort_values(metric, ascending=False, na_position="last")
    print(table.head(cfg.tune.top).to_string(index=False, float_format=lambda v: f"{v:.4f}"))


def write_reports(study, folder: Path) -> list[Path]:
    """Optimisation history, parameter importances, parallel coordinates (PNG, matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as plots

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    n_params = len({name for trial in study.get_trials(deepcopy=False) for name in trial.params})
    for name, plot in (
        ("history", plots.plot_optimization_history),
        ("importances", plots.plot_param_importances),
        ("parallel_coordinate", plots.plot_parallel_coordinate),
    ):
        with warnings.catch_warnings():
            # experimental-API notes, axes of a parameter that did not vary: not the user's concern
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            warnings.simplefilter("ignore", UserWarning)
            try:
                axes = plot(study)
            except (ValueError, RuntimeError, ZeroDivisionError) as exc:  # too few trials for it
                print(f"  no {name} plot yet: {first_line(exc)}")
                continue
        figure = np.ravel(axes)[0].figure
        # Optuna's default size squeezes a dozen parameter axes into unreadable labels
        width = max(8.0, 1.1 * (n_params + 2)) if name != "history" else 8.0
        figure.set_size_inches(width, 6.0 if name != "importances" else width / 2)
        figure.savefig(folder / f"{name}.png", dpi=120, bbox_inches="tight")
        plt.close(figure)
        written.append(folder / f"{name}.png")
    return written


def write_best_params(cfg: Config, study_name: str, best, storage_spec: str) -> Path:
    """best_params.toml beside the study and for the competition (what PARAMS=best reads)."""
    import tomli_w

    sections = best.user_attrs.get("config")
    if sections is None:  # a trial added by other means: replay the space on its parameters
        import optuna

        sections = sample_sections(load_space(cfg), optuna.trial.FixedTrial(best.params))
    header = {
        "study": study_name,
        "trial": best.number,
        "value": best.value,
        "metric": cfg.competition.metric,
        "storage": show_storage(storage_spec),
        "tuned_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    text = "# written by `make tune`; `make train PARAMS=best` applies the tables below\n" + tomli_w.dumps(
        {**header, **sections}
    )
    fileio.atomic_write(study_dir(cfg, study_name) / "best_params.toml", text.encode())
    return fileio.atomic_write(tuned.best_params_path(cfg.competition.slug), text.encode())
