"""kit.data.census: every image file under the data folder counted, the unused ones explained."""

from pathlib import Path

import pytest
from PIL import Image

from kit.data.census import Census
from kit.errors import KitError


def image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path)
    return path


def test_each_split_says_what_it_uses_and_why_not(tmp_path):
    train = [image(tmp_path / "train" / f"{i}.png") for i in range(5)]
    test = [image(tmp_path / "test" / f"{i}.png") for i in range(3)]
    image(tmp_path / "extra" / "x.png")
    census = Census(tmp_path)
    census.add(
        "train", [*train, tmp_path / "train" / ".." / "train" / "0.png"], ["", "", "truncated", "unlabelled", "", ""]
    )
    census.add("test", test)
    lines = census.report(tmp_path / "train")
    assert lines[0] == f"images: 9 files under {tmp_path}"
    assert "  test: 3 used" in lines
    assert "  train: 3 used, not used: 1 truncated, 1 unlabelled" in lines
    assert "  not used: 1 outside any split, e.g. extra/x.png" in lines


def test_labelled_looking_images_left_out_are_an_error_naming_them(tmp_path):
    used = [image(tmp_path / "train" / "a" / f"{i}.png") for i in range(2)]
    left = [image(tmp_path / "train" / "a" / "session" / f"{i}.png") for i in range(4)]
    census = Census(tmp_path)
    census.add("train", used)
    with pytest.raises(
        KitError, match=r"4 images that look labelled would not be used \(e\.g\. train/a/session/0\.png"
    ):
        census.report(tmp_path / "train")
    assert any("4 outside any split" in line for line in census.report(tmp_path / "train", allow_unused=True))
    assert len(left) == 4


def test_images_outside_any_training_folder_are_said_not_refused(tmp_path):
    image(tmp_path / "docs" / "figure.png")
    assert "  not used: 1 outside any split, e.g. docs/figure.png" in Census(tmp_path).report(None)
