"""One image file to pixels, never raising for a bad file and never reading what it must not.

`decode` turns a file into uint8 pixels of the configured size, or into a fault (kind, detail):
missing, empty, not_an_image, truncated, corrupt, unreadable, outside (a path that leaves the data
folder: `kit.data.finder.FileFinder` finds it, this module never opens it) or too_large (more
than `MAX_PIXELS`, judged from the header before a pixel is decoded: a decompression bomb, a
tiny PNG of one colour declaring 144 megapixels, costs nothing).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# The most pixels an image may declare: 50 Mpx is an 8660 x 5773 photograph, more than any
# camera of a competition data set; decoding one costs 150 MB as RGB (and 16-bit or RGBA more),
# times the decoding threads.
MAX_PIXELS = 50_000_000
# Pillow's own warning (above 89 Mpx) would only repeat, less clearly, the fault decode lists
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


@dataclass(frozen=True)
class Outside:
    """A CSV value naming a file outside the data folder (absolute, `../` or a symlink that
    leads out): listed as a fault, never opened."""

    value: str
    target: str


@dataclass(frozen=True)
class Stacked:
    """One image whose channels are separate grayscale files (`data.channel_files`: Human Protein
    Atlas' <Id>_red.png, <Id>_green.png, ...), in stacking order; kit.data.finder finds them."""

    value: str
    paths: tuple[Path, ...]


def members(found) -> tuple:
    """The files one located image is read from: its channel files, or itself."""
    return found.paths if isinstance(found, Stacked) else (found,)


def decode(path: Path | Outside | Stacked | None, size: tuple[int, int, int]) -> tuple[np.ndarray | None, str, str]:
    """(pixels, '', '') or (None, fault kind, detail) (see the module's docstring)."""
    if isinstance(path, Stacked):
        return decode_stacked(path, size)
    if path is None:
        return None, "missing", "no such file"
    if isinstance(path, Outside):
        return None, "outside", f"outside the data folder (leads to {path.target}): not read"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, "unreadable", f"{exc.__class__.__name__}: {exc}"
    if not data:
        return None, "empty", "zero bytes"
    height, width, channels = size
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            if image.width * image.height > MAX_PIXELS:
                return None, "too_large", f"{image.width} x {image.height} pixels, above {MAX_PIXELS:,}: not decoded"
            image.draft("RGB", (width, height))  # JPEG: let libjpeg decode at a reduced scale
            image.load()
            kind = image.format
            pixels = to_mode(image, "RGB" if channels == 3 else "L", (width, height))
            pixels = pixels.resize((width, height), Image.Resampling.BILINEAR)
    except Image.DecompressionBombError as exc:  # Pillow refuses twice its own cap at open
        return None, "too_large", f"{exc}: not decoded"
    except UnidentifiedImageError:
        kind = magic_format(data)
        if kind is None:
            return None, "not_an_image", "not a format Pillow can read"
        fault = "truncated" if cut_short(data, kind) else "corrupt"
        return None, fault, f"starts like a {kind} file but cannot be decoded"
    except (OSError, SyntaxError, ValueError) as exc:
        fault = "truncated" if "truncat" in str(exc).lower() else "corrupt"
        return None, fault, f"{exc.__class__.__name__}: {exc}"
    if cut_short(data, kind):
        return None, "truncated", f"{kind} file lacks its end marker"
    return np.asarray(pixels, dtype=np.uint8).reshape(height, width, channels), "", ""


def decode_stacked(stacked: Stacked, size: tuple[int, int, int]) -> tuple[np.ndarray | None, str, str]:
    """The first `size[2]` channel files, each decoded as gray, stacked in their order into one
    H x W x C image; the first faulty file is the image's fault, named in its detail."""
    height, width, channels = size
    planes = []
    for path in stacked.paths[:channels]:
        plane, kind, detail = decode(path, (height, width, 1))
        if plane is None:
            return None, kind, f"{path.name}: {detail}"
        planes.append(plane)
    return np.concatenate(planes, axis=2), "", ""


def to_mode(image: Image.Image, mode: str, size: tuple[int, int]) -> Image.Image:
    """RGB (or L) from any mode: camera rotation applied, transparency composited on white,
    16-bit and float grayscale resized to `size` (width, height) first and stretched to 0..255,
    so no full-size float copy is ever made."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    elif image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        values = np.asarray(resized_wide(image, size), dtype=np.float64)  # (height, width) only
        span = values.max() - values.min() or 1.0
        image = Image.fromarray(((values - values.min()) / span * 255).astype(np.uint8))
    return image.convert(mode)


def resized_wide(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A 16-bit or float image at `size`, in its own mode where Pillow resizes it, else as 32-bit."""
    try:
        return image.resize(size, Image.Resampling.BILINEAR)
    except (ValueError, OSError):  # an older Pillow without resampling for this mode
        return image.convert("I").resize(size, Image.Resampling.BILINEAR)


MAGIC = {
    b"\xff\xd8\xff": "JPEG",
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"GIF8": "GIF",
    b"BM": "BMP",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
}


def magic_format(data: bytes) -> str | None:
    """The image format a file's first bytes announce (WebP: RIFF....WEBP), or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return next((kind for magic, kind in MAGIC.items() if data.startswith(magic)), None)


def cut_short(data: bytes, kind: str | None) -> bool:
    """True when a JPEG lacks its end-of-image marker or a PNG its IEND chunk: files cut off near
    the end decode without error (libjpeg pads them) but their last rows are grey."""
    tail = data[-1024:]  # some cameras append a few bytes after the marker
    if kind == "JPEG":
        return b"\xff\xd9" not in tail
    if kind == "PNG":
        return b"IEND" not in tail
    return False
