"""Helpers shared by the tests against the local Kaggle server: a written submission, the tracker's rows,
a clean failure, `kit submit`, and a built kernel with the files packed in its script.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
from conftest import run_kit
from kaggle_server import KEY

from kit import config, submission
from kit.config import competitions


def write_submission(folder: Path, comp: str = "digits", embedded: bool = False, seed: int = 0) -> Path:
    """A valid submission with a realistic record, as `make predict` writes it (no training)."""
    cfg = competitions.load_config(comp, data_dir=str(folder))
    from kit import data

    loaded = data.load(cfg)
    exp = submission.expected(cfg, loaded.test.ids, loaded.sample_submission)
    predicted = np.random.default_rng(seed).integers(0, cfg.num_classes, len(exp.ids))
    frame = submission.build(exp, predicted)
    record = {
        "competition": cfg.competition.slug,
        "config": config.to_dict(cfg),  # as predict records it: data.dir is the DATA folder
        "runs": ["r1"],
        "cv_score": 0.9812,
        "metric": "accuracy",
        "embedded_sample": embedded,
        "git_commit": "abc",
    }
    return submission.write(frame, exp, cfg.competition.slug, f"r{seed}", record)[0]


def tracker_rows(slug: str) -> list[dict]:
    path = Path(os.environ["KIT_WORKDIR"]) / "artifacts" / slug / "tracker.sqlite"
    if not path.exists():
        return []
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM submissions ORDER BY id")]


def assert_clean_failure(result, *phrases: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    for phrase in phrases:
        assert phrase in result.stderr, result.stderr
    assert KEY not in result.stdout + result.stderr


def submit(folder: Path, *extra: str, comp: str = "digits"):
    return run_kit("submit", "--comp", comp, "--data", str(folder), *extra, timeout=180)


def bundle_sources(script: Path) -> dict[str, bytes]:
    text = script.read_text()
    packed = text.split('BUNDLE = """', 1)[1].split('"""', 1)[0]
    archive = zipfile.ZipFile(io.BytesIO(base64.b64decode("".join(packed.split()))))
    return {name: archive.read(name) for name in archive.namelist()}


def build_kernel(workdir: Path, *args: str) -> tuple[Path, dict, dict[str, bytes]]:
    """`kit kernel ARGS`: (script, metadata, files packed in the script); checks no credential."""
    result = run_kit("kernel", *args, timeout=120)
    assert result.returncode == 0, result.stderr
    folder = next((workdir / "build").glob("*/kernel"))
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    script = folder / meta["code_file"]
    sources = bundle_sources(script)
    on_disk = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert KEY.encode() not in on_disk + b"".join(sources.values())
    return script, meta, sources


def run_kernel_offline(script: Path, data: Path, source: str, kaggle: Path, cwd: Path, timeout: int = 400):
    """A built kernel as Kaggle runs it, in this venv: `data` moved to kaggle/input/<source>,
    kaggle/working written, no Kaggle credentials nor kit settings of ours in the environment."""
    kaggle_input = kaggle / "input" / source
    kaggle_input.parent.mkdir(parents=True, exist_ok=True)
    data.rename(kaggle_input)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KAGGLE", "KIT_"))}
    env.update({"KIT_KAGGLE_INPUT": str(kaggle_input.parent), "KERAS_BACKEND": "tensorflow", "PYTHONPATH": ""})
    ran = subprocess.run(
        [sys.executable, str(script), "--working", str(kaggle / "working")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-4000:]
    return ran, kaggle_input
