"""Kernels run on Kaggle's image: built here, then run offline in a venv of Kaggle's versions.

`make kaggle-image` installs the pins of `.ci/kaggle-image.txt` (TensorFlow 2.20, Keras 3.13,
numpy 2.0, pandas 2.2, scikit-learn 1.6; no tomli-w, no optuna-integration, none of the kit's
extras) into `~/.cache/kit/kaggle-image-<hash of the pins>/`. Without that venv these tests skip,
except under CI=true (`.ci/run` builds it), where they fail. Each kernel script runs as Kaggle
runs it: that venv's python, PYTHONPATH empty, a fresh HOME, every proxy pointing at a closed
port (nothing can be downloaded), /kaggle/input and /kaggle/working moved by KIT_KAGGLE_*.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from kaggle_helpers import build_kernel
from living_species_data import make_dataset

PINS = ROOT / ".ci" / "kaggle-image.txt"
ABSENT_ON_KAGGLE = ("tomli_w", "optuna_integration", "jax", "kaggle_kit")
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: any download attempt fails at once

pytestmark = pytest.mark.slow


def pinned() -> dict[str, str]:
    """Package -> version, as `.ci/kaggle-image.txt` pins them."""
    lines = (line.split("#")[0].strip() for line in PINS.read_text().splitlines())
    return dict(line.split("==") for line in lines if line)


def image_venv() -> Path:
    """Where `make kaggle-image` puts the venv: the Makefile's KAGGLE_IMAGE_VENV, asked of make
    (its key hashes the pins and the interpreter it picks)."""
    asked = subprocess.run(
        ["make", "-s", "--no-print-directory", "kaggle-image-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(asked.stdout.strip())


@pytest.fixture(scope="module")
def kaggle_python() -> Path:
    """The image venv's python, checked to hold exactly the pins and none of the absent packages."""
    venv = image_venv()
    if not (venv / ".installed").is_file():
        message = f"no Kaggle image venv at {venv}: `make kaggle-image` builds it (a few minutes, once)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}; .ci/run must run it before `make test`")
        pytest.skip(message)
    python = venv / "bin" / "python"
    check = (
        "import importlib.metadata as m, importlib.util as u, json, sys; "
        "print(json.dumps({'versions': {p: m.version(p) for p in sys.argv[1].split()}, "
        "'present': [n for n in sys.argv[2].split() if u.find_spec(n)], 'python': list(sys.version_info[:2])}))"
    )
    done = subprocess.run(
        [python, "-c", check, " ".join(pinned()), " ".join(ABSENT_ON_KAGGLE)],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["versions"] == pinned() and found["present"] == []
    if any(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")) or Path("/usr/bin/python3.12").exists():
        assert found["python"] == [3, 12], "Kaggle runs Python 3.12 and this machine has one: rebuild the venv"
    return python


def run_kernel(python: Path, script: Path, kaggle: Path) -> subprocess.CompletedProcess:
    """The kernel script as Kaggle runs it, offline: kaggle/input read, kaggle/working written."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(kaggle / "home"),  # no Keras cache, no Kaggle credentials, no config of ours
        "PYTHONPATH": "",
        "KERAS_BACKEND": "tensorflow",
        "KIT_KAGGLE_INPUT": str(kaggle / "input"),
        "KIT_KAGGLE_WORKING": str(kaggle / "working"),
        **{name: CLOSED_PORT for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")},
    }
    (kaggle / "home").mkdir(parents=True, exist_ok=True)
    ran = subprocess.run(
        [python, str(script)], cwd=kaggle / "home", env=env, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-5000:]
    assert "kit from" in ran.stdout and str(ROOT / "kit") not in ran.stdout  # the bundled kit ran
    return ran


def assert_run_kept(working: Path, sample: pd.DataFrame, classes: int) -> pd.DataFrame:
    """A valid submission (the sample's columns and ids), its probabilities and the run kept."""
    written = pd.read_csv(working / "submission.csv")
    assert list(written.columns) == list(sample.columns)
    assert written.iloc[:, 0].tolist() == sample.iloc[:, 0].tolist()
    assert np.load(working / "submission.probabilities.npy").shape == (len(sample), classes)
    (kept,) = (working / "runs").iterdir()
    assert list(kept.glob("fold*/best.keras")), "no checkpoint kept"
    assert list((kept / "reports").glob("*.png")), "no report image kept"
    assert list(working.glob("run-*.zip"))
    return written


def test_digits_kernel_runs_on_kaggles_image(kaggle_python, tmp_path, workdir, digits_folder):
    script, _, _ = build_kernel(workdir, "--comp", "digits", "--set", "data.limit=300", "train.epochs=1")
    kaggle = tmp_path / "kaggle"
    (kaggle / "input").mkdir(parents=True)
    digits_folder.rename(kaggle / "input" / "digit-recognizer")
    run_kernel(kaggle_python, script, kaggle)
    sample = pd.read_csv(kaggle / "input" / "digit-recognizer" / "sample_submission.csv")
    written = assert_run_kept(kaggle / "working", sample, 10)
    assert written["Label"].between(0, 9).all()
    record = json.loads((kaggle / "working" / "submission.json").read_text())
    versions = record["environment"]["versions"]  # what the kernel ran on, as its record says
    assert {name: versions[name] for name in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn")} == {
        name: pinned()[name] for name in ("tensorflow", "keras", "numpy", "pandas", "scikit-learn")
    }


def test_living_species_transfer_kernel_reads_attached_weights_and_writes_class_names(kaggle_python, tmp_path, workdir):
    """PRESET=mobilenet with its weights attached as a dataset (a MobileNetV2's for 32x32 images,
    made here), and a sample submission holding class names: names come back."""
    import keras

    weights = tmp_path / "tiny-mobilenet.weights.h5"
    keras.applications.MobileNetV2(include_top=False, weights=None, input_shape=(32, 32, 3)).save_weights(weights)
    small = "data.height=32 data.width=32 train.epochs=1 train.fine_tune_epochs=0 predict.tta=1"
    small += f" train.weights={weights}"
    script, meta, _ = build_kernel(workdir, "--comp", "living-species", "--preset", "mobilenet", "--set", small)
    kaggle = tmp_path / "kaggle"
    data = kaggle / "input" / "living-species"
    make_dataset(data, scale=0.3, size=32)
    names = tomllib_class_names()
    sample = pd.read_csv(data / "sample_submission.csv")
    sample["label"] = names[0]  # the sample holds class names: the submission must too
    sample.to_csv(data / "sample_submission.csv", index=False)
    attached = kaggle / "input" / meta["dataset_sources"][0].split("/")[1] / weights.name
    attached.parent.mkdir()
    weights.rename(attached)  # only /kaggle/input/ has it now, as on Kaggle
    ran = run_kernel(kaggle_python, script, kaggle)
    assert f"weights: {attached}" in ran.stdout
    written = assert_run_kept(kaggle / "working", sample, len(names))
    assert set(written["label"]) <= set(names), written["label"].unique()
    record = json.loads((kaggle / "working" / "submission.json").read_text())
    assert (record["config"]["train"]["model"], record["config"]["train"]["weights"]) == ("mobilenetv2", str(attached))


def tomllib_class_names() -> list[str]:
    import tomllib

    toml = tomllib.loads((ROOT / "competitions" / "living-species" / "competition.toml").read_text())
    return toml["competition"]["class_names"]
