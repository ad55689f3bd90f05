"""kit.data.finder: a CSV value to its image file, by path, name or stem, never guessing."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from kit.data.finder import Ambiguous, FileFinder, image_files, keep_spelling
from kit.data.images import Outside


def png(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (4, 4)).save(path, format="PNG")
    return path


def test_a_value_is_found_by_path_name_or_stem_at_any_depth(tmp_path):
    deep = png(tmp_path / "train" / "part2" / "x" / "b.png")
    finder = FileFinder(tmp_path, "train")
    for value in ("train/part2/x/b.png", "part2/x/b.png", "b.png", "b", "B.PNG", "b.jpg", "b.tif"):
        assert finder.locate(value) == deep, value
    assert finder.locate("c") is None and finder.locate("") is None


def test_an_extension_that_differs_from_the_files_is_matched_by_stem(tmp_path):
    jpg = tmp_path / "train" / "i0.jpg"
    jpg.parent.mkdir()
    Image.new("RGB", (4, 4)).save(jpg)
    assert FileFinder(tmp_path, "train").locate("i0.png") == jpg


def test_an_ambiguous_stem_is_an_error_naming_both_files(tmp_path):
    png(tmp_path / "train" / "i0.png")
    Image.new("RGB", (4, 4)).save(tmp_path / "train" / "i0.jpg")
    finder = FileFinder(tmp_path, "train", "train.csv")
    with pytest.raises(Ambiguous, match=r"train\.csv: 'i0' could be any of 2 files \(train/i0\.jpg, train/i0\.png\)"):
        finder.locate("i0")
    assert finder.find("i0") is None  # a probe of a column says "names no file", not an error
    assert finder.locate("i0.png") == tmp_path / "train" / "i0.png"  # the exact name still decides


def test_one_name_in_two_sub_folders_is_ambiguous(tmp_path):
    png(tmp_path / "train" / "part1" / "a.png")
    png(tmp_path / "train" / "part2" / "a.png")
    with pytest.raises(Ambiguous, match="2 files"):
        FileFinder(tmp_path, "train").locate("a.png")


def test_a_link_leading_out_is_outside(tmp_path):
    secret = png(tmp_path / "elsewhere" / "s.png")
    (tmp_path / "data" / "train").mkdir(parents=True)
    (tmp_path / "data" / "train" / "link.png").symlink_to(secret)
    assert isinstance(FileFinder(tmp_path / "data", "train").locate("link"), Outside)


def test_image_files_walks_every_depth_but_not_hidden_folders(tmp_path):
    wanted = [png(tmp_path / "a" / "b" / "c.png"), png(tmp_path / "d.tiff")]
    png(tmp_path / ".ipynb_checkpoints" / "e.png")
    (tmp_path / "notes.txt").write_text("x")
    assert sorted(image_files(tmp_path)) == sorted(wanted)


@settings(max_examples=25, deadline=None)
@given(st.sets(st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True), min_size=1, max_size=6))
def test_every_file_is_found_by_its_stem_with_any_extension(tmp_path_factory, stems):
    folder = tmp_path_factory.mktemp("finder")
    files = {stem: png(folder / "train" / stem[0] / f"{stem}.png") for stem in stems}
    finder = FileFinder(folder, "train")
    for stem, path in files.items():
        assert finder.locate(stem) == path and finder.locate(f"{stem}.jpeg") == path


def test_mac_zip_leftovers_are_not_images(tmp_path):
    wanted = png(tmp_path / "train" / "a.png")
    png(tmp_path / "__MACOSX" / "train" / "._a.png")
    png(tmp_path / "train" / "._a.png")
    assert image_files(tmp_path) == [wanted]


def test_ids_keep_their_leading_zeros(tmp_path):
    (tmp_path / "t.csv").write_text("id,label\n00012,1\n00340,0\n")
    from kit.data.pixels import read_frame

    frame = keep_spelling(tmp_path / "t.csv", read_frame(tmp_path / "t.csv"))
    assert frame["id"].tolist() == ["00012", "00340"] and frame["label"].tolist() == [1, 0]
