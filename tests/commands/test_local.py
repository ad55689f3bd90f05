"""`make run` end to end on a tiny subset, and the same pipeline on the JAX backend."""

import json
import subprocess

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, backend_available, run_kit

from kit import data, paths, submission
from kit.config import competitions

pytestmark = pytest.mark.slow


def only_submission(slug):
    files = sorted(paths.submissions_dir(slug).glob("*.csv"))
    assert len(files) == 1, files
    return files[0], json.loads(files[0].with_suffix(".json").read_text())


def test_make_run_on_the_embedded_sample(workdir):
    result = subprocess.run(
        ["make", "run", "PRESET=tiny", "SET=predict.tta=2"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    path, record = only_submission("fashion-mnist")
    cfg = competitions.load_config("fashion")
    loaded = data.load(cfg)
    frame = submission.read_and_validate(path, submission.expected(cfg, loaded.test.ids, None))
    assert len(frame) == 1900
    assert record["embedded_sample"] is True and record["git_commit"] and record["seed"] == 42
    assert record["config"]["train"]["model"] == "dense" and record["tta_views"] == 2
    # scored locally against the sample's test labels, and far above chance
    assert record["local_score"]["accuracy"] > 0.5
    for line in ("== audit", "class balance", "submission:", "test accuracy", "embedded sample"):
        assert line in result.stdout
    assert (workdir / "artifacts" / "fashion-mnist" / "audit" / "balance.png").exists()


@pytest.mark.jax
@pytest.mark.skipif(not backend_available("jax"), reason="JAX is not installed (pip install -e '.[jax]')")
def test_digits_pipeline_on_jax(digits_folder):
    result = run_kit(
        "run",
        "--comp",
        "digits",
        "--preset",
        "tiny",
        "--data",
        str(digits_folder),
        "--set",
        "train.model=cnn predict.tta=3",
        backend="jax",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    path, record = only_submission("digit-recognizer")
    frame = pd.read_csv(path)
    sample = pd.read_csv(digits_folder / "sample_submission.csv")
    assert list(frame.columns) == list(sample.columns)
    np.testing.assert_array_equal(frame["ImageId"], sample["ImageId"])
    assert frame["Label"].between(0, 9).all()
    assert record["embedded_sample"] is False and "local_score" not in record
    assert (path.with_suffix(".probabilities.npy")).exists()


def test_predict_ensembles_two_runs(digits_folder):
    args = ("--comp", "digits", "--preset", "tiny", "--data", str(digits_folder), "--set", "train.epochs=1")
    for seed in (1, 2):
        assert run_kit("train", *args, f"train.seed={seed}").returncode == 0
    runs = sorted(p.name for p in paths.runs_dir("digit-recognizer").iterdir())
    result = run_kit("predict", *args, "--runs", *runs)
    assert result.returncode == 0, result.stderr[-3000:]
    path, record = only_submission("digit-recognizer")
    assert record["runs"] == runs and path.name == f"{max(runs)[:15]}-ensemble2.csv"


def test_resume_via_the_cli_without_a_run_says_so():
    result = run_kit("train", "--comp", "digits", "--resume")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("error: no interrupted run of digit-recognizer to resume")
    assert "Traceback" not in result.stderr


def test_resume_with_data_reads_the_data_where_it_moved(digits_folder, tmp_path, capsys):
    """`make train RESUME=1 DATA=<new place>`: the recorded folder is gone, DATA= replaces it."""
    from kit import cli
    from kit.training import catalog

    args = ("--comp", "digits", "--preset", "tiny", "--set", "train.model=logreg")
    assert cli.main(["train", *args, "--data", str(digits_folder)]) == 0
    (run_dir,) = paths.runs_dir("digit-recognizer").iterdir()
    (run_dir / "fold0" / "fold.json").unlink()  # as if stopped during its fold
    catalog.mark(run_dir, catalog.INTERRUPTED)
    moved = digits_folder.rename(tmp_path / "moved")
    capsys.readouterr()
    assert cli.main(["train", *args, "--resume", run_dir.name]) == 2  # the recorded folder is gone
    assert "does not exist: pass DATA=" in capsys.readouterr().err
    assert cli.main(["train", *args, "--resume", run_dir.name, "--data", str(moved)]) == 0
    assert catalog.status(run_dir) == catalog.COMPLETE
    assert json.loads((run_dir / "config.json").read_text())["data"]["dir"] == str(moved)
