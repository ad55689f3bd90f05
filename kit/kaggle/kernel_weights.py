"""Pretrained weights for a kernel: Kaggle runs kernels offline, so a backbone that wants ImageNet
weights (`PRESET=transfer`, `PRESET=mobilenet`) gets them one of two ways, decided at `make kernel`:

- the local weights file (the Keras cache's copy, or `train.weights=<file>`) travels as a private
  Kaggle dataset, `<user>/kit-weights-<slug>`: `make kernel-push` creates it once and adds a
  version only when the file's content (SHA-256) changed; the kernel lists it in
  `dataset_sources` and its runner finds the file under `/kaggle/input/` and trains with it;
- or internet is on (`INTERNET=1`, where the competition allows it) and Keras downloads them.

With neither, `make kernel` refuses with one line saying what to do, instead of a kernel that
queues for a GPU and then stops. Which models need weights, and which file, their registry
entries say (`ModelSpec.pretrained`: the transfer models and the embedding baselines alike).

A KerasHub preset (kit.models.hub) needs neither: its weights are on Kaggle Models, which the
kernel attaches (`model_sources`, `model_source` here) and reads offline from /kaggle/input/;
its own `.weights.h5` file (`train.weights=<file>`) goes the private-dataset way.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from kit import fileio, models, paths
from kit.config import Config
from kit.errors import KitError
from kit.kaggle import endpoints
from kit.models.pretrained import NO_WEIGHTS, backbone_shape, keras_cache, local_weights

PLAN_FILE = "weights.json"  # in the kernel folder: what `make kernel-push` uploads
READY_TIMEOUT = 600.0  # seconds to wait for Kaggle to process a new dataset version


def dataset_slug(slug: str) -> str:
    """The weights dataset's slug: 6 to 50 characters, as Kaggle wants."""
    return f"kit-weights-{slug}"[:50].rstrip("-")


def plan(cfg: Config, internet: bool) -> dict[str, str] | None:
    """What the kernel needs for its weights: None (none needed, or ImageNet's by name with
    internet on), else {path, file, dataset} of the local file to upload; a KitError when
    neither is possible."""
    model, weights = cfg.train.model, cfg.train.weights
    pretrained = models.get(model).pretrained  # Keras-free: the registry entry alone
    if pretrained is not None and pretrained.source == "kerashub":
        return hub_file_plan(cfg, pretrained)
    if pretrained is None or weights in NO_WEIGHTS or (internet and weights == "imagenet"):
        return None
    shape = backbone_shape(pretrained, cfg.data.height, cfg.data.width)
    name = pretrained.file_for(shape)
    local = local_weights(pretrained, weights, shape)
    if local is None:
        raise KitError(
            f"{model} needs ImageNet weights and Kaggle runs kernels offline: put {name} (from "
            f"{pretrained.url_for(shape)}) in {keras_cache()} or set train.weights=<that file>, and "
            "`make kernel-push` uploads it as a private dataset the kernel reads; or build with "
            "INTERNET=1 where the competition allows internet"
        )
    if not local.is_file():
        raise KitError(f"train.weights={weights}: file not found (a {name} from keras.applications)")
    return {"path": str(local.resolve()), "file": local.name, "dataset": dataset_slug(cfg.competition.slug)}


def model_source(cfg: Config) -> str | None:
    """The Kaggle Models source a kernel attaches for its weights (`owner/model/keras/variation/
    version`, kernel-metadata.json's `model_sources`): a KerasHub preset with train.weights=imagenet.
    Kaggle mounts it under /kaggle/input/ and the kernel reads it there, internet off."""
    pretrained = models.get(cfg.train.model).pretrained
    if pretrained is None or pretrained.source != "kerashub" or cfg.train.weights != "imagenet":
        return None
    if not pretrained.handle:
        raise KitError(
            f"{cfg.train.model}: KerasHub preset {pretrained.preset} has no Kaggle Models handle to attach; "
            "set train.weights=<a .weights.h5 file> (it travels as a private dataset) or train.weights=none"
        )
    return pretrained.handle.removeprefix("kaggle://")


def hub_file_plan(cfg: Config, pretrained) -> dict[str, str] | None:
    """A KerasHub backbone's own weights file (train.weights=<.weights.h5>) travels as the private
    dataset; `imagenet` attaches the model instead (model_source), `none` needs nothing."""
    weights = cfg.train.weights
    if weights in NO_WEIGHTS or weights == "imagenet":
        return None
    local = Path(weights).expanduser()
    if not local.is_file():
        raise KitError(
            f"train.weights={weights}: a kernel carries one .weights.h5 file, not a folder or a missing path; "
            f"train.weights=imagenet attaches {pretrained.preset} from Kaggle Models instead"
        )
    return {"path": str(local.resolve()), "file": local.name, "dataset": dataset_slug(cfg.competition.slug)}


def write_plan(folder: Path, planned: dict[str, str] | None) -> None:
    """Record the plan beside the kernel (or remove an older one)."""
    if planned:
        fileio.write_json(folder / PLAN_FILE, planned)
    else:
        (folder / PLAN_FILE).unlink(missing_ok=True)


def stage(planned: dict[str, str], ref: str, folder: Path) -> Path:
    """The dataset's folder: dataset-metadata.json and the weights file (hard-linked when it can be)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    source, target = Path(planned["path"]), folder / planned["file"]
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
    meta = {"id": ref, "title": ref.split("/")[1], "licenses": [{"name": "other"}]}
    fileio.write_json(folder / "dataset-metadata.json", meta)
    return folder


def push(client, slug: str, kernel_folder: Path, meta: dict[str, Any]) -> str | None:
    """Before the kernel is pushed: its weights dataset on Kaggle, created or versioned when the
    file changed (its SHA-256 is kept in artifacts/<slug>/kernel-weights.json); returns its ref."""
    plan_path = kernel_folder / PLAN_FILE
    if not plan_path.is_file():
        return None
    planned = json.loads(plan_path.read_text())
    owner = meta["id"].split("/")[0]
    ref = next(
        (s for s in meta["dataset_sources"] if s.endswith("/" + planned["dataset"])), f"{owner}/{planned['dataset']}"
    )
    source = Path(planned["path"])
    if not source.is_file():
        raise KitError(f"{source}: the weights file the kernel was built with is gone; run `make kernel` again")
    digest = fileio.sha256_file(source)
    state_path = paths.artifacts_dir(slug) / "kernel-weights.json"
    state = fileio.read_json(state_path)
    status = endpoints.dataset_status(client, ref)
    if status is not None and state.get(ref, {}).get("sha256") == digest:
        print(f"weights: {ref} already holds {planned['file']} (unchanged)")
        return ref
    folder = stage(planned, ref, paths.build_dir(slug) / "kernel-weights")
    notes = f"{planned['file']} sha256:{digest[:12]}"
    print(
        f"weights: {'a new version of' if status else 'creating'} {ref} ({notes}, {source.stat().st_size / 1e6:.1f} MB)"
    )
    endpoints.upload_dataset(client, folder, ref, exists=status is not None, notes=notes)
    endpoints.wait_dataset_ready(client, ref, float(os.environ.get("KIT_KAGGLE_DATASET_WAIT", READY_TIMEOUT)))
    state[ref] = {"sha256": digest, "file": planned["file"]}
    fileio.write_json(state_path, state)
    shutil.rmtree(folder, ignore_errors=True)
    return ref
