"""Shared by the tune tests: the tiny study's flags, a cheap space, a space file, the study a call left,
its trial states, one-line errors, and a free local port.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import optuna
from optuna.trial import TrialState

from kit import cli, paths

TINY = ("--comp", "fashion", "--preset", "tiny", "--set", "data.limit=300", "train.epochs=1")


# a cheap space: the dense model, three knobs
DENSE_SPACE = """
def space(trial):
    return {"train": {"model": "dense",
                      "learning_rate": trial.suggest_float("learning_rate", 1e-3, 1e-2, log=True),
                      "batch_size": trial.suggest_categorical("batch_size", [32, 64])},
            "augment": {"rotation_range": trial.suggest_float("rotation_range", 0.0, 10.0)}}
"""


def write_space(tmp_path: Path, text: str, name: str = "space.py") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def sqlite_study(name: str = "fashion-mnist", slug: str = "fashion-mnist") -> optuna.Study:
    storage = f"sqlite:///{paths.artifacts_dir(slug) / 'tune' / 'studies.db'}"
    return optuna.load_study(study_name=name, storage=storage)


def states(study: optuna.Study) -> list[TrialState]:
    return [trial.state for trial in study.get_trials(deepcopy=False)]


def check_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def kit_error(capsys, *argv: str) -> str:
    """Run `python -m kit ARGV` in this process; it must fail with one `error:` line."""
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def wait_for_http(url: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
