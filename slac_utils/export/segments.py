"""``HACS_segments_v1.1.json``: ActivityNet-layout segments, from merged positive clips or given annotations."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from .layout import DURATION_FORMAT, SEGMENT_COLUMNS, SEGMENTS_VERSION, TOUCH_TOL, round_time


# ----------------------------------------------------------------------------- segments JSON
def merge_touching(intervals: pd.DataFrame) -> pd.DataFrame:
    """Intervals (start, end) of one group -> the union of those that overlap or touch, sorted by start."""
    merged: list[list[float]] = []
    for s, e in intervals.sort_values(["start", "end"], kind="mergesort")[["start", "end"]].itertuples(index=False):
        if merged and s <= merged[-1][1] + TOUCH_TOL:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return pd.DataFrame(merged, columns=["start", "end"], dtype="float64")


def positive_segments(labeled: pd.DataFrame) -> pd.DataFrame:
    """Segments of a run without full annotation: the positive clips (label 1) merged per (video, class, shot)
    where they overlap or touch. Returns SEGMENT_COLUMNS (label = the class), sorted."""
    pos = labeled[labeled.label == 1].rename(columns=dict(start_s="start", end_s="end"))
    parts = [
        merge_touching(g).assign(video_id=v, label=c)
        for (v, c, _), g in pos.groupby(["video_id", "class_label", "shot_id"], sort=True)
    ]
    if not parts:
        return pd.DataFrame(columns=SEGMENT_COLUMNS).astype(dict(start="float64", end="float64"))
    return (
        pd.concat(parts, ignore_index=True)[SEGMENT_COLUMNS]
        .sort_values(SEGMENT_COLUMNS, kind="mergesort")
        .reset_index(drop=True)
    )


def truth_action_segments(truth_segments: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """The demo world's planted segments (truth/segments.parquet) -> SEGMENT_COLUMNS: the ``action`` rows,
    labeled with their video's class from the manifest."""
    act = truth_segments[truth_segments.kind == "action"].merge(
        manifest[["video_id", "class_label"]], on="video_id", how="inner"
    )
    out = act.rename(columns=dict(class_label="label", start_s="start", end_s="end"))[SEGMENT_COLUMNS]
    return out.sort_values(SEGMENT_COLUMNS, kind="mergesort").reset_index(drop=True)


def segments_database(
    subsets: Mapping[str, str],
    durations: Mapping[str, float],
    segments: pd.DataFrame,
    url_template: str,
    version: str = SEGMENTS_VERSION,
) -> dict:
    """The HACS/ActivityNet segments document for the videos of ``subsets`` (every one, with an empty
    ``annotations`` list when it has no segment). ``segments``: SEGMENT_COLUMNS of those videos only; each is
    clipped to [0, duration], rounded to TIME_DECIMALS and listed by (start, end, label)."""
    unknown = sorted(set(segments.video_id) - set(subsets))
    if unknown:
        raise ValueError(f"segments of videos without a subset: {unknown[:10]}")
    no_duration = sorted(v for v in subsets if v not in durations or not math.isfinite(float(durations[v])))
    if no_duration:
        raise ValueError(f"videos without a duration: {no_duration[:10]}")
    by_video = {v: g for v, g in segments.groupby("video_id", sort=True)}
    database = {}
    for v in sorted(subsets):
        dur = float(durations[v])
        ann = []
        if v in by_video:
            g = by_video[v].assign(
                start=lambda d: round_time(d.start.clip(0, dur)), end=lambda d: round_time(d.end.clip(0, dur))
            )
            g = g[g.start < g.end].sort_values(["start", "end", "label"], kind="mergesort")
            ann = [
                dict(label=str(lab), segment=[float(s), float(e)])
                for lab, s, e in g[["label", "start", "end"]].itertuples(index=False)
            ]
        database[v] = dict(
            annotations=ann,
            subset=subsets[v],
            duration=DURATION_FORMAT.format(dur),
            url=url_template.format(video_id=v),
        )
    return dict(database=database, version=version)


def write_segments_json(db: dict, path) -> Path:
    """Write the segments document deterministically: sorted keys, 2-space indent, LF, no NaN."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((json.dumps(db, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8"))
    return path
