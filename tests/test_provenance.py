"""kit.provenance: the commit, versions and environment recorded beside runs and submissions."""

from __future__ import annotations

import importlib.metadata
import platform
import subprocess

from kit import provenance
from kit.paths import ROOT


def test_commit_is_head_marked_dirty_with_local_changes(monkeypatch):
    monkeypatch.delenv("KIT_GIT_COMMIT", raising=False)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    ).stdout.strip()
    assert provenance.git_commit() == (f"{head}+dirty" if dirty else head)


def test_a_kernel_bundle_names_the_commit_it_was_built_from(monkeypatch):
    monkeypatch.setenv("KIT_GIT_COMMIT", "0123abc")
    assert provenance.git_commit() == "0123abc"
    assert provenance.stamp()["git_commit"] == "0123abc"


def test_versions_come_from_package_metadata():
    versions = provenance.library_versions()
    assert versions["python"] == platform.python_version()
    assert versions["numpy"] == importlib.metadata.version("numpy")
    assert versions["scikit-learn"] == importlib.metadata.version("scikit-learn")


def test_environment_names_the_backend_and_a_runs_precision(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    monkeypatch.delitem(__import__("sys").modules, "keras", raising=False)
    found = provenance.environment(precision="mixed_bfloat16")
    assert found["keras_backend"] == "jax" and found["precision"] == "mixed_bfloat16"
    assert found["device"] == "cpu" and "precision" not in provenance.environment()
