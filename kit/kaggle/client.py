"""The Kaggle client, safely: credentials, errors and retries. The calls themselves are in
`kit.kaggle.endpoints`; downloads in `kit.kaggle.download`.

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
import io
import json
import os
import sys
import time
from collections.abc import Callable
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
CONNECT_TIMEOUT = 15.0
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
        print(f"warning: {path} is readable by other users: run `chmod 600 {path}`", file=sys.stderr)


def has_credentials() -> bool:
    """Whether any credential the `kaggle` package accepts is present (not whether it is valid)."""
    if os.environ.get("KAGGLE_API_TOKEN") or (os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY")):
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
    # `import kaggle` authenticates and, without credentials, prints a 15-line help on stdout
    # (and a permissions warning on stderr) before it gives up; the kit's one line says the same
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            from kaggle.api.kaggle_api_extended import KaggleApi
    except ImportError:
        raise KitError("the `kaggle` package is not installed: run `make setup`") from None
    # VERBOSE=1 makes kagglesdk print every request with its Authorization header: never.
    KaggleApi.args[:] = [arg for arg in KaggleApi.args if arg not in ("--verbose", "-v")]
    client = KaggleApi()
    client.build_kaggle_client = sdk_builder(client)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
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
    timeout = timeouts()
    session.send = lambda request, **kwargs: send(request, **{"timeout": timeout, **kwargs})


def timeouts() -> tuple[float, float]:
    """(connect, read) seconds for every request the kit sends: KIT_KAGGLE_TIMEOUT sets the
    read timeout (120 s), which also bounds each send of an upload."""
    read = float(os.environ.get("KIT_KAGGLE_TIMEOUT", READ_TIMEOUT))
    return min(CONNECT_TIMEOUT, read), read


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
    return (status is not None and status >= 500) or isinstance(error, requests.ConnectionError | requests.Timeout)


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
