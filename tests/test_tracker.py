"""The tracker's own promises: a claim undone leaves the written file as it was, free to upload."""

from __future__ import annotations

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
