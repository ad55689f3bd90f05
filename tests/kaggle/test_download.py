"""`make data` and `make new` download a competition's files (kit/kaggle/download.py), against the local
Kaggle server (tests/kaggle/kaggle_server.py); nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys

from conftest import ROOT, run_kit
from kaggle_helpers import assert_clean_failure, submit, write_submission
from kaggle_server import KEY, USER, zip_folder


def test_data_downloads_unzips_and_validates(server, digits_folder, workdir):
    files = {name: (digits_folder / name).read_bytes() for name in ("train.csv", "test.csv", "sample_submission.csv")}
    server.state.data_zip = zip_folder(files)
    result = run_kit("data", "--comp", "digits", timeout=180)
    assert result.returncode == 0, result.stderr
    target = workdir / "data" / "digit-recognizer"
    assert sorted(p.name for p in target.iterdir()) == sorted(files)
    assert (target / "train.csv").read_bytes() == files["train.csv"]
    assert "data ok" in result.stdout
    assert len(server.calls("DownloadDataFiles")) == 1


def test_data_falls_back_to_the_kaggle_package_without_kagglehub(server, digits_folder, workdir):
    names = ("train.csv", "test.csv", "sample_submission.csv")
    server.state.data_zip = zip_folder({name: (digits_folder / name).read_bytes() for name in names})
    dest = workdir / "data" / "digit-recognizer"
    code = (
        "import sys; from pathlib import Path; sys.modules['kagglehub'] = None; from kit.kaggle import download; "
        f"print(len(download.download_competition('digit-recognizer', Path({str(dest)!r}))))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == sorted(names)
    assert (dest / "test.csv").read_bytes() == (digits_folder / "test.csv").read_bytes()
    assert len(server.calls("DownloadDataFiles")) == 1


def test_test_environment_is_honoured_and_never_prints_credentials(server, digits_folder, monkeypatch):
    """KAGGLE_API_ENVIRONMENT=TEST (localhost:7777, kagglehub's test setting) reaches the same
    server; kagglehub is verbose there, and its request dumps must not show the key."""
    monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "TEST")
    names = ("train.csv", "test.csv", "sample_submission.csv")
    server.state.data_zip = zip_folder({name: (digits_folder / name).read_bytes() for name in names})
    result = run_kit("data", "--comp", "digits", timeout=180)
    assert result.returncode == 0, result.stderr
    basic = base64.b64encode(f"{USER}:{KEY}".encode()).decode()
    assert KEY not in result.stdout + result.stderr and basic not in result.stdout + result.stderr
    path = write_submission(digits_folder)
    sent = submit(digits_folder)
    assert sent.returncode == 0, sent.stderr
    assert server.puts()[0].body == path.read_bytes()
    assert all(r.headers.get("Host", "").endswith("7777") for r in server.calls("CreateSubmission"))


def test_new_downloads_the_competition_and_reads_its_metric_from_kaggle(server, digits_folder, workdir, tmp_path):
    competitions_dir = tmp_path / "competitions"
    competitions_dir.mkdir()
    env = {**os.environ, "KIT_COMPETITIONS": str(competitions_dir)}
    names = ("train.csv", "test.csv", "sample_submission.csv")
    server.state.data_zip = zip_folder({name: (digits_folder / name).read_bytes() for name in names})
    server.state.competition_metrics = {"digit-recognizer-2": "AUC", "digit-recognizer": "Multi Class Log Loss"}

    def new(*extra: str) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "kit", "new", "--comp", "digit-recognizer", *extra]
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)

    result = new()
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (workdir / "data" / "digit-recognizer").iterdir()) == sorted(names)
    text = (competitions_dir / "digit-recognizer" / "competition.toml").read_text()
    assert "metric = \"log_loss\"  # Kaggle's competition record: 'Multi Class Log Loss'" in text
    assert "metric log_loss" in result.stdout and "is a guess" not in result.stdout
    assert [c.json.get("search") for c in server.calls("ListCompetitions")] == ["digit-recognizer"]
    # METRIC= overrides Kaggle's record; a metric the kit lacks stops with one line naming it
    assert new("--metric", "accuracy", "--force").returncode == 0
    assert 'metric = "accuracy"  # METRIC=' in (competitions_dir / "digit-recognizer" / "competition.toml").read_text()
    server.state.competition_metrics["digit-recognizer"] = "MAP@{K}"
    assert_clean_failure(new("--force"), "Kaggle scores it with 'MAP@{K}'", "METRIC=<one of accuracy, macro_f1")
    assert len(server.calls("DownloadDataFiles")) == 1  # the files were there already


def test_data_errors_are_clear(server, kaggle_env):
    server.state.forbidden = True
    result = run_kit("data", "--comp", "digits", timeout=120)
    assert_clean_failure(result, "403", "https://www.kaggle.com/competitions/digit-recognizer/rules")
    server.state.forbidden, server.state.known_competitions = False, ()
    result = run_kit("data", "--comp", "digits", timeout=120)
    assert_clean_failure(result, "404", "no competition 'digit-recognizer'")
    (kaggle_env / "kaggle.json").unlink()
    result = run_kit("data", "--comp", "digits", timeout=120)
    assert_clean_failure(result, "no Kaggle credentials")
