"""The sample submission checked against its header and the test files (kit.data.sample_check)."""

from __future__ import annotations

import pytest

from kit.data.sample_check import check_columns, check_ids
from kit.errors import KitError


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,label,extra\na.jpg,0\nb.jpg,1\n", "column 'extra' of the header has no value in any row (line 2"),
        ("id,cat,dog,\na.jpg,0.5,0.5,\n", "column 'Unnamed: 3' of the header has no value in any row"),
        ("id,label\na.jpg,0,7\nb.jpg,1,7\n", "line 2 has more values than the header names columns (id, label)"),
    ],
)
def test_a_header_the_rows_do_not_fill_is_refused(tmp_path, text, message):
    path = tmp_path / "sample_submission.csv"
    path.write_text(text)
    with pytest.raises(KitError, match="^" + str(path)) as refused:
        check_columns(path)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    "text", ["id,label\na.jpg,\nb.jpg,\n", "id,cat,dog\na.jpg,0.5,0.5\n", "ImageId,Label\n1,0\n2,0\n"]
)
def test_usual_samples_pass(tmp_path, text):
    path = tmp_path / "sample_submission.csv"
    path.write_text(text)
    check_columns(path)


def test_ids_must_name_test_images(tmp_path):
    (tmp_path / "test").mkdir()
    for name in ("a.jpg", "b.jpg"):
        (tmp_path / "test" / name).write_bytes(b"")
    path = tmp_path / "sample_submission.csv"
    # ids with, without or with another extension (matched by stem: kit.data.finder) name the files
    path.write_text("id,label\na,0\nb.png,0\n")
    check_ids(path, tmp_path, "test")
    path.write_text("id,label\na.jpg,0\nbb.jpg,0\n")
    with pytest.raises(KitError, match=r"line 3, column 'id': 'bb.jpg' names no file in .*nearest file: b.jpg"):
        check_ids(path, tmp_path, "test")
    # one missing file of two: a data fault (blanked, listed by the load), said in a warning
    assert check_ids(path, tmp_path, "test", allowed_share=0.5).startswith(f"warning: {path}: line 3")
    path.write_text("id,label\nx.png,0\ny.png,0\n")
    with pytest.raises(KitError, match="2 of 2 ids do not"):
        check_ids(path, tmp_path, "test", allowed_share=1.0)
