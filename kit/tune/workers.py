"""Several processes on one machine sharing a study: `python -m kit tune --worker K` each."""

from __future__ import annotations

import os
import subprocess
import sys

from kit import paths
from kit.config import Config

STORAGE_ENV = "KIT_STORAGE"  # the study storage, like --storage / STORAGE=, off the command line


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
    overrides = [item for item in args.set if item.split("=", 1)[0] not in ("tune.storage", "storage")]
    common += ["--set", *overrides] if overrides else []
    # the storage goes by the environment, never the command line: a database URL's password
    # there would be visible to every user of the machine (ps)
    env = {**os.environ, STORAGE_ENV: storage_spec}
    tune = [
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
        procs.append((index, subprocess.Popen(command, cwd=paths.ROOT, env=env)))
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
