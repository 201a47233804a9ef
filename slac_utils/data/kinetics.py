"""Kinetics as distributed: ``kinetics_<split>.csv`` (youtube_id, time_start, time_end, label, split) and clips
named ``<youtube_id>_<start:06d>_<end:06d>.mp4`` in class folders (or flat); the table of :mod:`.targets`."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .targets import KINETICS_COLUMNS, DirIndex, _fail, _finish

# the split names met in Kinetics CSVs and download folders
_KINETICS_SPLITS = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validate": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}


def kinetics_file_name(youtube_id: str, time_start: int, time_end: int, ext: str = ".mp4") -> str:
    """``<youtube_id>_<time_start:06d>_<time_end:06d>.mp4``, the name the official download scripts write."""
    return f"{youtube_id}_{time_start:06d}_{time_end:06d}{ext}"


def _parse_seconds(value: str, path, lineno: int, column: str) -> int:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise _fail(path, lineno, f"{column} {value!r} is not a number") from None
    if not x.is_integer() or x < 0:
        raise _fail(path, lineno, f"{column} {value!r} is not a whole, non-negative number of seconds")
    return int(x)


def _read_kinetics_csv(path) -> list[dict]:
    """The rows of one Kinetics CSV with the CSV line number; column order free, ``is_cc`` and others ignored."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Kinetics annotation file not found: {path}")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f, skipinitialspace=True)
        header = [h.strip() for h in (reader.fieldnames or [])]
        need = ["youtube_id", "time_start", "time_end", "split"]
        absent = [c for c in need if c not in header]
        if absent:
            raise _fail(
                path,
                1,
                f"missing columns {absent} (header: {header}; expected youtube_id,time_start,time_end,split[,label][,is_cc])",
            )
        reader.fieldnames = header
        out = []
        for rec in reader:
            if all(not (v or "").strip() for k, v in rec.items() if k is not None):
                continue  # blank line
            if None in rec or any(rec.get(c) is None for c in need):
                raise _fail(path, reader.line_num, f"expected {len(header)} fields ({','.join(header)})")
            out.append(dict({k: (v or "").strip() for k, v in rec.items()}, _line=reader.line_num))
    return out


def kinetics_folders(video_root, split_dirs: Sequence[str], label: str) -> list[str]:
    """Where a Kinetics clip may lie, in the order tried, for each split folder name: ``<root>/<split>/<label>/``,
    the same with spaces as underscores, flat ``<root>/<split>/``; then ``<root>/<label>/`` (root = one split's
    folder) and flat ``<root>/``.  The first is the canonical place (given to missing files)."""
    root = os.fspath(video_root)
    labels = list(dict.fromkeys([label, label.replace(" ", "_")])) if label else []
    dirs = [os.path.join(root, sd, lab) for sd in split_dirs for lab in [*labels, ""]]
    dirs += [os.path.join(root, lab) for lab in [*labels, ""]]
    return [d.rstrip(os.sep) or d for d in dict.fromkeys(dirs)]


def read_kinetics(csv_paths, video_root, *, classes: Sequence[str] | None = None, ext: str = ".mp4") -> pd.DataFrame:
    """Kinetics annotation CSV(s) as a dataset table (columns: module docstring, ``KINETICS_COLUMNS``).

    Each CSV has the columns youtube_id,time_start,time_end,label,split in any order (``is_cc`` and other extra
    columns are accepted and ignored; ``label`` may be absent, as in the unlabeled test set: label ``""`` and
    label_index -1).  Split names are normalised (``validate`` -> ``val``).  The clip file
    ``<youtube_id>_<start:06d>_<end:06d>.mp4`` is looked up in the folders of :func:`kinetics_folders`; a
    missing file gets ``exists`` False and the canonical ``<root>/<split>/<label>/`` path.  ``classes`` fixes the
    class order; then a label not in it raises :class:`DatasetFormatError` naming it.
    """
    paths = [csv_paths] if isinstance(csv_paths, (str, os.PathLike)) else list(csv_paths)
    video_root = Path(video_root)
    records = [(Path(p), r) for p in paths for r in _read_kinetics_csv(p)]
    if classes is None:
        names = sorted({r.get("label", "") for _, r in records} - {""})
    else:
        names = list(classes)
        if len(set(names)) != len(names):
            raise ValueError(f"classes has duplicates: {sorted({c for c in names if names.count(c) > 1})}")
    index_of = {c: i for i, c in enumerate(names)}
    index = DirIndex()
    folders: dict[tuple[str, str, str], list[str]] = {}  # (split, split as written, label) -> candidate folders
    rows = []
    for path, r in records:
        line = r["_line"]
        if not r["youtube_id"]:
            raise _fail(path, line, "empty youtube_id")
        split_raw = r["split"]
        split = _KINETICS_SPLITS.get(split_raw.lower())
        if split is None:
            raise _fail(path, line, f"unknown split {split_raw!r}; expected one of {sorted(_KINETICS_SPLITS)}")
        t0 = _parse_seconds(r["time_start"], path, line, "time_start")
        t1 = _parse_seconds(r["time_end"], path, line, "time_end")
        if t1 <= t0:
            raise _fail(path, line, f"time_end {t1} is not after time_start {t0}")
        label = r.get("label", "")
        if label and label not in index_of:
            raise _fail(path, line, f"unknown class {label!r} (not in the {len(names)} given classes)")
        fname = kinetics_file_name(r["youtube_id"], t0, t1, ext)
        key = (split, split_raw, label)
        if key not in folders:
            folders[key] = kinetics_folders(video_root, list(dict.fromkeys([split, split_raw])), label)
        found = next((d for d in folders[key] if fname in index.files(d)), None)
        video_path = os.path.join(found if found is not None else folders[key][0], fname)
        rows.append(
            dict(
                video_id=fname[: -len(ext)] if ext else fname,
                path=video_path,
                label=label,
                label_index=index_of.get(label, -1),
                split=split,
                exists=found is not None,
                youtube_id=r["youtube_id"],
                time_start=t0,
                time_end=t1,
            )
        )
    return _finish(rows, KINETICS_COLUMNS)


def kinetics_classes(csv_paths: str | os.PathLike | Iterable) -> list[str]:
    """The sorted labels of Kinetics CSV(s): pass the train CSV's to index val/test the same way."""
    paths = [csv_paths] if isinstance(csv_paths, (str, os.PathLike)) else list(csv_paths)
    return sorted({r.get("label", "") for p in paths for r in _read_kinetics_csv(p)} - {""})
