"""The script a kernel runs: it trains into the working folder under a time budget, so a kernel
that cannot finish every fold (or is stopped) keeps the folds it finished."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, run_kit
from kaggle_helpers import run_kernel_offline

from kit.commands import kernel_runner
from kit.config import competitions


def test_the_budget_is_kaggles_limit_for_the_machine_less_the_margin_unless_set(monkeypatch):
    cfg = competitions.load_config("digits")
    # the kernel's clock starts when the runner is imported, at the kernel's start; in a test
    # process another test may have imported it many minutes ago
    monkeypatch.setattr(kernel_runner, "STARTED", time.monotonic())
    for machine, hours in (("cpu", 12), ("gpu", 12), ("tpu", 9)):
        monkeypatch.setattr(kernel_runner, "machine", lambda machine=machine: machine)
        budget = kernel_runner.with_time_budget(cfg).train.time_budget_s
        assert hours * 3600 - kernel_runner.MARGIN_S - 600 < budget <= hours * 3600 - kernel_runner.MARGIN_S
    chosen = competitions.load_config("digits", overrides=["train.time_budget_s=1234"])
    assert kernel_runner.with_time_budget(chosen).train.time_budget_s == 1234


@pytest.fixture
def kernel_script(workdir, monkeypatch) -> Path:
    """`make kernel` of digits' tiny preset in three folds of one epoch, with a budget that fits
    only the first fold (the first always starts; the second would not end within 1 ms)."""
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    built = run_kit(
        "kernel", "--comp", "digits", "--preset", "tiny",
        "--set", "train.epochs=1", "data.folds=3", "train.time_budget_s=0.001",
        timeout=120,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    folder = workdir / "build" / "digit-recognizer" / "kernel"
    return folder / json.loads((folder / "kernel-metadata.json").read_text())["code_file"]


def test_a_budget_for_one_fold_of_three_submits_that_fold_kept_in_working(tmp_path, digits_folder, kernel_script):
    kaggle = tmp_path / "kaggle"
    ran, kaggle_input = run_kernel_offline(kernel_script, digits_folder, "digit-recognizer", kaggle, tmp_path)
    working = kaggle / "working"
    assert "time budget: 0 s of training (train.time_budget_s)" in ran.stdout
    assert "1 of 3 folds done" in ran.stdout and "partial ensemble (time budget)" in ran.stdout
    (run_dir,) = (working / "runs").iterdir()  # trained here, not in a temporary folder
    assert (run_dir / "fold0" / "best.keras").is_file() and (run_dir / "fold0" / "history.csv").is_file()
    assert not (run_dir / "fold1").exists() and not (run_dir / "fold0" / "backup").exists()
    run = json.loads((run_dir / "run.json").read_text())
    assert (run["status"], len(run["folds"]), run["folds_planned"]) == ("complete", 1, 3)
    record = json.loads((working / "submission.json").read_text())
    assert record["folds"] == [{"run": run_dir.name, "done": 1, "planned": 3}]
    written = pd.read_csv(working / "submission.csv")
    sample = pd.read_csv(kaggle_input / "sample_submission.csv")
    assert written["ImageId"].tolist() == sample["ImageId"].tolist() and written["Label"].between(0, 9).all()
    assert (working / f"run-{run_dir.name}.zip").is_file()
    assert str(ROOT / "kit") not in ran.stdout  # the bundled kit ran
