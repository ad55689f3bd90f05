"""`make new COMP=<slug> [DATA=<folder>] [METRIC=<name>]`: a competition folder from its files.

Writes `competitions/<slug>/competition.toml`, each inferred value commented with the file it
came from (`kit.data.infer`), the defaults a new competition starts from (a model for its kind
of images) and a `quick` preset, then prints a summary. An existing competition is never
overwritten without FORCE=1 (its old file is kept as `competition.toml.bak`).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import tomli_w

from kit import fileio, paths
from kit.config.layers import parse_override, resolve
from kit.data.channels import listed
from kit.data.infer import Inferred, find_sample, infer
from kit.data.sample_check import check_columns, check_ids
from kit.errors import KitError
from kit.scoring.recorded import record_frame, record_sample
from kit.tune.default_space import space_source

# test images the sample names that may be missing (each a data fault, said) before `make new` refuses
MISSING_TEST_SHARE = 0.01
SECTION_ORDER = ("competition", "data", "augment", "train", "predict", "submission")


def cmd_new(args, cfg=None) -> int:
    """The `new` verb: no configuration exists yet, so `cfg` is None."""
    slug = args.comp
    check_slug(slug)
    folder = data_source(slug, args.data)
    metric, source = (args.metric, "METRIC=") if args.metric or args.data else kaggle_metric(slug)
    if (sample := find_sample(folder)) is not None:  # its header decides the submission's form
        check_columns(sample)
    # SET= settles what could not be inferred, or corrects a guess: in place before inference,
    # so that what it names is read as given (a test folder, a column) instead of guessed again
    settled = {f"{section}.{key}": value for section, key, value in map(parse_override, args.set)}
    found = infer(folder, metric, source, settled)
    add_defaults(found, slug)
    record_data_dir(found, slug, folder)
    resolve(found.sections, source="the inferred configuration")  # every key and value checked
    check_test_ids(folder, found)
    target = paths.competition_dir(slug) / "competition.toml"
    write(target, render(slug, found), force=args.force)
    print_summary(slug, target, found, write_space(slug, found))
    print_recorded(slug, folder, found)
    return 0


def print_recorded(slug: str, folder: Path, found: Inferred) -> None:
    """Keep the sample submission in the competition's folder (kit.scoring.recorded), or without
    one the shape chosen for it with every test id: `make submit` and `make kernel-output` check a
    file against it where the data is not at hand."""
    from kit.data.no_sample import stand_in

    sample = folder / found.sections.get("submission", {}).get("sample_file", "")
    if sample.is_file():
        kept = record_sample(slug, sample)
        print(f"  sample: {sample.name} kept as {kept} (`make submit` checks files against it without the data)")
    elif (frame := stand_in(found, folder)) is not None:
        kept = record_frame(slug, frame)
        print(f"  sample: none; the shape above, with every test id, kept as {kept} (`make submit` checks against it)")


def check_slug(slug: str) -> None:
    if not slug or not all(c.isalnum() or c in "-_" for c in slug):
        raise KitError(f"competition name '{slug}' must be letters, digits, '-' or '_' (Kaggle's slug)")


def data_source(slug: str, data: str) -> Path:
    """DATA=, else data/<slug>/ when `make data` filled it, else a download with credentials."""
    if data:
        folder = Path(data).expanduser()
        if not folder.is_dir():
            said = "is a file, not a folder" if folder.exists() else "no such folder"
            raise KitError(f"DATA={data}: {said} (DATA= names the folder holding the competition's files)")
        return folder
    downloaded = paths.data_dir(slug)
    if downloaded.is_dir() and any(downloaded.iterdir()):
        return downloaded
    from kit.kaggle.client import has_credentials
    from kit.kaggle.download import download_competition

    if not has_credentials():
        raise KitError(f"no data for {slug}: pass DATA=<folder with its files>, or set Kaggle credentials")
    print(f"downloading {slug} from Kaggle into {downloaded} ...")
    download_competition(slug, downloaded)
    return downloaded


def kaggle_metric(slug: str) -> tuple[str, str]:
    """The metric Kaggle's competition record names, as the kit's (metric, where it came from);
    ('', '') without credentials or when Kaggle cannot be asked (the files' guess then stands)."""
    from kit import metrics
    from kit.kaggle import endpoints
    from kit.kaggle.client import api, has_credentials

    if not has_credentials():
        return "", ""
    try:
        name = endpoints.competition_metric(api(), slug)
    except KitError as error:
        print(
            f"warning: could not read {slug}'s metric from Kaggle ({error}); guessing it from the files",
            file=sys.stderr,
        )
        return "", ""
    if not name:
        return "", ""
    metric = metrics.from_kaggle(name)
    if metric is None:
        raise KitError(
            f"{slug}: Kaggle scores it with '{name}', which is none of the kit's metrics: "
            f"METRIC=<one of {', '.join(metrics.METRICS)}> settles it"
        )
    return metric, f"Kaggle's competition record: {name!r}"


def add_defaults(found: Inferred, slug: str) -> None:
    """What a new competition starts from: the model for its images, no augmentation that could
    erase its signal (no flips: digits and text would change meaning), a quick preset."""
    found.set("competition.title", slug, "the competition's slug")
    found.set("competition.kaggle", slug, "the slug: `make submit` uploads there")
    pixels = found.sections["data"]["format"] == "pixels"
    channels = found.sections["data"].get("channels", 1)
    model = "colour_cnn" if channels >= 3 else "cnn"  # channel files (4 stains) are colour as well
    what = {1: "grey images", 3: "colour photographs"}.get(channels, f"{channels}-channel images")
    found.set("train.model", model, f"a from-scratch CNN for {what}")
    if model == "colour_cnn":
        found.set("train.weights", "none", "trained from scratch: no download needed")
    found.set("train.epochs", 12 if pixels else 10, "a few minutes on a 2-core CPU for small sets")
    found.set("augment.width_shift_range", 0.1, "small shifts help every image set")
    found.set("augment.height_shift_range", 0.1, "small shifts help every image set")
    found.set("predict.tta", 3, "identity and two one-pixel shifts")


def check_test_ids(folder: Path, found: Inferred) -> None:
    """The sample's ids name the test images (image layouts): found now, not after training."""
    data, submission = found.sections["data"], found.sections.get("submission", {})
    sample = folder / submission.get("sample_file", "")
    if data["format"] in ("images", "class_folders", "file_names") and sample.is_file():
        test_dir, column = data.get("test_dir") or "test", submission.get("id_column", "")
        channels = listed(data.get("channel_files", ()))
        warning = check_ids(sample, folder, test_dir, MISSING_TEST_SHARE, column, channels)
        if warning:
            print(warning, file=sys.stderr)


def record_data_dir(found: Inferred, slug: str, folder: Path) -> None:
    """DATA= of `make new` becomes data.dir, so no later verb needs it typed again; data/<slug>
    (where `make data` downloads) is found without it and is not recorded."""
    where = folder.resolve()
    if where != paths.data_dir(slug).resolve():
        found.set("data.dir", str(where), "DATA= of `make new`: every verb reads it (DATA= overrides)")


def render(slug: str, found: Inferred) -> str:
    """competition.toml text: every value with its source as a comment, then the quick preset."""
    lines = [
        f"# {slug}: written by `make new` from the competition's files; edit freely.",
        "# Each value says where it was read from. `make run COMP=" + slug + "` uses it.",
        "",
    ]
    for section in SECTION_ORDER:
        values = found.sections.get(section)
        if not values:
            continue
        lines.append(f"[{section}]")
        for key, value in values.items():
            lines.append(f"{toml_line(key, value)}  # {found.sources.get(f'{section}.{key}', '')}".rstrip("# "))
        lines.append("")
    lines += ["# `make run COMP=" + slug + " PRESET=quick`: a smoke run in about a minute", "[presets.quick.train]"]
    lines += ["epochs = 2", ""]
    return "\n".join(lines)


def write_space(slug: str, found: Inferred) -> str:
    """competitions/<slug>/space.py for `make tune`, suited to the model and image size; one the
    user already has is kept (FORCE=1 replaces competition.toml only). What was done, as a line."""
    target = paths.competition_dir(slug) / "space.py"
    if target.exists():
        return f"kept {target}, the search space of `make tune` (never replaced)"
    data, model = found.sections["data"], found.sections["train"]["model"]
    text = space_source(slug, model, data["height"], data["width"], data["channels"])
    fileio.atomic_write(target, text.encode())
    return f"wrote {target}: the search space of `make tune`"


def toml_line(key: str, value: Any) -> str:
    return tomli_w.dumps({key: value}).strip()


def write(target: Path, text: str, force: bool) -> None:
    if target.exists() and not force:
        raise KitError(f"{target} exists: FORCE=1 replaces it (the old file is kept as competition.toml.bak)")
    if target.exists():
        shutil.copy2(target, target.with_suffix(".toml.bak"))
    fileio.atomic_write(target, text.encode())


def print_summary(slug: str, target: Path, found: Inferred, space: str) -> None:
    data, submission = found.sections["data"], found.sections.get("submission", {})
    names, kind = found.sections["competition"]["class_names"], found.sections["competition"].get("target")
    noun = "tags" if kind == "multilabel" else "classes"
    shown = ", ".join(names[:8]) + (f", ... ({len(names)} {noun})" if len(names) > 8 else "")
    print(f"{slug}: wrote {target}")
    print(f"{slug}: {space}")
    for line in found.summary:
        print(f"  {line}")
    print(f"  a number (regression): {names[0]}" if kind == "regression" else f"  {noun}: {shown}")
    shape = f"{data.get('height')}x{data.get('width')}x{data.get('channels')}"
    print(f"  images {shape}, model {found.sections['train']['model']}")
    print(f"  submission: {submission.get('form', 'label')}, metric {found.sections['competition']['metric']}")
    if "dir" in data:
        print(f"  data: {data['dir']} (data.dir; DATA= is not needed again)")
    print(f"  next: make run COMP={slug}")
    sys.stdout.flush()
