"""The Makefile hands every variable to the kit as data: make expands nothing in it, the shell runs
nothing in it, a value with spaces stays one value (the kit splits SET, RUN, MODELS, FRACTIONS).

`make` runs for real, with PYTHON pointing at a stand-in that records its command line, so these
tests see exactly what the kit would receive; `kit.cli.parse` then reads it as the kit does.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from kit import cli

FAKE_PYTHON = """#!{python}
import json, os, sys
args = sys.argv[1:]
if args[:1] == ["-c"]:  # the Makefile's split_words: run it, and let it exec this script again
    sys.argv, sys.executable = ["-c", *args[2:]], __file__
    exec(args[1])
with open(os.environ["ARGV_LOG"], "a") as log:
    log.write(json.dumps({{"argv": args, "KIT_STORAGE": os.environ.get("KIT_STORAGE"),
                          "KERAS_BACKEND": os.environ.get("KERAS_BACKEND")}}) + "\\n")
"""


@pytest.fixture
def make(tmp_path):
    """make(*words) -> the command lines (after `python`) its recipes ran, with a stand-in python."""
    fake = tmp_path / "fake-python"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "argv.jsonl"

    def run(*words: str, returncode: int = 0) -> list[list[str]]:
        """The command lines; `run.storage`: KIT_STORAGE as the last one saw it."""
        log.unlink(missing_ok=True)
        done = subprocess.run(
            # -o: the stand-in needs no virtualenv, so `setup` must not try to make one
            ["make", "--no-print-directory", "-o", ".venv/.installed", f"PYTHON={fake}", *words],
            cwd=ROOT,
            env={"PATH": "/usr/bin:/bin", "ARGV_LOG": str(log), "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == returncode, done.stdout + done.stderr
        run.stderr = done.stderr
        calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        run.storage = calls[-1]["KIT_STORAGE"] if calls else None
        run.backend = calls[-1]["KERAS_BACKEND"] if calls else None
        return [call["argv"] for call in calls]

    return run


def kit_args(argv: list[str]):
    assert argv[:2] == ["-m", "kit"], argv
    return cli.parse(argv[2:])


HOSTILE = "try `touch {m}1` $(touch {m}2) $(shell touch {m}3) ${{HOME}} $$HOME; touch {m}4 | 'q' \"dq\" #c %"


def test_shell_and_make_text_in_variables_is_never_run(make, tmp_path):
    marker = tmp_path / "ran"
    text = HOSTILE.format(m=marker)
    spaced = str(tmp_path / "my data")
    (argv,) = make("submit", "COMP=digits", f"MSG={text}", f"FILE={text}.csv", f"DATA={spaced}", f"PRESET={text}")
    args = kit_args(argv)
    assert (args.message, args.file, args.data, args.preset) == (text, f"{text}.csv", spaced, text)
    for name in ("SET", "RUN", "PARAMS", "MODEL", "STORAGE", "STUDY"):
        make("predict", "tune", f"{name}={text}")
    assert make("bench", f"PART={text}", returncode=2) == []  # an unknown part: one line, nothing runs
    assert f"PART={text}: the part that runs alone is finetune" in make.stderr
    assert not list(tmp_path.glob("ran*")), "a command in a variable ran"


def test_every_variable_reaches_the_kit(make, monkeypatch):
    (argv,) = make("train", "COMP=digits", "PRESET=quick", "SET=train.epochs=2 data.limit=300", "MODEL=svm")
    args = kit_args(argv)
    assert (args.verb, args.comp, args.preset, args.resume) == ("train", "digits", "quick", None)
    assert args.set == ["train.model=svm", "train.epochs=2", "data.limit=300"]
    assert kit_args(make("train", "RESUME=1")[0]).resume == ""
    assert kit_args(make("train", "RESUME=1", "RUN=r7")[0]).resume == "r7"
    args = kit_args(make("predict", "PARAMS=best", "RUN=runA runB", "DATA=/d")[0])
    assert (args.params, args.runs, args.data) == ("best", ["runA", "runB"], "/d")
    assert kit_args(make("compare", "MODELS=knn svm")[0]).models == ["knn", "svm"]
    assert kit_args(make("learning-curve", "MODEL=cnn", "FRACTIONS=0.1 0.5 1")[0]).fractions == [0.1, 0.5, 1.0]
    args = kit_args(make("submit", "FILE=a b.csv", "MSG=cnn 5 folds", "FORCE=1")[0])
    assert (args.file, args.message, args.force, args.comp) == ("a b.csv", "cnn 5 folds", True, "fashion-mnist")
    args = kit_args(make("kernel", "GPU=1", "INTERNET=1")[0])
    assert args.gpu and args.internet
    storage = "postgresql://kit:pw@db/kit?sslmode=disable&x=1"
    tune = ("N_TRIALS=4", "TIMEOUT=60", "WORKERS=2", "STUDY=s 1", "SAMPLER=random", "PRUNER=hyperband")
    (argv,) = make("tune", "COMP=digits", f"STORAGE={storage}", *tune)
    # the storage goes by the environment: a password on a command line is visible in ps
    assert "--storage" not in argv and not any("pw" in word for word in argv)
    assert make.storage == storage
    monkeypatch.setenv("KIT_STORAGE", storage)
    args = kit_args(argv)
    assert (args.storage, args.study, args.n_trials, args.timeout) == (storage, "s 1", 4, 60.0)
    assert (args.workers, args.sampler, args.pruner) == (2, "random", "hyperband")
    monkeypatch.delenv("KIT_STORAGE")
    args = kit_args(make("dashboard", "PORT=9000", "STUDY=s1")[0])
    assert (args.port, args.study, args.storage, make.storage) == (9000, "s1", None, None)
    pytest_args = make("test", "PYTEST_ARGS=-k 'config and not slow' -x")
    assert pytest_args == [["-m", "pytest", "-n", "2", "--dist", "loadfile", "-k", "config and not slow", "-x"]]
    assert make("bench", "BENCH_ARGS=--budget 300")[1:] == [
        ["bench/bench.py", "--budget", "300"],
        ["bench/recipe.py"],
        ["bench/finetune.py"],
    ]
    assert make("bench", "PART=finetune", "BENCH_ARGS=--rounds 1") == [["bench/finetune.py", "--rounds", "1"]]
    assert make("run")[0][2:] == ["run", "--comp", "fashion-mnist"]


def test_bad_fractions_are_one_line(capsys):
    assert cli.main(["learning-curve", "--fractions", "0.1 half"]) == 2
    assert capsys.readouterr().err == "error: FRACTIONS: expected numbers like 0.1 0.5 1, got '0.1 half'\n"


def test_a_data_folder_with_a_space_works_through_make(tmp_path, digits_folder):
    """A real `make data` on a folder whose name has a space (it used to split into two words)."""
    spaced = tmp_path / "my data"
    shutil.copytree(digits_folder, spaced)
    done = subprocess.run(
        ["make", "--no-print-directory", "data", "COMP=digits", f"DATA={spaced}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"digit-recognizer: data ok in {spaced}" in done.stdout


def test_clean_honours_kit_workdir(tmp_path):
    """`make clean` removes artifacts/ and build/ where the kit writes them, and keeps the rest."""
    tmp_path = tmp_path / "elsewhere"
    for name in ("artifacts", "build", "submissions", "data"):
        (tmp_path / name / "x").mkdir(parents=True)
    done = subprocess.run(
        ["make", "--no-print-directory", "clean"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "KIT_WORKDIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "submissions"]


def test_backend_picks_the_keras_backend_of_any_target(make):
    make("train", "COMP=digits", "BACKEND=jax")
    assert make.backend == "jax"
    make("train", "COMP=digits")
    assert make.backend is None  # the kit's default (tensorflow) applies


def test_an_unknown_backend_is_one_line(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jx")
    with pytest.raises(cli.KitError, match="BACKEND=jx: Keras backends are tensorflow, jax, torch"):
        cli.check_backend()


def processes_naming(word: str) -> list[int]:
    """The live processes whose command line holds `word` (zombies, whose line is empty, aside)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit() and word in line:
            found.append(int(entry.name))
    return found


def test_killing_make_dashboard_leaves_no_server_behind(workdir):
    """make -> (sh exec'd into) python -> (exec'd into) optuna-dashboard: one child, which the
    SIGTERM make passes on reaches."""
    import optuna

    from kit.tune import storage as tune_storage

    folder = tune_storage.tune_dir("fashion-mnist")
    folder.mkdir(parents=True)
    optuna.create_study(study_name="fashion-mnist", storage=f"sqlite:///{folder / 'studies.db'}").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=1
    )
    port = free_port()
    make = subprocess.Popen(
        # -o: never reinstall the shared virtualenv from a test
        ["make", "--no-print-directory", "-o", ".venv/.installed", "dashboard", "COMP=fashion", f"PORT={port}"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not serving(port):
            assert make.poll() is None and time.monotonic() < deadline, "the dashboard never served"
            time.sleep(0.5)
        children = [pid for pid in processes_naming(f"--port {port}") if pid != make.pid]
        assert len(children) == 1  # no shell or python left between make and the server
        make.terminate()
        make.wait(timeout=30)
        deadline = time.monotonic() + 15
        while processes_naming(f"--port {port}") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_naming(f"--port {port}") == [] and not serving(port)
    finally:
        for pid in processes_naming(f"--port {port}"):
            os.kill(pid, signal.SIGKILL)


def serving(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("word", "said"),
    [
        ("TRIALS=2", "unknown variable TRIALS (did you mean N_TRIALS?)"),  # else the default 20 trials ran
        ("MODLE=knn", "unknown variable MODLE (did you mean MODEL?)"),
        ("comp=digits", "unknown variable comp (did you mean COMP?)"),
    ],
)
def test_a_misspelt_variable_stops_make_with_the_one_it_meant(word, said):
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "tune", word], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and said in done.stderr and "`make help` lists them" in done.stderr
    assert "kit" not in done.stdout  # nothing ran


def test_environment_settings_given_to_make_pass(make):
    assert make("models", "KIT_WORKDIR=/tmp/elsewhere", "CI=true")  # the kit reads them from the environment
