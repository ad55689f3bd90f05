"""What a kernel bundle packs: every kit/*.py, the competition folder's config and code (never its
data), and skops' persistence code; as a deterministic base64 zip (`kit.kaggle.kernel.script`).

The competition.toml goes without `data.dir`: that is a folder of this machine (`make new`
records DATA= there), which means nothing on Kaggle, where the kernel reads /kaggle/input, and
which a public kernel would show to everyone.
"""

from __future__ import annotations

import base64
import io
import re
import tomllib
import zipfile
from pathlib import Path

from kit import paths

COMPETITION_SUFFIXES = (".toml", ".py", ".md")  # config and code; data files stay behind
SKIP_NAMES = {"make_sample.py"}  # builds the embedded sample from ../shared: useless on Kaggle


def bundle_files(slug: str) -> dict[str, bytes]:
    """Archive name -> bytes: every kit/*.py and the competition folder's own files."""
    files = {}
    kit_dir = paths.ROOT / "kit"
    for path in sorted(kit_dir.rglob("*.py")):
        if "__pycache__" not in path.parts:
            files[f"kit/{path.relative_to(kit_dir).as_posix()}"] = path.read_bytes()
    folder = paths.competition_dir(slug)
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in COMPETITION_SUFFIXES and path.name not in SKIP_NAMES:
            data = path.read_bytes()
            files[f"competitions/{slug}/{path.name}"] = without_data_dir(data) if path.suffix == ".toml" else data
    return {**files, **skops_files()}


def without_data_dir(data: bytes) -> bytes:
    """A competition.toml without its `data.dir`: the line dropped where it is one plain line
    (comments kept), else the whole file written again from its values."""
    text = data.decode()
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return data  # not a config the kit could load anyway: the kernel says so on Kaggle
    if "dir" not in values.get("data", {}):
        return data
    wanted = {**values, "data": {k: v for k, v in values["data"].items() if k != "dir"}}
    table, kept = "", []
    for line in text.splitlines(keepends=True):
        header = re.match(r"\s*\[([^\[\]]+)\]", line)
        table = header.group(1).strip() if header else table
        if (table == "data" and re.match(r"\s*dir\s*=", line)) or (not table and re.match(r"\s*data\.dir\s*=", line)):
            continue
        kept.append(line)
    try:
        if tomllib.loads("".join(kept)) == wanted:
            return "".join(kept).encode()
    except tomllib.TOMLDecodeError:
        pass
    import tomli_w  # the kit's own dependency: the bundle is built here, not on Kaggle

    return tomli_w.dumps(wanted).encode()


def skops_files() -> dict[str, bytes]:
    """skops' persistence code (pure Python, MIT): Kaggle's image lacks it, and scikit-learn
    models are saved with it (kit.training.sklearn_kind). Nothing when it is not installed here."""
    try:
        import skops
    except ImportError:
        return {}
    root = Path(skops.__file__).parent
    wanted = [root / "__init__.py", root / "_version.py", *root.glob("io/**/*.py"), *root.glob("utils/*.py")]
    return {
        f"skops/{path.relative_to(root).as_posix()}": path.read_bytes()
        for path in sorted(wanted)
        if path.is_file() and "tests" not in path.relative_to(root).parts
    }


def pack(files: dict[str, bytes]) -> str:
    """A deterministic zip of `files`, base64 in 76-character lines."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    text = base64.b64encode(buffer.getvalue()).decode()
    return "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
