"""A throwaway PostgreSQL server for the multi-machine study tests, registered for every test by
tests/conftest.py's pytest_plugins (a tests/tune/conftest.py would shadow `from conftest import`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from tune_helpers import free_port


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout, or initdb on PATH)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1 for this session; its URL."""
    bindir = postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql, as .ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="kit-postgres-"))
    # postgres refuses to run as root: as root, the cluster belongs to the postgres user
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_owner:
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
    pg_ctl = [*as_owner, str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*as_owner, str(bindir / "initdb"), "-D", str(data), "-U", "kit", "--auth=trust"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [*pg_ctl, "-l", str(root / "server.log"), "-w", "-o", options, "start"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "kit", "kit"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield f"postgresql://kit@127.0.0.1:{port}/kit"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=120)
        shutil.rmtree(root, ignore_errors=True)
