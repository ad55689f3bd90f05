"""A kernel whose backbone wants ImageNet weights gets them, or is refused when it is built.

The weights travel as a private dataset (`make kernel-push` creates it once, versions it when the
file changes) that the kernel lists in `dataset_sources` and finds under /kaggle/input/; or
internet is on. Against the local Kaggle server; nothing is downloaded: the weights here are a few
fake bytes (tests/kaggle/test_kaggle_image.py trains a kernel on a real, tiny MobileNetV2's).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_kit
from kaggle_helpers import assert_clean_failure, build_kernel
from kaggle_server import USER

WEIGHTS = "efficientnetv2-s_notop.h5"
DATASET = f"{USER}/kit-weights-living-species"


@pytest.fixture
def keras_home(tmp_path, monkeypatch) -> Path:
    """An empty Keras cache: no weights on this machine unless a test puts them there."""
    home = tmp_path / "keras-home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home / "models"


def settings(script: Path) -> str:
    return next(line for line in script.read_text().splitlines() if line.startswith("WEIGHTS = "))


@pytest.mark.parametrize("preset", ["transfer", "mobilenet"])
def test_a_kernel_that_could_not_get_its_weights_is_refused_at_build(keras_home, workdir, preset):
    result = run_kit("kernel", "--comp", "living-species", "--preset", preset, timeout=120)
    assert_clean_failure(result, "needs ImageNet weights", str(keras_home), "train.weights=", "INTERNET=1")
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")
    assert not (workdir / "build").exists()


def test_internet_or_a_named_file_lets_it_build(keras_home, workdir, tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    script, meta, _ = build_kernel(workdir, "--comp", "living-species", "--preset", "transfer", "--internet")
    assert meta["enable_internet"] is True and meta["dataset_sources"] == []  # Keras downloads them there
    assert settings(script) == "WEIGHTS = None"

    missing = run_kit(
        "kernel", "--comp", "living-species", "--set", f"train.model=mobilenetv2 train.weights={tmp_path}/x.h5"
    )
    assert_clean_failure(missing, "x.h5: file not found")
    mine = tmp_path / "my.weights.h5"
    mine.write_bytes(b"weights")
    script, meta, _ = build_kernel(
        workdir, "--comp", "living-species", "--set", f"train.model=mobilenetv2 train.weights={mine}"
    )
    assert meta["dataset_sources"] == [DATASET] and meta["enable_internet"] is False
    assert settings(script) == "WEIGHTS = {'dataset': 'kit-weights-living-species', 'file': 'my.weights.h5'}"


def test_push_uploads_the_weights_as_a_private_dataset_once_and_versions_it_when_changed(server, keras_home, workdir):
    (keras_home / WEIGHTS).write_bytes(b"weights v1")
    built = run_kit("kernel", "--comp", "living-species", "--preset", "transfer")
    assert built.returncode == 0 and "private dataset" in built.stdout, built.stderr

    def push() -> None:
        pushed = run_kit("kernel-push", "--comp", "living-species")
        assert pushed.returncode == 0, pushed.stderr
        saved = server.state.saved_kernels[-1]
        assert saved["datasetDataSources"] == [DATASET] and saved.get("enableInternet", False) is False

    push()
    assert server.state.datasets == {DATASET: {"private": True, "versions": [{WEIGHTS: b"weights v1"}]}}
    push()  # unchanged: nothing uploaded again
    assert len(server.state.datasets[DATASET]["versions"]) == 1 and len(server.puts()) == 1
    (keras_home / WEIGHTS).write_bytes(b"weights v2")
    push()  # changed: a new version of the same dataset
    assert server.state.datasets[DATASET]["versions"][-1] == {WEIGHTS: b"weights v2"}
    assert len(server.calls("CreateDataset")) == 1 and len(server.calls("CreateDatasetVersion")) == 1
    assert len(server.state.saved_kernels) == 3


@pytest.mark.parametrize("mount", ["kit-weights-digit-recognizer", "datasets/kit-tester/kit-weights-digit-recognizer"])
def test_the_runner_finds_the_attached_weights_under_kaggle_input(tmp_path, monkeypatch, mount):
    """Where Kaggle mounts a dataset: /kaggle/input/<slug>/, or under datasets/<owner>/ (newer)."""
    from kit.commands import kernel_runner as runner

    monkeypatch.setattr(runner, "WEIGHTS", {"dataset": "kit-weights-digit-recognizer", "file": "w.weights.h5"})
    attached = tmp_path / "input" / mount / "w.weights.h5"
    attached.parent.mkdir(parents=True)
    attached.write_bytes(b"weights")
    assert runner.find_weights(tmp_path / "input") == [f"train.weights={attached}"]
    monkeypatch.setattr(runner, "WEIGHTS", None)
    assert runner.find_weights(tmp_path / "input") == []


def test_a_kernel_without_its_weights_dataset_stops_with_one_line(tmp_path, workdir, digits_folder):
    """Built to read attached weights, run without them: a clear line before anything loads.
    (tests/kaggle/test_kaggle_image.py trains with attached weights on Kaggle's image.)"""
    mine = tmp_path / "mine.weights.h5"
    mine.write_bytes(b"weights")
    script, _, _ = build_kernel(workdir, "--comp", "digits", "--set", f"train.model=mobilenetv2 train.weights={mine}")
    (tmp_path / "input").mkdir()
    digits_folder.rename(tmp_path / "input" / "digit-recognizer")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("KAGGLE", "KIT_"))}, "PYTHONPATH": ""}
    ran = subprocess.run(
        [sys.executable, str(script), "--input", str(tmp_path / "input"), "--working", str(tmp_path / "working")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode != 0 and "Traceback" not in ran.stderr
    assert "no mine.weights.h5 under" in ran.stderr and "attach the dataset kit-weights-digit-recognizer" in ran.stderr
    assert not (tmp_path / "working").exists()
