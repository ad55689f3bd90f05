"""The tracker's own promises: a claim undone leaves the written file as it was, free to upload; a
written submission is recorded with its runs, and every trained run is recorded."""

from __future__ import annotations

import json

from kaggle_helpers import tracker_rows, write_submission

from kit import tracker


def test_a_claim_whose_upload_never_started_is_undone(workdir):
    written = tracker.add_submission("demo", file="a.csv", sha256="ab", status="written")
    row, in_the_way = tracker.claim_upload(
        "demo", "a.csv", "ab", {"file": "a.csv", "sha256": "ab"}, {"status": "uploading", "message": "m"}
    )
    assert (row, in_the_way) == (written, [])
    tracker.forget_submission("demo", row)
    kept = tracker.get_submission("demo", written)
    assert kept["status"] == "written" and kept["message"] is None and kept["file"] == "a.csv"
    again, _ = tracker.claim_upload("demo", "a.csv", "ab", {}, {"status": "uploading"})
    assert again == written  # free to upload: the same row claimed again


def test_a_row_kaggle_knows_is_never_undone(workdir):
    row = tracker.add_submission("demo", file="b.csv", sha256="cd", status="pending", kaggle_ref=7)
    tracker.forget_submission("demo", row)
    assert tracker.get_submission("demo", row)["status"] == "pending"


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
