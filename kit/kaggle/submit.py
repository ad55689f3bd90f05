"""`make submit`: a submission uploaded to Kaggle exactly once, or scored locally offline.

A submission is validated with the validator that wrote it, refused when it was made from the
embedded sample or was already submitted (same content hash, unless FORCE=1), checked against
the daily limit, uploaded once, polled until scored, and tracked in `kit.tracker`.
Offline competitions (`competition.kaggle = ""`) are scored on their test labels (kit.scoring.offline).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from kit import fileio, tracker
from kit.config import Config
from kit.console import signals
from kit.errors import KitError
from kit.kaggle import endpoints
from kit.kaggle.client import WEBSITE, AmbiguousSubmission, api
from kit.scoring.offline import expected_for, score_offline, with_recorded_data
from kit.submission.record import newest, read_record

POLL_TIMEOUT = 600.0  # seconds `make submit` waits for the score before leaving it to `leaderboard`
GRACE = 120.0  # seconds Kaggle's list is watched for a submission whose creation had no clear answer


def grace_seconds() -> float:
    """How long Kaggle's list is watched after an unclear CreateSubmission answer
    (KIT_KAGGLE_GRACE_SECONDS; tests make it short)."""
    return float(os.environ.get("KIT_KAGGLE_GRACE_SECONDS", GRACE))


def poll_first() -> float:
    """The first wait between score checks (KIT_KAGGLE_POLL_SECONDS; tests make it short)."""
    return float(os.environ.get("KIT_KAGGLE_POLL_SECONDS", "5"))


def refuse_duplicates(slug: str, sha: str, force: bool) -> None:
    """A file already submitted (by content) is refused unless FORCE=1; so is one whose upload is
    under way or has no known outcome (it may have counted)."""
    if not force:
        rows = tracker.blocking_rows(slug, sha)
        if rows:
            raise refusal(slug, rows)


def refusal(slug: str, rows: list[dict[str, Any]]) -> KitError:
    """Why this content is not uploaded again, from the tracker rows in the way."""
    made = [row for row in rows if row["kaggle_ref"] or row["status"] in tracker.MADE]
    if made:
        row = made[-1]
        score = f", score {row['public_score']:.5f}" if row["public_score"] is not None else ""
        return KitError(
            f"this file was already submitted ({row['file']}, {row['submitted'] or row['created']}"
            f"{', ref ' + str(row['kaggle_ref']) if row['kaggle_ref'] else ''}{score}): "
            "FORCE=1 submits it again"
        )
    row = rows[-1]
    return KitError(
        f"an upload of this file began at {row['submitted'] or row['created']} and has no known outcome "
        "(another `make submit` may be uploading it, or its answer was lost): run `make leaderboard "
        f"COMP={slug}` to see whether Kaggle has it, or FORCE=1 to submit anyway"
    )


def hash_tag(sha: str) -> str:
    return f"sha256:{sha[:12]}"


def default_message(path: Path, record: dict[str, Any], sha: str) -> str:
    cv = record.get("cv_score")
    cv_text = f" CV {cv:.5f}" if isinstance(cv, int | float) else ""
    return f"{path.stem}{cv_text} {hash_tag(sha)}"


def tagged(message: str, sha: str) -> str:
    """Every message carries the content's hash: Kaggle's own list then says which files were
    submitted, on any machine and after `make clean` removed the tracker."""
    return message if hash_tag(sha) in message else f"{message} {hash_tag(sha)}"


def cmd_submit(args, cfg: Config) -> int:
    """Validate, refuse wasted submissions, upload once, poll the score, track it."""
    from kit import submission

    slug = cfg.competition.slug
    if not cfg.competition.kaggle and not cfg.data.test_labels:
        raise KitError(
            f"{slug} has no Kaggle slug (`kaggle` in its competition.toml) and no test labels "
            "to score against: nowhere to submit"
        )
    path = Path(args.file).expanduser() if args.file else newest(slug)
    record = read_record(path)
    cfg = with_recorded_data(cfg, record)
    exp, loaded = expected_for(cfg, path)
    frame = submission.read_and_validate(path, exp)
    sha = fileio.sha256_file(path)
    if record.get("sha256") and record["sha256"] != sha:
        print(
            f"warning: {path.name} changed since it was written (hash differs from its record)",
            file=sys.stderr,
        )
    if record.get("embedded_sample") and cfg.competition.kaggle:
        raise KitError(
            f"{path.name} was made from the embedded sample, not the competition's data: "
            f"run `make data COMP={slug}` and predict again"
        )
    refuse_duplicates(slug, sha, args.force)  # early, to say so before any work; claimed below
    message = tagged(args.message, sha) if args.message else default_message(path, record, sha)
    print(f"{path} valid: {len(frame)} rows, sha256 {sha[:12]}")
    if not cfg.competition.kaggle:
        return score_offline(cfg, path, frame, exp, record, sha, message, loaded)
    timeout = getattr(args, "timeout", POLL_TIMEOUT)
    return submit_to_kaggle(cfg, path, record, sha, message, timeout, args.force)


def check_limits(limits: dict[str, Any] | None, competition: str) -> None:
    """Refuse before uploading when Kaggle allows no submission now. All counts zero is what
    Kaggle answers to someone with no team yet, whose upload would be refused (403) anyway."""
    if not limits:
        return
    if limits["allowed_now"] > 0:
        print(f"  {limits['allowed_now']} submission(s) left today")
        return
    if limits["by_total"]:
        why = "the competition's lifetime cap is reached"
    elif limits["today"] > 0:
        why = f"today's limit is reached ({limits['today']} made today; a new day starts 00:00 UTC)"
    else:
        why = (
            "Kaggle allows none now; if you have not joined, accept the rules at "
            f"{WEBSITE}/competitions/{competition}/rules"
        )
    raise KitError(f"{competition}: no submissions left: {why}; nothing was uploaded")


def claim(slug: str, path: Path, record, sha: str, message: str, force: bool) -> int:
    """Check and mark `uploading` in one step, before any network call: of two `make submit` of
    one file at once, one uploads and the other is refused (a crash leaves the mark as a trace)."""
    base = tracker.record_fields({**record, "file": path.name, "sha256": sha})
    fields = {"status": "uploading", "message": message, "submitted": tracker.now(), "error": None}
    row, in_the_way = tracker.claim_upload(slug, path.name, sha, base, fields, force)
    if row is None:
        raise refusal(slug, in_the_way)
    return row


def on_kaggle(client, competition: str, sha: str) -> dict[str, Any] | None:
    """Our newest submission on Kaggle whose message carries this content's hash, if any: the
    record that survives `make clean` and holds on every machine."""
    tag = hash_tag(sha)
    return next((item for item in endpoints.list_submissions(client, competition) if tag in item["message"]), None)


def submit_to_kaggle(cfg: Config, path: Path, record, sha: str, message: str, timeout: float, force: bool) -> int:
    """Claim the file, check the limit, upload once, settle an unclear answer from Kaggle's list,
    then follow the score."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    known = {row["kaggle_ref"] for row in tracker.submissions(slug) if row["kaggle_ref"]}
    started = time.time()
    row = claim(slug, path, record, sha, message, force)
    try:
        client = api()
        found = None if force else on_kaggle(client, competition, sha)
        if not found:
            check_limits(endpoints.submission_limits(client, competition), competition)
    except BaseException:  # nothing was sent: no submission to remember, and the file is free again
        tracker.forget_submission(slug, row)
        raise
    if found:
        tracker.forget_submission(slug, row)
        tracker.sync_remote(slug, [found], sha256=sha)  # the tracker knows it from now on
        raise KitError(
            f"Kaggle already has this file (ref {found['ref']}, {found['date']}, '{found['message']}'): "
            "FORCE=1 submits it again"
        )
    try:
        ref = endpoints.upload_submission(client, competition, path, message)
    except AmbiguousSubmission as unclear:
        ref = reconcile(client, cfg, row, path, message, (known, started), unclear)
    except KitError as error:
        tracker.update_submission(slug, row, status="failed", error=str(error))
        raise
    except KeyboardInterrupt:
        print(
            f"interrupted during the upload: `make leaderboard COMP={slug}` finds out whether it counted",
            file=sys.stderr,
        )
        return signals.INTERRUPTED
    tracker.update_submission(slug, row, kaggle_ref=ref, status="pending")
    print(f"submitted {path.name} to {competition}: ref {ref}; waiting for the score ...")
    return follow(client, cfg, row, ref, timeout)


def reconcile(client, cfg: Config, row: int, path: Path, message: str, seen: tuple, unclear) -> int:
    """CreateSubmission had no clear answer: look in Kaggle's list instead of sending it again,
    for a grace period, since Kaggle may make it a moment later. Not found by then, the outcome is
    `unknown`: the file is refused without FORCE=1 until `make leaderboard` settles it.
    `seen` is (refs the tracker already holds, when the upload began)."""
    slug, competition = cfg.competition.slug, cfg.competition.kaggle
    error, grace = unclear.args[0], grace_seconds()
    try:
        found, listing = look_for(client, competition, path, message, seen, grace)
        why = f"Kaggle's list is unavailable ({listing})" if listing else f"Kaggle has not listed it in {grace:.0f} s"
    except KeyboardInterrupt:
        found, why = None, "stopped looking in Kaggle's list (Ctrl-C)"
    if found is None:
        tracker.update_submission(slug, row, status="unknown", error=f"{error}; {why}")
        raise KitError(
            f"{error}; {why}: the submission of {path.name} may still appear, so the file is not "
            f"uploaded again: `make leaderboard COMP={slug}` settles it (10 minutes after the upload), "
            "FORCE=1 submits anyway"
        )
    print(f"note: {error}; but Kaggle lists the submission (ref {found['ref']}): recorded", file=sys.stderr)
    return found["ref"]


def look_for(client, competition: str, path: Path, message: str, seen: tuple, grace: float):
    """(the new submission in Kaggle's list or None, the KitError of the last listing or None),
    looking again with growing waits until `grace` seconds have passed."""
    deadline = time.monotonic() + grace
    delay = poll_first()
    while True:
        try:
            remote = endpoints.list_submissions(client, competition)
            found, listing = endpoints.find_submission(remote, path.name, message, *seen), None
        except KitError as error:
            found, listing = None, error
        if found or time.monotonic() + delay > deadline:
            return found, listing
        print(f"  not in Kaggle's list yet; looking again in {delay:.1f} s (for up to {grace:.0f} s)")
        time.sleep(delay)
        delay = min(delay * 1.5, 15.0)


def follow(client, cfg: Config, row: int, ref: int, timeout: float) -> int:
    """Poll until scored; Ctrl-C or a timeout leaves it pending for `make leaderboard`."""
    slug = cfg.competition.slug
    later = f"`make leaderboard COMP={slug}` picks up its score"
    try:
        state = endpoints.poll_submission(client, cfg.competition.kaggle, ref, timeout, poll_first())
    except KeyboardInterrupt:
        print(f"stopped waiting: submission {ref} is made and tracked; {later}", file=sys.stderr)
        return signals.INTERRUPTED
    except KitError as error:
        print(f"warning: could not follow submission {ref} ({error}); {later}", file=sys.stderr)
        return 1
    if not state or state["status"] not in ("complete", "error"):
        print(f"not scored after {timeout:.0f} s: {later}")
        return 0
    stamp = tracker.now()
    tracker.update_submission(
        slug,
        row,
        status=state["status"],
        public_score=state["public_score"],
        private_score=state["private_score"],
        error=state["error"],
        scored=stamp,
    )
    if state["status"] == "error":
        raise KitError(f"Kaggle could not score submission {ref}: {state['error'] or 'no reason given'}")
    print(
        f"public score {state['public_score']}"
        f"{'' if state['private_score'] is None else ', private ' + str(state['private_score'])}"
    )
    print(f"  tracked in {tracker.db_path(slug)}")
    return 0
