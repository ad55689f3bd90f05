"""kit.data.infer_layout and kit.data.inferred: which layout, which folders and columns, and SET=
values in place before anything is inferred."""

import re

import layouts
import pandas as pd
import pytest
import replicas
from PIL import Image

from kit.data.infer import infer
from kit.data.inferred import Inferred
from kit.errors import KitError


def test_set_values_stand_and_inference_never_replaces_them():
    found = Inferred(settled={"data.test_dir": "holdout", "train.epochs": 3})
    found.set("data.test_dir", "test", "a guess")
    found.set("data.height", 24, "images")
    assert found.sections["data"] == {"test_dir": "holdout", "height": 24}
    assert found.sources["data.test_dir"] == "SET=" and found.given("train.epochs") == 3


def test_csv_labelled_images_in_sub_folders_are_read_by_the_csv_not_as_classes(tmp_path):
    for part, names in (("part1", ["a", "b", "c"]), ("part2", ["d", "e", "f"])):
        for name in names:
            (tmp_path / "train" / part).mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (8, 8), (200 if name < "d" else 0, 0, 0)).save(tmp_path / "train" / part / f"{name}.png")
    (tmp_path / "test").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "test" / "t.png")
    pd.DataFrame({"id": list("abcdef"), "label": [0, 1, 0, 1, 0, 1]}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame({"id": ["t"], "label": [0]}).to_csv(tmp_path / "sample_submission.csv", index=False)
    found = infer(tmp_path)
    assert found.sections["data"]["format"] == "images"
    assert found.sections["competition"]["class_names"] == ["0", "1"]
    assert "  train: 6 used" in found.summary


def test_the_samples_id_column_is_found_wherever_it_stands(tmp_path):
    layouts.cassava_reencoded(tmp_path)
    found = infer(tmp_path)
    assert found.sections["submission"]["id_column"] == "image_id"
    assert found.sections["submission"]["form"] == "label"  # read off 'label', not off the ids


def test_tif_tiles_of_histopathologic_cancer_detection(tmp_path):
    replicas.histopathologic_cancer_detection(tmp_path, train_rows=20, test_rows=6)
    found = infer(tmp_path, metric="roc_auc")
    data = found.sections["data"]
    assert (data["train_file"], data["image_column"], data["height"]) == ("train_labels.csv", "id", 16)


def test_a_set_layout_is_obeyed(tmp_path):
    replicas.dogs_vs_cats(tmp_path)
    assert infer(tmp_path).sections["data"]["format"] == "file_names"
    with pytest.raises(KitError, match="no images laid out as train/<class>/<image>"):
        infer(tmp_path, settled={"data.format": "class_folders"})


def test_an_unreadable_set_of_images_names_a_quoted_set(tmp_path):
    replicas.dogs_vs_cats(tmp_path)
    for path in (tmp_path / "train").iterdir():
        path.write_bytes(b"not an image")
    with pytest.raises(KitError, match="set SET='data.height=H data.width=W data.channels=C'"):
        infer(tmp_path)
    settled = {"data.height": 16, "data.width": 16, "data.channels": 3}
    assert infer(tmp_path, settled=settled).sections["data"]["height"] == 16


def settled_by(message: str) -> dict:
    """The values a `set SET='a=1 b=2'` hint names, parsed as `make new SET=...` parses them."""
    from kit.config.layers import parse_override

    quoted = re.search(r"SET='([^']*)'", message).group(1)
    return {
        f"{s}.{k}": v
        for s, k, v in map(parse_override, quoted.replace("H", "7").replace("W", "10").replace("C", "1").split())
    }


def test_the_pixel_shape_hint_followed_literally_settles_it(tmp_path):
    pixels = {f"pixel{i}": [i % 255, 0] for i in range(70)}  # 7 x 10: not a square
    pd.DataFrame({"label": [0, 1], **pixels}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame(pixels).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(KitError, match="not a square image") as refused:
        infer(tmp_path)
    data = infer(tmp_path, settled=settled_by(str(refused.value))).sections["data"]
    assert (data["height"], data["width"], data["channels"]) == (7, 10, 1)


def test_a_set_label_column_is_the_pixel_label(tmp_path):
    pixels = {f"pixel{i}": [0, 1] for i in range(64)}
    pd.DataFrame({"digit": [0, 1], **pixels}).to_csv(tmp_path / "train.csv", index=False)
    pd.DataFrame(pixels).to_csv(tmp_path / "test.csv", index=False)
    with pytest.raises(KitError, match="set SET=data.label_column=<column>"):
        infer(tmp_path)
    assert infer(tmp_path, settled={"data.label_column": "digit"}).sections["data"]["train_file"] == "train.csv"


def test_a_test_csv_naming_test_paths_does_not_make_a_label_table(tmp_path):
    layouts.state_farm_by_driver(tmp_path)
    names = pd.read_csv(tmp_path / "sample_submission.csv")["img"]
    pd.DataFrame({"path": [f"test/{n}" for n in names], "group": 0}).to_csv(tmp_path / "test.csv", index=False)
    assert infer(tmp_path).sections["data"]["format"] == "class_folders"
