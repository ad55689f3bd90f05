"""Inputs the kit must not trust: image paths that leave the data folder, decompression bombs
(images, compressed CSVs, archives), and two processes decoding the same images at once."""

import gzip
import os
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from living_species_data import make_dataset
from PIL import Image

from kit import cli, data, paths
from kit.config import competitions
from kit.data import archives, images
from kit.errors import KitError
from kit.kaggle.download import copy_unzipped

SLUG = "living-species"


def load(folder: Path) -> data.CompetitionData:
    return data.load(competitions.load_config(SLUG, "tiny", [], str(folder)))


def add_train_rows(folder: Path, values: list[str]) -> None:
    table = pd.read_csv(folder / "train.csv")
    extra = pd.DataFrame({"image": values, "label": 0})
    pd.concat([table, extra], ignore_index=True).to_csv(folder / "train.csv", index=False)


def test_image_paths_leaving_the_data_folder_are_listed_never_read(tmp_path, workdir, monkeypatch, capsys):
    folder = tmp_path / "species"
    make_dataset(folder, scale=0.3)
    secret = tmp_path / "elsewhere" / "secret.png"
    secret.parent.mkdir()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(secret)
    (folder / "train" / "link.png").symlink_to(secret)
    (folder / "test" / "link.png").symlink_to(secret)
    add_train_rows(folder, [str(secret), "../elsewhere/secret.png", "train/link.png"])
    sample = pd.read_csv(folder / "sample_submission.csv")
    pd.concat([sample, pd.DataFrame({"id": ["link.png"], "label": [0]})]).to_csv(
        folder / "sample_submission.csv", index=False
    )
    opened = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: opened.append(path) or original(path))

    assert cli.main(["audit", "--comp", SLUG, "--preset", "tiny", "--data", str(folder)]) == 0
    assert "outside" in capsys.readouterr().out
    faults_csv = paths.artifacts_dir(SLUG) / "audit" / "faults.csv"
    faults = pd.read_csv(faults_csv)
    outside = faults[faults.fault == "outside"]
    assert sorted(outside.file) == sorted([str(secret), "../elsewhere/secret.png", "train/link.png", "link.png"])
    assert set(outside.split) == {"train", "test"}
    assert all("outside the data folder" in detail for detail in outside.detail)
    assert not [path for path in opened if Path(os.path.realpath(path)) == secret.resolve()]


def bomb_png(path: Path, width: int, height: int, bit_depth: int = 8) -> Path:
    """A valid grayscale PNG of one value, `width` x `height`: a few hundred KB on disk whatever
    it declares (zeros compress ~1000:1)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" * (1 + width * bit_depth // 8)  # filter byte, then the samples
    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(row * 100) for _ in range(height // 100)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def test_a_144_megapixel_png_is_a_fault_never_decoded(tmp_path, workdir):
    folder = tmp_path / "species"
    make_dataset(folder, scale=0.3)
    bomb_png(folder / "train" / "bomb.png", 12_000, 12_000)
    add_train_rows(folder, ["train/bomb.png"])
    faults = load(folder).faults
    (row,) = faults[faults.file == "train/bomb.png"].itertuples()
    assert row.fault == "too_large" and "12000 x 12000 pixels" in row.detail

    # memory stays bounded: decoding it would take 144 MB (and a 16-bit image under the cap is
    # resized before any float copy: 24 Mpx as float64 would be 192 MB more, and its temporaries)
    wide = bomb_png(tmp_path / "wide.png", 6_000, 4_000, bit_depth=16)
    script = textwrap.dedent(f"""
        import resource
        from pathlib import Path
        from kit.data.images import decode
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert decode(Path({str(folder / "train" / "bomb.png")!r}), (32, 32, 3))[1] == "too_large"
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
        pixels, fault, _ = decode(Path({str(wide)!r}), (32, 32, 1))
        assert fault == "" and pixels.shape == (32, 32, 1), fault
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    bomb, wide = map(int, result.stdout.split()[-2:])  # MB of peak growth
    assert bomb < 20 and wide < 150  # Pillow holds the 16-bit image as 32-bit: 96 MB; as float64 +192


def test_a_sixteen_bit_image_is_stretched_after_resizing(tmp_path):
    ramp = np.linspace(1000, 3000, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    pixels, fault, _ = images.decode(tmp_path / "ramp.png", (16, 16, 1))
    assert fault == "" and pixels.min() <= 5 and pixels.max() >= 250  # the full 0..255 range
    assert (np.diff(pixels[:, 0, 0].astype(int)) >= 0).all()  # still a ramp


def test_a_gzip_csv_bomb_is_one_error_line(digits_folder, monkeypatch, capsys):
    text = (digits_folder / "train.csv").read_bytes()
    (digits_folder / "train.csv").unlink()
    (digits_folder / "train.csv.gz").write_bytes(gzip.compress(text))
    monkeypatch.setenv("KIT_MAX_CSV_BYTES", str(len(text) - 1))
    assert cli.main(["data", "--comp", "digits", "--data", str(digits_folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {digits_folder / 'train.csv.gz'}: inflates to more than {len(text) - 1:,} bytes")
    assert "KIT_MAX_CSV_BYTES" in err
    monkeypatch.setenv("KIT_MAX_CSV_BYTES", str(len(text)))  # a genuine file within the cap reads
    assert cli.main(["data", "--comp", "digits", "--data", str(digits_folder)]) == 0


def test_a_downloaded_archive_past_the_cap_is_refused_before_unpacking(tmp_path, monkeypatch):
    download = tmp_path / "download"
    download.mkdir()
    with zipfile.ZipFile(download / "competition.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("train.csv", b"0" * 100_000)
    monkeypatch.setenv("KIT_MAX_ARCHIVE_BYTES", "50000")
    with pytest.raises(KitError, match=r"competition\.zip: inflates to more than 50,000 bytes"):
        copy_unzipped(download, tmp_path / "dest")
    assert not (tmp_path / "dest" / "train.csv").exists()
    monkeypatch.setenv("KIT_MAX_ARCHIVE_BYTES", "100000")
    (tmp_path / "dest").mkdir(exist_ok=True)
    copy_unzipped(download, tmp_path / "dest")
    assert (tmp_path / "dest" / "train.csv").stat().st_size == 100_000


def test_a_cap_that_is_not_a_number_is_one_line(monkeypatch):
    monkeypatch.setenv("KIT_MAX_CSV_BYTES", "8GB")
    with pytest.raises(KitError, match="KIT_MAX_CSV_BYTES='8GB': a number of bytes"):
        archives.byte_cap(archives.MAX_CSV_BYTES)


DECODER = """
import sys, time
from pathlib import Path
from kit import data
from kit.config import competitions
from kit.data import folders

folder, ready, other = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
decode_all = folders.decode_all

def slow_decode_all(*args, **kwargs):  # both processes are surely inside at once without a lock
    print("decoding", flush=True)
    time.sleep(2)
    return decode_all(*args, **kwargs)

folders.decode_all = slow_decode_all
ready.touch()
while not other.exists():  # start together
    time.sleep(0.05)
loaded = data.load(competitions.load_config("living-species", "tiny", [], folder))
print("sum", int(loaded.train.images.sum()), int(loaded.test.images.sum()), len(loaded.faults))
"""


def test_two_processes_decoding_the_same_images_take_turns(tmp_path, workdir):
    folder = tmp_path / "species"
    make_dataset(folder, scale=0.3)
    ready = [tmp_path / "ready0", tmp_path / "ready1"]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", DECODER, str(folder), str(ready[i]), str(ready[1 - i])],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    outputs = [worker.communicate(timeout=300) for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    # one process decoded each split, the other waited and read its cache; both got the same
    assert sum(out.splitlines().count("decoding") for out, _ in outputs) == 2, outputs
    sums = [next(line for line in out.splitlines() if line.startswith("sum")) for out, _ in outputs]
    assert sums[0] == sums[1]
    cache = paths.artifacts_dir(SLUG) / "cache"
    assert sorted(p.suffix for p in cache.iterdir() if not p.name.endswith(".lock")) == [".json"] * 2 + [".npy"] * 2


@pytest.mark.parametrize("megapixels", [144, 200])  # under and over Pillow's own refusal (2 x 89 Mpx)
def test_make_new_reads_sizes_around_a_decompression_bomb(tmp_path, megapixels):
    """`make new` probes image headers for the size: a bomb among them is passed over, whether
    Pillow only warns (144 Mpx) or refuses it at open (200 Mpx)."""
    import replicas

    from kit.data.infer import infer

    replicas.plant_seedlings(tmp_path, size=40)
    first_class = sorted(path for path in (tmp_path / "train").iterdir() if path.is_dir())[0]
    bomb_png(first_class / "000-bomb.png", 20_000, megapixels * 50)
    found = infer(tmp_path)
    assert (found.sections["data"]["height"], found.sections["data"]["channels"]) == (40, 3)
