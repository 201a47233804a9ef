"""``HACS_clips_v1.1.csv``: one row per labeled 2-second clip; the writer and a strict reader."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .layout import CLIP_COLUMNS, CLIP_ORDER, KEY, LABELS, SUBSETS, TIME_DECIMALS, _fail, round_time


# ----------------------------------------------------------------------------- clips CSV
def labeled_for_export(labeled: pd.DataFrame) -> pd.DataFrame:
    """The labeled_clips rows with a final label of 1 or -1 (guideline examples included, label 0 left out)."""
    return labeled[labeled.label.isin(LABELS)].reset_index(drop=True)


def _keyed(labeled: pd.DataFrame, subsets: Mapping[str, str]) -> pd.DataFrame:
    """labeled_for_export rows plus the CSV columns (classname, youtube_id, subset, rounded start/end), in CSV order."""
    d = labeled_for_export(labeled)
    missing = sorted(set(d.video_id) - set(subsets))
    if missing:
        raise ValueError(f"export: videos without a subset: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    d = d.assign(
        classname=d.class_label.astype(str),
        youtube_id=d.video_id.astype(str),
        subset=d.video_id.map(subsets),
        start=round_time(d.start_s.astype(float)),
        end=round_time(d.end_s.astype(float)),
        label=d.label.astype("int64"),
    )
    dup = d[d.duplicated(KEY, keep=False)]
    if len(dup):
        raise ValueError(
            f"export: clips share a key {KEY} after rounding to {TIME_DECIMALS} decimals: {sorted(dup.clip_id)[:10]}"
        )
    return d.sort_values(CLIP_ORDER, kind="mergesort").reset_index(drop=True)


def clips_table(labeled: pd.DataFrame, subsets: Mapping[str, str]) -> pd.DataFrame:
    """labeled_clips (+ video_id -> subset) -> the HACS clips table: CLIP_COLUMNS, sorted by CLIP_ORDER."""
    return _keyed(labeled, subsets)[CLIP_COLUMNS]


def write_clips_csv(df: pd.DataFrame, path) -> Path:
    """Write the clips table as HACS_clips CSV (header, LF line ends, floats as Python writes them: 15.5)."""
    if list(df.columns) != CLIP_COLUMNS:
        raise ValueError(f"clips table must have the columns {CLIP_COLUMNS}, got {list(df.columns)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.astype(dict(start=float, end=float, label="int64")).to_csv(path, index=False, lineterminator="\n")
    return path


def _parse_time(value: str, path, lineno: int, column: str) -> float:
    try:
        t = float(value)
    except ValueError:
        raise _fail(path, lineno, f"{column} {value!r} is not a number") from None
    if not math.isfinite(t) or t < 0:
        raise _fail(path, lineno, f"{column} {value!r} is not a finite time >= 0")
    return t


def _parse_clip_row(row: list[str], path, lineno: int) -> dict:
    if len(row) != len(CLIP_COLUMNS):
        raise _fail(path, lineno, f"expected {len(CLIP_COLUMNS)} fields, got {len(row)}")
    classname, youtube_id, subset, start, end, label = row
    if not classname or not youtube_id:
        raise _fail(path, lineno, "empty classname or youtube_id")
    if subset not in SUBSETS:
        raise _fail(path, lineno, f"subset {subset!r} is not one of {', '.join(SUBSETS)}")
    s, e = _parse_time(start, path, lineno, "start"), _parse_time(end, path, lineno, "end")
    if not s < e:
        raise _fail(path, lineno, f"start {start} is not before end {end}")
    if label not in ("1", "-1"):
        raise _fail(path, lineno, f"label {label!r} is not 1 or -1")
    return dict(classname=classname, youtube_id=youtube_id, subset=subset, start=s, end=e, label=int(label))


def read_clips_csv(path) -> pd.DataFrame:
    """Read a HACS clips CSV strictly: the exact header, 6 fields, subset in SUBSETS, 0 <= start < end,
    label 1 or -1, each (youtube_id, start, end, classname) once, each video in one subset. Raises
    :class:`ExportFormatError` naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"clips CSV not found: {path}")
    rows, seen, video_subset = [], {}, {}
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != CLIP_COLUMNS:
            raise _fail(path, 1, f"header must be {','.join(CLIP_COLUMNS)}, got {','.join(header or [])!r}")
        for row in reader:
            lineno = reader.line_num
            r = _parse_clip_row(row, path, lineno)
            key = tuple(r[k] for k in KEY)
            if key in seen:
                raise _fail(path, lineno, f"clip {key} repeats line {seen[key]}")
            seen[key] = lineno
            first = video_subset.setdefault(r["youtube_id"], (r["subset"], lineno))
            if first[0] != r["subset"]:
                raise _fail(
                    path,
                    lineno,
                    f"video {r['youtube_id']} is in {r['subset']} here and in {first[0]} on line {first[1]}",
                )
            rows.append(r)
    return pd.DataFrame(rows, columns=CLIP_COLUMNS).astype(dict(start="float64", end="float64", label="int64"))
