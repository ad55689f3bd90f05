"""The tracker's database: schema, connection, one-statement transactions, row helpers."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from kit import paths

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
