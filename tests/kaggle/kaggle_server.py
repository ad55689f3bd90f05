"""A local HTTP server that speaks Kaggle's wire protocol, for the real `kaggle` client.

Every API call is `POST /api/v1/{service}/{Method}` with a camelCase JSON body (kagglesdk's
LOCALHOST environment); file bytes go by `PUT` to the upload URL the server hands out. The client
reaches it through `HTTP_PROXY`, so request lines carry absolute URIs (`http://localhost/...`).
Only 127.0.0.1 is ever bound.

The server records every request and takes injectable faults: `fail("Method", 429, times=1,
retry_after=1)`, `fail("CreateSubmission", 500)`, `hang("Method", 3)` (no answer, then 504),
`slow("Method", 2)` (the usual answer, late), `state.put_stall = 60` (uploads unanswered),
`create_late(2, 500)` (a 500, and the submission made 2 s later), `limits = {...}`, `bad_auth = True`, ...
Datasets (`kaggle datasets create / version / status`): StartBlobUpload, PUT, CreateDataset or
CreateDatasetVersion, GetDatasetStatus (404 for a dataset that does not exist); `state.datasets`
holds each one's versions as {file name: bytes}.

>>> with KaggleServer() as server:
...     server.port > 0
True
"""

from __future__ import annotations

import base64
import io
import json
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

USER, KEY = "kit-tester", "0123456789abcdef0123456789abcdef"
HANG = 504  # a fault that first keeps the client waiting
SLOW = 0  # not a fault: the call is answered as usual, only late


def now() -> str:
    """The current UTC time as Kaggle writes dates."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Request:
    method: str  # HTTP verb
    path: str
    call: str  # the API method name ('' for uploads and downloads)
    body: bytes
    json: dict
    headers: dict


@dataclass
class State:
    requests: list[Request] = field(default_factory=list)
    faults: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)  # token -> bytes received
    upload_names: dict[str, str] = field(default_factory=dict)  # token -> fileName announced
    submissions: list[dict] = field(default_factory=list)  # newest last
    pending_polls: int = 1  # ListSubmissions answers PENDING this many times per submission
    score: str = "0.98765"
    limits: dict = field(default_factory=lambda: {"numToday": 1, "numTotal": 3, "numAllowedNow": 4})
    leaderboard: list[dict] = field(default_factory=list)
    data_zip: bytes = b""
    kernel_status: str = "COMPLETE"
    kernel_failure: str = ""
    kernel_files: dict[str, bytes] = field(default_factory=dict)
    kernel_log: str = ""
    saved_kernels: list[dict] = field(default_factory=list)
    datasets: dict[str, dict] = field(default_factory=dict)  # "owner/slug" -> {private, versions: [{name: bytes}]}
    put_stall: float = 0.0  # seconds a PUT waits, its bytes received, before it is answered
    late_creates: list[tuple[float, int, float]] = field(default_factory=list)  # (delay, status, hang)
    stop: threading.Event = field(default_factory=threading.Event)  # ends every stall at shutdown
    bad_auth: bool = False
    forbidden: bool = False  # 403 on competition calls: rules not accepted
    known_competitions: tuple[str, ...] = ("digit-recognizer",)
    # the competitions list's records: slug -> evaluationMetric (as Kaggle names it)
    competition_metrics: dict[str, str] = field(default_factory=lambda: {"digit-recognizer": "Categorization Accuracy"})


class KaggleServer:
    """Start with `with KaggleServer() as server:`; `server.env()` points a client at it."""

    def __init__(self) -> None:
        self.state = State()
        self.lock = threading.Lock()
        handler = type("Handler", (Handler,), {"server_state": self.state, "lock": self.lock})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> KaggleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.state.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def env(self) -> dict[str, str]:
        """Environment for a client process: LOCALHOST endpoint via this server as HTTP proxy."""
        proxy = f"http://127.0.0.1:{self.port}"
        return {
            "KAGGLE_API_ENVIRONMENT": "LOCALHOST",
            "HTTP_PROXY": proxy,
            "http_proxy": proxy,
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def hang(self, call: str, seconds: float) -> None:
        """The next `call` gets no answer for `seconds` (then a 504)."""
        self.state.faults.setdefault(call, []).append((HANG, {"seconds": str(seconds)}))

    def slow(self, call: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `call` are answered as usual, after `seconds`."""
        self.state.faults.setdefault(call, []).extend([(SLOW, {"seconds": str(seconds)})] * times)

    def create_late(self, delay: float, status: int = 500, hang: float = 0.0) -> None:
        """The next CreateSubmission gets no answer for `hang` seconds, then `status`; the
        submission itself appears in the list `delay` seconds after the request came."""
        self.state.late_creates.append((delay, status, hang))

    def fail(self, call: str, status: int, times: int = 1, retry_after: float | None = None) -> None:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        self.state.faults.setdefault(call, []).extend([(status, headers)] * times)

    def calls(self, name: str) -> list[Request]:
        return [r for r in self.state.requests if r.call == name]

    def puts(self) -> list[Request]:
        return [r for r in self.state.requests if r.method == "PUT"]

    def add_submission(self, **fields) -> dict:
        """A submission that exists on 'Kaggle' already (made on the website, say)."""
        ref = 1000 + len(self.state.submissions)
        item = {
            "ref": ref,
            "date": now(),
            "description": "",
            "fileName": "x.csv",
            "status": "COMPLETE",
            "publicScore": self.state.score,
            "teamName": "Kit Team",
            "polls": 99,
            **fields,
        }
        self.state.submissions.append(item)
        return item


class Handler(BaseHTTPRequestHandler):
    server_state: State
    lock: threading.Lock
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet test output
        pass

    # -- plumbing

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send(
        self,
        status: int,
        payload=None,
        headers: dict | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
    ) -> None:
        body = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def error(self, status: int, message: str, headers: dict | None = None) -> None:
        self.send(status, {"code": status, "message": message}, headers)

    def authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"{USER}:{KEY}".encode()).decode()
        return not self.server_state.bad_auth and self.headers.get("Authorization") == expected

    def record(self, call: str, body: bytes) -> Request:
        try:
            parsed = json.loads(body) if body and call else {}
        except ValueError:
            parsed = {}
        request = Request(self.command, urlsplit(self.path).path, call, body, parsed, dict(self.headers))
        with self.lock:
            self.server_state.requests.append(request)
        return request

    def fault(self, call: str) -> bool:
        with self.lock:
            queue = self.server_state.faults.get(call)
            if not queue:
                return False
            status, headers = queue.pop(0)
        if status == SLOW:
            time.sleep(float(headers["seconds"]))
            return False
        if status == HANG:
            time.sleep(float(headers.pop("seconds")))  # the client gives up first; then answer late
        self.error(status, f"injected {status}", headers)
        return True

    # -- verbs

    def do_PUT(self) -> None:
        body = self.read_body()
        self.record("", body)
        token = urlsplit(self.path).path.rsplit("/", 1)[-1]
        with self.lock:
            self.server_state.uploads[token] = body
        if self.server_state.put_stall:
            self.server_state.stop.wait(self.server_state.put_stall)
        self.send(200, {})

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        self.record("", b"")
        if path.startswith("/files/") and path.endswith(".zip"):
            self.send(200, raw=self.server_state.data_zip, content_type="application/zip")
        elif path.startswith("/kernel-files/"):
            name = unquote(path.removeprefix("/kernel-files/"))  # runs/<run>/fold0/... nest
            self.send(200, raw=self.server_state.kernel_files.get(name, b""), content_type="text/csv")
        else:
            self.error(404, f"no such file {path}")

    def do_POST(self) -> None:
        body = self.read_body()
        path = urlsplit(self.path).path
        call = path.rsplit("/", 1)[-1] if path.startswith("/api/v1/") else ""
        request = self.record(call, body)
        if not call:
            return self.error(404, f"unknown path {path}")
        if not self.authorised():
            return self.error(401, "Unauthenticated")
        if self.fault(call):
            return None
        competition = request.json.get("competitionName")
        if competition is not None:
            if competition not in self.server_state.known_competitions:
                return self.error(404, f"Competition '{competition}' not found")
            if self.server_state.forbidden:
                return self.error(
                    403,
                    "You must accept this competition's rules before you'll be able to join the competition",
                )
        handler = getattr(self, f"api_{call}", None)
        if handler is None:
            return self.error(404, f"method {call} not implemented")
        return handler(request.json)

    # -- competitions.CompetitionApiService

    def api_StartSubmissionUpload(self, body: dict) -> None:
        with self.lock:
            token = f"tok{len(self.server_state.requests)}"
            self.server_state.upload_names[token] = body.get("fileName", "")
        self.send(200, {"token": token, "createUrl": f"http://localhost/upload/{token}"})

    def api_CreateSubmission(self, body: dict) -> None:
        state = self.server_state
        token = body.get("blobFileTokens")
        if token not in state.uploads:
            return self.error(400, f"unknown blob token {token}")
        with self.lock:
            late = state.late_creates.pop(0) if state.late_creates else None
        if late:
            delay, status, hang = late
            threading.Timer(delay, self.create, (body, token)).start()
            state.stop.wait(hang)
            return self.error(status, f"injected {status}")
        item = self.create(body, token)
        return self.send(200, {"message": "Successfully submitted", "ref": item["ref"]})

    def create(self, body: dict, token: str) -> dict:
        state = self.server_state
        with self.lock:
            item = {
                "ref": 5000 + len(state.submissions),
                "date": now(),
                "description": body.get("submissionDescription", ""),
                "fileName": state.upload_names.get(token, ""),
                "status": "PENDING",
                "teamName": "Kit Team",
                "polls": 0,
                "token": token,
                "bytes": state.uploads[token],
            }
            state.submissions.append(item)
        return item

    def api_ListSubmissions(self, body: dict) -> None:
        state = self.server_state
        listed = []
        with self.lock:
            for item in reversed(state.submissions):
                item["polls"] += 1
                if item["status"] == "PENDING" and item["polls"] > state.pending_polls:
                    item["status"], item["publicScore"] = "COMPLETE", state.score
                listed.append({k: v for k, v in item.items() if k not in ("polls", "token", "bytes")})
        self.send(200, {"submissions": listed})

    def api_GetSubmissionLimits(self, body: dict) -> None:
        self.send(200, self.server_state.limits)

    def api_GetLeaderboard(self, body: dict) -> None:
        self.send(200, {"submissions": self.server_state.leaderboard})

    def api_ListCompetitions(self, body: dict) -> None:
        """Records whose slug contains `search`, each with its `ref` as a URL, as Kaggle answers."""
        search = body.get("search", "")
        found = [
            {"ref": f"https://www.kaggle.com/competitions/{slug}", "title": slug.title(), "evaluationMetric": metric}
            for slug, metric in self.server_state.competition_metrics.items()
            if search in slug
        ]
        self.send(200, {"competitions": found})

    def api_DownloadDataFiles(self, body: dict) -> None:
        self.send(302, headers={"Location": f"http://localhost/files/{body['competitionName']}.zip"})

    # -- kernels.KernelsApiService

    def api_SaveKernel(self, body: dict) -> None:
        with self.lock:
            self.server_state.saved_kernels.append(body)
            version = len(self.server_state.saved_kernels)
        slug = body.get("slug", "")
        self.send(
            200,
            {
                "ref": f"/code/{slug}",
                "url": f"http://localhost/code/{slug}",
                "versionNumber": version,
            },
        )

    # -- blobs.BlobApiService and datasets.DatasetApiService

    def api_StartBlobUpload(self, body: dict) -> None:
        self.api_StartSubmissionUpload({"fileName": body.get("name", "")})

    def dataset_files(self, files: list[dict]) -> dict[str, bytes] | None:
        state = self.server_state
        tokens = [item.get("token") for item in files]
        if not tokens or any(token not in state.uploads for token in tokens):
            return None
        return {state.upload_names[token]: state.uploads[token] for token in tokens}

    def api_GetDatasetStatus(self, body: dict) -> None:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        if ref not in self.server_state.datasets:
            return self.error(404, f"Dataset {ref} not found")
        return self.send(200, {"status": "READY"})

    def api_CreateDataset(self, body: dict) -> None:
        ref = f"{body.get('ownerSlug')}/{body.get('slug')}"
        files = self.dataset_files(body.get("files", []))
        if files is None:
            return self.error(400, "unknown or missing blob tokens")
        with self.lock:
            if ref in self.server_state.datasets:
                return self.send(200, {"error": f"The requested slug is already in use: {ref}"})
            self.server_state.datasets[ref] = {"private": body.get("isPrivate", False), "versions": [files]}
        return self.send(200, {"ref": ref, "url": f"http://localhost/datasets/{ref}", "status": "ok"})

    def api_CreateDatasetVersion(self, body: dict) -> None:
        ref = f"{body.get('ownerSlug')}/{body.get('datasetSlug')}"
        files = self.dataset_files(body.get("body", {}).get("files", []))
        if ref not in self.server_state.datasets:
            return self.error(404, f"Dataset {ref} not found")
        if files is None:
            return self.error(400, "unknown or missing blob tokens")
        with self.lock:
            self.server_state.datasets[ref]["versions"].append(files)
        return self.send(200, {"ref": ref, "url": f"http://localhost/datasets/{ref}", "status": "ok"})

    def api_GetKernelSessionStatus(self, body: dict) -> None:
        state = self.server_state
        self.send(200, {"status": state.kernel_status, "failureMessage": state.kernel_failure})

    def api_ListKernelSessionOutput(self, body: dict) -> None:
        files = [
            {"fileName": name, "url": f"http://localhost/kernel-files/{name}"}
            for name in self.server_state.kernel_files
        ]
        self.send(200, {"files": files, "log": self.server_state.kernel_log})


def zip_folder(files: dict[str, bytes]) -> bytes:
    """A zip archive of name -> bytes, as Kaggle serves a competition's files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
