"""A small synthetic data set in the living-species layout, with planted faults.

    python tests/data/living_species_data.py OUT_DIR [--scale 1.0] [--size 32]

Layout (what the real competition ships):

    train.csv, val.csv        image path (or id) column, integer label column 0..7
    train/ val/ test/         the images, JPEG and PNG mixed
    sample_submission.csv     id column (test file names) and label column

Eight visually distinct classes (each its own background colour and foreground shape), heavily
imbalanced like the real data (three large classes, five small ones). Planted faults, all listed
in the returned manifest: a non-image file, a zero-byte file, a truncated JPEG, a truncated PNG,
rows whose file is missing, an exact duplicate file, and a truncated test image. Conversions the
loader must handle are planted too: a grayscale PNG, an RGBA PNG, a palette PNG and a CMYK JPEG.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

# per class: background RGB, foreground RGB, shape; every class differs in colour and shape
CLASSES = [
    ((200, 60, 60), (250, 230, 90), "circle"),
    ((60, 170, 70), (20, 40, 20), "square"),
    ((60, 80, 200), (240, 240, 240), "triangle"),
    ((220, 200, 70), (120, 30, 120), "hstripes"),
    ((30, 30, 30), (90, 220, 220), "cross"),
    ((230, 230, 230), (200, 30, 30), "ring"),
    ((150, 90, 40), (250, 160, 200), "vstripes"),
    ((120, 40, 160), (180, 240, 100), "diamond"),
]
# rows per class before the train/val split: three large classes, five small ones (~15:1)
COUNTS = [150, 110, 90, 14, 12, 11, 10, 10]
TEST_PER_CLASS = 8


def draw(label: int, size: int, rng: np.random.Generator) -> Image.Image:
    """One image of class `label`: jittered colours, a shape at a random place and scale, noise."""
    background, foreground, shape = CLASSES[label]
    jitter = lambda colour: tuple(int(np.clip(c + rng.integers(-25, 26), 0, 255)) for c in colour)  # noqa: E731
    image = Image.new("RGB", (size, size), jitter(background))
    pen = ImageDraw.Draw(image)
    r = size * rng.uniform(0.25, 0.38)
    cx, cy = size / 2 + rng.uniform(-0.12, 0.12) * size, size / 2 + rng.uniform(-0.12, 0.12) * size
    box = [cx - r, cy - r, cx + r, cy + r]
    colour = jitter(foreground)
    if shape == "circle":
        pen.ellipse(box, fill=colour)
    elif shape == "square":
        pen.rectangle(box, fill=colour)
    elif shape == "triangle":
        pen.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    elif shape == "ring":
        pen.ellipse(box, outline=colour, width=max(2, size // 10))
    elif shape == "cross":
        pen.rectangle([cx - r, cy - r / 4, cx + r, cy + r / 4], fill=colour)
        pen.rectangle([cx - r / 4, cy - r, cx + r / 4, cy + r], fill=colour)
    elif shape == "diamond":
        pen.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=colour)
    else:  # stripes across the whole image
        step = max(3, size // 6)
        for k in range(0, size, step * 2):
            pen.rectangle(
                [0, k, size, k + step - 1] if shape == "hstripes" else [k, 0, k + step - 1, size],
                fill=colour,
            )
    pixels = np.asarray(image, dtype=np.int16) + rng.integers(-12, 13, (size, size, 3))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def save(image: Image.Image, path: Path) -> None:
    image.save(path, quality=92) if path.suffix == ".jpg" else image.save(path)


def plant_conversions(images: dict[str, Image.Image], folder: Path, names: list[str]) -> dict[str, str]:
    """Re-save four PNGs as grayscale, RGBA, palette PNG and CMYK JPEG; returns old -> new name."""
    renamed = {}
    for name, mode in zip(names, ("L", "RGBA", "P", "CMYK"), strict=True):
        image = images[name].convert(mode)
        if mode == "CMYK":  # PNG cannot hold CMYK: this one becomes a JPEG
            (folder / name).unlink()
            renamed[name] = Path(name).with_suffix(".jpg").name
            image.save(folder / renamed[name], quality=92)
        else:
            image.save(folder / name)
            renamed[name] = name
    return renamed


def make_split(folder: Path, split: str, rows: list[tuple[str, int]], size: int, rng) -> dict[str, Image.Image]:
    (folder / split).mkdir(parents=True, exist_ok=True)
    drawn = {}
    for name, label in rows:
        drawn[name] = draw(label, size, rng)
        save(drawn[name], folder / split / name)
    return drawn


def split_rows(scale: float, rng) -> tuple[list, list, list]:
    """(train, val, test) lists of (file name, label); train:val about 60:40 as in the real data."""
    train, val, test = [], [], []
    for label, count in enumerate(COUNTS):
        n = max(5, round(count * scale))
        for k in range(n):
            ext = ".jpg" if rng.random() < 0.6 else ".png"
            (train if k < round(n * 0.6) else val).append((f"c{label}_{k:04d}{ext}", label))
        for k in range(TEST_PER_CLASS):
            test.append((f"t{label}_{k:03d}{'.jpg' if k % 2 else '.png'}", label))
    order = rng.permutation(len(test))
    return train, val, [test[i] for i in order]


def plant_faults(folder: Path, train: list, rng) -> tuple[list, dict]:
    """Damage a few training files and add rows without files; returns the rows and the manifest."""
    jpgs = [name for name, _ in train if name.endswith(".jpg")]
    pngs = [name for name, _ in train if name.endswith(".png")]
    manifest = {}
    not_image = jpgs[0]
    (folder / "train" / not_image).write_bytes(b"<html>404 Not Found</html>\n" * 3)
    manifest[not_image] = "not_an_image"
    empty = pngs[0]
    (folder / "train" / empty).write_bytes(b"")
    manifest[empty] = "empty"
    for name in (jpgs[1], pngs[1]):
        data = (folder / "train" / name).read_bytes()
        (folder / "train" / name).write_bytes(data[: len(data) // 2])
        manifest[name] = "truncated"
    rows = list(train)
    for k, label in enumerate((0, 3)):
        missing = f"gone_{k}.jpg"
        rows.append((missing, label))
        manifest[missing] = "missing"
    original, label = next((n, lab) for n, lab in train if n.endswith(".jpg") and n not in manifest)
    copy = f"copy_of_{original}"
    shutil.copyfile(folder / "train" / original, folder / "train" / copy)
    rows.append((copy, label))
    manifest[copy] = f"duplicate of {original}"
    return rows, manifest


def make_dataset(
    folder: Path,
    scale: float = 1.0,
    size: int = 32,
    seed: int = 0,
    image_column: str = "image",
    label_column: str = "label",
    id_column: str = "id",
    paths_in_csv: bool = True,
) -> dict:
    """Write the data set into `folder`; return a manifest of what was planted and the truth."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    train, val, test = split_rows(scale, rng)
    drawn = make_split(folder, "train", train, size, rng)
    make_split(folder, "val", val, size, rng)
    make_split(folder, "test", test, size, rng)
    plain = [name for name, _ in train[5:] if name.endswith(".png")]
    renamed = plant_conversions(drawn, folder / "train", plain[:4])
    train = [(renamed.get(n, n), lab) for n, lab in train]
    train_rows, faults = plant_faults(folder, train, rng)
    truncated_test = test[0][0]
    data = (folder / "test" / truncated_test).read_bytes()
    (folder / "test" / truncated_test).write_bytes(data[: len(data) // 3])
    write_tables(folder, train_rows, val, test, image_column, label_column, id_column, paths_in_csv)
    manifest = {
        "train_faults": faults,
        "test_faults": {truncated_test: "truncated"},
        "conversions": dict(zip(("L", "RGBA", "P", "CMYK"), renamed.values(), strict=True)),
        "counts": np.bincount([lab for _, lab in train + val], minlength=8).tolist(),
        "test_labels": {name: label for name, label in test},
        "columns": [image_column, label_column, id_column],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def write_tables(folder, train_rows, val, test, image_column, label_column, id_column, paths_in_csv) -> None:
    def column(split, rows):
        return [f"{split}/{name}" if paths_in_csv else name for name, _ in rows]

    pd.DataFrame({image_column: column("train", train_rows), label_column: [lab for _, lab in train_rows]}).to_csv(
        folder / "train.csv", index=False
    )
    pd.DataFrame({image_column: column("val", val), label_column: [lab for _, lab in val]}).to_csv(
        folder / "val.csv", index=False
    )
    pd.DataFrame({id_column: [name for name, _ in test], label_column: 0}).to_csv(
        folder / "sample_submission.csv", index=False
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the rows per class")
    parser.add_argument("--size", type=int, default=32, help="image side in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    manifest = make_dataset(args.out, args.scale, args.size, args.seed)
    print(json.dumps({k: manifest[k] for k in ("train_faults", "test_faults", "counts")}, indent=2))


if __name__ == "__main__":
    main()
