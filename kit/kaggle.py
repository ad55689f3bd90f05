"""The Kaggle API, safely: credentials, retries, downloads, submissions, leaderboard, kernels.

The `kaggle` package (2.2.x, on top of `kagglesdk`) does the talking; `kagglehub` downloads and
caches competition files. Both are imported lazily: `import kaggle` authenticates on import and
exits the process when there are no credentials, so the kit imports
`kaggle.api.kaggle_api_extended.KaggleApi` itself and turns every failure into a one-line
`KitError`.

Rules this module keeps:
- credentials are read the way the `kaggle` package reads them and never printed, logged or
  stored (its verbose mode, which prints the Authorization header, is switched off);
- 429 (honouring Retry-After) and 5xx answers are retried with a bounded backoff, except that
  CreateSubmission is never sent twice after an ambiguous answer: the caller checks Kaggle's list
  of submissions instead (`find_submission`);
- anything else stops with Kaggle's own message, and 401 / 403 / 404 say what to do.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import shutil
import sys
import time
import zipfile
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

from kit.errors import KitError

T = TypeVar("T")

WEBSITE = "https://www.kaggle.com"
RETRIES = 5  # attempts per call on 429 / 5xx / connection errors
BACKOFF_FIRST = 2.0  # seconds before the second attempt; doubles, capped below
BACKOFF_CAP = 60.0
RETRY_AFTER_CAP = 300.0  # a Retry-After longer than this is cut: the user is waiting
READ_TIMEOUT = 120.0  # seconds to wait for an API answer (KIT_KAGGLE_TIMEOUT overrides)
NO_CREDENTIALS = (
    "no Kaggle credentials: create an API token at https://www.kaggle.com/settings/api and set "
    "KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or save kaggle.json in ~/.kaggle/ "
    "(or $KAGGLE_CONFIG_DIR) with `chmod 600`"
)


class AmbiguousSubmission(Exception):
    """CreateSubmission got no clear answer: Kaggle may or may not have made the submission."""


# ---------------------------------------------------------------- credentials


def config_dir() -> Path:
    """The folder the `kaggle` package reads kaggle.json from (same rules as its KaggleApi)."""
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return Path(os.environ["KAGGLE_CONFIG_DIR"])
    home = Path.home() / ".kaggle"
    if sys.platform.startswith("linux") and not home.exists():
        return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kaggle"
    return home


def read_kaggle_json() -> dict[str, str]:
    path = config_dir() / "kaggle.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def warn_if_readable() -> None:
    """A kaggle.json that other users can read gets a warning (the key is never shown)."""
    path = config_dir() / "kaggle.json"
    if os.name != "nt" and path.is_file() and path.stat().st_mode & 0o044:
        print(
            f"warning: {path} is readable by other users: run `chmod 600 {path}`", file=sys.stderr
        )


def has_credentials() -> bool:
    """Whether any credential the `kaggle` package accepts is present (not whether it is valid)."""
    if os.environ.get("KAGGLE_API_TOKEN") or (
        os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")
    ):
        return True
    saved = read_kaggle_json()
    if saved.get("username") and saved.get("key"):
        return True
    kaggle_home = Path.home() / ".kaggle"
    return (kaggle_home / "access_token").is_file() or (kaggle_home / "credentials.json").is_file()


def username() -> str:
    """The Kaggle user name from the environment or kaggle.json, without any network call."""
    return os.environ.get("KAGGLE_USERNAME") or str(read_kaggle_json().get("username", ""))


def secrets() -> list[str]:
    """The secret values present (key, token), only to check that no bundle contains them."""
    values = [os.environ.get("KAGGLE_KEY", ""), str(read_kaggle_json().get("key", ""))]
    token = os.environ.get("KAGGLE_API_TOKEN", "")
    if token and Path(token).is_file():
        token = Path(token).read_text().strip()
    values.append(token)
    with contextlib.suppress(OSError):
        values.append((Path.home() / ".kaggle" / "access_token").read_text().strip())
    return [value for value in values if len(value) >= 8]


def api():
    """An authenticated `KaggleApi`; a clear KitError when there are no usable credentials."""
    warn_if_readable()
    try:
        from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError:
        raise KitError("the `kaggle` package is not installed: run `make setup`") from None
    # VERBOSE=1 makes kagglesdk print every request with its Authorization header: never.
    KaggleApi.args[:] = [arg for arg in KaggleApi.args if arg not in ("--verbose", "-v")]
    client = KaggleApi()
    client.build_kaggle_client = sdk_builder(client)
    # authenticate() prints its own help (and a permissions warning) on stdout; ours is on stderr.
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            client.authenticate()
        except SystemExit:
            raise KitError(NO_CREDENTIALS) from None
    return client


def sdk_builder(client) -> Callable[[], Any]:
    """KaggleApi.build_kaggle_client, but with kagglesdk's own reading of KAGGLE_API_ENVIRONMENT
    (the `kaggle` package knows only LOCALHOST; kagglehub also honours TEST) and never verbose."""
    from kagglesdk import KaggleClient
    from kagglesdk.kaggle_env import get_env

    try:
        env = get_env()
    except Exception as error:  # kagglesdk raises a bare Exception for an unknown value
        raise KitError(str(error)) from None

    def build():
        values = client.config_values
        sdk = KaggleClient(
            env=env,
            verbose=False,
            username=values.get("username"),
            password=values.get("key"),
            api_token=values.get("token"),
            response_processor=client.get_response_processor(),
        )
        with_timeout(sdk)
        return sdk

    return build


def with_timeout(sdk) -> None:
    """kagglesdk sends without a timeout, so a server that stops answering would hang `make`
    forever; every API request gets a timeout instead (one is retried like a 5xx)."""
    http = getattr(sdk, "_http_client", None)
    if http is None or not hasattr(http, "_init_session"):
        return  # another kagglesdk layout: leave it as it is
    http._init_session()
    session = http._session
    send = session.send
    timeout = (15.0, float(os.environ.get("KIT_KAGGLE_TIMEOUT", READ_TIMEOUT)))
    session.send = lambda request, **kwargs: send(request, **{"timeout": timeout, **kwargs})


# ---------------------------------------------------------------- errors and retries


def status_of(error: BaseException) -> int | None:
    """The HTTP status, or the `code` of a JSON error body (kagglesdk raises those on a 200)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    if status is not None and status < 400:
        with contextlib.suppress(Exception):
            status = int(response.json()["code"])
    return status


def api_message(error: BaseException) -> str:
    """Kaggle's own message: the JSON body's `message` when there is one, else the error text."""
    response = getattr(error, "response", None)
    try:
        body = response.json()
        if isinstance(body, dict) and body.get("message"):
            return str(body["message"])
    except Exception:  # not JSON, or no response at all
        pass
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def explain(error: BaseException, what: str, competition: str = "") -> KitError:
    """A one-line KitError for a failed call, saying what to do for 401, 403 and 404."""
    status = status_of(error)
    message = api_message(error)
    if status == 401:
        return KitError(
            f"{what}: Kaggle rejected the credentials (401 {message}); check KAGGLE_USERNAME"
            f"/KAGGLE_KEY or {config_dir() / 'kaggle.json'}, or make a new token at "
            f"{WEBSITE}/settings/api"
        )
    if status == 403 and competition:
        return KitError(
            f"{what}: Kaggle refused access to '{competition}' (403 {message}); accept the "
            f"competition's rules at {WEBSITE}/competitions/{competition}/rules and retry"
        )
    if status == 404 and competition:
        return KitError(
            f"{what}: Kaggle has no competition '{competition}' (404 {message}); check "
            f"`kaggle` in the competition's competition.toml ({WEBSITE}/competitions)"
        )
    if status is None:
        return KitError(f"{what}: {message}")
    return KitError(f"{what}: Kaggle answered {status}: {message}")


def retry_delay(error: BaseException, attempt: int) -> float:
    """Retry-After when Kaggle sends it (capped), else exponential backoff."""
    header = getattr(getattr(error, "response", None), "headers", {}) or {}
    try:
        return min(max(float(header.get("Retry-After")), 0.0), RETRY_AFTER_CAP)
    except (TypeError, ValueError):
        return min(BACKOFF_FIRST * 2 ** (attempt - 1), BACKOFF_CAP)


def retriable(error: BaseException, idempotent: bool) -> bool:
    """429 is always safe to repeat (the request was refused); 5xx and broken connections only
    when repeating cannot create a second object."""
    import requests

    status = status_of(error)
    if status == 429:
        return True
    if not idempotent:
        return False
    return (status is not None and 500 <= status < 600) or isinstance(
        error, requests.ConnectionError | requests.Timeout
    )


def unclear(error: BaseException) -> bool:
    """Whether a failed request may still have been carried out (5xx, lost connection)."""
    import requests

    status = status_of(error)
    return (status is not None and status >= 500) or isinstance(
        error, requests.ConnectionError | requests.Timeout
    )


def describe_failure(error: BaseException) -> str:
    """A request that got no HTTP answer: timed out, or no connection at all."""
    import requests

    return "nothing in time" if isinstance(error, requests.Timeout) else "nothing (no connection)"


def call(fn: Callable[[], T], what: str, competition: str = "", idempotent: bool = True) -> T:
    """Run one API call with bounded retries; any other failure becomes a KitError."""
    import requests

    for attempt in range(1, RETRIES + 1):
        try:
            return fn()
        except (requests.RequestException, OSError) as error:
            if attempt < RETRIES and retriable(error, idempotent):
                delay = retry_delay(error, attempt)
                reason = status_of(error) or describe_failure(error)
                print(
                    f"{what}: Kaggle answered {reason}; retrying in {delay:.0f} s ({attempt}/{RETRIES - 1})",
                    file=sys.stderr,
                )
                time.sleep(delay)
                continue
            if not idempotent and unclear(error):
                raise AmbiguousSubmission(explain(error, what, competition)) from None
            raise explain(error, what, competition) from None
        except ValueError as error:  # the kaggle package's own validation (kernels, slugs)
            raise KitError(f"{what}: {error}") from None
    raise AssertionError("unreachable")


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


def list_submissions(client, competition: str, max_pages: int = 50) -> list[dict[str, Any]]:
    """Our submissions to `competition`, newest first, every page (bounded)."""
    from kagglesdk.competitions.types.competition_api_service import ApiListSubmissionsRequest

    found, token, seen = [], "", set()
    with client.build_kaggle_client() as sdk:
        for _ in range(max_pages):
            request = ApiListSubmissionsRequest()
            request.competition_name = competition
            request.page_size = 100
            request.page_token = token
            response = call(
                lambda r=request: sdk.competitions.competition_api_client.list_submissions(r),
                "submissions",
                competition,
            )
            found += [submission_dict(item) for item in response.submissions or []]
            token = response.next_page_token
            if not token or token in seen:  # a server repeating a token must not loop forever
                break
            seen.add(token)
    return found


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
        print(
            f"note: could not check the daily limit ({error}); submitting anyway", file=sys.stderr
        )
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
    from kaggle.models.kaggle_models_extended import ResumableUploadResult
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
        upload = call(
            lambda: service.start_submission_upload(start), "submit (start upload)", competition
        )
        with contextlib.redirect_stdout(io.StringIO()):  # its progress bar and error prints
            result = client.upload_complete(str(path), upload.create_url, quiet=True)
        if result != ResumableUploadResult.COMPLETE:
            raise KitError(f"submit: the upload of {path.name} failed; no submission was made")
        create = ApiCreateSubmissionRequest()
        create.competition_name = competition
        create.blob_file_tokens = upload.token
        create.submission_description = message
        response = call(
            lambda: service.create_submission(create), "submit", competition, idempotent=False
        )
    if not response.ref:
        raise AmbiguousSubmission(
            KitError(f"submit: Kaggle answered '{response.message}' without a ref")
        )
    return int(response.ref)


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


def poll_submission(
    client, competition: str, ref: int, timeout: float, first: float
) -> dict[str, Any] | None:
    """List our submissions until `ref` is scored (COMPLETE or ERROR) or `timeout` seconds pass.

    The wait grows 1.5x per poll up to 30 s. Returns the last state seen (None if never listed).
    """
    deadline = time.monotonic() + timeout
    delay, state = first, None
    while True:
        state = next(
            (
                item
                for item in list_submissions(client, competition, max_pages=1)
                if item["ref"] == ref
            ),
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

    entries, token, seen = [], "", set()
    with client.build_kaggle_client() as sdk:
        for _ in range(max_pages):
            request = ApiGetLeaderboardRequest()
            request.competition_name = competition
            request.page_size = 200
            request.page_token = token
            response = call(
                lambda r=request: sdk.competitions.competition_api_client.get_leaderboard(r),
                "leaderboard",
                competition,
            )
            for item in response.submissions or []:
                entries.append(
                    {
                        "rank": len(entries) + 1,
                        "team_id": item.team_id,
                        "team_name": item.team_name,
                        "score": as_score(item.score),
                        "date": utc_text(item.submission_date),
                    }
                )
            token = response.next_page_token
            if not token or token in seen:
                break
            seen.add(token)
    return entries


# ---------------------------------------------------------------- data


def download_competition(competition: str, dest: Path) -> list[Path]:
    """The competition's files into `dest`, zips unpacked; kagglehub caches and checks MD5s.

    The `kaggle` package downloads instead where kagglehub cannot: when it is not installed, or
    when the only credential is an OAuth login (`kaggle auth login`), which kagglehub does not
    read. `dest` appears complete or not at all: files are gathered in a sibling folder first.
    """
    if not has_credentials():
        raise KitError(NO_CREDENTIALS)
    warn_if_readable()
    staging = dest.parent / f".{dest.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    source = None
    try:
        import kagglehub
    except ImportError:
        kagglehub = None
    if kagglehub is not None:
        with contextlib.suppress(HubUnauthenticated):
            source = Path(call(lambda: kagglehub_download(kagglehub, competition), "data", competition))
    if source is None:
        client = api()
        fetch = functools.partial(client.competition_download_files, competition, str(staging), quiet=True)
        call(fetch, "data", competition)
        source = staging
    copy_unzipped(source, staging)
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    return sorted(p for p in dest.rglob("*") if p.is_file())


class HubUnauthenticated(Exception):
    """kagglehub found no credential it reads (the `kaggle` package may still have one)."""


def kagglehub_download(kagglehub, competition: str) -> str:
    """kagglehub's cached download. Its client turns verbose under KAGGLE_API_ENVIRONMENT=TEST
    and prints every request with its Authorization header on stdout: that output is dropped."""
    from kagglehub.exceptions import UnauthenticatedError

    verbose = os.environ.get("KAGGLE_API_ENVIRONMENT") == "TEST"
    quiet = contextlib.redirect_stdout(io.StringIO()) if verbose else contextlib.nullcontext()
    try:
        with quiet:
            return kagglehub.competition_download(competition)
    except UnauthenticatedError:
        raise HubUnauthenticated() from None


def copy_unzipped(source: Path, dest: Path) -> None:
    """Copy a downloaded folder (or zip) into `dest`, unpacking every zip archive in it."""
    items = [source] if source.is_file() else sorted(source.iterdir())
    for item in items:
        if item.is_dir():
            shutil.copytree(item, dest / item.name, dirs_exist_ok=True)
        elif zipfile.is_zipfile(item):
            with zipfile.ZipFile(item) as archive:
                archive.extractall(dest)  # extractall drops absolute paths and '..' parts
            if item.parent == dest:
                item.unlink()
        elif item.parent != dest:
            shutil.copy2(item, dest / item.name)


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


def kernel_output(client, kernel_id: str, dest: Path) -> list[Path]:
    """Download the kernel's output files and its log into `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    files, _ = call(
        lambda: client.kernels_output(kernel_id, str(dest), force=True, quiet=True), "kernel-output"
    )
    return [Path(f) for f in files]
