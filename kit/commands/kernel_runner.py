"""The script a Kaggle kernel runs, as built by `make kernel`.

Self-contained: the kit package and the competition's config travel below as a base64
zip; no pip install and no internet are needed (Kaggle's image has Keras and TensorFlow).
Reads /kaggle/input/<competition>/ (and the weights dataset `make kernel-push` attached, for a
pretrained backbone) and writes /kaggle/working/submission.csv with its record submission.json.
Runs train straight into /kaggle/working/runs/, each fold's checkpoint and history written as
they are made, under a time budget (Kaggle's limit for the machine less a margin, unless
train.time_budget_s says otherwise): a kernel that would not finish every fold submits the folds
it finished, and a kernel Kaggle stopped still leaves them for `make kernel-output`.
`--input DIR --working DIR` (or KIT_KAGGLE_INPUT and KIT_KAGGLE_WORKING) override the two
folders for a local run.
"""

import argparse
import base64
import io
import json
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# --- settings: `make kernel` writes the real values here (kit.kaggle.kernel.script) ---
SLUG = "digit-recognizer"
SOURCE = "digit-recognizer"  # the competition's folder under /kaggle/input
TRAIN_FILE = "train.csv"
PRESET = ""
OVERRIDES: list[str] = []
PARAMS: dict | None = None
BUILT_FROM = ""
WEIGHTS: dict | None = None  # {"dataset", "file"}: a weights file attached as a dataset; {"model"}: a Kaggle model
BUNDLE = ""  # the kit and the competition's folder, a base64 zip
# --- end of settings ---

STARTED = time.monotonic()
# Kaggle's run-time limit of one session, by machine: 12 hours for CPU and GPU sessions, 9 hours
# for TPU (Kaggle's documentation, kaggle.com/docs/notebooks, "Technical specifications"; the
# project's notes on Kaggle's image do not state it)
LIMIT_S = {"cpu": 12 * 3600, "gpu": 12 * 3600, "tpu": 9 * 3600}
# what the budget leaves after training: reading the data before it, predicting the test set
# (with TTA) and writing the outputs after it, Kaggle's own start and save around the script
MARGIN_S = 3600


def find_input(root):
    """The folder holding the competition's files: <root>/<source>, then the newer layout."""
    for folder in (root / SOURCE, root / "competitions" / SOURCE, root):
        if folder.is_dir() and any(folder.glob(TRAIN_FILE + "*")):
            return folder
    raise SystemExit(f"no {TRAIN_FILE} under {root / SOURCE}: add the competition as an input")


def find_weights(root):
    """train.weights=<the attached weights file>, or nothing: a dataset is mounted at
    <root>/<dataset>/ (newer layouts nest it deeper, under datasets/<owner>/)."""
    if not WEIGHTS:
        return []
    if "model" in WEIGHTS:
        return [f"train.weights={find_model(root, WEIGHTS['model'])}"]
    name, dataset = WEIGHTS["file"], WEIGHTS["dataset"]
    for pattern in (f"{dataset}/{name}", f"datasets/*/{dataset}/{name}", f"*/{name}", f"*/*/{name}"):
        found = sorted(root.glob(pattern))
        if found:
            print(f"weights: {found[0]}")
            return [f"train.weights={found[0]}"]
    raise SystemExit(
        f"no {name} under {root}: attach the dataset {dataset} (`make kernel-push` uploads it and "
        "lists it in dataset_sources), or build the kernel with INTERNET=1"
    )


def find_model(root, source):
    """The folder Kaggle mounts an attached model in (owner/model/framework/variation/version):
    <root>/<model>/<framework>/<variation>/<version>/, or deeper in newer layouts; the one
    holding the preset's config.json."""
    owner, model, framework, variation, version = source.split("/")
    tail = f"{framework}/{variation}/{version}"
    for pattern in (f"{model}/{tail}", f"models/{owner}/{model}/{tail}", f"*/{model}/{tail}", f"*/*/{model}/{tail}"):
        for folder in sorted(root.glob(pattern)):
            if (folder / "config.json").is_file():
                print(f"weights: {folder}")
                return folder
    raise SystemExit(
        f"no {source} under {root}: attach the model (`make kernel` lists it in model_sources; "
        "in the notebook editor: Add Input > Models)"
    )


def unpack():
    """The kit and the competition folder into a fresh temporary folder, first on sys.path."""
    folder = Path(tempfile.mkdtemp(prefix="kit-bundle-"))
    zipfile.ZipFile(io.BytesIO(base64.b64decode(BUNDLE))).extractall(folder)
    os.environ["KIT_COMPETITIONS"] = str(folder / "competitions")
    os.environ["KIT_WORKDIR"] = str(folder / "work")  # cache, tracker, audit: not outputs (runs: main)
    os.environ["KIT_GIT_COMMIT"] = BUILT_FROM  # no .git here: the record names the commit built from
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


def machine():
    """cpu, gpu or tpu: which of Kaggle's run-time limits applies."""
    if os.environ.get("TPU_NAME") or os.environ.get("TPU_ACCELERATOR_TYPE") or any(Path("/dev").glob("accel*")):
        return "tpu"
    return "gpu" if Path("/proc/driver/nvidia").exists() else "cpu"


def with_time_budget(cfg):
    """train.time_budget_s as set; when 0, Kaggle's limit for this machine less MARGIN_S and the
    time this script has run, so that no fold starts which Kaggle would stop."""
    from kit import config

    if cfg.train.time_budget_s > 0:
        print(f"time budget: {cfg.train.time_budget_s:.0f} s of training (train.time_budget_s)")
        return cfg
    kind = machine()
    seconds = max(LIMIT_S[kind] - MARGIN_S - (time.monotonic() - STARTED), 60.0)
    print(
        f"time budget: {seconds / 3600:.1f} h of training (Kaggle's {LIMIT_S[kind] // 3600} h limit for a "
        f"{kind} session, less {MARGIN_S // 60} min for the rest); train.time_budget_s sets another"
    )
    return config.replace(cfg, train={"time_budget_s": round(seconds)})


def main():
    input_root, working = folders()
    data_dir = find_input(input_root)
    overrides = OVERRIDES + find_weights(input_root)
    working.mkdir(parents=True, exist_ok=True)
    unpack()
    os.environ["KIT_RUNS_DIR"] = str(working / "runs")  # each fold kept as made, even if Kaggle stops us
    import kit
    from kit.commands.local import run_pipeline
    from kit.config import competitions
    from kit.training.determinism import set_xla_flag

    print(f"kit from {Path(kit.__file__).parent} (built from commit {BUILT_FROM or 'unknown'})")
    cfg = with_time_budget(competitions.load_config(SLUG, PRESET, overrides, str(data_dir), PARAMS))
    set_xla_flag(cfg.train.deterministic)  # as `python -m kit` does, before Keras starts
    written = run_pipeline(cfg)
    shutil.copyfile(written, working / "submission.csv")
    shutil.copyfile(written.with_suffix(".json"), working / "submission.json")
    shutil.copyfile(written.with_suffix(".probabilities.npy"), working / "submission.probabilities.npy")
    keep_runs(working, json.loads(written.with_suffix(".json").read_text())["runs"])
    print(f"wrote {working / 'submission.csv'}")


def keep_runs(working, names):
    """Each run behind the submission, trained in <working>/runs/<name>/ (checkpoints, history,
    reports: to look at on Kaggle), without the finished folds' resume backups, and packed as
    run-<name>.zip, which `make kernel-output` brings back as a run to ensemble."""
    from kit import paths
    from kit.training.run_archive import pack_run

    for name in names:
        run_dir = paths.runs_dir(SLUG) / name
        for backup in run_dir.glob("fold*/backup"):
            if (backup.parent / "fold.json").is_file():
                shutil.rmtree(backup)
        packed = pack_run(run_dir, working / f"run-{name}.zip")
        print(f"kept the run: {run_dir} and {packed.name} ({packed.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
