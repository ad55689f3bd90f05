"""Loading pixel CSVs: both header styles work; every defect stops with file, row and column."""

import gzip
import importlib
import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from conftest import run_kit

from kit import data
from kit.cli import main
from kit.config import competitions
from kit.data.pixels import read_pixel_csv
from kit.errors import KitError

SHAPE = (28, 28, 1)


def write(frame: pd.DataFrame, path):
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def train_frame(frames):
    return frames[0].head(20).copy()  # label,pixel1..pixel784


def read(path, labelled=True, id_column=""):
    return read_pixel_csv(path, SHAPE, 10, "label" if labelled else None, id_column=id_column)


def test_both_header_styles_give_the_same_images(tmp_path, train_frame):
    one_based = read(write(train_frame, tmp_path / "a.csv"))
    renamed = train_frame.rename(columns={f"pixel{i + 1}": f"pixel{i}" for i in range(784)})
    zero_based = read(write(renamed, tmp_path / "b.csv"))
    assert one_based.images.shape == (20, 28, 28, 1) and one_based.images.dtype == np.uint8
    np.testing.assert_array_equal(one_based.images, zero_based.images)
    np.testing.assert_array_equal(one_based.labels, train_frame["label"].to_numpy())
    assert list(one_based.ids) == list(range(1, 21))  # ImageId counts from 1


@pytest.mark.parametrize("resave", ["semicolons", "tabs", "utf-16", "gzip under .csv", "byte-order mark", "crlf"])
def test_files_resaved_by_other_tools_read_the_same(tmp_path, train_frame, resave):
    import gzip

    reference = read(write(train_frame, tmp_path / "plain.csv"))
    text = (tmp_path / "plain.csv").read_text()
    path = tmp_path / "train.csv"
    content = {
        "semicolons": text.replace(",", ";").encode(),
        "tabs": text.replace(",", "\t").encode(),
        "utf-16": text.encode("utf-16"),
        "gzip under .csv": gzip.compress(text.encode()),
        "byte-order mark": b"\xef\xbb\xbf" + text.encode(),
        "crlf": text.replace("\n", "\r\n").encode(),
    }[resave]
    path.write_bytes(content)
    again = read(path)
    np.testing.assert_array_equal(again.images, reference.images)
    np.testing.assert_array_equal(again.labels, reference.labels)


def test_a_folder_where_the_file_should_be(tmp_path):
    (tmp_path / "train.csv").mkdir()
    with pytest.raises(KitError, match=r"train\.csv: is a folder, not a CSV file"):
        data.pixels.find_file(tmp_path, "train.csv")
    with pytest.raises(KitError, match=r"train\.csv: is a folder, not a CSV file"):
        read(tmp_path / "train.csv")


def test_long_single_column_headers_are_cut_in_the_message(tmp_path, train_frame):
    (tmp_path / "x.csv").write_text("|".join(train_frame.columns) + "\n" + "|".join(["1"] * 785) + "\n")
    with pytest.raises(KitError) as caught:
        read(tmp_path / "x.csv")
    assert "no 'label' column" in str(caught.value) and len(str(caught.value)) < 200


def test_missing_file(tmp_path):
    with pytest.raises(KitError, match=r"nope\.csv: file not found"):
        read(tmp_path / "nope.csv")


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(KitError, match=r"e\.csv: file is empty"):
        read(tmp_path / "e.csv")


def test_header_only(tmp_path, train_frame):
    with pytest.raises(KitError, match="has a header but no data rows"):
        read(write(train_frame.head(0), tmp_path / "h.csv"))


def test_wrong_column_count(tmp_path, train_frame):
    with pytest.raises(KitError, match=r"expected 785 columns \(label \+ 784 pixels for 28x28x1 images\), found 781"):
        read(write(train_frame.iloc[:, :-4], tmp_path / "c.csv"))


def test_misnumbered_pixel_column(tmp_path, train_frame):
    frame = train_frame.rename(columns={"pixel5": "pixelX"})
    with pytest.raises(KitError, match="column 6 is 'pixelX', expected 'pixel5'"):
        read(write(frame, tmp_path / "m.csv"))


def test_missing_label_column(tmp_path, train_frame):
    with pytest.raises(KitError, match="no 'label' column"):
        read(write(train_frame.drop(columns="label"), tmp_path / "l.csv"))


def test_no_header_row(tmp_path, train_frame):
    train_frame.to_csv(tmp_path / "n.csv", index=False, header=False)
    with pytest.raises(KitError, match="the first line is data, not a header"):
        read(tmp_path / "n.csv")


def test_non_numeric_pixel_names_row_and_column(tmp_path, train_frame):
    frame = train_frame.astype(object)
    frame.loc[6, "pixel300"] = "abc"
    with pytest.raises(KitError, match=r"row 7 \(line 8\), column 'pixel300': pixel 'abc' is not a number"):
        read(write(frame, tmp_path / "x.csv"))


def test_nan_pixel(tmp_path, train_frame):
    frame = train_frame.astype(float)
    frame.loc[3, "pixel10"] = np.nan
    with pytest.raises(KitError, match=r"row 4 \(line 5\), column 'pixel10': pixel is missing"):
        read(write(frame, tmp_path / "nan.csv"))


@pytest.mark.parametrize("value", [256, -1, 12.5])
def test_pixel_out_of_range_or_fractional(tmp_path, train_frame, value):
    frame = train_frame.astype(float)
    frame.loc[11, "pixel784"] = value
    message = rf"row 12 \(line 13\), column 'pixel784': pixel {value:g} is not an integer in 0\.\.255"
    with pytest.raises(KitError, match=message):
        read(write(frame, tmp_path / "r.csv"))


def test_missing_label(tmp_path, train_frame):
    frame = train_frame.astype(float)
    frame.loc[2, "label"] = np.nan
    with pytest.raises(KitError, match=r"row 3 \(line 4\), column 'label': label missing"):
        read(write(frame, tmp_path / "ml.csv"))


def test_unknown_label(tmp_path, train_frame):
    frame = train_frame.copy()
    frame.loc[5, "label"] = 10
    message = r"row 6 \(line 7\), column 'label': label 10 is not a known label \(expected an integer in 0\.\.9\)"
    with pytest.raises(KitError, match=message):
        read(write(frame, tmp_path / "ul.csv"))


def test_duplicated_ids(tmp_path, train_frame):
    frame = train_frame.copy()
    frame.insert(0, "id", range(100, 120))
    frame.loc[9, "id"] = 102
    with pytest.raises(KitError, match=r"row 10 \(line 11\), column 'id': id 102 duplicates row 3"):
        read(write(frame, tmp_path / "d.csv"), id_column="id")


def test_ragged_row_names_the_line(tmp_path, train_frame):
    path = write(train_frame, tmp_path / "g.csv")
    lines = path.read_text().splitlines()
    lines[4] += ",7"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(KitError, match=r"malformed CSV: row 4 \(line 5\)"):
        read(path)


def test_binary_garbage(tmp_path):
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 10)
    with pytest.raises(KitError, match=r"bin\.csv"):
        read(tmp_path / "bin.csv")


def test_digits_layout_loads_with_sample_submission(digits_folder):
    cfg = competitions.load_config("digits", data_dir=str(digits_folder))
    loaded = data.load(cfg)
    assert loaded.train.labels is not None and loaded.test.labels is None
    assert loaded.test.images.shape == (200, 28, 28, 1)
    assert list(loaded.sample_submission.columns) == ["ImageId", "Label"]
    assert not loaded.embedded


def test_embedded_sample_is_the_default_for_fashion():
    loaded = data.load(competitions.load_config("fashion"))
    assert loaded.embedded
    assert loaded.train.images.shape == (9500, 28, 28, 1) and loaded.test.labels is not None
    assert np.bincount(loaded.train.labels).tolist() == [950] * 10  # stratified


def test_cli_error_is_one_line_with_nonzero_exit(digits_folder, capsys):
    frame = pd.read_csv(digits_folder / "test.csv")
    frame.loc[41, "pixel7"] = 300
    frame.to_csv(digits_folder / "test.csv", index=False)
    assert main(["data", "--comp", "digits", "--data", str(digits_folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "test.csv: row 42 (line 43), column 'pixel7': pixel 300 is not an integer in 0..255" in err
    assert "Traceback" not in err


def test_cli_missing_data_folder(tmp_path, capsys):
    assert main(["data", "--comp", "digits", "--data", str(tmp_path / "absent")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_sample_submission_of_another_length_stops_before_training(digits_folder):
    sample = pd.read_csv(digits_folder / "sample_submission.csv")
    sample.head(50).to_csv(digits_folder / "sample_submission.csv", index=False)
    cfg = competitions.load_config("digits", overrides=[f"data.dir={digits_folder}"])
    with pytest.raises(KitError, match=r"sample_submission\.csv: 50 rows, but test\.csv has 200 images"):
        data.load(cfg)


def zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train.csv", data)
    return buffer.getvalue()


COMPRESSORS = {"gzip": ("gz", "gzip"), "bz2": ("bz2", "bz2"), "xz": ("xz", "lzma"), "zip": ("zip", None)}


@pytest.mark.parametrize("damage", ["garbage after the header", "truncated"])
@pytest.mark.parametrize("kind", list(COMPRESSORS))
def test_a_damaged_compressed_csv_is_one_line_naming_the_file(digits_folder, capsys, kind, damage):
    ext, module = COMPRESSORS[kind]
    text = (digits_folder / "train.csv").read_bytes()
    packed = zipped(text) if module is None else importlib.import_module(module).compress(text)
    if damage == "truncated":
        broken = packed[: len(packed) // 2]
    else:  # the format's magic bytes, then noise
        broken = packed[:6] + bytes((i * 7919 + 13) % 256 for i in range(4000))
    (digits_folder / "train.csv").unlink()
    target = digits_folder / f"train.csv.{ext}"
    target.write_bytes(broken)
    assert main(["data", "--comp", "digits", "--data", str(digits_folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {target}: damaged {kind} file, truncated or corrupt ("), err


def test_a_damaged_csv_under_a_plain_name_and_a_zip_of_two_files(digits_folder, capsys):
    text = (digits_folder / "test.csv").read_bytes()
    (digits_folder / "test.csv").write_bytes(gzip.compress(text)[:100])  # gzip saved as .csv
    assert main(["data", "--comp", "digits", "--data", str(digits_folder)]) == 2
    assert capsys.readouterr().err.startswith(f"error: {digits_folder / 'test.csv'}: damaged gzip file")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.csv", text)
        archive.writestr("b.csv", text)
    (digits_folder / "test.csv").unlink()
    (digits_folder / "test.csv.zip").write_bytes(buffer.getvalue())
    assert main(["data", "--comp", "digits", "--data", str(digits_folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {digits_folder / 'test.csv.zip'}: not a readable CSV file (ValueError: Multiple")
    assert err.count("\n") == 1


def test_a_damaged_compressed_csv_through_the_command_line(digits_folder):
    target = digits_folder / "train.csv.gz"
    target.write_bytes(gzip.compress((digits_folder / "train.csv").read_bytes())[:6] + b"\x00garbage" * 300)
    (digits_folder / "train.csv").unlink()
    result = run_kit("data", "--comp", "digits", "--data", str(digits_folder), timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"error: {target}: damaged gzip file, truncated or corrupt (")


def test_a_label_is_the_class_of_that_name_when_classes_are_named_by_integers(tmp_path, train_frame):
    """Digits listed in another order keep their meaning (a label submission writes the name
    back); text names are indexed by the label, as Fashion-MNIST's are."""
    path = write(train_frame, tmp_path / "a.csv")
    digits = [str(d) for d in (3, 1, 4, 0, 5, 9, 2, 6, 8, 7)]
    by_name = read_pixel_csv(path, SHAPE, 10, "label", class_names=tuple(digits)).labels
    assert [digits[i] for i in by_name] == train_frame["label"].astype(str).tolist()
    text = tuple("abcdefghij")
    assert read_pixel_csv(path, SHAPE, 10, "label", class_names=text).labels.tolist() == train_frame["label"].tolist()
    with pytest.raises(KitError, match=r"label 3 is not a known label \(expected an integer in 0, 1, 2, 4, 5, 6"):
        read_pixel_csv(path, SHAPE, 10, "label", class_names=("0", "1", "2", "4", "5", "6", "7", "8", "9", "10"))
