"""`kill PID` is Ctrl-C, even when the first interrupt lands where Python drops it."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, foreground

from kit.console import signals

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


HELD = """
import sys, threading, time
from kit.console import signals

# a thread the interpreter's teardown waits for, as it waits for tf.data's worker threads
threading.Thread(target=time.sleep, args=(600,)).start()
print("interrupted: run kept; continue it with `make train RESUME=1`")  # buffered: a pipe
signals.exit_with(int(sys.argv[1]))
"""


def test_an_interrupted_verb_exits_at_once_with_its_output_flushed():
    """After the interrupt message the prompt comes back: no teardown waiting on worker threads."""
    done = subprocess.run(
        [sys.executable, "-c", HELD, str(signals.INTERRUPTED)], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 130, done.stderr
    assert done.stdout == "interrupted: run kept; continue it with `make train RESUME=1`\n"


def test_a_verb_that_finished_exits_as_usual():
    """Any other status goes through SystemExit: the teardown (and its wait) is kept."""
    proc = subprocess.Popen([sys.executable, "-c", HELD, "0"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=5)  # still waiting on its thread
    proc.kill()
    proc.communicate()
