"""`make submit` (kit/kaggle/submit.py) against a local server speaking Kaggle's wire protocol.

The real `kaggle` client (in a `python -m kit` subprocess) talks to `tests/kaggle/kaggle_server.py`
through HTTP_PROXY with KAGGLE_API_ENVIRONMENT=LOCALHOST; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import kaggle_server
import numpy as np
import pandas as pd
import pytest
import replicas
from conftest import ROOT, run_kit
from kaggle_helpers import assert_clean_failure, submit, tracker_rows, write_submission
from kaggle_server import KEY


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


def test_submit_without_the_data_folder_validates_against_the_sample_make_new_recorded(
    server, tmp_path, competitions_dir
):
    """An image competition's files are gone from this machine (a kernel made the file): its
    columns and ids are checked against the copy of the sample `make new` kept, not ImageId,Label."""
    server.state.known_competitions = ("aptos",)
    folder = tmp_path / "aptos"
    replicas.aptos2019_blindness_detection(folder, per_class=2, test_per_class=2)
    made = run_kit("new", "--comp", "aptos", "--data", str(folder), "--metric", "qwk")
    assert made.returncode == 0, made.stderr
    sample = pd.read_csv(folder / "sample_submission.csv", dtype=str)
    good, wrong = tmp_path / "good.csv", tmp_path / "wrong.csv"
    sample.assign(diagnosis=3).to_csv(good, index=False)
    sample.iloc[1:].assign(diagnosis=3).to_csv(wrong, index=False)
    shutil.rmtree(folder)
    refused = run_kit("submit", "--comp", "aptos", "--file", str(wrong), timeout=180)
    assert_clean_failure(refused, "wrong.csv", f"{len(sample) - 1} rows, expected {len(sample)}")
    result = run_kit("submit", "--comp", "aptos", "--file", str(good), timeout=180)
    assert result.returncode == 0, result.stderr
    assert "recorded_sample.csv.gz" in result.stderr and len(server.puts()) == 1


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
