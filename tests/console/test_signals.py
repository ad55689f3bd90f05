"""`kill PID` is Ctrl-C, even when the first interrupt lands where Python drops it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, foreground

SCRIPT = """
import os, signal, sys, time
from kit.console import signals

signals.interrupt_on_signals()
SIGNAL = getattr(signal, sys.argv[1] if len(sys.argv) > 1 else "SIGTERM")

class Dropping:
    def __del__(self):  # an exception raised in here is printed as "Exception ignored" and lost
        os.kill(os.getpid(), SIGNAL)
        time.sleep(0.1)

Dropping()
print("the first interrupt was lost", flush=True)
try:
    while True:
        time.sleep(0.05)
except KeyboardInterrupt as interrupt:
    print(f"interrupted: {interrupt}", flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize(("name", "said"), [("SIGTERM", "terminated (SIGTERM)"), ("SIGINT", "")])
def test_an_interrupt_lost_in_a_finaliser_is_repeated_until_it_takes(name, said):
    """`kill PID` (SIGTERM) and Ctrl-C (SIGINT) alike: neither is lost to a finaliser."""
    started = time.monotonic()
    command = [sys.executable, "-c", SCRIPT, name]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, preexec_fn=foreground)
    assert done.returncode == 130, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["the first interrupt was lost", f"interrupted: {said}"]
    assert "Exception ignored" in done.stderr
    assert time.monotonic() - started < 30


def test_a_background_process_that_ignores_sigint_is_still_ended():
    """A job started with `&` ignores SIGINT (so Python does too): SIGTERM itself is repeated."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted: terminated (SIGTERM)" in out, out + err
