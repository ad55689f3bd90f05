"""`make reproduce FILE=<submission.csv>`: a submission re-created from its JSON record alone.

The record beside every submission holds what made it: the resolved config, every run's own
config (seeds included) and the hash of its split, the data's hashes (pixels and each file), the
git commit, the library versions, the device and the TTA views. From it this verb

1. checks the data (a mismatch stops with one line naming the files that differ),
2. checks the code (another commit or local changes: a warning with the command that checks out
   the recorded commit; the reproduction goes on),
3. trains every run of the ensemble again into new run folders, with its recorded config and the
   split re-derived from data.seed (refused when it does not hash to the recorded split),
4. predicts with the recorded TTA and writes a NEW submission (`<time>-reproduce-<original>.csv`,
   never over the original), then compares: labels identical, or the agreement rate and the
   largest probability difference, with what differs from the original's making.

Bit-identical results need the same data, code, library versions and device, and deterministic
ops (`train.deterministic`, on by default on a CPU: see `kit.training.determinism`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from kit import config, data, fileio, paths, predict, provenance
from kit.commands.printing import print_run, print_submission
from kit.config import Config, competitions
from kit.data import classes
from kit.data.splits import make_splits, split_sha256
from kit.errors import KitError
from kit.submission import record as records
from kit.training import runs
from kit.training.determinism import set_xla_flag


def cmd_reproduce(args, cfg: Config) -> int:
    """Re-create `--file` from its record; compare the new submission with it."""
    original = submission_path(args.file, cfg.competition.slug)
    record = read_record(original)
    cfg = recorded_config(record, original, args)
    code = code_warnings(record, provenance.git_commit())
    for line in code:
        print(f"warning: {line}", file=sys.stderr)
    loaded = data.load(cfg)
    check_data(record, original, cfg, loaded)
    print(f"data: as recorded ({'the embedded sample' if loaded.embedded else loaded.folder})")
    details = run_details(record, cfg)
    for detail in details:  # JAX reads XLA's flags once, when Keras first starts it
        set_xla_flag(detail["config"].get("train", {}).get("deterministic", "auto"))
    run_dirs = [retrain(detail, cfg, loaded, f"{original.name}'s run {detail['run']}") for detail in details]
    print("== predict")
    tta = int(record.get("tta_views", cfg.predict.tta))
    probabilities = predict.ensemble(config.replace(cfg, predict={"tta": tta}), loaded, run_dirs)
    path, new_record = predict.write_submission(
        cfg, loaded, run_dirs, probabilities, name=f"reproduce-{original.stem}", extra={"reproduces": original.name}
    )
    print_submission(path, new_record)
    print(f"== compared with {original.name}")
    comparison = compare_files(original, path)
    print(describe(comparison))
    retrained = [fileio.read_json(run_dir / "run.json").get("environment", {}) for run_dir in run_dirs]
    lines = differences(record, provenance.environment(), retrained) + code
    print_differences(lines, comparison["agree"] == comparison["rows"])
    return 0


def submission_path(file: str, slug: str) -> Path:
    """FILE as given, else a name in submissions/<slug>/, else (no FILE) the newest submission."""
    if not file:
        newest = records.newest(slug)
        print(f"FILE not given: reproducing the newest submission, {newest.name}")
        return newest
    for candidate in (Path(file), paths.submissions_dir(slug) / file):
        if candidate.is_file():
            return candidate
    raise KitError(f"{file}: file not found (FILE=<a submission .csv, e.g. in {paths.submissions_dir(slug)}>)")


def read_record(path: Path) -> dict:
    """The JSON record beside a submission (kit.submission.record.read_record), which must exist and hold
    the config: only files the kit wrote can be reproduced."""
    record_path = path.with_suffix(".json")
    if not record_path.is_file():
        raise KitError(f"{record_path}: no record beside {path.name}: only submissions the kit wrote can be reproduced")
    record = records.read_record(path)
    if not isinstance(record.get("config"), dict):
        raise KitError(f"{record_path}: the record has no config: it cannot be reproduced")
    return record


def recorded_config(record: dict, original: Path, args) -> Config:
    """The config the submission was made with, reading data from DATA= when given."""
    slug = record["config"].get("competition", {}).get("slug") or record.get("competition", "")
    competitions.load_plugins(competitions.resolve_name(slug))  # its models.py may define the networks
    if args.comp and competitions.resolve_name(args.comp) != slug:
        print(f"note: {original.name} is a {slug} submission: reproducing it as such")
    if args.preset or args.set or args.params:
        print("note: PRESET, SET and PARAMS are ignored: a reproduction uses the recorded config")
    return with_data_dir(record["config"], data_dir(record, args.data), str(original.with_suffix(".json")))


def with_data_dir(saved: dict, folder: str, source: str) -> Config:
    """A recorded config, resolved by today's schema, reading its data from `folder`. A config
    saved before `train.deterministic` existed trained without deterministic ops: so it is again,
    as TensorFlow's deterministic kernels give other (equally repeatable) numbers."""
    legacy = {} if "deterministic" in saved.get("train", {}) else {"train": {"deterministic": "off"}}
    return config.resolve(saved, {"data": {"dir": folder}}, legacy, source=source)


def data_dir(record: dict, given: str) -> str:
    """DATA= when given, else the recorded folder when it is here, else '' (data/<slug> or the
    embedded sample, as for any command)."""
    if given:
        return given
    recorded = record["config"].get("data", {}).get("dir", "")
    if recorded and Path(recorded).expanduser().is_dir():
        return recorded
    if recorded:
        print(f"note: the recorded data folder {recorded} is not here; DATA=<folder> names where the data is")
    return ""


def check_data(record: dict, original: Path, cfg: Config, loaded) -> None:
    """The pixels and labels must hash to the record's data_sha256; else one error line naming
    the files whose hashes differ from the record's."""
    recorded = record.get("data_sha256")
    if not recorded:
        print(f"warning: {original.name}'s record has no data hash: the data cannot be checked", file=sys.stderr)
        return
    test = loaded.test.images if loaded.test is not None else None
    if fileio.sha256_arrays(loaded.train.images, loaded.train.labels, test) == recorded:
        return
    source = "the embedded sample" if loaded.embedded else str(loaded.folder)
    raise KitError(
        f"{source}: not the data {original.name} was made from: "
        f"{changed_files(record.get('data_files'), cfg, loaded)} (DATA=<the folder it was made from>)"
    )


def changed_files(recorded: dict | None, cfg: Config, loaded) -> str:
    """'train.csv differs (sha256 1a2b3c4d recorded, 5e6f7a8b here), test.csv missing', ..."""
    if not recorded:
        return "its record predates per-file hashes, so which file differs is unknown"
    here = data.used_files(cfg, loaded)
    changed = []
    for role, entry in recorded.items():
        path = here.get(role)
        if path is None:
            changed.append(f"{entry['file']} missing")
            continue
        digest = fileio.sha256_file(path)
        if digest != entry["sha256"]:
            changed.append(f"{path.name} differs (sha256 {entry['sha256'][:8]} recorded, {digest[:8]} here)")
    return ", ".join(changed) or "every file matches its recorded hash, yet the pixels read from them differ"


def code_warnings(record: dict, here: str) -> list[str]:
    """What differs between the recorded code and this checkout, with how to get the recorded one."""
    recorded = record.get("git_commit", "")
    if not recorded:
        return ["the record names no git commit (not made in a git checkout): the code cannot be checked"]
    commit = recorded.removesuffix("+dirty")
    checkout = f"`git worktree add ../kit-{commit[:8]} {commit}`, then reproduce from that folder"
    lines = []
    if recorded.endswith("+dirty"):
        lines.append(f"the original was made from changes never committed, on top of {commit[:12]}")
    if not here:
        lines.append(f"this folder is not a git checkout: the code cannot be compared with {commit[:12]}")
    elif here.removesuffix("+dirty") != commit:
        lines.append(f"the code here is commit {here.removesuffix('+dirty')[:12]}, not {commit[:12]}: {checkout}")
    elif here.endswith("+dirty"):
        lines.append(f"the code here has uncommitted changes on top of {commit[:12]}: for that commit, {checkout}")
    return lines


def run_details(record: dict, cfg: Config) -> list[dict]:
    """Every run of the submission with its own config and split hash, and the folds it had
    (`folds_done`, when a time budget stopped it early). A record written before runs were
    recorded in detail gets the submission's config for each (and no split check)."""
    done = {item.get("run"): item.get("done") for item in record.get("folds") or [] if isinstance(item, dict)}
    if record.get("run_details"):
        return [detail | {"folds_done": done.get(detail["run"])} for detail in record["run_details"]]
    print("note: this record predates per-run details: every run is trained with the submission's config")
    if not record.get("runs"):
        raise KitError("the record lists no runs: nothing to train again")
    return [{"run": name, "config": config.to_dict(cfg), "split_sha256": None} for name in record["runs"]]


def retrain(detail: dict, cfg: Config, loaded, source: str) -> Path:
    """Train one recorded run again, in a new run folder; returns the folder."""
    run_cfg = with_data_dir(detail["config"], cfg.data.dir, source)
    # a run may have read its data differently (another data.limit): then it is read its way
    images = loaded.train if run_cfg.data == cfg.data else data.load(run_cfg, with_test=False).train
    splits = make_splits(images.labels, run_cfg.data)
    check_split(detail, splits, run_cfg)
    # the folds the submission had, no more (a kernel's budget may have stopped it), and no budget
    # to stop this machine sooner
    splits = splits[: detail.get("folds_done") or len(splits)]
    run_cfg = config.replace(run_cfg, train={"time_budget_s": 0.0})
    print(
        f"== train {detail['run']} again: {run_cfg.train.model}, seed {run_cfg.train.seed}, "
        f"split seed {run_cfg.data.seed}, {len(splits)} fold(s)"
    )
    result = runs.train(run_cfg, images, splits=splits)
    print_run(run_cfg, result)
    return result.run_dir


def check_split(detail: dict, splits: list, run_cfg: Config) -> None:
    """The re-derived split must be the recorded one (another scikit-learn may split otherwise)."""
    recorded = detail.get("split_sha256")
    if not recorded:
        print(f"note: run {detail['run']} has no recorded split hash: its split is re-derived unchecked")
        return
    derived = split_sha256(splits)
    if derived != recorded:
        then = (detail.get("environment") or {}).get("versions", {}).get("scikit-learn", "?")
        raise KitError(
            f"run {detail['run']}: the split re-derived from data.seed={run_cfg.data.seed} is not the recorded one "
            f"(sha256 {recorded[:8]} recorded, {derived[:8]} now; scikit-learn {then} then, "
            f"{provenance.library_versions().get('scikit-learn')} now)"
        )


def compare_files(original: Path, new: Path) -> dict:
    """Two submissions of the same ids, row by row by id. Labels: their agreement, and the largest
    difference of their `.probabilities.npy` (aligned by class name) when both have one.
    Probabilities (a column per class, or the positive class's alone): the agreement of their
    argmax and their largest difference, column by column by name."""
    old_frame, new_frame = pd.read_csv(original), pd.read_csv(new)
    id_column, *columns = (str(c) for c in new_frame.columns)
    old_frame.columns = [str(c) for c in old_frame.columns]
    missing = sorted(set(columns) - set(old_frame.columns[1:]))
    if missing:
        raise KitError(f"{original.name}: no column {missing[0]!r}: not a submission of the same form as {new.name}")
    old_rows = old_frame.set_index(old_frame.columns[0]).reindex(new_frame[id_column])[columns]
    if not all(pd.api.types.is_float_dtype(new_frame[column]) for column in columns):
        same = old_rows[columns[0]].to_numpy() == new_frame[columns[0]].to_numpy()
        result = {"form": "label", "rows": len(same), "agree": int(same.sum())}
        difference = stored_difference(original, new)
        return result if difference is None else result | {"max_probability_difference": difference}
    before, after = old_rows.to_numpy(dtype=np.float64), new_frame[columns].to_numpy(dtype=np.float64)
    if len(columns) == 1:  # the positive class's probability: its label is p > 0.5
        before, after = np.hstack([1 - before, before]), np.hstack([1 - after, after])
    same = before.argmax(axis=1) == after.argmax(axis=1)
    return {
        "form": "probabilities",
        "rows": len(same),
        "agree": int(same.sum()),
        "max_probability_difference": float(np.nanmax(np.abs(before - after), initial=0.0)),
    }


def stored_difference(original: Path, new: Path) -> float | None:
    """The largest difference of the two submissions' stored probabilities, class by class
    (their records name the column order); None when the original stored none."""
    old_p, new_p = original.with_suffix(".probabilities.npy"), new.with_suffix(".probabilities.npy")
    if not (old_p.exists() and new_p.exists()):
        return None
    before, after = np.load(old_p, allow_pickle=False), np.load(new_p, allow_pickle=False)
    new_names = read_record(new).get("class_names")
    old_names = read_record(original).get("class_names") or new_names  # a record before names were kept
    if new_names:
        before = classes.align(before, old_names, new_names, f"{original.name}'s probabilities")
    if before.shape != after.shape:
        return None
    return float(np.abs(before.astype(np.float64) - after).max())


def describe(comparison: dict) -> str:
    """'labels identical (1,900 rows); probabilities bit-identical', or the agreement rate; for
    a probability submission, of the most probable class of each row."""
    rows, agree = comparison["rows"], comparison["agree"]
    labels = comparison.get("form", "label") == "label"
    what, verb = ("labels", "agree") if labels else ("probabilities per class: the most probable class", "agrees")
    text = (
        f"{what} identical ({rows:,} rows)"
        if agree == rows
        else f"{what} {verb} on {agree:,} of {rows:,} rows ({agree / max(rows, 1):.2%})"
    )
    difference = comparison.get("max_probability_difference")
    if difference is None:
        return f"{text}; the original has no .probabilities.npy to compare"
    if difference == 0:
        return f"{text}; probabilities bit-identical"
    return f"{text}; largest probability difference {difference:.3g}"


def differences(record: dict, now: dict, retrained: list[dict] | None = None) -> list[str]:
    """Why a reproduction can differ from the original: what differs from its making (library
    versions, backend, device, CPU count, each run's precision policy against its retrained
    run's, `retrained`) and runs trained without deterministic ops. The process's own policy is
    no run's (a fit restores it), so the submission's top-level record is not compared on it."""
    details = record.get("run_details") or []
    retrained = retrained or [now] * len(details)
    made = [
        (detail.get("environment"), now | {"precision": again.get("precision")})
        for detail, again in zip(details, retrained, strict=True)
    ]
    made = [(env, current) for env, current in made + [(record.get("environment"), now)] if env]
    if not made:
        return ["the record has no library versions (written before the kit recorded them)"]
    lines = []
    for env, current_env in made:
        versions = env.get("versions", {})
        pairs = [(name, version, now["versions"].get(name, "not installed")) for name, version in versions.items()]
        pairs += [(label, env.get(key), current_env.get(key)) for key, label in ENVIRONMENT_KEYS.items()]
        lines += [
            f"{name} {then} then, {current} now"
            for name, then, current in pairs
            if then not in (None, current) and current is not None
        ]
    lines += [
        f"run {detail['run']} trained without deterministic ops (train.deterministic)"
        for detail in details
        if detail.get("deterministic") is False
    ]
    return list(dict.fromkeys(lines))  # each once, in order


# besides library versions, what changes a model's numbers: labels printed for each
ENVIRONMENT_KEYS = {
    "keras_backend": "Keras backend",
    "device": "device",
    "cpus": "CPU count",
    "onednn": "TF_ENABLE_ONEDNN_OPTS",
    "precision": "Keras precision policy",
}


def print_differences(lines: list[str], identical: bool) -> None:
    """What differs from the original's making: why the labels differ, or what did not matter."""
    if not lines:
        print("made as the original was: same code, library versions, backend, device and CPU count")
        return
    print("made differently from the original (none of it changed a label):" if identical else "why it differs:")
    for line in lines:
        print(f"  - {line}")
