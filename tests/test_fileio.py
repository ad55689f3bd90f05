"""kit.fileio: writes readers never see half of, locks that exclude other processes, content hashes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from kit import fileio


def test_atomic_write_replaces_whole_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "deep" / "record.json"
    fileio.write_json(target, {"a": 1})
    fileio.write_json(target, {"a": 2})
    assert fileio.read_json(target) == {"a": 2}
    assert sorted(p.name for p in target.parent.iterdir()) == ["record.json"]


def test_exclusive_write_never_overwrites(tmp_path):
    target = tmp_path / "submissions" / "submission.csv"
    fileio.atomic_write(target, b"mine\n", exclusive=True)
    with pytest.raises(FileExistsError):
        fileio.atomic_write(target, b"theirs\n", exclusive=True)
    assert target.read_bytes() == b"mine\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["submission.csv"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "run" / "config.json"
    target.parent.mkdir()
    target.write_text("old")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fileio.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        fileio.atomic_write(target, b"new")
    assert target.read_text() == "old"
    assert sorted(p.name for p in target.parent.iterdir()) == ["config.json"]


def test_read_json_of_a_missing_file_is_empty(tmp_path):
    assert fileio.read_json(tmp_path / "run.json") == {}


def test_a_lock_makes_another_process_wait(tmp_path):
    lock = tmp_path / "tracker.lock"
    waiter = (
        "import time; from pathlib import Path; from kit import fileio\n"
        "print('ready', flush=True)\nstart = time.monotonic()\n"
        f"with fileio.locked(Path({str(lock)!r})):\n"
        "    print(time.monotonic() - start)\n"
    )
    with fileio.locked(lock):
        child = subprocess.Popen([sys.executable, "-c", waiter], stdout=subprocess.PIPE, text=True, env=os.environ)
        assert child.stdout.readline().strip() == "ready"  # imported: from here it can only wait on the lock
        time.sleep(1.0)
    waited = float(child.communicate(timeout=60)[0])
    assert child.returncode == 0 and waited > 0.9


def test_array_hash_follows_content_not_blocks():
    images = np.arange(3 * fileio.CHUNK + 5, dtype=np.uint8).reshape(-1, 1)
    labels = np.arange(len(images)) % 3
    same = fileio.sha256_arrays(images.copy(), labels.copy())
    assert fileio.sha256_arrays(images, labels) == same
    changed = images.copy()
    changed[-1, 0] ^= 1  # one pixel in the last (partial) block
    assert fileio.sha256_arrays(changed, labels) != same
    assert fileio.sha256_arrays(images, None) != same  # labels are part of what is hashed


def test_file_hash_is_sha256(tmp_path):
    import hashlib

    path = tmp_path / "train.csv"
    path.write_bytes(b"label,pixel0\n1,0\n" * 100_000)  # past one read block
    assert fileio.sha256_file(path) == hashlib.sha256(path.read_bytes()).hexdigest()
