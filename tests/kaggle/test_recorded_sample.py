"""`make submit` and `make kernel-output` without the competition's data: a file is checked against
the sample `make new` recorded (kit/scoring/recorded.py), its columns, ids and value types, and a
wrong one is refused in one line before anything is uploaded or kept. Against the local Kaggle
server (tests/kaggle/kaggle_server.py); no training.
"""

from __future__ import annotations

import gzip

import layouts
import pandas as pd
import pytest
from conftest import ROOT, run_kit
from kaggle_helpers import assert_clean_failure, tracker_rows
from kaggle_server import USER

SLUG = "state-farm"  # sample img,c0..c3: nothing like the config's default ImageId,Label


@pytest.fixture
def recorded(tmp_path, competitions_dir) -> pd.DataFrame:
    """`kit new` on a State Farm replica, then its data folder moved away: the recorded sample."""
    local = tmp_path / "local"
    layouts.state_farm_by_driver(local)
    made = run_kit("new", "--comp", SLUG, "--data", str(local))
    assert made.returncode == 0, made.stderr
    kept = competitions_dir / SLUG / "recorded_sample.csv.gz"
    assert f"kept as {kept}" in made.stdout
    assert gzip.decompress(kept.read_bytes()) == (local / "sample_submission.csv").read_bytes()
    sample = pd.read_csv(local / "sample_submission.csv")
    local.rename(tmp_path / "moved")  # data.dir in competition.toml now names nothing
    return sample


def wrong_files(sample: pd.DataFrame) -> dict[str, tuple[pd.DataFrame, str]]:
    """Name -> (a file one defect away from the sample, the phrase its refusal must hold)."""
    return {
        "kit-default-header": (pd.DataFrame({"ImageId": range(1, 9), "Label": 0}), "expected ['img', 'c0'"),
        "an-id-missing": (sample.iloc[1:], "7 rows, expected 8"),
        "an-id-replaced": (sample.assign(img=["img_x.jpg", *sample["img"][1:]]), "1 test ids missing"),
        "not-a-probability": (sample.assign(c2=[1.5] + [0.25] * 7), "'c2': 1.5 is not a probability"),
        "labels-not-probabilities": (sample.assign(c0="c0"), "'c0': 'c0' is not a probability"),
    }


def test_submit_without_the_data_checks_the_recorded_sample(server, recorded, tmp_path):
    for name, (frame, phrase) in wrong_files(recorded).items():
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        refused = run_kit("submit", "--comp", SLUG, "--file", str(path), timeout=180)
        assert_clean_failure(refused, f"{name}.csv", phrase)
        assert [line for line in refused.stderr.splitlines() if not line.startswith("note:")] == [
            refused.stderr.splitlines()[-1]
        ], refused.stderr  # one line of refusal
        assert "checked against the sample `make new` recorded" in refused.stderr
    assert server.state.requests == []  # refused before any request
    server.state.known_competitions = (SLUG,)
    right = tmp_path / "right.csv"
    recorded.assign(c0=0.7, c1=0.1, c2=0.1, c3=0.1).to_csv(right, index=False)
    sent = run_kit("submit", "--comp", SLUG, "--file", str(right), timeout=180)
    assert sent.returncode == 0, sent.stderr
    assert len(server.puts()) == 1 and server.puts()[0].body == right.read_bytes()


def test_kernel_output_without_the_data_keeps_only_a_file_like_the_sample(server, recorded, workdir):
    from kit import tracker

    tracker.record_kernel(SLUG, f"{USER}/{SLUG}-kit", 3)
    (frame, phrase) = wrong_files(recorded)["kit-default-header"]
    server.state.kernel_files = {"submission.csv": frame.to_csv(index=False).encode()}
    refused = run_kit("kernel-output", "--comp", SLUG, timeout=120)
    assert_clean_failure(refused, "submission.csv", phrase)
    assert not (workdir / "submissions" / SLUG).exists()
    good = recorded.assign(c0=0.4, c1=0.2, c2=0.2, c3=0.2)
    server.state.kernel_files = {"submission.csv": good.to_csv(index=False).encode()}
    kept = run_kit("kernel-output", "--comp", SLUG, timeout=120)
    assert kept.returncode == 0, kept.stderr
    (written,) = (workdir / "submissions" / SLUG).glob("*kernel-v3*.csv")
    pd.testing.assert_frame_equal(pd.read_csv(written), good)
    assert tracker_rows(SLUG)[-1]["source"] == "kernel"


def test_a_compressed_sample_is_recorded_as_the_values_it_holds(tmp_path, competitions_dir, monkeypatch):
    """A sample shipped zipped (sample_submission.csv.zip) is kept as CSV text: the same frame back."""
    import shutil

    from kit import paths
    from kit.config import competitions
    from kit.scoring.recorded import record_sample, recorded_sample

    monkeypatch.setattr(paths, "COMPETITIONS", competitions_dir)  # read at import: this process's kit

    sample = pd.DataFrame({"id": ["a.tif", "b.tif"], "label": [0, 0]})
    zipped = tmp_path / "sample_submission.csv.zip"
    sample.to_csv(zipped, index=False, compression={"method": "zip", "archive_name": "sample_submission.csv"})
    shutil.copytree(ROOT / "competitions" / "digit-recognizer", competitions_dir / "digit-recognizer")
    kept = record_sample("digit-recognizer", zipped)
    assert gzip.decompress(kept.read_bytes()) == b"id,label\na.tif,0\nb.tif,0\n"
    cfg = competitions.load_config("digit-recognizer", data_dir=str(tmp_path))
    pd.testing.assert_frame_equal(recorded_sample(cfg), sample)
