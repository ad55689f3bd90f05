"""TensorFlow's C++ start-up chatter, kept off the terminal unless asked for.

TensorFlow's libraries log through absl before anything initialises absl's logging, and such
lines go to stderr whatever `TF_CPP_MIN_LOG_LEVEL` says: "All log messages before
absl::InitializeLog() is called are written to STDERR", "Could not find cuda drivers on your
machine", "failed call to cuInit: CUDA error" on a machine without a GPU; six of them before a
command's first line of its own. So the first `import tensorflow` (whoever does it: Keras, the
kit) and its device probe run with file descriptor 2 captured; the C++ log lines among what was
written are dropped and everything else (Python warnings, a traceback) is written back.

Once running, TensorFlow's C++ code still logs at ERROR level what is no error of the user's and
changes nothing: tf.data's "NodeDef mentions attribute use_unbounded_threadpool which is not in
the op definition" at each fit and predict, oneDNN's "supports DT_INT64 only on platforms with
AVX-512. Falling back to the default Eigen-based implementation". So the level is 3 (FATAL only):
a real failure reaches the kit as a Python exception, which is reported as always.

Nothing is hidden when the user asks for it: `KIT_VERBOSE=1`, or a `TF_CPP_MIN_LOG_LEVEL` of
their own. Python-side absl logging (Keras' "WARNING:absl:..." lines) drops to errors only.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

# a glog-style C++ log line (severity I, W or E; F is fatal and kept), or absl's pre-init notice
CXX_LOG_LINE = re.compile(
    rb"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+\s+\S+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR)"
)


def verbose() -> bool:
    """Whether the user wants TensorFlow's own logs: KIT_VERBOSE=1 or their own log level."""
    return os.environ.get("KIT_VERBOSE", "") not in ("", "0") or "TF_CPP_MIN_LOG_LEVEL" in os.environ


def install() -> None:
    """Quiet TensorFlow from its first import on (called by `import kit`, before any Keras)."""
    if verbose():
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # only FATAL, of the logs that do honour it
    if "tensorflow" not in sys.modules and not any(isinstance(f, QuietTensorFlow) for f in sys.meta_path):
        sys.meta_path.insert(0, QuietTensorFlow())


def drop_log_lines(captured: bytes) -> bytes:
    """`captured` without TensorFlow's C++ log lines.

    >>> drop_log_lines(b"I0000 00:00:1796194791.228729   22 cudart_stub.cc:31] Could not find cuda drivers\\nkept\\n")
    b'kept\\n'
    """
    return b"".join(line for line in captured.splitlines(keepends=True) if not CXX_LOG_LINE.match(line))


class CapturedStderr:
    """File descriptor 2 into a temporary file for a while; what is not a log line comes back."""

    def __enter__(self) -> CapturedStderr:
        sys.stderr.flush()
        self.file = tempfile.TemporaryFile()
        self.saved = os.dup(2)
        os.dup2(self.file.fileno(), 2)
        return self

    def __exit__(self, *exc) -> None:
        sys.stderr.flush()
        os.dup2(self.saved, 2)
        os.close(self.saved)
        self.file.seek(0)
        kept = drop_log_lines(self.file.read())
        self.file.close()
        if kept:
            os.write(2, kept)


class QuietTensorFlow(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` as usual and runs its import (and device probe) with stderr captured."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once: the real finders do the finding
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = QuietLoader(spec.loader)
        return spec


class QuietLoader(importlib.abc.Loader):
    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__spec__.loader = module.__loader__ = self.loader  # no trace of this wrapper is left
        with CapturedStderr():
            self.loader.exec_module(module)
            # the CUDA probe ("failed call to cuInit") runs on first use: run it now, quietly. Listing
            # physical devices leaves them configurable (memory growth, visibility) afterwards.
            module.config.list_physical_devices()
        quiet_absl()


def quiet_absl() -> None:
    """absl's Python logging (used by Keras and TensorFlow) and TensorFlow's own Python logger
    (its "triggered tf.function retracing" notes, raw in `make compare`) to errors only."""
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        from absl import logging as absl_logging
    except ImportError:
        return
    absl_logging.set_verbosity(absl_logging.ERROR)
