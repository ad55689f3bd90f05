"""Submissions and runs in the tracker: written files, claimed uploads, the runs behind them."""

from __future__ import annotations

import json
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

from kit import fileio, provenance
from kit.tracker.store import MADE, UNSETTLED, connect, db_path, execute, insert_row, now, query, update_row


def add_submission(slug: str, **fields: Any) -> int:
    """Insert a submission row; returns its id."""
    with closing(connect(slug)) as db, db:
        return insert_row(db, fields)


def update_submission(slug: str, row_id: int, **fields: Any) -> None:
    with closing(connect(slug)) as db, db:
        update_row(db, row_id, fields)


def forget_submission(slug: str, row_id: int) -> None:
    """Undo a claim whose upload never started (no credentials, no submissions left, a file
    Kaggle already has): it was no submission, so the row is the written file again, free to
    upload, and `make leaderboard` lists no failed attempt."""
    execute(
        slug,
        "UPDATE submissions SET status = 'written', message = NULL, submitted = NULL, error = NULL "
        "WHERE id = ? AND kaggle_ref IS NULL",
        (row_id,),
    )


def get_submission(slug: str, row_id: int) -> dict[str, Any] | None:
    rows = query(slug, "SELECT * FROM submissions WHERE id = ?", (row_id,))
    return rows[0] if rows else None


def submissions(slug: str) -> list[dict[str, Any]]:
    """Every submission row, oldest first."""
    return query(slug, "SELECT * FROM submissions ORDER BY COALESCE(submitted, created), id")


def already_made(slug: str, sha256: str) -> list[dict[str, Any]]:
    """Rows of submissions actually made (on Kaggle or scored locally) of this exact content."""
    marks = ", ".join("?" for _ in MADE)
    return query(
        slug,
        f"SELECT * FROM submissions WHERE sha256 = ? AND (kaggle_ref IS NOT NULL OR status IN ({marks}))",
        (sha256, *MADE),
    )


def blocking(db: sqlite3.Connection, sha256: str) -> list[dict[str, Any]]:
    """Rows that make another upload of this content a waste: made, or maybe made."""
    marks = ", ".join("?" for _ in MADE + UNSETTLED)
    return [
        dict(row)
        for row in db.execute(
            f"SELECT * FROM submissions WHERE sha256 = ? AND (kaggle_ref IS NOT NULL OR status IN ({marks})) "
            "ORDER BY id",
            (sha256, *MADE, *UNSETTLED),
        )
    ]


def blocking_rows(slug: str, sha256: str) -> list[dict[str, Any]]:
    with closing(connect(slug)) as db:
        return blocking(db, sha256)


def claim_upload(
    slug: str, file: str, sha256: str, new_row: dict[str, Any], fields: dict[str, Any], force: bool = False
) -> tuple[int | None, list[dict[str, Any]]]:
    """Check that this content is not made or being made, and mark it `uploading`, in one write
    transaction: two `make submit` of one file at once cannot both pass the check (the second
    waits for the first's BEGIN IMMEDIATE, then sees its mark). Returns (row id, []) when claimed:
    the file's written row, else a new one from `new_row`; (None, the rows in the way) when not.
    `force` (FORCE=1) skips the check, not the mark."""
    with closing(connect(slug)) as db:
        db.isolation_level = None  # explicit transactions: the check and the mark in one
        db.execute("BEGIN IMMEDIATE")
        try:
            found = [] if force else blocking(db, sha256)
            row = None
            if not found:
                reusable = db.execute(
                    "SELECT id FROM submissions WHERE file = ? AND sha256 = ? AND kaggle_ref IS NULL "
                    "AND status IN ('written', 'failed') ORDER BY id DESC",
                    (file, sha256),
                ).fetchone()
                if reusable:
                    row = reusable["id"]
                    update_row(db, row, fields)
                else:
                    row = insert_row(db, {**new_row, **fields})
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return row, found


def record_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The tracker columns taken from a submission's JSON record (`kit.submission.write` returns it)."""
    local = record.get("local_score")
    return {
        "file": record.get("file"),
        "sha256": record.get("sha256"),
        "runs": json.dumps(record.get("runs", [])),
        "cv_score": record.get("cv_score"),
        "local_score": local.get("score") if isinstance(local, dict) else local,
        "config": json.dumps(record.get("config", {}), sort_keys=True),
        "git_commit": record.get("git_commit", ""),
        "embedded": int(bool(record.get("embedded_sample"))),
    }


def record_written(
    slug: str,
    path: Path,
    record: dict[str, Any],
    source: str = "local",
    runs: list[dict[str, Any]] = (),
) -> int | None:
    """Track a freshly written submission file (and the runs behind it). A tracker failure
    warns and never loses the file, which is already on disk."""
    try:
        if runs:
            record_runs(slug, list(runs))
        fields = record_fields({**record, "file": path.name})
        return add_submission(slug, **fields, status="written", source=source)
    except sqlite3.Error as error:
        print(f"warning: tracker {db_path(slug)} not updated: {error}", file=sys.stderr)
        return None


def record_runs(slug: str, runs: list[dict[str, Any]]) -> None:
    """Upsert the runs behind a submission (name, model, CV score, config, commit)."""
    with closing(connect(slug)) as db, db:
        for run in runs:
            db.execute(
                "INSERT INTO runs (run, created, model, cv_score, metric, config, git_commit) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run) DO UPDATE SET "
                "cv_score = excluded.cv_score, model = excluded.model",
                (
                    run["run"],
                    run.get("created", now()),
                    run.get("model"),
                    run.get("score"),
                    run.get("metric"),
                    json.dumps(run.get("config", {}), sort_keys=True),
                    run.get("git_commit", ""),
                ),
            )


def run_entries(run_dirs: list[Path], commit: str) -> list[dict[str, Any]]:
    """What the tracker keeps of each run: run.json (model, score), its config and the commit."""
    return [
        fileio.read_json(d / "run.json")
        | {"run": d.name, "config": fileio.read_json(d / "config.json"), "git_commit": commit}
        for d in run_dirs
    ]


def record_trained(slug: str, run_dirs: list[Path]) -> None:
    """Track finished training runs; a tracker failure warns, never fails the training."""
    try:
        record_runs(slug, run_entries(run_dirs, provenance.git_commit()))
    except sqlite3.Error as error:
        print(f"warning: tracker {db_path(slug)} not updated: {error}", file=sys.stderr)
