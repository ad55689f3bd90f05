"""Kernels run on Kaggle's image: built here, then run offline in a venv of Kaggle's versions.

`make kaggle-image` installs the pins of `.ci/kaggle-image.txt` (TensorFlow 2.20, Keras 3.13,
numpy 2.0, pandas 2.2, scikit-learn 1.6, keras-hub 0.28 as Kaggle's keras-nlp brings it; no
tomli-w, no optuna-integration, none of the kit's other extras) into
`~/.cache/kit/kaggle-image-<hash of the pins>/`. Without that venv these tests skip, except under
CI=true (`.ci/run` builds it), where they fail. Each kernel script runs as Kaggle runs it: that
venv's python, PYTHONPATH empty, a fresh HOME, every proxy pointing at a closed port (nothing can
be downloaded), /kaggle/input and /kaggle/working moved by KIT_KAGGLE_*.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from kaggle_helpers import build_kernel
from kaggle_image import pinned, run_kernel
from living_species_data import make_dataset

pytestmark = pytest.mark.slow


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
