"""What a submission file must look like with the data at hand, and an offline competition's
file scored against its test labels (`make submit` of a competition without a Kaggle slug).

Nothing here talks to Kaggle: `kit.kaggle.submit` and `make kernel-output` call it to validate a
file before they upload or keep it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from kit import paths, tracker
from kit.config import Config
from kit.errors import KitError


def expected_for(cfg: Config, path: Path):
    """(Expected, loaded data or None): from the sample submission when there is one (no need
    to read the test images), else from the test set; from the config alone without data."""
    from kit import data, submission

    try:
        folder, _ = data.data_folder(cfg)
    except KitError:
        if cfg.data.test_labels:
            raise
        recorded = paths.recorded_sample(cfg.competition.slug)
        if recorded.is_file():  # what `make new` saw: the sample's columns and every test id
            note = f"note: no local data for {cfg.competition.slug}: {path.name} is checked against {recorded}"
            print(note, file=sys.stderr)
            return submission.expected(cfg, None, data.read_sample_file(recorded)), None
        return config_only_expected(cfg, path), None
    sample = data.read_sample_submission(cfg, folder)
    if sample is not None and not cfg.data.test_labels:
        return submission.expected(cfg, None, sample), None
    loaded = data.load(cfg)
    return submission.expected(cfg, loaded.test.ids, loaded.sample_submission), loaded


def config_only_expected(cfg: Config, path: Path):
    """Without the competition's files: ids id_start.. in order, as the kit writes them."""
    import numpy as np
    import pandas as pd

    from kit import submission
    from kit.data.pixels import UNREADABLE, read_csv, unreadable

    try:
        rows = len(read_csv(path, sniffed=False, usecols=[0])) if path.is_file() else 0
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        rows = 0  # read_and_validate names the defect
    except UNREADABLE as exc:
        raise unreadable(path, exc) from None
    print(
        f"note: no local data for {cfg.competition.slug}: {path.name} is checked against the "
        f"config only (ids {cfg.submission.id_start}..): `make data` enables the full check",
        file=sys.stderr,
    )
    ids = np.arange(cfg.submission.id_start, cfg.submission.id_start + rows)
    return submission.expected(cfg, ids, None)


def with_recorded_data(cfg: Config, record: dict[str, Any]) -> Config:
    """Without DATA=, validate against the data folder the file was predicted from (its record
    names it) when no downloaded copy exists: the same ids the file was written for."""
    from kit import config
    from kit.data import has_local_copy

    recorded = record.get("config", {}).get("data", {}).get("dir", "")
    has_download = has_local_copy(cfg, paths.data_dir(cfg.competition.slug))
    if cfg.data.dir or has_download or not recorded or not Path(recorded).is_dir():
        return cfg
    return config.replace(cfg, data={"dir": recorded})


def tracker_row(slug: str, path: Path, record: dict[str, Any], sha: str, **fields: Any) -> int:
    """The row of this file written and not yet submitted, updated; else a new row."""
    rows = tracker.query(
        slug,
        "SELECT id FROM submissions WHERE file = ? AND sha256 = ? AND kaggle_ref "
        "IS NULL AND status IN ('written', 'failed') ORDER BY id DESC",
        (path.name, sha),
    )
    base = tracker.record_fields({**record, "file": path.name, "sha256": sha})
    if rows:
        tracker.update_submission(slug, rows[0]["id"], **fields)
        return rows[0]["id"]
    return tracker.add_submission(slug, **{**base, **fields})


def score_offline(cfg: Config, path: Path, frame, exp, record, sha: str, message: str, loaded) -> int:
    """An offline competition: score the file against the test labels and track the score."""
    from kit import metrics, submission

    predicted, probabilities = submission.predictions_of(frame, exp, loaded.test.ids, cfg.num_classes)
    scores = metrics.score_labels(loaded.test.labels, predicted, cfg.competition.metric, probabilities)
    stamp = tracker.now()
    tracker_row(
        cfg.competition.slug,
        path,
        record,
        sha,
        status="scored",
        message=message,
        local_score=scores["score"],
        public_score=scores["score"],
        submitted=stamp,
        scored=stamp,
    )
    where = "the embedded sample's" if loaded.embedded else "the"
    print(
        f"scored locally on {where} test labels "
        f"({cfg.competition.slug} has no Kaggle leaderboard): "
        f"{cfg.competition.metric} {scores['score']:.4f} "
        f"(accuracy {scores['accuracy']:.4f}, macro-F1 {scores['macro_f1']:.4f})"
    )
    print(f"  tracked in {tracker.db_path(cfg.competition.slug)}")
    return 0
