"""`make kernel`, `kernel-push`, `kernel-status`, `kernel-output` (kit/kaggle/kernel.py, kernel_runs.py): the
bundle, its offline run on a Kaggle-like folder, and the local Kaggle server's side.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_kit
from kaggle_helpers import assert_clean_failure, build_kernel, run_kernel_offline, tracker_rows
from kaggle_server import KEY, USER


def test_kernel_bundle_carries_config_and_code_but_no_data(workdir, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    _, meta, sources = build_kernel(workdir, "--comp", "fashion", "--set", "train.epochs=1")
    assert "competitions/fashion-mnist/competition.toml" in sources and "kit/kaggle/client.py" in sources
    assert "skops/io/_persist.py" in sources  # scikit-learn models are saved with it; Kaggle lacks it
    assert not [name for name in sources if "/sample/" in name or not name.endswith((".py", ".toml", ".md"))]
    assert meta["competition_sources"] == []  # Fashion-MNIST is no Kaggle competition


@pytest.mark.parametrize(
    "toml",
    [
        '[competition]\nmetric = "accuracy"\n\n[data]\nformat = "images"  # kept\ndir = "/home/me/data/x"  # DATA=\n',
        'data.dir = "/home/me/data/x"\ndata.format = "images"  # kept\n',
        'data = { dir = "/home/me/data/x", format = "images" }\n[competition]\nmetric = "accuracy"\n',
    ],
)
def test_the_bundled_config_leaves_this_machines_data_folder_behind(toml):
    """`make new` records DATA= as data.dir, a path of this machine: not in the kernel, which reads
    /kaggle/input; everything else unchanged (comments too, where the line can go alone)."""
    import tomllib

    from kit.kaggle.kernel_bundle import without_data_dir

    bundled = without_data_dir(toml.encode()).decode()
    assert "/home/me" not in bundled
    original = tomllib.loads(toml)
    del original["data"]["dir"]
    assert tomllib.loads(bundled) == original
    assert ("# kept" in bundled) == ("# kept" in toml)
    assert without_data_dir(b'[data]\nformat = "images"\n') == b'[data]\nformat = "images"\n'


def test_kernel_bundle_refuses_to_carry_a_credential(tmp_path, workdir, monkeypatch):
    """A key pasted into a competition's files must not travel to Kaggle inside the script."""
    import shutil

    competitions_copy = tmp_path / "competitions"
    shutil.copytree(ROOT / "competitions" / "digit-recognizer", competitions_copy / "digit-recognizer")
    with open(competitions_copy / "digit-recognizer" / "competition.toml", "a") as toml:
        toml.write(f"\n# my key: {KEY}\n")
    monkeypatch.setenv("KIT_COMPETITIONS", str(competitions_copy))
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    result = run_kit("kernel", "--comp", "digits", timeout=120)
    assert_clean_failure(result, "would contain a Kaggle credential")
    assert not (workdir / "build" / "digit-recognizer" / "kernel").exists()


def test_kernel_bundle_runs_offline_on_a_kaggle_like_folder(tmp_path, workdir, digits_folder, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    script, meta, sources = build_kernel(workdir, "--comp", "digits", "--preset", "tiny", "--set", "train.epochs=1")
    assert meta["id"] == f"{USER}/digit-recognizer-kit" and meta["title"] == "digit-recognizer-kit"
    assert (meta["language"], meta["kernel_type"], meta["is_private"]) == ("python", "script", True)
    assert meta["competition_sources"] == ["digit-recognizer"] and meta["code_file"] == script.name
    assert meta["enable_internet"] is False and meta["enable_gpu"] is False and "machine_shape" not in meta
    assert "kit/commands/local.py" in sources and "competitions/digit-recognizer/competition.toml" in sources

    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    kaggle = tmp_path / "kaggle"
    ran, kaggle_input = run_kernel_offline(script, digits_folder, "digit-recognizer", kaggle, run_dir, timeout=300)
    working = kaggle / "working"
    assert "kit from" in ran.stdout and str(ROOT / "kit") not in ran.stdout  # the bundled kit ran
    written = pd.read_csv(working / "submission.csv")
    sample = pd.read_csv(kaggle_input / "sample_submission.csv")
    assert list(written.columns) == ["ImageId", "Label"]
    assert written["ImageId"].tolist() == sample["ImageId"].tolist()
    assert written["Label"].between(0, 9).all()
    record = json.loads((working / "submission.json").read_text())
    assert record["config"]["train"]["epochs"] == 1 and record["config"]["data"]["limit"] == 600
    # the run is kept in the output, and comes back as a run that predicts beside local ones
    assert np.load(working / "submission.probabilities.npy").shape == (len(sample), 10)
    (packed,) = working.glob("run-*.zip")
    (kept,) = (working / "runs").iterdir()  # the same run as plain files, to look at on Kaggle
    assert (kept / "fold0" / "best.keras").is_file() and list((kept / "reports").glob("*.png"))
    with zipfile.ZipFile(packed) as archive:
        names = archive.namelist()
    assert {"config.json", "run.json", "fold0/best.keras", "fold0/history.csv"} <= set(names)
    assert any(n.startswith("reports/") for n in names) and not any("backup" in n for n in names)
    from kit.training.run_archive import unpack_run

    unpacked = unpack_run(packed, "digit-recognizer", "kaggle-run")
    predicted = run_kit("predict", "--comp", "digits", "--data", str(kaggle_input), "--runs", unpacked.name)
    assert predicted.returncode == 0, predicted.stderr


def test_kernel_push_status_and_output(server, workdir, digits_folder):
    built = run_kit("kernel", "--comp", "digits", "--preset", "tiny", "--gpu", timeout=120)  # make kernel GPU=1
    assert built.returncode == 0 and "GPU 2 x T4 (train.distribute=auto trains on both)" in built.stdout
    meta = json.loads((workdir / "build" / "digit-recognizer" / "kernel" / "kernel-metadata.json").read_text())
    assert (meta["enable_gpu"], meta["machine_shape"]) == (True, "NvidiaTeslaT4")  # Kaggle's "GPU T4 x2"
    pushed = run_kit("kernel-push", "--comp", "digits", timeout=120)
    assert pushed.returncode == 0, pushed.stderr
    saved = server.state.saved_kernels[0]
    assert saved["slug"] == f"{USER}/digit-recognizer-kit"
    assert saved["competitionDataSources"] == ["digit-recognizer"]
    assert (saved["enableGpu"], saved["machineShape"]) == (True, "NvidiaTeslaT4")
    assert saved.get("enableInternet", False) is False and KEY not in saved["text"]

    server.state.kernel_status = "RUNNING"
    status = run_kit("kernel-status", "--comp", "digits", timeout=120)
    assert status.returncode == 0 and "running" in status.stdout
    server.state.kernel_status, server.state.kernel_failure = "ERROR", "out of memory"
    status = run_kit("kernel-status", "--comp", "digits", timeout=120)
    assert status.returncode == 1 and "error - out of memory" in status.stdout

    sample = pd.read_csv(digits_folder / "sample_submission.csv")
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("../escape.txt", "a zip entry may not leave the run folder")
    server.state.kernel_files = {
        "submission.csv": sample.assign(Label=7).to_csv(index=False).encode(),
        "run-20260101-cnn.zip": packed.getvalue(),
    }
    server.state.kernel_log = "epoch 1/1 ..."
    output = run_kit("kernel-output", "--comp", "digits", "--data", str(digits_folder), timeout=120)
    assert output.returncode == 0, output.stderr
    written = sorted((workdir / "submissions" / "digit-recognizer").glob("*kernel*.csv"))
    assert len(written) == 1 and pd.read_csv(written[0])["Label"].eq(7).all()
    assert any(p.name.endswith(".log") for p in (workdir / "build" / "digit-recognizer").rglob("*"))
    assert tracker_rows("digit-recognizer")[-1]["source"] == "kernel"
    runs = workdir / "artifacts" / "digit-recognizer" / "runs"
    assert (runs / "kaggle-v1-20260101-cnn" / "config.json").exists() and not (runs / "escape.txt").exists()


def stopped_kernel_files(run_dir: Path, unfinished: str) -> dict[str, bytes]:
    """The output of a kernel Kaggle stopped while it trained fold `unfinished`: the run's plain
    files under runs/ (no zip, no submission), that fold without its fold.json, run.json as
    training left it."""
    files = {
        f"runs/{run_dir.name}/{path.relative_to(run_dir).as_posix()}": path.read_bytes()
        for path in run_dir.rglob("*")
        if path.is_file() and path.name != "lock"
    }
    del files[f"runs/{run_dir.name}/{unfinished}/fold.json"]
    files[f"runs/{run_dir.name}/{unfinished}/backup/latest.weights.h5"] = b"half an epoch"
    files[f"runs/{run_dir.name}/run.json"] = json.dumps({"status": "running", "folds": 3, "model": "dense"}).encode()
    return files


def test_kernel_output_of_a_stopped_version_brings_its_finished_folds_back(server, workdir, digits_folder):
    from kit import tracker

    trained = run_kit(
        "train", "--comp", "digits", "--data", str(digits_folder), "--preset", "tiny",
        "--set", "train.epochs=1", "data.folds=3",
        timeout=400,
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    runs = workdir / "artifacts" / "digit-recognizer" / "runs"
    (run_dir,) = runs.iterdir()
    server.state.kernel_files = stopped_kernel_files(run_dir, unfinished="fold2")
    server.state.kernel_status, server.state.kernel_failure = "ERROR", "exceeded the maximum run time"
    tracker.record_kernel("digit-recognizer", f"{USER}/digit-recognizer-kit", 4)

    output = run_kit("kernel-output", "--comp", "digits", "--data", str(digits_folder), timeout=120)
    assert output.returncode == 0, output.stderr
    assert len(server.calls("ListKernelSessionOutput")) == 2  # top level, then runs/ (nothing was packed)
    back = runs / f"kaggle-v4-{run_dir.name}"
    assert "2 of 3 folds finished before the kernel stopped" in output.stdout and back.name in output.stdout
    assert sorted(p.name for p in back.glob("fold*")) == ["fold0", "fold1"]  # the unfinished fold stays out
    recovered = json.loads((back / "run.json").read_text())
    assert (recovered["status"], len(recovered["folds"]), recovered["folds_planned"]) == ("complete", 2, 3)
    original = json.loads((run_dir / "run.json").read_text())
    assert recovered["split_sha256"] == original["split_sha256"]
    assert recovered["score"] == pytest.approx(sum(f["score"] for f in original["folds"][:2]) / 2)

    predicted = run_kit("predict", "--comp", "digits", "--data", str(digits_folder), "--runs", back.name)
    assert predicted.returncode == 0, predicted.stderr
    assert f"partial ensemble (time budget): {back.name}: 2 of 3 folds" in predicted.stdout
    (written,) = (workdir / "submissions" / "digit-recognizer").glob(f"{back.name}.json")
    assert json.loads(written.read_text())["folds"] == [{"run": back.name, "done": 2, "planned": 3}]


def test_a_class_folder_kernel_finds_its_input_without_a_train_csv(tmp_path, monkeypatch):
    """Plant Seedlings on Kaggle: /kaggle/input/<slug>/train/<class>/..., no train.csv."""
    from kit.commands import kernel_runner
    from kit.config import competitions
    from kit.kaggle import kernel

    cfg = competitions.load_config("living-species", "", ["data.format=class_folders", "data.train_dir=train"])
    (tmp_path / "plants" / "train" / "Maize").mkdir(parents=True)
    monkeypatch.setattr(kernel_runner, "SOURCE", "plants")
    monkeypatch.setattr(kernel_runner, "TRAIN_FILE", kernel.marker_file(cfg))
    assert kernel_runner.find_input(tmp_path) == tmp_path / "plants"
