"""What Kaggle says, kept in the tracker: its submission list, the leaderboard, our rank, kernels."""

from __future__ import annotations

import time
from contextlib import closing
from typing import Any

from kit.tracker.store import UNSETTLED, connect, execute, now, query
from kit.tracker.submissions import add_submission, update_submission


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
