"""The tracker: a SQLite history of every run and submission of one competition.

One database per competition, `artifacts/<slug>/tracker.sqlite` (beside the runs it describes,
so `make clean` of one competition never touches another's history). Tables:

- `runs`: a trained run that went into a written submission (CV score, model, config, commit).
- `submissions`: one row per written file and per upload of it: file name, content hash,
  message, CV, local / public / private score, status, Kaggle's ref, config, commit, times.
  Status moves `written` -> `uploading` -> `pending` -> `complete` | `error`, or `failed`
  (the upload did not create a submission), or `unknown` (Kaggle's answer was lost and its list
  did not show the submission in time; `make leaderboard` settles it); offline competitions go
  `written` -> `scored`.
- `leaderboard`: the newest public leaderboard snapshot; `standings`: our rank over time.
- `kernels`: pushed kernel versions and their last known status.

Only the kit's own config is stored, never a credential.

>>> import tempfile, os
>>> os.environ["KIT_WORKDIR"] = tempfile.mkdtemp()
>>> row = add_submission("demo", file="a.csv", sha256="ab", status="written")
>>> get_submission("demo", row)["status"]
'written'
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from kit import fileio, paths

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run TEXT PRIMARY KEY, created TEXT, model TEXT, cv_score REAL, metric TEXT,
    config TEXT, git_commit TEXT);
CREATE TABLE IF NOT EXISTS submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    file TEXT, sha256 TEXT, message TEXT, runs TEXT, source TEXT DEFAULT 'local',
    cv_score REAL, local_score REAL, public_score REAL, private_score REAL,
    status TEXT NOT NULL, kaggle_ref INTEGER UNIQUE, error TEXT,
    config TEXT, git_commit TEXT, embedded INTEGER DEFAULT 0,
    created TEXT, submitted TEXT, scored TEXT, updated TEXT);
CREATE TABLE IF NOT EXISTS leaderboard (
    synced TEXT, rank INTEGER, team_id INTEGER, team_name TEXT, score REAL, submission_date TEXT);
CREATE TABLE IF NOT EXISTS standings (
    synced TEXT PRIMARY KEY, rank INTEGER, teams INTEGER, best_public REAL, percentile REAL);
CREATE TABLE IF NOT EXISTS kernels (
    ref TEXT, version INTEGER, url TEXT, pushed TEXT, status TEXT, failure TEXT, updated TEXT,
    PRIMARY KEY (ref, version));
"""

# Statuses meaning "Kaggle (or the local scorer) has this file": a second upload needs FORCE=1.
MADE = ("pending", "complete", "error", "scored")
# An upload under way, or one whose outcome is unknown: Kaggle may have it, so a second upload
# needs FORCE=1 too (`make leaderboard` settles them).
UNSETTLED = ("uploading", "unknown")
SUBMISSION_FIELDS = (
    "file",
    "sha256",
    "message",
    "runs",
    "source",
    "cv_score",
    "local_score",
    "public_score",
    "private_score",
    "status",
    "kaggle_ref",
    "error",
    "config",
    "git_commit",
    "embedded",
    "created",
    "submitted",
    "scored",
)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + "Z"


def db_path(slug: str) -> Path:
    return paths.artifacts_dir(slug) / "tracker.sqlite"


def connect(slug: str) -> sqlite3.Connection:
    """An open connection with the schema in place (rows come back as sqlite3.Row)."""
    path = db_path(slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30)  # waits for a concurrent writer instead of failing
    db.row_factory = sqlite3.Row
    db.executescript(SCHEMA)
    return db


def execute(slug: str, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
    """One statement in its own transaction (committed, or rolled back on error)."""
    with closing(connect(slug)) as db, db:
        return db.execute(sql, params)


def query(slug: str, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
    with closing(connect(slug)) as db:
        return [dict(row) for row in db.execute(sql, params)]


def check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(SUBMISSION_FIELDS)
    if unknown:
        raise ValueError(f"unknown submission fields {sorted(unknown)}")


def insert_row(db: sqlite3.Connection, fields: dict[str, Any]) -> int:
    check_fields(fields)
    fields = {"created": now(), **fields, "updated": now()}
    names = ", ".join(fields)
    marks = ", ".join(f":{name}" for name in fields)
    return db.execute(f"INSERT INTO submissions ({names}) VALUES ({marks})", fields).lastrowid


def update_row(db: sqlite3.Connection, row_id: int, fields: dict[str, Any]) -> None:
    check_fields(fields)
    fields = {**fields, "updated": now()}
    sets = ", ".join(f"{name} = :{name}" for name in fields)
    db.execute(f"UPDATE submissions SET {sets} WHERE id = :id", {**fields, "id": row_id})


def add_submission(slug: str, **fields: Any) -> int:
    """Insert a submission row; returns its id."""
    with closing(connect(slug)) as db, db:
        return insert_row(db, fields)


def update_submission(slug: str, row_id: int, **fields: Any) -> None:
    with closing(connect(slug)) as db, db:
        update_row(db, row_id, fields)


def forget_submission(slug: str, row_id: int) -> None:
    """Drop a claimed row whose upload never started (no credentials, no submissions left, a
    file Kaggle already has): it was no submission, and `make leaderboard` must not list it."""
    execute(slug, "DELETE FROM submissions WHERE id = ? AND kaggle_ref IS NULL", (row_id,))


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
        record_runs(slug, run_entries(run_dirs, fileio.git_commit()))
    except sqlite3.Error as error:
        print(f"warning: tracker {db_path(slug)} not updated: {error}", file=sys.stderr)


def sync_remote(slug: str, remote: list[dict[str, Any]], sha256: str | None = None) -> int:
    """Merge Kaggle's list of our submissions into the tracker; returns rows changed.

    A known ref gets its status and scores refreshed; an upload interrupted before its ref was
    stored (status `uploading`) is matched by file name and message; anything else (made on the
    website, or from another machine) is added with source `kaggle`. `sha256`: the content of
    every item, when the caller knows it (found by the hash in its message).
    """
    changed = 0
    for item in remote:
        fields = {key: item[key] for key in ("status", "public_score", "private_score", "error")}
        if sha256:
            fields["sha256"] = sha256
        rows = query(slug, "SELECT id FROM submissions WHERE kaggle_ref = ?", (item["ref"],))
        if not rows:
            rows = query(
                slug,
                "SELECT id FROM submissions WHERE kaggle_ref IS NULL AND status IN (?, ?) AND file = ? AND message = ?",
                (*UNSETTLED, item["file"], item["message"]),
            )
        if rows:
            update_submission(slug, rows[0]["id"], kaggle_ref=item["ref"], **fields)
        else:
            add_submission(
                slug,
                file=item["file"],
                message=item["message"],
                source="kaggle",
                kaggle_ref=item["ref"],
                submitted=item["date"],
                **fields,
            )
        changed += 1
    return changed


def settle_uploads(slug: str, older_than: float = 600.0) -> int:
    """Uploads still `uploading` or `unknown` after a full sync are not on Kaggle: mark them
    `failed`. Only those begun more than `older_than` seconds ago, so an upload in progress in
    another process, or one Kaggle may still list, is left alone. Returns how many rows changed.
    """
    cutoff = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - older_than)) + "Z"
    return execute(
        slug,
        "UPDATE submissions SET status = 'failed', updated = ?, "
        "error = COALESCE(error || '; ', '') || 'not on Kaggle after the upload: it did not count' "
        "WHERE status IN (?, ?) AND kaggle_ref IS NULL AND submitted < ?",
        (now(), *UNSETTLED, cutoff),
    ).rowcount


def save_leaderboard(slug: str, entries: list[dict[str, Any]], standing: dict[str, Any] | None) -> None:
    """Replace the leaderboard snapshot; append our standing (rank over time) when we are on it."""
    synced = now()
    with closing(connect(slug)) as db, db:
        db.execute("DELETE FROM leaderboard")
        db.executemany(
            "INSERT INTO leaderboard VALUES (?, ?, ?, ?, ?, ?)",
            [(synced, e["rank"], e["team_id"], e["team_name"], e["score"], e["date"]) for e in entries],
        )
        if standing:
            db.execute(
                "INSERT OR REPLACE INTO standings VALUES (?, ?, ?, ?, ?)",
                (
                    synced,
                    standing["rank"],
                    standing["teams"],
                    standing["score"],
                    standing["percentile"],
                ),
            )


def standings(slug: str) -> list[dict[str, Any]]:
    return query(slug, "SELECT * FROM standings ORDER BY synced")


def record_kernel(slug: str, ref: str, version: int, url: str = "", status: str = "pushed", failure: str = "") -> None:
    execute(
        slug,
        "INSERT INTO kernels VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ref, version) DO UPDATE SET "
        "status = excluded.status, failure = excluded.failure, updated = excluded.updated",
        (ref, version, url, now(), status, failure, now()),
    )


def latest_kernel(slug: str) -> dict[str, Any] | None:
    rows = query(slug, "SELECT * FROM kernels ORDER BY pushed DESC, version DESC LIMIT 1")
    return rows[0] if rows else None
