"""Where a study lives: SQLite for one worker, a journal file for several on one machine, an RDB
URL (PostgreSQL) for several machines. A storage that cannot be reached is an error in seconds,
and a password in a URL is never printed, written into a file, or put on a command line.
"""

from __future__ import annotations

import importlib.util
import re
import warnings
from pathlib import Path

from kit import config, paths
from kit.config import Config
from kit.config.redact import hide_passwords, url_secrets
from kit.errors import KitError

CONNECT_TIMEOUT_S = 5  # an unreachable database server fails the command within seconds


def tune_dir(slug: str) -> Path:
    return paths.artifacts_dir(slug) / "tune"


def study_dir(cfg: Config, study_name: str) -> Path:
    return tune_dir(cfg.competition.slug) / re.sub(r"[^\w.-]", "_", study_name)


def storage_for(cfg: Config) -> str:
    """tune.storage, else the default: SQLite for one worker, a journal file for several."""
    if cfg.tune.storage:
        return cfg.tune.storage
    folder = tune_dir(cfg.competition.slug)
    if cfg.tune.workers > 1:
        return str(folder / "journal.log")
    return f"sqlite:///{folder / 'studies.db'}"


def existing_default_storage(cfg: Config) -> str:
    """The default storage that a previous `make tune` wrote (for the dashboard)."""
    folder = tune_dir(cfg.competition.slug)
    if (folder / "studies.db").exists():
        return f"sqlite:///{folder / 'studies.db'}"
    if (folder / "journal.log").exists():
        return str(folder / "journal.log")
    raise KitError(f"no study in {folder}: run `make tune COMP={cfg.competition.slug}` first (or give STORAGE=)")


def rdb_url(url: str) -> str:
    """SQLAlchemy 2.1 reads `postgresql://` as the psycopg 3 driver; the kit installs psycopg2."""
    scheme, _, rest = url.partition("://")
    has = importlib.util.find_spec
    if scheme in ("postgresql", "postgres") and not has("psycopg") and has("psycopg2"):
        return f"postgresql+psycopg2://{rest}"
    return url


def show_storage(spec: str) -> str:
    """The storage as printed or written: an RDB URL without its password."""
    if "://" not in spec:
        return f"journal file {spec}"
    return hide_passwords(spec)


def hidden(text: str, spec: str) -> str:
    """A driver's message about `spec`, without the password (it may quote the URL or a piece)."""
    return hide_passwords(text, *url_secrets(spec))


def open_storage(spec: str, tune: config.TuneSection):
    """The Optuna storage for `spec`; an unreachable or malformed one is a KitError in seconds."""
    import optuna
    from optuna.storages.journal import JournalFileBackend

    if "://" not in spec:
        path = Path(spec).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return optuna.storages.JournalStorage(JournalFileBackend(str(path)))
        except OSError as exc:
            raise KitError(f"journal file {path}: {exc.strerror or exc}") from None
    url = rdb_url(spec)
    if url.startswith("sqlite:///"):
        folder = Path(url.removeprefix("sqlite:///")).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise KitError(f"storage {spec}: cannot create {folder}: {exc.strerror or exc}") from None
    # libpq and MySQL drivers otherwise wait minutes for a host that never answers
    network = url.split(":", 1)[0].split("+")[0] in ("postgresql", "postgres", "mysql", "mariadb")
    engine_kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S}} if network else {}
    return connect_rdb(url, spec, engine_kwargs, tune)


def connect_rdb(url: str, spec: str, engine_kwargs: dict, tune: config.TuneSection):
    import optuna
    import sqlalchemy.exc

    with warnings.catch_warnings():  # heartbeat_interval is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        try:
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=tune.heartbeat_interval,
                grace_period=tune.grace_period,
            )
        except ImportError:
            scheme = url.split("://")[0]
            raise KitError(
                f"storage {show_storage(spec)}: no database driver for '{scheme}' "
                "(PostgreSQL: pip install psycopg2-binary)"
            ) from None
        except (sqlalchemy.exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is no number
            reason = hidden(first_line(exc), spec)
            raise KitError(f"storage '{show_storage(spec)}' is not a database URL: {reason}") from None
        except sqlalchemy.exc.SQLAlchemyError as exc:
            reason = hidden(first_line(getattr(exc, "orig", None) or exc), spec)
            raise KitError(f"cannot reach storage {show_storage(spec)}: {reason}") from None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
