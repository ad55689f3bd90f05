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

from kit.tracker.remote import latest_kernel, record_kernel, save_leaderboard, settle_uploads, standings, sync_remote
from kit.tracker.store import (
    MADE,
    SCHEMA,
    SUBMISSION_FIELDS,
    UNSETTLED,
    check_fields,
    connect,
    db_path,
    execute,
    insert_row,
    now,
    query,
    update_row,
)
from kit.tracker.submissions import (
    add_submission,
    already_made,
    blocking,
    blocking_rows,
    claim_upload,
    forget_submission,
    get_submission,
    record_fields,
    record_runs,
    record_trained,
    record_written,
    run_entries,
    submissions,
    update_submission,
)

__all__ = [
    "MADE",
    "SCHEMA",
    "SUBMISSION_FIELDS",
    "UNSETTLED",
    "add_submission",
    "already_made",
    "blocking",
    "blocking_rows",
    "check_fields",
    "claim_upload",
    "connect",
    "db_path",
    "execute",
    "forget_submission",
    "get_submission",
    "insert_row",
    "latest_kernel",
    "now",
    "query",
    "record_fields",
    "record_kernel",
    "record_runs",
    "record_trained",
    "record_written",
    "run_entries",
    "save_leaderboard",
    "settle_uploads",
    "standings",
    "submissions",
    "sync_remote",
    "update_row",
    "update_submission",
]
