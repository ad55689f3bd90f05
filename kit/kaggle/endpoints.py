"""Kaggle API calls, one function each: submissions (list, limits, upload, find, poll), the
leaderboard, kernels (push, status, output), datasets (status, create or version, wait).
Every call goes through `client.call` (retries, timeouts, one-line errors); results come back
as the tracker's plain dicts.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.kaggle.client import AmbiguousSubmission, call, status_of, timeouts

# ---------------------------------------------------------------- submissions


def as_score(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def utc_text(moment) -> str | None:
    """A kagglesdk datetime (naive, UTC) as the tracker writes times: ISO 8601 ending in Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def submission_dict(item) -> dict[str, Any]:
    """An ApiSubmission as the tracker's plain dict (status lower-case, scores as floats)."""
    status = getattr(item.status, "name", str(item.status or "pending"))
    return {
        "ref": int(item.ref),
        "date": utc_text(item.date),
        "message": item.description or "",
        "file": item.file_name or "",
        "status": status.lower(),
        "public_score": as_score(item.public_score),
        "private_score": as_score(item.private_score),
        "error": item.error_description or None,
        "team_name": getattr(item, "team_name", "") or "",
    }


def pages(client, method: str, request_type, competition: str, page_size: int, max_pages: int, what: str):
    """Every response of a paged competitions call, page after page (bounded: at most
    `max_pages`, and a server repeating a token must not loop forever)."""
    token, seen = "", set()
    with client.build_kaggle_client() as sdk:
        fetch = getattr(sdk.competitions.competition_api_client, method)
        for _ in range(max_pages):
            request = request_type()
            request.competition_name = competition
            request.page_size = page_size
            request.page_token = token
            response = call(lambda r=request: fetch(r), what, competition)
            yield response
            token = response.next_page_token
            if not token or token in seen:
                return
            seen.add(token)


def list_submissions(client, competition: str, max_pages: int = 50) -> list[dict[str, Any]]:
    """Our submissions to `competition`, newest first, every page (bounded)."""
    from kagglesdk.competitions.types.competition_api_service import ApiListSubmissionsRequest

    responses = pages(client, "list_submissions", ApiListSubmissionsRequest, competition, 100, max_pages, "submissions")
    return [submission_dict(item) for response in responses for item in response.submissions or []]


def competition_metric(client, competition: str) -> str:
    """Kaggle's name of the competition's evaluation metric ("Categorization Accuracy"), from its
    record in the competitions list (searched by slug, closed ones included); '' if not found."""
    from kagglesdk.competitions.types.competition_api_service import ApiListCompetitionsRequest
    from kagglesdk.competitions.types.competition_enums import CompetitionListTab

    request = ApiListCompetitionsRequest()
    request.search = competition
    request.group = CompetitionListTab.COMPETITION_LIST_TAB_EVERYTHING
    with client.build_kaggle_client() as sdk:
        fetch = sdk.competitions.competition_api_client.list_competitions
        response = call(lambda: fetch(request), "competition record", competition)
    for item in response.competitions or []:
        if (item.ref or "").rstrip("/").rsplit("/", 1)[-1] == competition:  # a URL or the bare slug
            return item.evaluation_metric or ""
    return ""


def submission_limits(client, competition: str) -> dict[str, Any] | None:
    """Today's submission counts, or None where the server does not offer them."""
    from kagglesdk.competitions.types.competition_api_service import ApiGetSubmissionLimitsRequest

    request = ApiGetSubmissionLimitsRequest()
    request.competition_name = competition
    try:
        with client.build_kaggle_client() as sdk:
            limits = call(
                lambda: sdk.competitions.competition_api_client.get_submission_limits(request),
                "submission limits",
                competition,
            )
    except KitError as error:
        if any(f"({code}" in str(error) for code in (401, 403)):
            raise
        print(f"note: could not check the daily limit ({error}); submitting anyway", file=sys.stderr)
        return None
    return {
        "today": limits.num_today or 0,
        "total": limits.num_total or 0,
        "allowed_now": limits.num_allowed_now or 0,
        "by_total": bool(limits.limited_by_total),
    }


def upload_submission(client, competition: str, path: Path, message: str) -> int:
    """StartSubmissionUpload, PUT the bytes, CreateSubmission; returns Kaggle's ref.

    The same three steps as `KaggleApi.competition_submit`, taken one by one so that a refused
    upload is retried safely and an ambiguous CreateSubmission raises AmbiguousSubmission
    instead of being repeated into a second submission.
    """
    from kagglesdk.competitions.types.competition_api_service import (
        ApiCreateSubmissionRequest,
        ApiStartSubmissionUploadRequest,
    )

    with client.build_kaggle_client() as sdk:
        service = sdk.competitions.competition_api_client
        start = ApiStartSubmissionUploadRequest()
        start.competition_name = competition
        start.file_name = path.name
        start.content_length = path.stat().st_size
        start.last_modified_epoch_seconds = int(path.stat().st_mtime)
        upload = call(lambda: service.start_submission_upload(start), "submit (start upload)", competition)
        put_file(path, upload.create_url, competition)
        create = ApiCreateSubmissionRequest()
        create.competition_name = competition
        create.blob_file_tokens = upload.token
        create.submission_description = message
        response = call(lambda: service.create_submission(create), "submit", competition, idempotent=False)
    if not response.ref:
        raise AmbiguousSubmission(KitError(f"submit: Kaggle answered '{response.message}' without a ref"))
    return int(response.ref)


def put_file(path: Path, url: str, competition: str) -> None:
    """PUT the file's bytes to the upload URL, with the kit's timeouts: the `kaggle` package's
    upload_complete sends without one, so an upload that is never answered hung `make submit`
    for ever. Refusals and lost connections are retried (nothing exists before CreateSubmission);
    no answer in time is an error at once, after which nothing was submitted."""
    import requests

    connect, read = timeouts()

    def put() -> None:
        with open(path, "rb") as body:
            try:
                response = requests.put(url, data=body, timeout=(connect, read))
            except requests.Timeout:
                raise KitError(
                    f"submit: the upload of {path.name} got no answer in {read:g} s (KIT_KAGGLE_TIMEOUT); "
                    "nothing was submitted, try again later"
                ) from None
        if response.status_code >= 400:
            response.raise_for_status()  # call() retries 429 / 5xx, explains the rest
        if response.status_code not in (200, 201):
            raise KitError(
                f"submit: the upload of {path.name} was answered {response.status_code}; nothing was submitted"
            )

    call(put, "submit (upload)", competition)


def find_submission(
    remote: list[dict[str, Any]], file_name: str, message: str, known_refs: set[int], since: float
) -> dict[str, Any] | None:
    """After an ambiguous CreateSubmission: the new submission made from this file, if any.

    New means: a ref the tracker does not hold, dated no earlier than `since` (epoch seconds,
    when the upload began) less 10 minutes of clock skew, with this file name or message.
    """
    from datetime import datetime

    for item in remote:
        if item["ref"] in known_refs:
            continue
        if item["date"]:
            made = datetime.fromisoformat(item["date"]).replace(tzinfo=UTC).timestamp()
            if made < since - 600:
                continue
        if item["file"] == file_name or (message and item["message"] == message):
            return item
    return None


def poll_submission(client, competition: str, ref: int, timeout: float, first: float) -> dict[str, Any] | None:
    """List our submissions until `ref` is scored (COMPLETE or ERROR) or `timeout` seconds pass.

    The wait grows 1.5x per poll up to 30 s. Returns the last state seen (None if never listed).
    """
    deadline = time.monotonic() + timeout
    delay, state = first, None
    while True:
        state = next(
            (item for item in list_submissions(client, competition, max_pages=1) if item["ref"] == ref),
            state,
        )
        if state and state["status"] in ("complete", "error"):
            return state
        if time.monotonic() + delay > deadline:
            return state
        shown = state["status"] if state else "not listed yet"
        print(f"  {shown}; next check in {delay:.1f} s (Ctrl-C stops waiting, not the submission)")
        time.sleep(delay)
        delay = min(delay * 1.5, 30.0)


# ---------------------------------------------------------------- leaderboard


def leaderboard(client, competition: str, max_pages: int = 50) -> list[dict[str, Any]]:
    """The public leaderboard in Kaggle's order (rank 1 first), every page (bounded)."""
    from kagglesdk.competitions.types.competition_api_service import ApiGetLeaderboardRequest

    responses = pages(client, "get_leaderboard", ApiGetLeaderboardRequest, competition, 200, max_pages, "leaderboard")
    items = [item for response in responses for item in response.submissions or []]
    return [
        {
            "rank": rank,
            "team_id": item.team_id,
            "team_name": item.team_name,
            "score": as_score(item.score),
            "date": utc_text(item.submission_date),
        }
        for rank, item in enumerate(items, start=1)
    ]


# ---------------------------------------------------------------- kernels


def push_kernel(client, folder: Path) -> dict[str, Any]:
    """Push a kernel folder (kernel-metadata.json + code file); Kaggle queues a run of it."""
    with contextlib.redirect_stdout(io.StringIO()):
        response = call(lambda: client.kernels_push(str(folder)), "kernel-push")
    if response.error:
        raise KitError(f"kernel-push: Kaggle refused the kernel: {response.error}")
    return {
        "ref": response.ref or "",
        "url": response.url or "",
        "version": response.version_number or 0,
    }


def kernel_status(client, kernel_id: str) -> tuple[str, str]:
    """(status, failure message) of the kernel's latest run, status lower-case."""
    response = call(lambda: client.kernels_status(kernel_id), "kernel-status")
    status = getattr(response.status, "name", str(response.status or "unknown"))
    return status.lower(), response.failure_message or ""


def kernel_output(client, kernel_id: str, dest: Path, pattern: str = r"^[^/]+$") -> list[Path]:
    """Download the kernel's output files whose names match `pattern` and its log into `dest`; by
    default the top-level ones (submission, record, probabilities, packed runs: the runs/ folders
    of a finished kernel are the same files again)."""
    dest.mkdir(parents=True, exist_ok=True)
    files, _ = call(
        lambda: client.kernels_output(kernel_id, str(dest), file_pattern=pattern, force=True, quiet=True),
        "kernel-output",
    )
    return [Path(f) for f in files]


# ---------------------------------------------------------------- datasets (a kernel's weights)


def dataset_status(client, ref: str) -> str | None:
    """The dataset's status lower-case (`ready` once Kaggle processed it), None when it does not exist."""
    import requests

    def status() -> str | None:
        try:
            return client.dataset_status(ref)
        except requests.HTTPError as error:
            if status_of(error) == 404:
                return None
            raise

    return call(status, "kernel-push (weights dataset status)")


def upload_dataset(client, folder: Path, ref: str, exists: bool, notes: str) -> None:
    """A private dataset from `folder` (dataset-metadata.json and the files): created when it
    does not exist yet, else a new version of it."""
    what = "kernel-push (weights dataset)"
    with contextlib.redirect_stdout(io.StringIO()):
        if exists:
            response = call(lambda: client.dataset_create_version(str(folder), notes, quiet=True), what)
        else:
            response = call(lambda: client.dataset_create_new(str(folder), public=False, quiet=True), what)
    if response.error:
        raise KitError(f"{what}: Kaggle refused {ref}: {response.error}")


def wait_dataset_ready(client, ref: str, timeout: float, first: float = 5.0) -> None:
    """Poll until Kaggle has processed the dataset: a kernel pushed before would not see it."""
    deadline = time.monotonic() + timeout
    delay = first
    while (status := dataset_status(client, ref)) != "ready":
        if status in ("failed", "deleted"):
            raise KitError(f"kernel-push: Kaggle could not process the dataset {ref} (status {status})")
        if time.monotonic() + delay > deadline:
            raise KitError(
                f"kernel-push: the dataset {ref} is still '{status}' after {timeout:.0f} s; "
                "run `make kernel-push` again when it is ready"
            )
        print(f"  dataset {ref}: {status}; next check in {delay:.0f} s")
        time.sleep(delay)
        delay = min(delay * 1.5, 30.0)
