"""Shared fixtures: an isolated work folder, small data sets in Kaggle's layouts, a CLI runner.

Nothing here reads ../shared: the pixel fixtures are cut from the committed embedded sample.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "competitions" / "fashion-mnist" / "sample"

# fixtures of one folder's tests, kept out of sub-folder conftest.py files: a second module named
# `conftest` would shadow this one for every `from conftest import ...` collected after it
pytest_plugins = ["kaggle_fixtures", "kaggle_image", "tune_fixtures"]


@pytest.fixture(autouse=True)
def workdir(tmp_path, monkeypatch) -> Path:
    """Every test writes data/, artifacts/, submissions/ and build/ under its own tmp folder."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.setenv("KIT_WORKDIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def float32_policy():
    """A test that sets Keras' global dtype policy itself (a fit restores the one before it:
    kit.training.device) leaves the next test in the process Keras' float32 again."""
    yield
    if "keras" in sys.modules:
        sys.modules["keras"].mixed_precision.set_global_policy("float32")


@pytest.fixture
def competitions_dir(tmp_path, monkeypatch) -> Path:
    """`make new` writes competitions/<slug>/ here, not into the repository."""
    folder = tmp_path / "competitions"
    folder.mkdir()
    monkeypatch.setenv("KIT_COMPETITIONS", str(folder))
    return folder


def sample_frames(train_rows: int = 600, test_rows: int = 200) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first rows of the embedded Fashion-MNIST sample (label,pixel1..pixel784)."""
    train = pd.read_csv(SAMPLE / "fashion-mnist_train.csv.bz2", nrows=train_rows)
    test = pd.read_csv(SAMPLE / "fashion-mnist_test.csv.bz2", nrows=test_rows)
    return train, test


@pytest.fixture(scope="session")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    return sample_frames()


@pytest.fixture
def digits_folder(tmp_path, frames) -> Path:
    """A folder in digit-recognizer's exact layout: train.csv (label,pixel0..), test.csv
    (pixel0.., no label) and sample_submission.csv (ImageId from 1, Label)."""
    train, test = frames
    folder = tmp_path / "digits"
    folder.mkdir()
    rename = {f"pixel{i + 1}": f"pixel{i}" for i in range(784)}
    train.rename(columns=rename).to_csv(folder / "train.csv", index=False)
    test.drop(columns="label").rename(columns=rename).to_csv(folder / "test.csv", index=False)
    pd.DataFrame({"ImageId": np.arange(1, len(test) + 1), "Label": 0}).to_csv(
        folder / "sample_submission.csv", index=False
    )
    return folder


@pytest.fixture
def fashion_folder(tmp_path, frames) -> Path:
    """A small folder in the Fashion-MNIST dataset layout (both files labelled)."""
    train, test = frames
    folder = tmp_path / "fashion"
    folder.mkdir()
    train.to_csv(folder / "fashion-mnist_train.csv", index=False)
    test.to_csv(folder / "fashion-mnist_test.csv", index=False)
    return folder


def run_python(*args: str, backend: str = "tensorflow", timeout: int = 600) -> subprocess.CompletedProcess:
    """`python ARGS` from the repository's root in a subprocess on its own Keras backend,
    KIT_WORKDIR inherited."""
    env = {**os.environ, "KERAS_BACKEND": backend}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def run_kit(*args: str, backend: str = "tensorflow", timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m kit ARGS` in a subprocess (its own Keras backend), KIT_WORKDIR inherited."""
    return run_python("-m", "kit", *args, backend=backend, timeout=timeout)


def backend_available(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


def foreground() -> None:
    """A child's Ctrl-C as in a terminal: SIGINT at its default (a suite started in the background,
    `make test &`, runs with SIGINT ignored, and children inherit that). For `preexec_fn=`."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
