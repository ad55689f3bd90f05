"""`kill PID` ends a verb as Ctrl-C does: a run is marked interrupted (RESUME=1 continues it), a
study stops its worker processes, and nothing is left running behind a killed parent.

Python delivers a signal's exception wherever the main thread happens to be; raised inside a
garbage-collection callback (JAX registers one) it is printed as "Exception ignored" and lost.
So the interrupt is repeated until the verb has returned. (SIGTERM itself is repeated, not
SIGINT: a process started in the background ignores SIGINT, and Python then ignores it too.)
"""

from __future__ import annotations

import _thread
import signal
import threading

RETRY_SECONDS = 2.0
DONE = threading.Event()  # set once the verb has returned: its clean-up is not interrupted again
_retrying = threading.Event()


def interrupt_on_sigterm() -> None:
    signal.signal(signal.SIGTERM, on_sigterm)


def on_sigterm(signum, frame) -> None:
    if not _retrying.is_set():
        _retrying.set()
        threading.Thread(target=keep_interrupting, name="sigterm", daemon=True).start()
    raise KeyboardInterrupt("terminated (SIGTERM)")


def keep_interrupting() -> None:
    """Deliver SIGTERM's handler to the main thread again every few seconds until the verb has returned."""
    while not DONE.wait(RETRY_SECONDS):
        _thread.interrupt_main(signal.SIGTERM)
