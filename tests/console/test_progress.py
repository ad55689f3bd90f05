"""Progress on long steps: a bar with rate and ETA on a terminal, plain lines in a log."""

from __future__ import annotations

import replicas
from conftest import run_kit

from kit.console.progress import progress


def test_a_log_gets_plain_lines_with_counts_rate_and_time_left(capsys, monkeypatch):
    monkeypatch.setenv("KIT_PROGRESS_SECONDS", "0")  # every step: a line
    for _ in progress(range(4), "decoding images", unit="images"):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("decoding images: 4/4 (100%), 00:00 elapsed, 00:00 left, ")
    assert lines[-1].endswith(" images/s")
    assert "\r" not in "".join(lines) and len(lines) == len(set(lines))


def test_short_steps_and_kit_progress_0_print_nothing(capsys, monkeypatch):
    for _ in progress(range(4), "quick", unit="images"):  # over before the first line is due
        pass
    monkeypatch.setenv("KIT_PROGRESS_SECONDS", "0")
    monkeypatch.setenv("KIT_PROGRESS", "0")
    for _ in progress(range(4), "hidden", unit="images"):
        pass
    assert capsys.readouterr().err == ""


def test_decoding_an_image_folder_reports_progress_through_the_cli(tmp_path, monkeypatch):
    folder = tmp_path / "plants"
    replicas.plant_seedlings(folder)
    competitions = tmp_path / "competitions"
    competitions.mkdir()
    monkeypatch.setenv("KIT_COMPETITIONS", str(competitions))
    monkeypatch.setenv("KIT_PROGRESS_SECONDS", "0")
    assert run_kit("new", "--comp", "plants", "--data", str(folder), "--metric", "micro_f1").returncode == 0
    result = run_kit("data", "--comp", "plants", "--data", str(folder))
    assert result.returncode == 0, result.stderr
    train = len(list((folder / "train").rglob("*.png")))
    test = len(list((folder / "test").glob("*.png")))
    assert f"decoding images: {train}/{train} (100%)" in result.stderr
    assert f"decoding images: {test}/{test} (100%)" in result.stderr
