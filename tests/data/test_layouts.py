"""kit.data.layouts: labels read from paths (class folders of any depth, file names)."""

from pathlib import Path

import pytest
from PIL import Image

from kit.data.layouts import class_folder_root, class_order, file_name_root, label_table
from kit.errors import KitError


def image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)
    return path


def test_numbers_in_numeric_order_as_spelt_names_as_text():
    assert class_order([str(n) for n in (12, 1, 10, 2, 11, 3)]) == ["1", "2", "3", "10", "11", "12"]
    assert class_order(["01", "2", "10"]) == ["01", "2", "10"]  # spelt as given, ordered by value
    assert class_order(["b", "a", "10", "2"]) == ["10", "2", "a", "b"]  # not all numbers: text


def test_every_image_under_a_class_folder_is_that_class(tmp_path):
    for cls, sub in (("a", "s1/x"), ("a", "s2"), ("b", ""), ("b", "deep/er/still")):
        for i in range(2):
            image(tmp_path / "train" / cls / sub / f"{sub.replace('/', '_')}{i}.png")
    image(tmp_path / "test" / "t.png")
    root = class_folder_root(tmp_path)
    assert root == tmp_path / "train"
    table = label_table("class_folders", tmp_path, "train")
    assert len(table) == 8 and table.groupby("label").size().to_dict() == {"a": 4, "b": 4}
    assert "train/b/deep/er/still/deep_er_still0.png" in set(table["image"])


def test_a_wrapper_folder_of_splits_is_looked_into(tmp_path):
    for cls in ("x", "y"):
        image(tmp_path / "images" / "train" / cls / "1.png")
    image(tmp_path / "images" / "test" / "2.png")
    assert class_folder_root(tmp_path) == tmp_path / "images" / "train"


def test_labels_in_file_names(tmp_path):
    for name in ("cat.1.jpg", "cat.2.jpg", "dog.1.jpg", "dog_2.jpg"):
        image(tmp_path / "train" / name)
    for i in range(4):
        image(tmp_path / "test" / f"{i}.jpg")
    assert file_name_root(tmp_path) == tmp_path / "train"
    assert sorted(label_table("file_names", tmp_path, "train")["label"]) == ["cat", "cat", "dog", "dog"]


def test_ids_are_not_classes(tmp_path):
    for i in range(6):  # one word per image: ids, not classes
        image(tmp_path / "train" / f"{'abcdef'[i] * 3}.{i}.jpg")
    assert file_name_root(tmp_path) is None


def test_a_missing_training_folder_names_the_key(tmp_path):
    with pytest.raises(KitError, match="set SET=data.train_dir="):
        label_table("class_folders", tmp_path, "nope")


def test_a_zips_folder_inside_a_folder_of_its_name_and_mac_leftovers(tmp_path):
    for cls in ("buildings", "forest"):
        image(tmp_path / "seg_train" / "seg_train" / cls / "1.jpg")
        image(tmp_path / "__MACOSX" / "seg_train" / "seg_train" / cls / "._1.jpg")
    for cls in ("buildings", "forest"):  # the test set is labelled too, in the same form
        image(tmp_path / "seg_test" / "seg_test" / cls / "2.jpg")
    assert class_folder_root(tmp_path) == tmp_path / "seg_train" / "seg_train"
