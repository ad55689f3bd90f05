"""Kaggle integration against a local server speaking Kaggle's wire protocol.

The real `kaggle` client (in a `python -m kit` subprocess) talks to `tests/kaggle/kaggle_server.py`
through HTTP_PROXY with KAGGLE_API_ENVIRONMENT=LOCALHOST; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import kaggle_server
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, run_kit
from kaggle_server import KEY, USER, KaggleServer, zip_folder

from kit import config, submission
from kit.config import competitions


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    """Credentials in a private kaggle.json, no other credential source, fast polling."""
    config = tmp_path / "kaggle-config"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": USER, "key": KEY}))
    (config / "kaggle.json").chmod(0o600)
    home = tmp_path / "home"
    home.mkdir()
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setenv("KIT_KAGGLE_POLL_SECONDS", "0.2")
    monkeypatch.setenv("KIT_KAGGLE_GRACE_SECONDS", "1")
    return config


@pytest.fixture
def server(kaggle_env, monkeypatch):
    with KaggleServer() as running:
        for key, value in running.env().items():
            monkeypatch.setenv(key, value)
        yield running


def write_submission(folder: Path, comp: str = "digits", embedded: bool = False, seed: int = 0) -> Path:
    """A valid submission with a realistic record, as `make predict` writes it (no training)."""
    cfg = competitions.load_config(comp, data_dir=str(folder))
    from kit import data

    loaded = data.load(cfg)
    exp = submission.expected(cfg, loaded.test.ids, loaded.sample_submission)
    predicted = np.random.default_rng(seed).integers(0, cfg.num_classes, len(exp.ids))
    frame = submission.build(exp, predicted)
    record = {
        "competition": cfg.competition.slug,
        "config": config.to_dict(cfg),  # as predict records it: data.dir is the DATA folder
        "runs": ["r1"],
        "cv_score": 0.9812,
        "metric": "accuracy",
        "embedded_sample": embedded,
        "git_commit": "abc",
    }
    return submission.write(frame, exp, cfg.competition.slug, f"r{seed}", record)[0]


def tracker_rows(slug: str) -> list[dict]:
    path = Path(os.environ["KIT_WORKDIR"]) / "artifacts" / slug / "tracker.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM submissions ORDER BY id")]


def assert_clean_failure(result, *phrases: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert KEY not in result.stdout + result.stderr


def submit(folder: Path, *extra: str, comp: str = "digits"):
    return run_kit("submit", "--comp", comp, "--data", str(folder), *extra, timeout=180)


# ------------------------------------------------------------------ submit


def test_submit_uploads_exact_bytes_polls_score_and_refuses_resubmission(server, digits_folder):
    path = write_submission(digits_folder)
    result = submit(digits_folder, "--message", "first try")
    assert result.returncode == 0, result.stderr
    puts = server.puts()
    assert len(puts) == 1 and puts[0].body == path.read_bytes()
    start = server.calls("StartSubmissionUpload")[0].json
    assert start["fileName"] == path.name and start["contentLength"] == path.stat().st_size
    sha = json.loads(path.with_suffix(".json").read_text())["sha256"]
    message = f"first try sha256:{sha[:12]}"  # the hash goes into every message: Kaggle's list knows it
    assert server.calls("CreateSubmission")[0].json["submissionDescription"] == message
    assert len(server.calls("GetSubmissionLimits")) == 1
    assert len(server.calls("ListSubmissions")) >= 2  # PENDING, then COMPLETE
    assert "public score 0.98765" in result.stdout
    row = tracker_rows("digit-recognizer")[-1]
    assert (row["status"], row["public_score"], row["kaggle_ref"]) == ("complete", 0.98765, 5000)
    assert row["sha256"] == json.loads(path.with_suffix(".json").read_text())["sha256"]
    assert row["message"] == message and row["cv_score"] == pytest.approx(0.9812)

    again = submit(digits_folder)
    assert_clean_failure(again, "already submitted", "FORCE=1")
    assert len(server.calls("StartSubmissionUpload")) == 1

    forced = submit(digits_folder, "--force", "--message", "again")
    assert forced.returncode == 0, forced.stderr
    assert len(server.state.submissions) == 2
    assert len([r for r in tracker_rows("digit-recognizer") if r["kaggle_ref"]]) == 2


def test_two_submits_of_one_file_at_once_upload_it_once(server, digits_folder):
    """Both commands start together; the daily-limit check (slow here) no longer sits between
    the duplicate check and the `uploading` mark, so the second is refused in one line."""
    write_submission(digits_folder)
    server.slow("GetSubmissionLimits", seconds=2, times=2)
    command = [sys.executable, "-m", "kit", "submit", "--comp", "digits", "--data", str(digits_folder)]
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    processes = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=180) for process in processes]
    assert len(server.puts()) == 1 and len(server.calls("CreateSubmission")) == 1
    assert sorted(process.returncode for process in processes) == [0, 2], outputs
    refused = next(err for process, (_, err) in zip(processes, outputs, strict=True) if process.returncode == 2)
    assert refused.count("\n") == 1 and refused.startswith("error: ") and "FORCE=1" in refused, refused
    rows = tracker_rows("digit-recognizer")
    assert [row["status"] for row in rows if row["kaggle_ref"]] == ["complete"]


def test_a_file_kaggle_has_is_refused_after_make_clean_and_on_another_machine(server, digits_folder, workdir):
    """The tracker goes with `make clean`; Kaggle's list, which carries each file's hash in its
    message, still says the file was submitted, so it is not uploaded (nor counted) twice."""
    path = write_submission(digits_folder)
    assert submit(digits_folder, "--message", "my words").returncode == 0
    clean = subprocess.run(["make", "--no-print-directory", "clean"], cwd=ROOT, capture_output=True, text=True)
    assert clean.returncode == 0 and not (workdir / "artifacts").exists(), clean.stderr
    again = submit(digits_folder)
    assert_clean_failure(again, "Kaggle already has this file (ref 5000", "my words", "FORCE=1")
    assert len(server.puts()) == 1 and len(server.state.submissions) == 1
    sha = json.loads(path.with_suffix(".json").read_text())["sha256"]
    assert [(r["kaggle_ref"], r["sha256"]) for r in tracker_rows("digit-recognizer") if r["kaggle_ref"]] == [
        (5000, sha)
    ]
    assert_clean_failure(submit(digits_folder), "already submitted", "ref 5000")  # the tracker knows now

    other = write_submission(digits_folder, seed=1)  # submitted from another machine
    other_sha = json.loads(other.with_suffix(".json").read_text())["sha256"]
    server.add_submission(ref=77, description=f"from my laptop sha256:{other_sha[:12]}")
    assert_clean_failure(submit(digits_folder, "--file", str(other)), "Kaggle already has this file (ref 77")
    assert len(server.puts()) == 1
    forced = submit(digits_folder, "--file", str(other), "--force")
    assert forced.returncode == 0, forced.stderr
    assert len(server.puts()) == 2


def test_429_is_retried_with_retry_after(server, digits_folder):
    write_submission(digits_folder)
    server.fail("StartSubmissionUpload", 429, retry_after=1)
    server.fail("ListSubmissions", 429, retry_after=0)
    server.fail("ListSubmissions", 503)  # 5xx on a call that is safe to repeat: retried too
    result = submit(digits_folder)
    assert result.returncode == 0, result.stderr
    assert "429" in result.stderr and "retrying" in result.stderr
    assert len(server.calls("StartSubmissionUpload")) == 2
    assert "503" in result.stderr
    assert len(server.state.submissions) == 1 and len(server.puts()) == 1
    assert tracker_rows("digit-recognizer")[-1]["status"] == "complete"


def test_submit_without_data_validates_against_the_recorded_folder(server, digits_folder, tmp_path):
    write_submission(digits_folder)
    result = run_kit("submit", "--comp", "digits", timeout=180)  # no DATA: the record's folder
    assert result.returncode == 0, result.stderr
    assert "config only" not in result.stderr and len(server.puts()) == 1
    # a file whose ids do not match that folder's sample submission is caught
    wrong = tmp_path / "wrong.csv"
    sample = pd.read_csv(digits_folder / "sample_submission.csv")
    sample.assign(ImageId=sample["ImageId"] + 1).to_csv(wrong, index=False)
    (wrong.with_suffix(".json")).write_text(json.dumps({"config": {"data": {"dir": str(digits_folder)}}}))
    result = run_kit("submit", "--comp", "digits", "--file", str(wrong), timeout=180)
    assert_clean_failure(result, "wrong.csv", "missing")
    assert len(server.puts()) == 1


def test_a_server_that_stops_answering_is_timed_out_and_retried(server, digits_folder, monkeypatch):
    write_submission(digits_folder)
    monkeypatch.setenv("KIT_KAGGLE_TIMEOUT", "1")
    server.hang("StartSubmissionUpload", seconds=3)
    result = submit(digits_folder)
    assert result.returncode == 0, result.stderr
    assert "answered nothing in time; retrying" in result.stderr
    assert len(server.calls("StartSubmissionUpload")) == 2 and len(server.state.submissions) == 1


def test_an_upload_that_is_never_answered_ends_in_one_line(server, digits_folder, monkeypatch):
    """The PUT of the file's bytes used to go without a timeout: a stalled one hung for ever."""
    import time

    write_submission(digits_folder)
    monkeypatch.setenv("KIT_KAGGLE_TIMEOUT", "1")
    server.state.put_stall = 600
    started = time.monotonic()
    result = submit(digits_folder)
    assert time.monotonic() - started < 60
    assert_clean_failure(result, "got no answer in 1 s", "nothing was submitted")
    assert result.stderr.count("\n") == 1 and len(server.puts()) == 1
    assert server.calls("CreateSubmission") == []
    assert tracker_rows("digit-recognizer")[-1]["status"] == "failed"  # not made: free to try again
    server.state.put_stall = 0
    again = submit(digits_folder)
    assert again.returncode == 0, again.stderr
    assert len(server.state.submissions) == 1


def test_500_on_create_submission_records_no_submission(server, digits_folder):
    write_submission(digits_folder)
    # an old submission with the same message (from the website) is not taken for this one
    server.add_submission(ref=9, description="same words", date="2025-01-01T00:00:00.000Z")
    server.fail("CreateSubmission", 500)
    result = submit(digits_folder, "--message", "same words")
    assert_clean_failure(result, "500", "may still appear", "FORCE=1")
    assert len(server.calls("CreateSubmission")) == 1  # never sent twice after an unclear answer
    assert len(server.calls("ListSubmissions")) >= 3  # checked before uploading; watched after
    assert [item["ref"] for item in server.state.submissions] == [9]
    rows = tracker_rows("digit-recognizer")
    assert all(row["kaggle_ref"] is None and row["status"] not in ("pending", "complete") for row in rows)
    assert rows[-1]["status"] == "unknown"  # not `failed`: Kaggle may list it later
    assert_clean_failure(submit(digits_folder), "no known outcome", "FORCE=1")
    assert len(server.puts()) == 1
    forced = submit(digits_folder, "--force")
    assert forced.returncode == 0, forced.stderr


def test_500_on_create_that_did_create_is_recorded_once(server, digits_folder):
    """Kaggle made the submission but the answer was lost: found in the list, not sent again."""
    write_submission(digits_folder)
    handler_class = server.httpd.RequestHandlerClass
    original = handler_class.api_CreateSubmission

    def made_but_500(handler, body):
        state = handler.server_state
        state.submissions.append(
            {
                "ref": 7777,
                "date": kaggle_server.now(),
                "description": body.get("submissionDescription", ""),
                "fileName": state.upload_names[body["blobFileTokens"]],
                "status": "COMPLETE",
                "publicScore": "0.5",
                "polls": 9,
            }
        )
        handler.error(502, "bad gateway")

    handler_class.api_CreateSubmission = made_but_500
    try:
        result = submit(digits_folder)
    finally:
        handler_class.api_CreateSubmission = original
    assert result.returncode == 0, result.stderr
    assert len(server.calls("CreateSubmission")) == 1
    row = tracker_rows("digit-recognizer")[-1]
    assert (row["kaggle_ref"], row["status"], row["public_score"]) == (7777, "complete", 0.5)


@pytest.mark.parametrize("answer", ["500", "no answer in time"])
def test_a_submission_made_a_moment_after_an_unclear_answer_is_found(server, digits_folder, answer, monkeypatch):
    write_submission(digits_folder)
    monkeypatch.setenv("KIT_KAGGLE_GRACE_SECONDS", "20")
    if answer == "500":
        server.create_late(delay=2, status=500)
    else:
        monkeypatch.setenv("KIT_KAGGLE_TIMEOUT", "1")
        server.create_late(delay=2, status=504, hang=3)
    result = submit(digits_folder)
    assert result.returncode == 0, result.stderr
    assert "Kaggle lists the submission (ref 5000)" in result.stderr
    assert len(server.calls("CreateSubmission")) == 1 and len(server.state.submissions) == 1
    row = tracker_rows("digit-recognizer")[-1]
    assert (row["kaggle_ref"], row["status"]) == (5000, "complete")


def test_a_submission_made_after_the_grace_period_is_never_uploaded_twice(server, digits_folder, workdir):
    import shutil
    import time

    write_submission(digits_folder)
    server.create_late(delay=4, status=503)  # the grace period is 1 s here
    result = submit(digits_folder)
    assert_clean_failure(result, "503", "may still appear", "FORCE=1")
    assert result.stderr.count("\n") == 1
    assert tracker_rows("digit-recognizer")[-1]["status"] == "unknown"
    assert_clean_failure(submit(digits_folder), "no known outcome")  # not yet listed: still refused
    deadline = time.monotonic() + 30
    while not server.state.submissions and time.monotonic() < deadline:
        time.sleep(0.2)
    shutil.rmtree(workdir / "artifacts")  # even without the tracker, Kaggle's list says so
    assert_clean_failure(submit(digits_folder), "Kaggle already has this file (ref 5000")
    assert len(server.puts()) == 1 and len(server.calls("CreateSubmission")) == 1


def test_leaderboard_settles_an_unknown_upload(server, digits_folder):
    from kit import tracker

    write_submission(digits_folder)
    server.fail("CreateSubmission", 500)
    assert_clean_failure(submit(digits_folder), "may still appear")
    row = tracker_rows("digit-recognizer")[-1]
    assert row["status"] == "unknown"
    tracker.update_submission("digit-recognizer", row["id"], submitted="2026-01-01T00:00:00Z")  # long ago
    assert run_kit("leaderboard", "--comp", "digits", timeout=120).returncode == 0
    assert tracker.get_submission("digit-recognizer", row["id"])["status"] == "failed"
    assert submit(digits_folder).returncode == 0  # settled as not made: free to upload


def test_daily_limit_refuses_before_uploading(server, digits_folder):
    write_submission(digits_folder)
    server.state.limits = {"numToday": 5, "numTotal": 40, "numAllowedNow": 0}
    result = submit(digits_folder)
    assert_clean_failure(result, "no submissions left", "nothing was uploaded")
    server.state.limits = {"numAllowedNow": 0}
    result = submit(digits_folder)
    assert_clean_failure(result, "no submissions left", "/competitions/digit-recognizer/rules")
    assert server.calls("StartSubmissionUpload") == [] and server.puts() == []


def test_bad_credentials_give_a_clear_message(server, digits_folder):
    write_submission(digits_folder)
    server.state.bad_auth = True
    result = submit(digits_folder)
    assert_clean_failure(result, "rejected the credentials", "401")
    assert server.puts() == []
    assert [row for row in tracker_rows("digit-recognizer") if row["status"] != "written"] == []


def test_missing_credentials_give_a_clear_message(server, digits_folder, kaggle_env):
    write_submission(digits_folder)
    (kaggle_env / "kaggle.json").unlink()
    result = submit(digits_folder)
    assert_clean_failure(result, "no Kaggle credentials", "KAGGLE_API_TOKEN")
    assert result.stderr.count("\n") == 1 and "Authentication required" not in result.stdout  # the kit's line only
    assert server.state.requests == []
    # nothing reached Kaggle: no submission is remembered, so make leaderboard lists none
    assert [row for row in tracker_rows("digit-recognizer") if row["status"] != "written"] == []


def test_readable_kaggle_json_gets_a_warning(server, digits_folder, kaggle_env):
    write_submission(digits_folder)
    (kaggle_env / "kaggle.json").chmod(0o644)
    result = submit(digits_folder)
    assert result.returncode == 0, result.stderr
    assert "readable by other users" in result.stderr and "chmod 600" in result.stderr
    assert KEY not in result.stdout + result.stderr


def test_a_competition_without_kaggle_slug_or_test_labels_is_refused(server, digits_folder):
    write_submission(digits_folder)
    result = submit(digits_folder, "--set", "competition.kaggle=")
    assert_clean_failure(result, "no Kaggle slug", "nowhere to submit")
    assert server.state.requests == []


def test_embedded_sample_and_invalid_files_are_refused_before_any_request(server, digits_folder, tmp_path):
    write_submission(digits_folder, embedded=True)
    result = submit(digits_folder)
    assert_clean_failure(result, "embedded sample")
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"ImageId": [1, 1], "Label": [3, 4]}).to_csv(bad, index=False)
    result = submit(digits_folder, "--file", str(bad))
    assert_clean_failure(result, "bad.csv")
    assert server.state.requests == []


def test_offline_competition_is_scored_locally_and_tracked(server, fashion_folder):
    path = write_submission(fashion_folder, comp="fashion")
    result = submit(fashion_folder, comp="fashion")
    assert result.returncode == 0, result.stderr
    assert "scored locally" in result.stdout
    frame = pd.read_csv(path)
    truth = pd.read_csv(fashion_folder / "fashion-mnist_test.csv")["label"].to_numpy()
    row = tracker_rows("fashion-mnist")[-1]
    assert row["status"] == "scored"
    assert row["local_score"] == pytest.approx(float(np.mean(frame["Label"].to_numpy() == truth)))
    assert server.state.requests == []
    assert_clean_failure(submit(fashion_folder, comp="fashion"), "already submitted")
    board = run_kit("leaderboard", "--comp", "fashion", timeout=120)
    assert board.returncode == 0, board.stderr
    assert "no Kaggle leaderboard" in board.stdout and f"best local test score {row['local_score']:.5f}" in board.stdout
    assert server.state.requests == []


# ------------------------------------------------------------------ leaderboard


def test_leaderboard_syncs_submissions_rank_and_plot(server, digits_folder, workdir, kaggle_env):
    server.add_submission(ref=11, fileName="web.csv", description="from the website", publicScore="0.97")
    server.add_submission(ref=12, fileName="pending.csv", status="PENDING", publicScore="", polls=-99)
    server.state.leaderboard = [
        {
            "teamId": 1,
            "teamName": "Top",
            "submissionDate": "2026-01-01T00:00:00Z",
            "score": "0.99900",
        },
        {
            "teamId": 2,
            "teamName": "Kit Team",
            "submissionDate": "2026-01-02T00:00:00Z",
            "score": "0.97000",
        },
        {
            "teamId": 3,
            "teamName": "Other",
            "submissionDate": "2026-01-03T00:00:00Z",
            "score": "0.95000",
        },
        {
            "teamId": 4,
            "teamName": "Last",
            "submissionDate": "2026-01-04T00:00:00Z",
            "score": "0.90000",
        },
    ]
    from kit import tracker

    lost = tracker.add_submission(  # Ctrl-C before Kaggle had it: never listed there
        "digit-recognizer", file="lost.csv", status="uploading", submitted="2026-01-01T00:00:00Z"
    )
    result = run_kit("leaderboard", "--comp", "digits", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "rank 2 of 4 (top 50.0%)" in result.stdout
    assert tracker.get_submission("digit-recognizer", lost)["status"] == "failed"
    assert "best public score 0.97000" in result.stdout
    rows = {row["kaggle_ref"]: row for row in tracker_rows("digit-recognizer")}
    assert rows[11]["public_score"] == 0.97 and rows[11]["message"] == "from the website"
    assert rows[12]["status"] == "pending" and rows[12]["public_score"] is None
    with sqlite3.connect(workdir / "artifacts" / "digit-recognizer" / "tracker.sqlite") as db:
        assert db.execute("SELECT COUNT(*) FROM leaderboard").fetchone()[0] == 4
        assert db.execute("SELECT rank, teams FROM standings").fetchall() == [(2, 4)]
    plot = workdir / "artifacts" / "digit-recognizer" / "leaderboard.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # without credentials: what the tracker knows, said to be local, no request and no failure
    (kaggle_env / "kaggle.json").unlink()
    asked = len(server.state.requests)
    offline = run_kit("leaderboard", "--comp", "digits", timeout=120)
    assert offline.returncode == 0, offline.stderr
    assert "not synced with Kaggle" in offline.stdout and "best public score 0.97000" in offline.stdout
    assert "rank 2 of 4 (top 50.0%) on " in offline.stdout and "web.csv" in offline.stdout
    assert offline.stderr.startswith("warning: no Kaggle credentials") and offline.stderr.count("\n") == 1
    assert len(server.state.requests) == asked


def test_leaderboard_best_of_a_log_loss_competition_is_the_lowest(server, digits_folder, workdir):
    """Through the kaggle client: the best of 0.35, 0.21, 0.50 by log-loss is 0.21, starred in the
    plot; when the config names another metric, Kaggle's record decides (with a warning)."""
    server.state.competition_metrics["digit-recognizer"] = "Multi Class Log Loss"
    for ref, score in ((21, "0.35"), (22, "0.21"), (23, "0.50")):
        server.add_submission(ref=ref, fileName=f"s{ref}.csv", publicScore=score)
    server.state.leaderboard = [
        {"teamId": 1, "teamName": "Top", "submissionDate": "2026-01-01T00:00:00Z", "score": "0.10000"},
        {"teamId": 2, "teamName": "Kit Team", "submissionDate": "2026-01-02T00:00:00Z", "score": "0.21000"},
    ]
    board = run_kit("leaderboard", "--comp", "digits", "--set", "competition.metric=log_loss", timeout=120)
    assert board.returncode == 0, board.stderr
    assert "best public score 0.21000 (s22.csv; log_loss, lower is better)" in board.stdout
    assert "rank 2 of 2" in board.stdout and "warning" not in board.stderr
    assert len(server.calls("ListCompetitions")) == 1  # Kaggle's record was asked for the metric
    # the config left at accuracy: Kaggle's record says log-loss, and it is believed
    mislabelled = run_kit("leaderboard", "--comp", "digits", timeout=120)
    assert mislabelled.returncode == 0, mislabelled.stderr
    assert "best public score 0.21000" in mislabelled.stdout
    assert "'Multi Class Log Loss' (log_loss), the config says accuracy" in mislabelled.stderr
    # without an answer about the metric, the config's metric decides
    server.state.competition_metrics = {}
    configured = run_kit("leaderboard", "--comp", "digits", "--set", "competition.metric=log_loss", timeout=120)
    assert "best public score 0.21000" in configured.stdout, configured.stderr
    plot = workdir / "artifacts" / "digit-recognizer" / "leaderboard.png"
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_interrupted_poll_is_picked_up_by_leaderboard(server, digits_folder):
    write_submission(digits_folder)
    server.state.pending_polls = 10_000  # never scored while `submit` waits
    result = submit(digits_folder, "--timeout", "1")
    assert result.returncode == 0, result.stderr
    assert "make leaderboard" in result.stdout
    assert tracker_rows("digit-recognizer")[-1]["status"] == "pending"
    server.state.pending_polls = 0
    synced = run_kit("leaderboard", "--comp", "digits", timeout=120)
    assert synced.returncode == 0, synced.stderr
    row = tracker_rows("digit-recognizer")[-1]
    assert (row["status"], row["public_score"]) == ("complete", 0.98765)


def test_ctrl_c_while_polling_keeps_the_submission_for_leaderboard(server, digits_folder):
    import signal
    import time

    write_submission(digits_folder)
    server.state.pending_polls = 10_000
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    command = [
        sys.executable,
        "-m",
        "kit",
        "submit",
        "--comp",
        "digits",
        "--data",
        str(digits_folder),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # the signal goes only once the score is being polled (Kaggle's list asked twice: the duplicate
    # check, then the first poll). A fixed 60 s used to run out in full-suite runs, where the start-up
    # alone can take that long under load, and Ctrl-C then landed in the imports or the upload
    deadline = time.monotonic() + 600
    while len(server.calls("ListSubmissions")) < 2 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(server.calls("ListSubmissions")) >= 2, f"never polled: {[r.call for r in server.state.requests]}"
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert "stopped waiting" in err and "make leaderboard" in err and "Traceback" not in err
    assert tracker_rows("digit-recognizer")[-1]["status"] == "pending"
    assert_clean_failure(submit(digits_folder), "already submitted")  # it counted: no second upload
    assert len(server.state.submissions) == 1


# ------------------------------------------------------------------ data


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


# ------------------------------------------------------------------ kernels


def bundle_sources(script: Path) -> dict[str, bytes]:
    text = script.read_text()
    packed = text.split('BUNDLE = """', 1)[1].split('"""', 1)[0]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode("".join(packed.split()))))
    return {name: archive.read(name) for name in archive.namelist()}


def build_kernel(workdir: Path, *args: str) -> tuple[Path, dict, dict[str, bytes]]:
    """`kit kernel ARGS`: (script, metadata, files packed in the script); checks no credential."""
    result = run_kit("kernel", *args, timeout=120)
    assert result.returncode == 0, result.stderr
    folder = next((workdir / "build").glob("*/kernel"))
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    script = folder / meta["code_file"]
    sources = bundle_sources(script)
    on_disk = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert KEY.encode() not in on_disk + b"".join(sources.values())
    return script, meta, sources


def test_kernel_bundle_carries_config_and_code_but_no_data(workdir, monkeypatch):
    monkeypatch.setenv("KAGGLE_USERNAME", USER)
    monkeypatch.setenv("KAGGLE_KEY", KEY)
    _, meta, sources = build_kernel(workdir, "--comp", "fashion", "--set", "train.epochs=1")
    assert "competitions/fashion-mnist/competition.toml" in sources and "kit/kaggle/client.py" in sources
    assert "skops/io/_persist.py" in sources  # scikit-learn models are saved with it; Kaggle lacks it
    assert not [name for name in sources if "/sample/" in name or not name.endswith((".py", ".toml", ".md"))]
    assert meta["competition_sources"] == []  # Fashion-MNIST is no Kaggle competition


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

    kaggle_input = tmp_path / "kaggle" / "input" / "digit-recognizer"
    kaggle_input.parent.mkdir(parents=True)
    digits_folder.rename(kaggle_input)
    working = tmp_path / "kaggle" / "working"
    run_dir = tmp_path / "elsewhere"
    run_dir.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KAGGLE", "KIT_"))}
    env.update(
        {
            "KIT_KAGGLE_INPUT": str(kaggle_input.parent),
            "KERAS_BACKEND": "tensorflow",
            "PYTHONPATH": "",
        }
    )
    ran = subprocess.run(
        [sys.executable, str(script), "--working", str(working)],
        cwd=run_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-4000:]
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
    from kit.training.runs import unpack_run

    unpacked = unpack_run(packed, "digit-recognizer", "kaggle-run")
    predicted = run_kit("predict", "--comp", "digits", "--data", str(kaggle_input), "--runs", unpacked.name)
    assert predicted.returncode == 0, predicted.stderr


def test_predict_records_the_written_submission_and_its_runs(workdir, digits_folder):
    from kit import tracker

    path = write_submission(digits_folder)
    run_dir = workdir / "artifacts" / "digit-recognizer" / "runs" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"score": 0.97, "model": "cnn"}))
    (run_dir / "config.json").write_text(json.dumps({"train": {"model": "cnn"}}))
    record = json.loads(path.with_suffix(".json").read_text())  # what kit.predict tracks as it writes
    runs = tracker.run_entries([run_dir], record.get("git_commit", ""))
    tracker.record_written("digit-recognizer", path, record, runs=runs)
    row = tracker_rows("digit-recognizer")[-1]
    assert (row["file"], row["status"], row["cv_score"]) == (path.name, "written", 0.9812)
    assert json.loads(row["config"])["data"]["dir"] == str(digits_folder)
    runs = tracker.query("digit-recognizer", "SELECT run, cv_score, model FROM runs")
    assert runs == [{"run": "r1", "cv_score": 0.97, "model": "cnn"}]
    # `make train` records every run, submitted or not
    trained = run_dir.parent / "r2"
    trained.mkdir()
    (trained / "run.json").write_text(json.dumps({"score": 0.95, "model": "dense"}))
    (trained / "config.json").write_text(json.dumps({"train": {"model": "dense"}}))
    tracker.record_trained("digit-recognizer", [trained])
    runs = tracker.query("digit-recognizer", "SELECT run, model, config FROM runs ORDER BY run")
    assert [(r["run"], r["model"], json.loads(r["config"])["train"]["model"]) for r in runs] == [
        ("r1", "cnn", "cnn"),
        ("r2", "dense", "dense"),
    ]


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


def test_a_class_folder_kernel_finds_its_input_without_a_train_csv(tmp_path, monkeypatch):
    """Plant Seedlings on Kaggle: /kaggle/input/<slug>/train/<class>/..., no train.csv."""
    from kit.commands import kernel_runner
    from kit.kaggle import kernel

    cfg = competitions.load_config("living-species", "", ["data.format=class_folders", "data.train_dir=train"])
    (tmp_path / "plants" / "train" / "Maize").mkdir(parents=True)
    monkeypatch.setattr(kernel_runner, "SOURCE", "plants")
    monkeypatch.setattr(kernel_runner, "TRAIN_FILE", kernel.marker_file(cfg))
    assert kernel_runner.find_input(tmp_path) == tmp_path / "plants"


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
    (written,) = (workdir / "submissions" / "digit-recognizer").glob(f"*-{back.name}.json")
    assert json.loads(written.read_text())["folds"] == [{"run": back.name, "done": 2, "planned": 3}]
