"""The data audit: exact duplicates (content hashes), blank images, class balance, examples.

Writes into `artifacts/<slug>/audit/`: summary.json, balance.csv, balance.png, duplicates.csv
and examples.png; `format_summary` gives the terminal lines.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from kit import fileio
from kit.config import Config
from kit.data.pixels import Images
from kit.fileio import chunks
from kit.report import shown


def image_hashes(images) -> np.ndarray:
    """One content hash per image (exact duplicates share it); read in blocks of rows, so a
    memory-mapped set (kit.data.stream) is never loaded whole."""
    return np.array(
        [hashlib.blake2b(image.tobytes(), digest_size=16).hexdigest() for block in chunks(images) for image in block]
    )


def find_duplicates(train: Images, test: Images | None) -> pd.DataFrame:
    """Rows that repeat an earlier image: within train, and test images also found in train."""
    train_hashes = image_hashes(train.images)
    frame = pd.DataFrame({"hash": train_hashes, "row": np.arange(1, len(train) + 1), "label": train.labels})
    first = frame.drop_duplicates("hash").set_index("hash")
    repeats = frame[frame.duplicated("hash")]
    rows = [
        {
            "split": "train",
            "row": r.row,
            "same_as": f"train row {first.at[r.hash, 'row']}",
            "label": r.label,
            "other_label": first.at[r.hash, "label"],
            "id": train.ids[r.row - 1],
            "same_as_id": train.ids[first.at[r.hash, "row"] - 1],
        }
        for r in repeats.itertuples()
    ]
    if test is not None:
        for row, digest in enumerate(image_hashes(test.images), start=1):
            if digest in first.index:
                rows.append(
                    {
                        "split": "test",
                        "row": row,
                        "same_as": f"train row {first.at[digest, 'row']}",
                        "label": None,
                        "other_label": first.at[digest, "label"],
                        "id": test.ids[row - 1],
                        "same_as_id": train.ids[first.at[digest, "row"] - 1],
                    }
                )
    columns = ["split", "row", "same_as", "label", "other_label", "id", "same_as_id"]
    return pd.DataFrame(rows, columns=columns)


def blank_rows(images: np.ndarray) -> np.ndarray:
    """1-based rows of images with a single pixel value (all black, all white, ...)."""
    blank = [np.ptp(block.reshape(len(block), -1), axis=1) == 0 for block in chunks(images)]
    return np.flatnonzero(np.concatenate(blank) if blank else np.zeros(0, bool)) + 1


def class_balance(labels: np.ndarray, names: list[str], tags: np.ndarray | None = None) -> pd.DataFrame:
    """Rows per class; with `tags` (a 0/1 matrix, multi-label) images per tag, so fractions add past 1."""
    counts = np.bincount(labels, minlength=len(names)) if tags is None or tags.ndim != 2 else tags.sum(axis=0)
    total = len(tags) if tags is not None and tags.ndim == 2 else counts.sum()
    return pd.DataFrame({"class": names, "count": counts.astype(np.int64), "fraction": counts / total})


def audit(cfg: Config, train: Images, test: Images | None, folder: Path, faults: pd.DataFrame | None = None) -> dict:
    """Run every check, write the report folder, return the summary. `faults` lists image files
    that could not be used (kit.data.folders): they are counted and written to faults.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    names = list(cfg.competition.class_names)
    duplicates = find_duplicates(train, test)
    duplicates.to_csv(folder / "duplicates.csv", index=False)
    balance = class_balance(train.labels, names, train.targets)
    balance.to_csv(folder / "balance.csv", index=False)
    plot_balance(balance, folder / "balance.png")
    plot_examples_per_class(train, names, folder / "examples.png")
    within = duplicates[duplicates.split == "train"]
    present = balance[balance["count"] > 0]["count"]
    summary = {
        "train_rows": len(train),
        "test_rows": 0 if test is None else len(test),
        "duplicates_in_train": len(within),
        "duplicates_with_conflicting_labels": int((within.label != within.other_label).sum()),
        "duplicate_pairs": [f"{r.id} = {r.same_as_id}" for r in within.head(50).itertuples()],
        "test_images_also_in_train": int((duplicates.split == "test").sum()),
        "blank_train_rows": blank_rows(train.images).tolist(),
        "blank_test_rows": [] if test is None else blank_rows(test.images).tolist(),
        "class_counts": dict(zip(names, balance["count"].astype(int).tolist(), strict=True)),
        "missing_classes": balance[balance["count"] == 0]["class"].tolist(),
        "imbalance_ratio": float(present.max() / present.min()),
        "report": str(folder),
    }
    if faults is not None:
        faults.to_csv(folder / "faults.csv", index=False)
        summary["file_faults"] = {kind: group["file"].tolist() for kind, group in faults.groupby("fault")}
    fileio.write_json(folder / "summary.json", summary)
    return summary


def format_summary(summary: dict) -> str:
    blank_train, blank_test = summary["blank_train_rows"], summary["blank_test_rows"]
    lines = [
        f"rows: {summary['train_rows']} train, {summary['test_rows']} test",
        f"exact duplicates in train: {summary['duplicates_in_train']} "
        f"({summary['duplicates_with_conflicting_labels']} with a different label)",
        *(f"  {pair}" for pair in summary.get("duplicate_pairs", [])[:10]),
        f"test images also in train: {summary['test_images_also_in_train']}",
        f"blank images: {len(blank_train)} train{list_rows(blank_train)}, "
        f"{len(blank_test)} test{list_rows(blank_test)}",
        f"class balance (largest/smallest = {summary['imbalance_ratio']:.1f}):",
    ]
    total = sum(summary["class_counts"].values())
    for name, count in summary["class_counts"].items():
        lines.append(f"  {name:>14} {count:>7}  {count / total:6.1%}")
    if summary["missing_classes"]:
        lines.append(f"classes with no training rows: {', '.join(summary['missing_classes'])}")
    if "file_faults" in summary:  # image-folder competitions: files skipped (train) or blanked (test)
        total = sum(len(files) for files in summary["file_faults"].values())
        lines.append(f"unusable image files: {total}" + (" (listed in faults.csv)" if total else ""))
        for kind, files in summary["file_faults"].items():
            lines.append(f"  {kind:>14} {len(files):>7}  {', '.join(files[:5])}{', ...' if len(files) > 5 else ''}")
    lines.append(f"report: {summary['report']}")
    return "\n".join(lines)


def list_rows(rows: list[int]) -> str:
    return f" (rows {', '.join(map(str, rows[:10]))}{', ...' if len(rows) > 10 else ''})" if rows else ""


def plot_balance(balance: pd.DataFrame, target: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.bar(balance["class"], balance["count"], color="tab:blue")
    ax.set(title="training rows per class", ylabel="rows")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)


def plot_examples_per_class(train: Images, names: list[str], target: Path, per_class: int = 8) -> None:
    fig, axes = plt.subplots(len(names), per_class, figsize=(per_class * 1.1, len(names) * 1.15), squeeze=False)
    for label, row_axes in enumerate(axes):
        rows = np.flatnonzero(train.labels == label)[:per_class]
        for ax in row_axes:
            ax.axis("off")
        for ax, i in zip(row_axes, rows, strict=False):
            ax.imshow(*shown(train.images[i]))
        row_axes[0].set_title(names[label], fontsize=8, loc="left")
    fig.tight_layout()
    fig.savefig(target, dpi=100)
    plt.close(fig)
