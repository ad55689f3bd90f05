"""Kaggle kernel bundles: `build/<slug>/kernel/` with `kernel-metadata.json` and one script.

The script is self-contained: the kit package and the competition's folder (competition.toml,
models.py, space.py; never its sample data) travel inside it as a base64 zip, with the chosen
preset, overrides and tuned parameters. On Kaggle it unpacks to a temporary folder, runs the
kit's whole pipeline on `/kaggle/input/<competition>/` and copies the submission to
`/kaggle/working/submission.csv` (its JSON record beside it). No pip install, no internet: a
pretrained backbone's weights go as a dataset of their own (kit.kaggle.kernel_weights).
`KIT_KAGGLE_INPUT` and `KIT_KAGGLE_WORKING` move the two folders for a local run.

Credentials never enter a bundle: only source files are packed, and the finished script is
checked against the secret values present on this machine before it is written.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from kit import fileio, paths, provenance, tracker
from kit.config import Config
from kit.config.competitions import params_path
from kit.config.params import load_params
from kit.errors import KitError
from kit.kaggle import endpoints, kernel_runs, kernel_weights
from kit.kaggle.client import api, secrets, username
from kit.kaggle.kernel_bundle import bundle_files, pack
from kit.scoring.offline import expected_for
from kit.submission.record import read_record

RUNNER = Path(__file__).parent.parent / "commands" / "kernel_runner.py"  # a real module, linted like the rest
SETTINGS_START = "# --- settings:"
SETTINGS_END = "# --- end of settings ---"
PLACEHOLDER_USER = "your-kaggle-username"  # replaced by the real name at `make kernel-push`
GPU_MACHINE = "NvidiaTeslaT4"  # kaggle's name for "GPU T4 x2" (`kaggle kernels push --accelerator`)


def kernel_slug(slug: str) -> str:
    return f"{slug}-kit"


def metadata(
    cfg: Config, user: str, gpu: bool, internet: bool, weights: dict | None = None, model: str | None = None
) -> dict[str, Any]:
    """kernel-metadata.json: the title slugifies to the id, as `kaggle kernels push` wants; the
    weights dataset (kit.kaggle.kernel_weights) among the sources when there is one, a KerasHub
    preset's Kaggle Models handle among the model sources. A GPU kernel
    asks for the machine with two T4s, which `train.distribute=auto` trains on together."""
    name = kernel_slug(cfg.competition.slug)
    owner = user or PLACEHOLDER_USER
    shape = {"machine_shape": GPU_MACHINE} if gpu else {}  # the kaggle client sends it as machineShape
    return {
        "id": f"{owner}/{name}",
        "title": name,
        "code_file": f"{name}.py",
        "language": "python",
        "kernel_type": "script",
        "is_private": True,
        "enable_gpu": gpu,
        "enable_tpu": False,
        "enable_internet": internet,  # off: code competitions forbid it, and nothing needs it
        "dataset_sources": [f"{owner}/{weights['dataset']}"] if weights else [],
        "competition_sources": [cfg.competition.kaggle] if cfg.competition.kaggle else [],
        "kernel_sources": [],
        "model_sources": [model] if model else [],
        **shape,
    }


def script(
    cfg: Config,
    files: dict[str, bytes],
    preset: str,
    overrides: list[str],
    params: dict | None,
    weights: dict | None = None,
) -> str:
    """The kernel's Python source: settings, the packed `files`, and the runner."""
    model = kernel_weights.model_source(cfg)
    slug = cfg.competition.slug
    settings = {
        "SLUG": slug,
        "SOURCE": cfg.competition.kaggle or slug,
        "TRAIN_FILE": marker_file(cfg),
        "PRESET": preset,
        "OVERRIDES": list(overrides),
        "PARAMS": params,
        "BUILT_FROM": provenance.git_commit(),
        "WEIGHTS": weights_setting(weights, model),
    }
    lines = [f"{key} = {value!r}" for key, value in settings.items()]  # Python literals
    lines.append(f'BUNDLE = """\n{pack(files)}\n"""')
    runner = RUNNER.read_text()
    doc_end = runner.index('"""', 3) + 3  # the runner's own docstring gives way to the header's
    start, end = runner.index(SETTINGS_START), runner.index(SETTINGS_END) + len(SETTINGS_END)
    header = (
        f'"""{slug}: the kit\'s pipeline as one Kaggle script, built by `make kernel` on '
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n{runner[3:doc_end]}"
    )
    return header + runner[doc_end:start] + "\n".join(lines) + runner[end:]


def marker_file(cfg: Config) -> str:
    """What marks the competition's input folder on Kaggle: its labelled CSV, or for labels in
    paths (class folders, file names) its folder of training images (there is no train.csv)."""
    if cfg.data.format in ("class_folders", "file_names"):
        return cfg.data.train_dir or "train"
    return cfg.data.train_file


def weights_setting(weights: dict | None, model: str | None) -> dict | None:
    """What the runner looks for under /kaggle/input: an attached model's folder or the weights file."""
    if model:
        return {"model": model}
    return {"dataset": weights["dataset"], "file": weights["file"]} if weights else None


def check_no_secrets(*parts: bytes) -> None:
    """Refuse to write a bundle that contains a credential present on this machine. The packed
    files are checked before compression: inside the base64 zip a key could not be seen."""
    for secret in secrets():
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
    weights = kernel_weights.plan(cfg, internet)  # refuses a kernel that could not get its weights
    meta = metadata(cfg, username(), gpu, internet, weights, kernel_weights.model_source(cfg))
    files = bundle_files(cfg.competition.slug)
    source = script(cfg, files, preset, overrides or [], params, weights)
    check_no_secrets(source.encode(), json.dumps(meta).encode(), *files.values())
    fileio.atomic_write(folder / meta["code_file"], source.encode())
    fileio.write_json(folder / "kernel-metadata.json", meta)
    kernel_weights.write_plan(folder, weights)
    return folder


def read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / "kernel-metadata.json"
    if not path.is_file():
        raise KitError(f"{path}: no kernel built yet: run `make kernel` first")
    return json.loads(path.read_text())


def with_user(folder: Path, user: str) -> dict[str, Any]:
    """Put the authenticated user's name into the id (and the weights dataset's) when the bundle
    was built without it."""
    meta = read_metadata(folder)
    owner, _, name = meta["id"].partition("/")
    if owner == PLACEHOLDER_USER and user:
        meta["id"] = f"{user}/{name}"
        own = PLACEHOLDER_USER + "/"
        meta["dataset_sources"] = [
            user + s[len(PLACEHOLDER_USER) :] if s.startswith(own) else s for s in meta.get("dataset_sources", [])
        ]
        fileio.write_json(folder / "kernel-metadata.json", meta)
    elif owner == PLACEHOLDER_USER:
        raise KitError("the kernel id has no user name: set KAGGLE_USERNAME and run `make kernel` again")
    if not re.fullmatch(r"[A-Za-z0-9_-]+/[a-z0-9-]+", meta["id"]):
        raise KitError(f"kernel id '{meta['id']}' must look like user/slug")
    return meta


# ---------------------------------------------------------------- the verbs


def kernel_folder(cfg: Config) -> Path:
    return paths.build_dir(cfg.competition.slug) / "kernel"


def cmd_kernel(args, cfg: Config) -> int:
    """Build the self-contained kernel bundle under build/<slug>/kernel/."""
    params = load_params(params_path(cfg.competition.slug, args.params)) if args.params else None
    if args.data:
        print("note: DATA is not baked into the kernel: it reads /kaggle/input/", file=sys.stderr)
    folder = build(cfg, args.preset, args.set, params, gpu=args.gpu, internet=args.internet)
    meta = json.loads((folder / "kernel-metadata.json").read_text())
    gpu = "off"
    if meta.get("machine_shape") == GPU_MACHINE:
        on = "one" if cfg.train.distribute == "off" else "both"
        gpu = f"2 x T4 (train.distribute={cfg.train.distribute} trains on {on})"
    print(f"kernel bundle: {folder}")
    print(
        f"  id {meta['id']}, script {meta['code_file']}, GPU {gpu}, "
        f"internet {meta['enable_internet']}, sources "
        f"{meta['competition_sources'] + meta['dataset_sources'] + meta['model_sources']}"
    )
    if meta["dataset_sources"]:
        planned = json.loads((folder / kernel_weights.PLAN_FILE).read_text())
        print(
            f"  weights: {planned['path']} goes as the private dataset {meta['dataset_sources'][0]} "
            "at `make kernel-push`"
        )
    if meta["id"].startswith(PLACEHOLDER_USER):
        print("  the user name is filled in at `make kernel-push` (from your Kaggle credentials)")
    return 0


def cmd_kernel_push(args, cfg: Config) -> int:
    """Push the built kernel; Kaggle starts a run of it."""
    folder = kernel_folder(cfg)
    client = api()
    meta = with_user(folder, client.get_config_value("username") or username())
    kernel_weights.push(client, cfg.competition.slug, folder, meta)
    pushed = endpoints.push_kernel(client, folder)
    tracker.record_kernel(cfg.competition.slug, meta["id"], pushed["version"], pushed["url"], "pushed")
    print(f"pushed {meta['id']} version {pushed['version']}: {pushed['url']}")
    print(f"  follow it with `make kernel-status COMP={cfg.competition.slug}`")
    return 0


def kernel_id(cfg: Config) -> tuple[str, int]:
    """(user/slug, version) of the newest pushed kernel; else the built one's id, version 0."""
    pushed = tracker.latest_kernel(cfg.competition.slug)
    if pushed:
        return pushed["ref"], pushed["version"]
    built = read_metadata(kernel_folder(cfg))["id"]
    if built.startswith(PLACEHOLDER_USER):
        raise KitError(f"no kernel pushed yet: run `make kernel-push COMP={cfg.competition.slug}` first")
    return built, 0


def cmd_kernel_status(args, cfg: Config) -> int:
    ref, version = kernel_id(cfg)
    status, failure = endpoints.kernel_status(api(), ref)
    tracker.record_kernel(cfg.competition.slug, ref, version, status=status, failure=failure)
    print(f"{ref}: {status}{' - ' + failure if failure else ''}")
    if status == "complete":
        print(f"  fetch its submission with `make kernel-output COMP={cfg.competition.slug}`")
    return 1 if status == "error" else 0


def cmd_kernel_output(args, cfg: Config) -> int:
    """Fetch the kernel's output and log: its submission joins submissions/<slug>/, its runs
    (finished, or the folds a stopped kernel finished) join the local runs."""
    slug = cfg.competition.slug
    ref, version = kernel_id(cfg)
    dest = paths.build_dir(slug) / "kernel-output" / time.strftime("%Y%m%d-%H%M%S")
    client = api()
    files = endpoints.kernel_output(client, ref, dest)
    if kernel_runs.wants_run_folders(dest):  # stopped before packing its runs: the plain folders
        files += endpoints.kernel_output(client, ref, dest, pattern=f"^{kernel_runs.RUNS}/")
    print(f"{len(files)} file(s) in {dest}")
    recovered = kernel_runs.recover(dest, slug, version)
    for run_dir in recovered:
        note = kernel_runs.read_object(run_dir / "run.json").get("recovered", "")
        print(f"kernel run: {run_dir}{f' ({note})' if note else ''}")
    if (dest / "submission.csv").is_file():
        keep_submission(cfg, dest, ref, version)
    elif recovered:
        print("no submission.csv: the kernel stopped before writing one")
    else:
        raise KitError(f"the kernel's output has no submission.csv and no run (files: {[p.name for p in files]})")
    if recovered:  # alone, or beside local runs
        print(f'predict with them: make predict COMP={slug} RUN="{" ".join(r.name for r in recovered)}"')
    return 0


def keep_submission(cfg: Config, dest: Path, ref: str, version: int) -> None:
    """The kernel's submission, validated, as a submission of this machine (and its probabilities)."""
    from kit import submission

    slug, produced = cfg.competition.slug, dest / "submission.csv"
    exp, _ = expected_for(cfg, produced)
    frame = submission.read_and_validate(produced, exp)
    record = {**read_record(produced), "kernel": ref, "kernel_version": version}
    record.pop("sha256", None)
    path, record = submission.write(frame, exp, slug, f"kernel-v{version}", record)
    if record.get("unchanged"):  # this version's output fetched again: the same file, tracked once
        print(f"kernel submission: {path}, kept as fetched before (submit it with `make submit COMP={slug}`)")
        return
    if (dest / "submission.probabilities.npy").is_file():  # for ensembling with local submissions
        shutil.copyfile(dest / "submission.probabilities.npy", path.with_suffix(".probabilities.npy"))
    tracker.record_written(slug, path, record, source="kernel")
    print(f"kernel submission: {path} (submit it with `make submit COMP={slug}`)")
