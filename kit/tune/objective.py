"""One trial: sample the space, fit every fold through `kit.training.runs.fit` with pruning,
return the mean score; a diverged or out-of-memory trial fails alone and the study goes on.

Kind-agnostic: the trial's model kind (kit.training.kinds) supplies its pruning callbacks (Keras:
optuna_integration's KerasPruningCallback; scikit-learn: none) and its clean-up, so a study of
scikit-learn models never imports Keras.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from kit import config
from kit.config import Config
from kit.errors import TrainingDiverged
from kit.training import kinds
from kit.tune.space import sample_sections
from kit.tune.storage import first_line

BASELINE = "untuned"  # the user attribute of a study's first trial: the base config, nothing sampled


class Objective:
    """One trial: sample the space, fit every fold with pruning, return the mean score."""

    def __init__(self, cfg: Config, space: Callable, images, splits, folder: Path):
        self.cfg, self.space, self.folder = cfg, space, folder
        self.images, self.splits = images, splits

    def __call__(self, trial) -> float:
        # the study's first trial measures the base config as it is: what tuning has to beat
        sections = {} if trial.user_attrs.get(BASELINE) else sample_sections(self.space, trial)
        cfg = config.replace(self.cfg, **sections)
        trial.set_user_attr("config", sections)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        trial_dir = self.folder / f"trial{trial.number}"
        shutil.rmtree(trial_dir, ignore_errors=True)  # a stale backup would "resume" another trial
        trial_dir.mkdir(parents=True)
        config.save(cfg, trial_dir / "config.json")
        kind = kinds.for_model(cfg.train.model)  # the sampled model's: the space may choose it
        try:
            return self.fit_folds(trial, cfg, trial_dir, kind)
        except Exception as exc:
            reason = failure_reason(exc)
            if reason is None:
                raise  # pruned, a config mistake or a bug: Optuna records it, the CLI reports it
            trial.set_user_attr("failure", reason)
            return float("nan")  # Optuna marks a NaN value as a failed trial, and the study goes on
        finally:
            clean_up(trial_dir, kind)

    def fit_folds(self, trial, cfg: Config, trial_dir: Path, kind: kinds.ModelKind) -> float:
        from kit.training.runs import fit

        monitor = f"val_{cfg.competition.metric}"
        scores = []
        for fold, (train_index, val_index) in enumerate(self.splits):
            # the callbacks report by epoch: later folds would repeat the first fold's steps,
            # so the pruner judges a trial on its first fold
            callbacks = tuple(kind.pruning_callbacks(trial, monitor)) if fold == 0 else ()
            result = fit(
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


def clean_up(trial_dir: Path, kind: kinds.ModelKind) -> None:
    """Free what the trial's fit left (its kind knows: Keras' graphs and weights); keep its config
    and history, not its checkpoints.

    A trial is a measurement: `make train PARAMS=best` trains the model that is kept, and twenty
    trials' checkpoints would cost hundreds of megabytes.
    """
    kind.clear()
    for fold_dir in trial_dir.glob("fold*"):
        shutil.rmtree(fold_dir / "backup", ignore_errors=True)  # left behind by a pruned fit
        for name in kinds.CHECKPOINTS:
            (fold_dir / name).unlink(missing_ok=True)


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
