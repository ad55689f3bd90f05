"""`kill PID` ends a verb as Ctrl-C does: a run is marked interrupted (RESUME=1 continues it), a
study stops its worker processes, and nothing is left running behind a killed parent.

Python delivers a signal's exception wherever the main thread happens to be; raised inside a
garbage-collection callback (JAX registers one) it is printed as "Exception ignored" and lost.
So the interrupt is repeated until the verb has returned: Ctrl-C's SIGINT as `kill`'s SIGTERM
(a Ctrl-C lost that way let a training run on to its end and exit 0). Each signal repeats itself:
a process started in the background ignores SIGINT (and Python then does too), so there SIGINT is
left ignored and SIGTERM still ends it.

An interrupted verb has kept its work and said how to continue (exit status 130); it then leaves
without the interpreter's teardown, in which TensorFlow's tf.data iterators wait for their worker
threads: 20 s after a Ctrl-C at an epoch's start, measured with another training loading the
machine, with the prompt not back and a second Ctrl-C printing a traceback.
"""

from __future__ import annotations

import _thread
import logging
import os
import signal
import sys
import threading

RETRY_SECONDS = 2.0
INTERRUPTED = 130  # the verb's exit status after Ctrl-C or `kill` (128 + SIGINT, as shells report)
DONE = threading.Event()  # set once the verb has returned: its clean-up is not interrupted again
_retrying = threading.Event()


def interrupt_on_signals() -> None:
    """SIGTERM, and SIGINT unless this process ignores it, raise KeyboardInterrupt until it takes."""
    signal.signal(signal.SIGTERM, on_signal)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, on_signal)


def on_signal(signum, frame) -> None:
    if not _retrying.is_set():
        _retrying.set()
        threading.Thread(target=keep_interrupting, args=(signum,), name="interrupt", daemon=True).start()
    raise KeyboardInterrupt("terminated (SIGTERM)" if signum == signal.SIGTERM else "")


def keep_interrupting(signum: int) -> None:
    """Deliver the signal's handler to the main thread again every few seconds until the verb has returned."""
    while not DONE.wait(RETRY_SECONDS):
        _thread.interrupt_main(signum)


def exit_with(code: int):
    """End the process once the verb has returned `code`: interrupted at once (output flushed,
    no teardown), else as usual."""
    DONE.set()
    if code == INTERRUPTED:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)
