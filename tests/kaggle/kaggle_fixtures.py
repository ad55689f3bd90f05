"""The local Kaggle server's fixtures, registered for every test by tests/conftest.py's pytest_plugins.

Not a tests/kaggle/conftest.py: a second conftest module would take the name `conftest` that the tests'
`from conftest import ROOT, run_kit` mean, for every test collected after it.
"""

from __future__ import annotations

import json

import pytest
from kaggle_server import KEY, USER, KaggleServer


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    """Credentials in a private kaggle.json, no other credential source, fast polling."""
    config = tmp_path / "kaggle-config"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": USER, "key": KEY}))
    (config / "kaggle.json").chmod(0o600)
    home = tmp_path / "home"
    home.mkdir()
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(config))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setenv("KIT_KAGGLE_POLL_SECONDS", "0.2")
    monkeypatch.setenv("KIT_KAGGLE_GRACE_SECONDS", "1")
    return config


@pytest.fixture
def server(kaggle_env, monkeypatch):
    with KaggleServer() as running:
        for key, value in running.env().items():
            monkeypatch.setenv(key, value)
        yield running
