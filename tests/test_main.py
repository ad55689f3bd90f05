"""`python -m kit`: `kill PID` ends a verb as Ctrl-C does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import ROOT

from kit import paths


def test_sigterm_interrupts_a_training_run_like_ctrl_c(workdir):
    """The run is marked interrupted and the resume command printed, instead of a silent death
    that leaves a `running` run and, for a study, its worker processes behind."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kit", "train", "--comp", "fashion", "--preset", "tiny", "--set", "train.epochs=200"],
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "tensorflow"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = paths.runs_dir("fashion-mnist")
    deadline = time.monotonic() + 120
    while not list(runs.glob("*/checkpoints*")) and not list(runs.glob("*/fold*")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.5)
    time.sleep(2)  # inside the fit
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "RESUME=1" in err
    (run_dir,) = [p.parent for p in runs.glob("*/run.json")]
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
