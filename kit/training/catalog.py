"""The runs of a competition: each one's status, which one a command means, and the list.

A run's `run.json` says `running` while it trains (with the process that trains it), then
`complete`, `failed` (with the error) or `interrupted` (Ctrl-C). A `kill -9` cannot write
anything, so a `running` run whose lock nobody holds is read as interrupted: the training
process holds `lock` (an flock, released by the kernel when the process dies) for as long as
it runs. Commands choose accordingly: `make predict` takes the newest *complete* run,
`make train RESUME=1` the newest *interrupted* one, and neither ever takes a failed run unless
it is named.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shlex
from collections.abc import Iterator
from pathlib import Path

from kit import fileio, paths
from kit.errors import KitError

RUN_FILE = "run.json"
LOCK_FILE = "lock"
COMPLETE, RUNNING, INTERRUPTED, FAILED = "complete", "running", "interrupted", "failed"


def mark(run_dir: Path, status: str, **fields) -> None:
    """Set the run's status (and more fields) in run.json, keeping what it already says."""
    record = fileio.read_json(run_dir / RUN_FILE) | fields | {"status": status}
    if status != FAILED:
        record.pop("error", None)
    fileio.write_json(run_dir / RUN_FILE, record)


def status(run_dir: Path) -> str:
    """complete | running | interrupted | failed (a run folder without run.json: interrupted
    before its first fold began)."""
    found = read_record(run_dir).get("status", INTERRUPTED)
    if found == RUNNING and not is_locked(run_dir):
        return INTERRUPTED  # its process died without a word (kill -9, power cut)
    return found


def read_record(run_dir: Path) -> dict:
    try:
        return fileio.read_json(run_dir / RUN_FILE)
    except json.JSONDecodeError:  # written atomically by the kit; a hand-edited file
        return {}


@contextlib.contextmanager
def held(run_dir: Path) -> Iterator[None]:
    """Hold the run's lock while training it: a second `make train RESUME=1` of the same run is
    refused, and a run whose holder died is seen as interrupted."""
    run_dir.mkdir(parents=True, exist_ok=True)
    with open(run_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise KitError(f"run {run_dir.name} is being trained by another process") from None
        yield


def is_locked(run_dir: Path) -> bool:
    if not (run_dir / LOCK_FILE).exists():
        return False
    with open(run_dir / LOCK_FILE, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def all_runs(slug: str) -> list[Path]:
    """Every run folder of the competition, oldest first (by when its config was written)."""
    found = [path.parent for path in paths.runs_dir(slug).glob("*/config.json")]
    return sorted(found, key=lambda run_dir: (run_dir / "config.json").stat().st_mtime)


def named_run(slug: str, name: str) -> Path:
    """A run by folder name (under the competition's runs) or by path."""
    runs = paths.runs_dir(slug)
    run_dir = Path(name) if (Path(name) / "config.json").exists() else runs / name
    if not (run_dir / "config.json").exists():
        raise KitError(f"no run '{name}' in {runs} (`make runs COMP={slug}` lists them)")
    return run_dir


def find_run(slug: str, name: str = "") -> Path:
    """The run `name`, or the newest complete one (saying which, and what it passed over)."""
    if name:
        return named_run(slug, name)
    runs = all_runs(slug)
    finished = [run_dir for run_dir in runs if status(run_dir) == COMPLETE]
    if not finished:
        others = f"finished runs in {paths.runs_dir(slug)} ({len(runs)} not finished: `make runs COMP={slug}`)"
        found = others if runs else f"runs in {paths.runs_dir(slug)}"
        raise KitError(f"no {found}: run `make train COMP={slug}` first")
    chosen = finished[-1]
    skipped = runs[runs.index(chosen) + 1 :]
    passed = f", passing over {len(skipped)} newer unfinished run(s)" if skipped else ""
    print(f"using run {chosen.name} (the newest finished{passed}; RUN= picks another)")
    return chosen


def newest_run_of(slug: str, model: str) -> str:
    """The newest complete run of `slug` whose saved config trained `model`."""
    of_model = [run_dir for run_dir in all_runs(slug) if saved_config(run_dir).get("train", {}).get("model") == model]
    found = [run_dir for run_dir in of_model if status(run_dir) == COMPLETE]
    if not found:
        which = f"finished {model} runs ({len(of_model)} not finished)" if of_model else f"{model} runs"
        raise KitError(f"no {which} in {paths.runs_dir(slug)}: run `make train COMP={slug} MODEL={model}` first")
    return found[-1].name


def newest_run_with(slug: str, sections: dict, label: str) -> Path:
    """The newest complete run whose saved config holds every key of `sections` (tuned
    parameters) at their values; `label` names them in what is printed (PARAMS=best)."""
    from kit import config

    wanted = config.to_dict(config.resolve(sections, source=label))

    def trained_with(run_dir: Path) -> bool:
        try:
            saved = config.to_dict(config.resolve(saved_config(run_dir), source=str(run_dir)))
        except KitError:  # a config of an older kit: not provably trained with them
            return False
        return all(saved[section][key] == wanted[section][key] for section in sections for key in sections[section])

    found = [run_dir for run_dir in all_runs(slug) if status(run_dir) == COMPLETE and trained_with(run_dir)]
    if not found:
        raise KitError(
            f"no finished run of {slug} was trained with {label}: `make train COMP={slug} {label}` first "
            "(or RUN= predicts a run of your choice)"
        )
    print(f"using run {found[-1].name} (the newest finished run trained with {label})")
    return found[-1]


def resumable_run(slug: str, name: str = "", data: str = "") -> Path:
    """The run `make train RESUME=1` continues: `name`, or the newest interrupted one. A finished
    run, or one still training, is refused (saying how to start a new one, on `data`)."""
    start = f"make train COMP={slug}" + (f" DATA={shlex.quote(data)}" if data else "")
    if not name:
        interrupted = [run_dir for run_dir in all_runs(slug) if status(run_dir) == INTERRUPTED]
        if not interrupted:
            raise KitError(
                f"no interrupted run of {slug} to resume "
                f"(`make runs COMP={slug}` lists them; `{start}` starts a new one)"
            )
        return interrupted[-1]
    run_dir = named_run(slug, name)
    found = status(run_dir)
    if found == COMPLETE:
        score = read_record(run_dir).get("score")
        scored = f" (score {score:.4f})" if isinstance(score, float) else ""
        raise KitError(f"run {run_dir.name} already finished{scored}: nothing to resume; `{start}` starts a new run")
    if found == RUNNING:
        raise KitError(f"run {run_dir.name} is being trained by another process")
    return run_dir


def saved_config(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def listing(slug: str) -> list[dict]:
    """One row per run, oldest first: what `make runs` prints."""
    rows = []
    for run_dir in all_runs(slug):
        record, saved = read_record(run_dir), saved_config(run_dir)
        score = record.get("score")
        rows.append(
            {
                "run": run_dir.name,
                "status": status(run_dir),
                "model": saved.get("train", {}).get("model", "?"),
                "data": saved.get("data", {}).get("dir") or "(default)",
                "folds": record.get("folds") if isinstance(record.get("folds"), int) else len(record.get("folds", [])),
                "metric": record.get("metric") or saved.get("competition", {}).get("metric", ""),
                "score": f"{score:.4f}" if isinstance(score, float) else "",
                "note": record.get("error", "")[:60],
            }
        )
    return rows
