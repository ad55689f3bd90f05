"""Real competitions' image layouts through `python -m kit new` then `python -m kit data`, on small
replicas (replicas.py, and layouts.py's variants): every image counted, each split's use said,
nothing dropped in silence; numbered class folders also `run`, their labels written as spelt."""

from __future__ import annotations

import re
import shutil
import tomllib

import layouts
import numpy as np
import pandas as pd
import pytest
import replicas
import target_replicas
from conftest import run_kit
from PIL import Image


def new(slug, folder, *extra):
    return run_kit("new", "--comp", slug, "--data", str(folder), *extra)


def written(competitions_dir, slug) -> dict:
    return tomllib.loads((competitions_dir / slug / "competition.toml").read_text())


# builder, data.format, class names, (train images, test images), the sample's id column
LAYOUTS = [
    (replicas.dogs_vs_cats, "file_names", ["cat", "dog"], (48, 16), "id"),
    (replicas.state_farm, "images", [f"c{k}" for k in range(10)], (120, 30), "img"),
    (layouts.state_farm_by_driver, "class_folders", ["c0", "c1", "c2", "c3"], (60, 8), "img"),
    (layouts.numbered_folders, "class_folders", [str(n) for n in range(1, 13)], (36, 6), "Id"),
    (layouts.landmarks, "images", ["0", "1", "2"], (24, 6), "id"),
    (replicas.histopathologic_cancer_detection, "images", ["0", "1"], (160, 60), "id"),
    (replicas.leaf_classification, "images", replicas.LEAVES, (144, 24), "id"),
    (layouts.cassava_reencoded, "images", ["0", "1", "2", "3", "4"], (30, 10), "image_id"),
    (replicas.iwildcam_2019_fgvc6, "images", ["0", "1", "3", "4", "8", "11"], (96, 24), "Id"),  # as spelt
    # four files per image, one per channel: every one counted
    (target_replicas.human_protein_atlas_image_classification, "images", ["0", "7", "16", "25"], (640, 160), "Id"),
]


@pytest.mark.parametrize(
    ("build", "layout", "classes", "counts", "id_column"), LAYOUTS, ids=[row[0].__name__ for row in LAYOUTS]
)
def test_new_then_data_reads_every_image(build, layout, classes, counts, id_column, tmp_path, competitions_dir):
    name = build.__name__
    folder = tmp_path / name
    build(folder)
    made = new(name, folder)
    assert made.returncode == 0, made.stderr
    config = written(competitions_dir, name)
    assert config["data"]["format"] == layout
    assert config["competition"]["class_names"] == classes
    assert config["submission"]["id_column"] == id_column
    train, test = counts
    for out in (made.stdout, (checked := run_kit("data", "--comp", name, "--data", str(folder))).stdout):
        assert f"images: {train + test} files under {folder}" in out, out
        assert f"train: {train} used\n" in out and f"test: {test} used\n" in out, out
    assert checked.returncode == 0 and "data ok" in checked.stdout, checked.stderr
    per_image = len(config["data"].get("channel_files", [])) or 1  # files per image: one per channel
    assert f"train ({train // per_image}, " in checked.stdout


def test_class_folder_data_in_the_data_folder_is_found_without_a_download(tmp_path, competitions_dir, workdir):
    local = workdir / "data" / "farm"
    layouts.state_farm_by_driver(local)
    assert new("farm", local).returncode == 0
    checked = run_kit("data", "--comp", "farm")  # no DATA=: data/farm/ holds train/<class>/
    assert checked.returncode == 0, checked.stderr
    assert f"data ok in {local}" in checked.stdout and "downloading" not in checked.stdout


def test_a_sample_naming_no_test_file_is_refused_at_new_in_one_line(tmp_path, competitions_dir):
    replicas.histopathologic_cancer_detection(tmp_path, train_rows=20, test_rows=6)
    pd.DataFrame({"id": ["nope1", "nope2"], "label": 0}).to_csv(tmp_path / "sample_submission.csv", index=False)
    made = new("histo", tmp_path)
    assert made.returncode == 2 and "Traceback" not in made.stderr
    assert made.stderr.strip().count("\n") == 0
    assert "sample_submission.csv: line 2, column 'id': 'nope1' names no file in" in made.stderr
    assert "SET=data.test_dir=<folder>" in made.stderr


def hint(stderr: str, key: str) -> str:
    """The `SET=key=<...>` a `make new` error suggests, as printed."""
    return re.search(rf"SET=({re.escape(key)}=\S+)", stderr).group(1)


def test_the_test_folder_hint_followed_literally_settles_it(tmp_path, competitions_dir):
    replicas.dogs_vs_cats(tmp_path)
    (tmp_path / "test").rename(tmp_path / "holdout")  # no folder named test: the first folder is taken
    (tmp_path / "aaa_thumbnails").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "aaa_thumbnails" / "logo.png")
    first = new("cats", tmp_path)
    assert first.returncode == 2, first.stdout
    suggested = hint(first.stderr, "data.test_dir")
    assert suggested.startswith("data.test_dir=<folder")  # a placeholder: the user writes the folder in
    again = new("cats", tmp_path, "--set", "data.test_dir=holdout")
    assert again.returncode == 0, again.stderr
    assert written(competitions_dir, "cats")["data"]["test_dir"] == "holdout"
    assert "not used: 1 outside any split, e.g. aaa_thumbnails/logo.png" in again.stdout


def test_labelled_looking_images_left_out_are_an_error_until_allowed(tmp_path, competitions_dir):
    layouts.landmarks(tmp_path)
    for i in range(3):  # images in train/ that no row of train.csv names
        Image.new("RGB", (8, 8)).save(tmp_path / "train" / f"stray{i}.png")
    first = new("marks", tmp_path)
    assert first.returncode == 2
    assert "3 images that look labelled would not be used (e.g. train/stray0.png" in first.stderr
    followed = new("marks", tmp_path, "--set", hint(first.stderr, "data.allow_unused"))
    assert followed.returncode == 0, followed.stderr
    assert "not used: 3 outside any split" in followed.stdout
    assert run_kit("data", "--comp", "marks", "--data", str(tmp_path)).returncode == 0


def test_an_ambiguous_stem_is_one_error(tmp_path, competitions_dir):
    layouts.cassava_reencoded(tmp_path)
    shutil.copy(tmp_path / "train_images" / "1000.jpg", tmp_path / "train_images" / "1000.tif")
    made = new("cassava", tmp_path)  # train.csv says 1000.png: the .jpg or the .tif?
    assert made.returncode == 2 and "Traceback" not in made.stderr
    assert "train.csv: '1000.png' could be any of 2 files (train_images/1000.jpg, train_images/1000.tif)" in (
        made.stderr
    )


@pytest.mark.slow
def test_numbered_folders_write_labels_as_spelt(tmp_path, competitions_dir):
    folder = tmp_path / "signs"
    layouts.numbered_folders(folder)
    (folder / "sample_submission.csv").write_text(
        "ClassId,Id\n" + "".join(f"1,t{i}.png\n" for i in range(6))
    )  # the id column second
    assert new("signs", folder).returncode == 0
    ran = run_kit("run", "--comp", "signs", "--data", str(folder), "--set", "train.epochs=1")
    assert ran.returncode == 0, ran.stderr
    files = sorted((tmp_path / "work" / "submissions" / "signs").glob("*.csv"))
    submission = pd.read_csv(files[0])
    assert list(submission.columns) == ["ClassId", "Id"]
    assert submission["Id"].tolist() == [f"t{i}.png" for i in range(6)]
    # class index k is folder k + 1: written as the folder is spelt, never as the index
    predicted = np.load(files[0].with_suffix(".probabilities.npy")).argmax(axis=1)
    assert submission["ClassId"].tolist() == (predicted + 1).tolist()
