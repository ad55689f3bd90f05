"""Kaggle kernel bundles: `build/<slug>/kernel/` with `kernel-metadata.json` and one script.

The script is self-contained: the kit package and the competition's folder (competition.toml,
models.py, space.py; never its sample data) travel inside it as a base64 zip, with the chosen
preset, overrides and tuned parameters. On Kaggle it unpacks to a temporary folder, runs the
kit's whole pipeline on `/kaggle/input/<competition>/` and copies the submission to
`/kaggle/working/submission.csv` (its JSON record beside it). No pip install, no internet.
`KIT_KAGGLE_INPUT` and `KIT_KAGGLE_WORKING` move the two folders for a local run.

Credentials never enter a bundle: only source files are packed, and the finished script is
checked against the secret values present on this machine before it is written.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
import zipfile
from pathlib import Path
from typing import Any

from kit import fileio, kaggle, paths
from kit.config import Config
from kit.errors import KitError

PLACEHOLDER_USER = "your-kaggle-username"  # replaced by the real name at `make kernel-push`
COMPETITION_SUFFIXES = (".toml", ".py", ".md")  # config and code; data files stay behind
SKIP_NAMES = {"make_sample.py"}  # builds the embedded sample from ../shared: useless on Kaggle


def bundle_files(slug: str) -> dict[str, bytes]:
    """Archive name -> bytes: every kit/*.py and the competition folder's own files."""
    files = {}
    kit_dir = paths.ROOT / "kit"
    for path in sorted(kit_dir.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[f"kit/{path.relative_to(kit_dir).as_posix()}"] = path.read_bytes()
    folder = paths.competition_dir(slug)
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in COMPETITION_SUFFIXES and path.name not in SKIP_NAMES:
            files[f"competitions/{slug}/{path.name}"] = path.read_bytes()
    return files


def pack(files: dict[str, bytes]) -> str:
    """A deterministic zip of `files`, base64 in 76-character lines."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    text = base64.b64encode(buffer.getvalue()).decode()
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))


def kernel_slug(slug: str) -> str:
    return f"{slug}-kit"


def metadata(cfg: Config, user: str, gpu: bool, internet: bool) -> dict[str, Any]:
    """kernel-metadata.json: the title slugifies to the id, as `kaggle kernels push` wants."""
    name = kernel_slug(cfg.competition.slug)
    return {
        "id": f"{user or PLACEHOLDER_USER}/{name}",
        "title": name,
        "code_file": f"{name}.py",
        "language": "python",
        "kernel_type": "script",
        "is_private": True,
        "enable_gpu": gpu,
        "enable_tpu": False,
        "enable_internet": internet,  # off: code competitions forbid it, and nothing needs it
        "dataset_sources": [],
        "competition_sources": [cfg.competition.kaggle] if cfg.competition.kaggle else [],
        "kernel_sources": [],
        "model_sources": [],
    }


def script(cfg: Config, files: dict[str, bytes], preset: str, overrides: list[str], params: dict | None) -> str:
    """The kernel's Python source: settings, the packed `files`, and the runner."""
    slug = cfg.competition.slug
    settings = {
        "SLUG": slug,
        "SOURCE": cfg.competition.kaggle or slug,
        "TRAIN_FILE": cfg.data.train_file,
        "PRESET": preset,
        "OVERRIDES": list(overrides),
        "PARAMS": params,
        "BUILT_FROM": fileio.git_commit(),
    }
    lines = "\n".join(f"{key} = {value!r}" for key, value in settings.items())  # Python literals
    header = (
        f'"""{slug}: the kit\'s pipeline as one Kaggle script, built by `make kernel` on '
        f'{time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}.\n\n{RUNNER_DOC}"""\n'
    )
    return header + TEMPLATE.replace("# SETTINGS", lines).replace("BUNDLE_TEXT", pack(files))


def check_no_secrets(*parts: bytes) -> None:
    """Refuse to write a bundle that contains a credential present on this machine. The packed
    files are checked before compression: inside the base64 zip a key could not be seen."""
    for secret in kaggle.secrets():
        if any(secret.encode() in part for part in parts):
            raise KitError("the kernel bundle would contain a Kaggle credential: not written")


def build(
    cfg: Config,
    preset: str = "",
    overrides: list[str] | None = None,
    params: dict | None = None,
    gpu: bool = False,
    internet: bool = False,
) -> Path:
    """Write `build/<slug>/kernel/` (metadata and script); returns the folder."""
    folder = paths.build_dir(cfg.competition.slug) / "kernel"
    meta = metadata(cfg, kaggle.username(), gpu, internet)
    files = bundle_files(cfg.competition.slug)
    source = script(cfg, files, preset, overrides or [], params)
    check_no_secrets(source.encode(), json.dumps(meta).encode(), *files.values())
    fileio.atomic_write(folder / meta["code_file"], source.encode())
    fileio.write_json(folder / "kernel-metadata.json", meta)
    return folder


def read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / "kernel-metadata.json"
    if not path.is_file():
        raise KitError(f"{path}: no kernel built yet: run `make kernel` first")
    return json.loads(path.read_text())


def with_user(folder: Path, user: str) -> dict[str, Any]:
    """Put the authenticated user's name into the id when the bundle was built without it."""
    meta = read_metadata(folder)
    owner, _, name = meta["id"].partition("/")
    if owner == PLACEHOLDER_USER and user:
        meta["id"] = f"{user}/{name}"
        fileio.write_json(folder / "kernel-metadata.json", meta)
    elif owner == PLACEHOLDER_USER:
        raise KitError(
            "the kernel id has no user name: set KAGGLE_USERNAME and run `make kernel` again"
        )
    if not re.fullmatch(r"[A-Za-z0-9_-]+/[a-z0-9-]+", meta["id"]):
        raise KitError(f"kernel id '{meta['id']}' must look like user/slug")
    return meta


RUNNER_DOC = """Self-contained: the kit package and the competition's config travel below as a base64
zip; no pip install and no internet are needed (Kaggle's image has Keras and TensorFlow).
Reads /kaggle/input/<competition>/ and writes /kaggle/working/submission.csv with its record
submission.json. `--input DIR --working DIR` (or KIT_KAGGLE_INPUT and KIT_KAGGLE_WORKING)
override the two folders for a local run.
"""

TEMPLATE = r'''
import argparse
import base64
import io
import os
import shutil
import sys
import tempfile
import types
import zipfile
from pathlib import Path

# SETTINGS

BUNDLE = """
BUNDLE_TEXT
"""


def find_input(root):
    """The folder holding the competition's files: <root>/<source>, then the newer layout."""
    for folder in (root / SOURCE, root / "competitions" / SOURCE, root):
        if folder.is_dir() and any(folder.glob(TRAIN_FILE + "*")):
            return folder
    raise SystemExit(f"no {TRAIN_FILE} under {root / SOURCE}: add the competition as an input")


def unpack():
    """The kit and the competition folder into a fresh temporary folder, first on sys.path."""
    folder = Path(tempfile.mkdtemp(prefix="kit-bundle-"))
    zipfile.ZipFile(io.BytesIO(base64.b64decode(BUNDLE))).extractall(folder)
    os.environ["KIT_COMPETITIONS"] = str(folder / "competitions")
    os.environ["KIT_WORKDIR"] = str(folder / "work")  # checkpoints stay out of the outputs
    sys.path.insert(0, str(folder))
    return folder


def folders():
    """(input root, working folder): --input / --working, else the KIT_KAGGLE_* variables,
    else Kaggle's own folders."""
    env = os.environ
    parser = argparse.ArgumentParser(description="the kit's pipeline on a competition's data")
    parser.add_argument("--input", default=env.get("KIT_KAGGLE_INPUT", "/kaggle/input"))
    parser.add_argument("--working", default=env.get("KIT_KAGGLE_WORKING", "/kaggle/working"))
    args, _ = parser.parse_known_args()  # notebook kernels pass their own arguments
    return Path(args.input), Path(args.working)


def main():
    input_root, working = folders()
    data_dir = find_input(input_root)
    unpack()
    import kit
    from kit import commands, competitions, submission

    print(f"kit from {Path(kit.__file__).parent} (built from commit {BUILT_FROM or 'unknown'})")
    cfg = competitions.load_config(SLUG, PRESET, OVERRIDES, str(data_dir), PARAMS)
    commands.cmd_run(types.SimpleNamespace(resume=None, runs=[], set=OVERRIDES), cfg)
    written = submission.newest(SLUG)
    working.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(written, working / "submission.csv")
    shutil.copyfile(written.with_suffix(".json"), working / "submission.json")
    print(f"wrote {working / 'submission.csv'}")


if __name__ == "__main__":
    main()
'''
