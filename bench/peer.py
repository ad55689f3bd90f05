"""The bench's PyTorch peer venv (fastai and timm, bench/fastai-peer.txt), built once per pin file
and Python version into ~/.cache/kit; never the kit's dependencies. Used by bench/recipe.py (the
fastai peer) and bench/finetune.py (the timm peer)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

PEER_PINS = Path(__file__).resolve().parent / "fastai-peer.txt"


def peer_python() -> Path:
    """The peer venv's python, built first if needed (torch on its own first, so that its exact pin
    picks the CPU wheel)."""
    pins = PEER_PINS.read_text()
    requirements = [line.strip() for line in pins.splitlines() if line.strip() and not line.startswith("#")]
    digest = hashlib.sha256(f"{pins}{sys.version_info[:2]}".encode()).hexdigest()[:12]
    venv = Path.home() / ".cache" / "kit" / f"fastai-peer-{digest}"
    python, complete = venv / "bin" / "python", venv / ".complete"
    if complete.exists():
        return python
    print(f"   building the PyTorch peer's venv ({', '.join(requirements)}) in {venv}", flush=True)
    shutil.rmtree(venv, ignore_errors=True)  # a build that was interrupted
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for batch in ([r for r in requirements if r.startswith("torch==")], requirements):
        subprocess.run([str(python), "-m", "pip", "install", "-q", *batch], check=True)
    complete.write_text(pins)
    return python
