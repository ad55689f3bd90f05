"""Channel files (kit.data.channels): one image split over one grayscale file per channel, as the
Human Protein Atlas ships it; detected by `make new`, stacked by the loader in the recorded order."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_kit
from PIL import Image

from kit import config, data, models
from kit.data.channels import detect_channels, folder_ids
from kit.data.finder import FileFinder
from kit.data.images import Stacked, decode
from kit.data.infer import infer
from kit.errors import KitError

HPA = ("yellow", "blue", "red", "green")  # written in this order: the order found must not follow it
SIDE = 8


def plane(seed: int) -> np.ndarray:
    """A grayscale pattern of its own per file, so that every pixel tells which file it came from."""
    return np.random.default_rng(seed).integers(0, 256, (SIDE, SIDE), dtype=np.uint8)


def write_ids(folder: Path, split: str, ids, suffixes, separator: str = "_") -> dict[tuple[str, str], np.ndarray]:
    """<id><separator><suffix>.png for each id and suffix; the pixels written, by (id, suffix)."""
    written = {}
    (folder / split).mkdir(parents=True, exist_ok=True)
    for i, image_id in enumerate(ids):
        for k, suffix in enumerate(suffixes):
            pixels = plane(1000 * len(split) + 10 * i + k)
            Image.fromarray(pixels, mode="L").save(folder / split / f"{image_id}{separator}{suffix}.png")
            written[image_id, suffix] = pixels
    return written


def hpa_folder(folder: Path, suffixes=HPA, separator: str = "_") -> dict:
    """train.csv Id,Target; train/ and test/ of channel files; sample Id,Predicted."""
    train_ids, test_ids_ = [f"{i:08x}-bbc3-11e8" for i in range(6)], [f"{i:08x}-aa00-11e8" for i in range(3)]
    written = write_ids(folder, "train", train_ids, suffixes, separator)
    written |= write_ids(folder, "test", test_ids_, suffixes, separator)
    pd.DataFrame({"Id": train_ids, "Target": ["0", "16 0", "7", "0", "7 16", "16"]}).to_csv(
        folder / "train.csv", index=False
    )
    pd.DataFrame({"Id": test_ids_, "Predicted": "0"}).to_csv(folder / "sample_submission.csv", index=False)
    return written


def test_make_new_finds_the_channels_red_green_blue_first_then_the_rest(tmp_path):
    hpa_folder(tmp_path)
    found = infer(tmp_path, "macro_f1")
    assert found.sections["data"]["channel_files"] == ["red", "green", "blue", "yellow"]
    assert found.sections["data"]["channels"] == 4 and found.sections["data"]["image_column"] == "Id"
    assert "channels: red green blue yellow, one file each" in found.summary
    assert "  train: 24 used" in found.summary and "  test: 12 used" in found.summary  # every file counted


def test_without_a_sample_make_new_says_the_ids_are_the_channel_files_ids(tmp_path):
    hpa_folder(tmp_path)
    (tmp_path / "sample_submission.csv").unlink()
    summary = "\n".join(infer(tmp_path, "macro_f1").summary)
    assert "ids as the channel files' <id> (<id>_<channel>)" in summary and "test files' stems" not in summary


def test_suffixes_without_colour_names_are_in_natural_order_and_dashes_separate_too(tmp_path):
    hpa_folder(tmp_path, suffixes=("w10", "w2", "w1"), separator="-")
    found = infer(tmp_path, "macro_f1")
    assert found.sections["data"]["channel_files"] == ["w1", "w2", "w10"]


def test_an_id_missing_one_channel_file_is_refused_naming_the_id_and_the_file(tmp_path):
    hpa_folder(tmp_path)
    (tmp_path / "train" / "00000003-bbc3-11e8_yellow.png").unlink()
    with pytest.raises(KitError) as error:
        infer(tmp_path, "macro_f1")
    message = str(error.value)
    assert "'00000003-bbc3-11e8'" in message and "train/00000003-bbc3-11e8_yellow.png" in message
    assert "\n" not in message


def test_a_test_id_missing_a_channel_file_is_refused_by_make_new(tmp_path, competitions_dir):
    hpa_folder(tmp_path)
    (tmp_path / "test" / "00000001-aa00-11e8_green.png").unlink()
    made = run_kit("new", "--comp", "hpa", "--data", str(tmp_path), "--metric", "macro_f1")
    assert made.returncode == 2
    assert "'00000001-aa00-11e8'" in made.stderr and "test/00000001-aa00-11e8_green.png" in made.stderr
    assert "Traceback" not in made.stderr


def test_numbered_views_whose_set_differs_across_ids_are_not_channels(tmp_path):
    counts = {"a1": 3, "b2": 5, "c3": 2, "d4": 4, "e5": 3, "f6": 1}  # <id>_<n>.png: augmented copies
    for image_id, count in counts.items():
        write_ids(tmp_path, "train", [image_id], [str(n) for n in range(count)])
    frame = pd.DataFrame({"id": list(counts), "label": [0, 1, 0, 1, 0, 1]})
    assert detect_channels(frame, FileFinder(tmp_path, "train")) == ("", ())
    frame.to_csv(tmp_path / "train.csv", index=False)
    write_ids(tmp_path, "test", ["t1"], ["0"])
    with pytest.raises(KitError, match="no CSV naming image files"):
        infer(tmp_path)


def test_set_names_the_channel_files_or_turns_detection_off(tmp_path):
    hpa_folder(tmp_path)
    given = infer(tmp_path, "macro_f1", settled={"data.channel_files": "yellow,red,green,blue"})
    assert given.sections["data"]["image_column"] == "Id"
    assert given.sections["data"]["channels"] == 4
    with pytest.raises(KitError, match="no CSV naming image files"):
        infer(tmp_path, "macro_f1", settled={"data.channel_files": []})


def hpa_config(folder: Path, *overrides: str) -> config.Config:
    found = infer(folder, "macro_f1")
    found.sections["competition"]["slug"] = "hpa"
    found.sections["data"]["dir"] = str(folder)
    return config.resolve(found.sections, overrides=[f"data.height={SIDE}", f"data.width={SIDE}", *overrides])


def test_loading_stacks_the_channel_files_in_their_order_pixel_by_pixel(tmp_path):
    written = hpa_folder(tmp_path)
    loaded = data.load(hpa_config(tmp_path))
    assert loaded.train.images.shape == (6, SIDE, SIDE, 4) and loaded.test.images.shape == (3, SIDE, SIDE, 4)
    for split in (loaded.train, loaded.test):
        for image_id, image in zip(split.ids, split.images, strict=True):
            for k, suffix in enumerate(("red", "green", "blue", "yellow")):
                np.testing.assert_array_equal(image[..., k], written[image_id, suffix])


def test_data_channels_keeps_the_first_channel_files_and_says_so(tmp_path, capsys):
    written = hpa_folder(tmp_path)
    loaded = data.load(hpa_config(tmp_path, "data.channels=3"))
    assert "channels: reading red green blue of red green blue yellow (data.channels=3)" in capsys.readouterr().out
    assert loaded.train.images.shape[-1] == 3
    np.testing.assert_array_equal(loaded.train.images[0, ..., 2], written[loaded.train.ids[0], "blue"])


def test_a_faulty_channel_file_is_the_images_fault_naming_the_file(tmp_path):
    hpa_folder(tmp_path)
    broken = tmp_path / "train" / "00000002-bbc3-11e8_blue.png"
    broken.write_bytes(b"not a png")
    files = tuple(tmp_path / "train" / f"00000002-bbc3-11e8_{s}.png" for s in ("red", "green", "blue", "yellow"))
    pixels, kind, detail = decode(Stacked("00000002-bbc3-11e8", files), (SIDE, SIDE, 4))
    assert pixels is None and kind == "not_an_image" and detail.startswith(broken.name)


def test_channel_settings_that_cannot_be_read_are_refused():
    with pytest.raises(KitError, match="data.channel_files names 4"):
        config.resolve({"data": {"format": "images", "channel_files": ["r", "g", "b", "y"], "channels": 5}})
    with pytest.raises(KitError, match="1 \\(gray\\) or 3 \\(RGB\\)"):
        config.resolve({"data": {"format": "images", "channels": 4}})


def test_channel_files_without_a_channel_count_read_every_channel_and_a_count_keeps_the_first():
    """A hand-written competition.toml naming the files, not the count, reads them all (the
    dataclass default of 1 would train on red alone)."""
    files = {"format": "images", "channel_files": ["red", "green", "blue", "yellow"]}
    assert config.resolve({"data": files}).data.channels == 4
    assert config.resolve({"data": files}, overrides=["data.channels=3"]).data.channels == 3
    assert config.resolve({"data": {"format": "images"}}, overrides=["data.channel_files=a,b"]).data.channels == 2


def test_a_pretrained_rgb_backbone_given_four_channels_is_refused_with_what_to_set():
    with pytest.raises(KitError) as error:
        models.check_channels("mobilenetv2", 4, ("red", "green", "blue", "yellow"))
    assert str(error.value) == (
        "mobilenetv2: its backbone was pretrained on 3-channel (RGB) images, and the images have 4 channels "
        "(red green blue yellow): set SET=data.channels=3 to read the first three (red green blue), or choose "
        "a model trained from scratch (SET=train.model=colour_cnn)"
    )
    with pytest.raises(KitError, match="resnet_18_imagenet: its backbone"):
        models.check_channels("resnet_18_imagenet", 4)
    models.check_channels("colour_cnn", 4)  # from scratch: takes any number
    models.check_channels("mobilenetv2", 3, ("red", "green", "blue", "yellow"))


def test_train_refuses_the_backbone_before_reading_any_data(tmp_path, competitions_dir):
    hpa_folder(tmp_path)
    assert run_kit("new", "--comp", "hpa", "--data", str(tmp_path), "--metric", "macro_f1").returncode == 0
    (tmp_path / "train.csv").unlink()  # the data is never read: the refusal comes first
    trained = run_kit("train", "--comp", "hpa", "--set", "train.model=mobilenetv2")
    assert trained.returncode == 2
    assert trained.stderr.strip().startswith("error: mobilenetv2: its backbone was pretrained on 3-channel")
    assert len(trained.stderr.strip().splitlines()) == 1


def test_without_a_sample_the_test_ids_are_those_of_the_channel_files():
    files = [Path(f"test/{i}_{s}.png") for i in ("a-1", "b-2") for s in ("blue", "red")]
    assert folder_ids(files, "stem", ("red", "blue")) == ["a-1", "b-2"]
    assert folder_ids(files[:2], "file", ()) == ["a-1_blue.png", "a-1_red.png"]


def test_without_a_sample_every_test_id_is_read_once_with_its_channels(tmp_path):
    written = hpa_folder(tmp_path)
    (tmp_path / "sample_submission.csv").unlink()
    loaded = data.load(hpa_config(tmp_path))
    assert sorted(loaded.test.ids) == [f"{i:08x}-aa00-11e8" for i in range(3)]
    for image_id, image in zip(loaded.test.ids, loaded.test.images, strict=True):
        np.testing.assert_array_equal(image[..., 3], written[image_id, "yellow"])
