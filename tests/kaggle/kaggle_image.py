"""The Kaggle image venv as fixtures: `kaggle_python` (the venv's python, checked to hold exactly
the pins of `.ci/kaggle-image.txt`) and `run_kernel` (a built kernel script run there as Kaggle
runs it, offline). Registered for every test by tests/conftest.py's pytest_plugins.

Without that venv the tests that use it skip, except under CI=true (`.ci/run` builds it), where
they fail: `make kaggle-image` builds it (a few minutes, once).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT

PINS = ROOT / ".ci" / "kaggle-image.txt"
ABSENT_ON_KAGGLE = ("tomli_w", "optuna_integration", "jax", "kaggle_kit")
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: any download attempt fails at once


def pinned() -> dict[str, str]:
    """Package -> version, as `.ci/kaggle-image.txt` pins them."""
    lines = (line.split("#")[0].strip() for line in PINS.read_text().splitlines())
    return dict(line.split("==") for line in lines if line)


def image_venv() -> Path:
    """Where `make kaggle-image` puts the venv: the Makefile's KAGGLE_IMAGE_VENV, asked of make
    (its key hashes the pins and the interpreter it picks)."""
    asked = subprocess.run(
        ["make", "-s", "--no-print-directory", "kaggle-image-venv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(asked.stdout.strip())


@pytest.fixture(scope="module")
def kaggle_python() -> Path:
    """The image venv's python, checked to hold exactly the pins and none of the absent packages."""
    venv = image_venv()
    if not (venv / ".installed").is_file():
        message = f"no Kaggle image venv at {venv}: `make kaggle-image` builds it (a few minutes, once)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but {message}; .ci/run must run it before `make test`")
        pytest.skip(message)
    python = venv / "bin" / "python"
    check = (
        "import importlib.metadata as m, importlib.util as u, json, sys; "
        "print(json.dumps({'versions': {p: m.version(p) for p in sys.argv[1].split()}, "
        "'present': [n for n in sys.argv[2].split() if u.find_spec(n)], 'python': list(sys.version_info[:2])}))"
    )
    done = subprocess.run(
        [python, "-c", check, " ".join(pinned()), " ".join(ABSENT_ON_KAGGLE)],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["versions"] == pinned() and found["present"] == []
    if any(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12")) or Path("/usr/bin/python3.12").exists():
        assert found["python"] == [3, 12], "Kaggle runs Python 3.12 and this machine has one: rebuild the venv"
    return python


def run_kernel(python: Path, script: Path, kaggle: Path) -> subprocess.CompletedProcess:
    """The kernel script as Kaggle runs it, offline: kaggle/input read, kaggle/working written."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(kaggle / "home"),  # no Keras cache, no Kaggle credentials, no config of ours
        "PYTHONPATH": "",
        "KERAS_BACKEND": "tensorflow",
        "KIT_KAGGLE_INPUT": str(kaggle / "input"),
        "KIT_KAGGLE_WORKING": str(kaggle / "working"),
        **{name: CLOSED_PORT for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY")},
    }
    (kaggle / "home").mkdir(parents=True, exist_ok=True)
    ran = subprocess.run(
        [python, str(script)], cwd=kaggle / "home", env=env, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-5000:]
    assert "kit from" in ran.stdout and str(ROOT / "kit") not in ran.stdout  # the bundled kit ran
    return ran
