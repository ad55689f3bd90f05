"""Study storage (kit/tune/storage.py): SQLite, a journal file or PostgreSQL; a password in its URL never
leaves (output, saved configs, workers' and the dashboard's command lines); an unreachable or impossible
storage stops in one line; workers share a real PostgreSQL study, and a killed worker's trial is failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import types

import optuna
import pytest
from conftest import ROOT, run_kit
from optuna.trial import TrialState
from tune_helpers import DENSE_SPACE, TINY, check_ok, kit_error, states, write_space

import kit.config.redact
import kit.tune.storage
import kit.tune.study
import kit.tune.workers
from kit import cli, config
from kit.config import competitions


def test_storage_defaults_sqlite_for_one_worker_and_a_journal_for_several(workdir):
    cfg = competitions.load_config("fashion")
    folder = workdir / "artifacts" / "fashion-mnist" / "tune"
    assert kit.tune.storage.storage_for(cfg) == f"sqlite:///{folder / 'studies.db'}"
    assert kit.tune.storage.storage_for(config.replace(cfg, tune={"workers": 3})) == str(folder / "journal.log")
    url = "postgresql://kit:secret@db.example:5432/kit"
    assert kit.tune.storage.storage_for(config.replace(cfg, tune={"storage": url, "workers": 3})) == url
    assert kit.tune.storage.show_storage(url) == "postgresql://kit:***@db.example:5432/kit"


PASSWORD = "s3c@ret-pw"  # with an unescaped @, as people write them


URL = f"postgresql://kit:{PASSWORD}@127.0.0.1:1/kit"


def assert_no_password(text: str) -> None:
    for piece in (PASSWORD, "s3c", "ret-pw"):
        assert piece not in text, text


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("postgresql://kit:pw@db.example:5432/kit", "postgresql://kit:***@db.example:5432/kit"),
        (f"cannot reach {URL}: refused", "cannot reach postgresql://kit:***@127.0.0.1:1/kit: refused"),
        ("postgresql://kit@db/kit?sslmode=require&password=pw", "postgresql://kit@db/kit?sslmode=require&password=***"),
        ("sqlite:///a/studies.db", "sqlite:///a/studies.db"),
        ("/a/journal.log", "/a/journal.log"),
        ("postgresql://kit@db/kit", "postgresql://kit@db/kit"),
    ],
)
def test_passwords_are_hidden_in_urls(text, hidden):
    assert kit.config.redact.hide_passwords(text) == hidden


@pytest.mark.parametrize(
    "url", [URL, URL.replace(":1/", ":notaport/"), "postgresql://kit@127.0.0.1:1/kit?password=s3c@ret-pw"]
)
def test_an_unreachable_or_malformed_storage_never_prints_its_password(url):
    result = run_kit("tune", *TINY, "--storage", url, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert_no_password(result.stdout + result.stderr)


def test_saved_configs_and_submission_records_hold_no_password(tmp_path):
    cfg = competitions.load_config("fashion", overrides=[f"tune.storage={URL}"])
    config.save(cfg, tmp_path / "config.json")  # what every trial, run and comparison writes
    saved = (tmp_path / "config.json").read_text()
    assert_no_password(saved)
    assert "postgresql://kit:***@127.0.0.1:1/kit" in saved
    assert_no_password(str(config.public_dict(cfg)))  # submission records and the tracker
    assert cfg.tune.storage == URL  # the study itself still opens the real one


def test_workers_get_the_storage_in_their_environment_not_their_command_line(monkeypatch):
    launched = []

    def popen(command, **kwargs):
        launched.append((command, kwargs))
        return types.SimpleNamespace(wait=lambda: 0, poll=lambda: 0, returncode=0)

    monkeypatch.setattr(kit.tune.workers.subprocess, "Popen", popen)
    args = cli.parse(["tune", *TINY, f"tune.storage={URL}", "--storage", URL, "--workers", "3"])
    cfg = kit.tune.study.apply_flags(competitions.load_config("fashion", "tiny", args.set), args)
    kit.tune.workers.launch_workers(args, cfg, URL, "s1", [2, 2])
    assert len(launched) == 2
    for command, kwargs in launched:
        assert_no_password(" ".join(command))
        assert kwargs["env"]["KIT_STORAGE"] == URL
        assert command[command.index("--study") + 1] == "s1"
        monkeypatch.setenv("KIT_STORAGE", URL)  # as the worker reads its command line
        worker = cli.parse(command[3:])
        assert (worker.storage, worker.worker, worker.n_trials) == (URL, int(command[-1]), 2)


def test_the_dashboard_gets_the_storage_in_its_environment(monkeypatch, capsys):
    execs = []
    monkeypatch.setattr(kit.tune.study.os, "execve", lambda path, argv, env: execs.append((argv, env)))
    monkeypatch.setenv("KIT_STORAGE", URL)
    cli.main(["dashboard", "--comp", "fashion", "--port", "9999"])
    ((argv, env),) = execs
    assert_no_password(" ".join(argv) + capsys.readouterr().out)
    assert PASSWORD in env["KIT_DASHBOARD_STORAGE"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgresql://kit:secret@127.0.0.1:1/kit",
            "cannot reach storage postgresql://kit:***@127.0.0.1:1/kit: "
            'connection to server at "127.0.0.1", '
            "port 1 failed: Connection refused",
        ),
        (
            "postgresql://kit@no-such-host.invalid/kit",
            "cannot reach storage postgresql://kit@no-such-host.invalid/kit: "
            "could not translate host name "
            '"no-such-host.invalid" to address',
        ),
        (
            "nosuchdb://x/y",
            "storage 'nosuchdb://x/y' is not a database URL: Can't load plugin: sqlalchemy.dialects:nosuchdb",
        ),
    ],
)
def test_unreachable_storage_stops_within_seconds(url, message):
    result = run_kit("tune", *TINY, "--storage", url, timeout=60)  # a hang fails here, not a slow machine
    assert result.returncode == 2 and "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: {message}"), error
    assert "secret" not in result.stderr


@pytest.mark.parametrize(
    ("storage", "message"),
    [
        (
            "sqlite:////proc/no-such/studies.db",
            "storage sqlite:////proc/no-such/studies.db: cannot create /proc/no-such",
        ),
        ("/proc/no-such/journal.log", "journal file /proc/no-such/journal.log: No such file or directory"),
    ],
)
def test_storage_in_a_folder_that_cannot_exist(capsys, storage, message):
    assert kit_error(capsys, "tune", *TINY, "--storage", storage).startswith(f"error: {message}")


def pg_study(url: str, name: str) -> optuna.Study:
    return optuna.load_study(study_name=name, storage=kit.tune.storage.open_storage(url, config.TuneSection()))


@pytest.mark.slow
@pytest.mark.postgres
def test_two_workers_share_a_postgres_study(tmp_path, postgres_url, workdir):
    space = write_space(tmp_path, DENSE_SPACE)
    # the cluster trusts 127.0.0.1, so a password is accepted and ignored: it must not leak
    with_password = postgres_url.replace("kit@", "kit:pw-s3cret@")
    result = run_kit(
        "tune",
        *TINY,
        f"tune.space={space}",
        "--storage",
        with_password,
        "--study",
        "shared",
        "--n-trials",
        "4",
        "--workers",
        "2",
    )
    check_ok(result)
    study = pg_study(postgres_url, "shared")
    assert states(study) == [TrialState.COMPLETE] * 4
    assert len({t.user_attrs["worker"] for t in study.trials}) == 2
    assert f"in {postgres_url.replace('kit@', 'kit:***@')}: 0 trials so far" in result.stdout
    written = [path for path in workdir.rglob("*") if path.is_file()]
    assert any(path.name == "config.json" for path in written) and any(p.name == "best_params.toml" for p in written)
    for path in written:  # every trial's config.json, best_params.toml, reports
        assert b"pw-s3cret" not in path.read_bytes(), path
    assert "pw-s3cret" not in result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.postgres
def test_a_killed_worker_trial_is_failed_by_the_heartbeat(tmp_path, postgres_url):
    """SIGKILL one of two workers mid-trial: the other finishes, nothing completed is lost, and the
    heartbeat marks the killed worker's running trial failed."""
    space = write_space(tmp_path, DENSE_SPACE)
    args = (
        "tune",
        "--comp",
        "fashion",
        "--preset",
        "tiny",
        "--set",
        "data.limit=300",
        "train.epochs=2",
        f"tune.space={space}",
        "tune.heartbeat_interval=1",
        "tune.grace_period=5",
        "--storage",
        postgres_url,
        "--study",
        "killed",
        "--pruner",
        "none",
    )
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    victim_log = (tmp_path / "victim.log").open("w")
    victim = subprocess.Popen(
        [sys.executable, "-m", "kit", *args, "--n-trials", "20"],
        cwd=ROOT,
        env=env,
        stdout=victim_log,
        stderr=subprocess.STDOUT,
    )
    survivor = subprocess.Popen(
        [sys.executable, "-m", "kit", *args, "--n-trials", "5"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        mine = wait_for_running_after_complete(postgres_url, "killed", victim, timeout=240)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        output, _ = survivor.communicate(timeout=300)
    finally:
        for proc in (victim, survivor):
            if proc.poll() is None:
                proc.kill()
        victim_log.close()
    assert survivor.returncode == 0, output[-3000:]
    trials = {t.number: t for t in pg_study(postgres_url, "killed").trials}
    # failed by the survivor's heartbeat check
    assert trials[mine["running"]].state == TrialState.FAIL
    assert all(trials[n].state == TrialState.COMPLETE for n in mine["complete"])  # nothing lost
    survivors = [t for t in trials.values() if t.user_attrs.get("worker", "").endswith(f":{survivor.pid}")]
    assert [t.state for t in survivors] == [TrialState.COMPLETE] * 5


def wait_for_running_after_complete(url: str, study: str, proc, timeout: float) -> dict:
    """Poll the study until the worker `proc` has completed a trial and is running the next one."""
    storage = kit.tune.storage.open_storage(url, config.TuneSection())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            trials = optuna.load_study(study_name=study, storage=storage).trials
        except KeyError:  # the study does not exist yet
            trials = []
        mine = [t for t in trials if t.user_attrs.get("worker", "").endswith(f":{proc.pid}")]
        complete = [t.number for t in mine if t.state == TrialState.COMPLETE]
        running = [t.number for t in mine if t.state == TrialState.RUNNING]
        if complete and running and running[0] > max(complete):
            return {"complete": complete, "running": running[0]}
        time.sleep(0.5)
    raise AssertionError(
        f"worker {proc.pid} (exit code {proc.poll()}) never had a running trial "
        f"after a completed one: {[(t.number, t.state.name) for t in trials]}"
    )
