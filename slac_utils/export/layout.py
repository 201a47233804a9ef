"""The HACS layout: file names, columns, row order, time rounding; the split of videos into subsets."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from ..data.splits import split_groups

CLIPS_FILE = "HACS_clips_v1.1.csv"
SEGMENTS_FILE = "HACS_segments_v1.1.json"
PROVENANCE_FILE = "provenance.parquet"
README_FILE = "README.md"
SEGMENTS_VERSION = "HACS Segments v1.1 layout (SLAC reproduction)"
SEGMENTS_LAYOUT = '{"database": {youtube_id: {"annotations": [{"label": classname, "segment": [start, end]}], "subset", "duration", "url"}}, "version"}'

SUBSETS = ("training", "validation", "testing")
LABELS = (1, -1)
CLIP_COLUMNS = ["classname", "youtube_id", "subset", "start", "end", "label"]
KEY = ["youtube_id", "start", "end", "classname"]
CLIP_ORDER = ["classname", "youtube_id", "start", "end"]
SEGMENT_COLUMNS = ["video_id", "label", "start", "end"]
PROVENANCE_COLUMNS = [
    *KEY,
    "subset",
    "label",
    "clip_id",
    "shot_id",
    "frame",
    "kind",
    "R",
    "consensus",
    "kl",
    "representativeness",
    "annotator",
    "annotator_label",
    "is_gold",
    "gold_label",
    "annotator_gold_n",
    "annotator_gold_accuracy",
    "source_path",
    "source_sha256",
    "source_fps",
    "source_n_frames",
    "source_duration_s",
    "clip_path",
]
TIME_DECIMALS = 2
DURATION_FORMAT = "{:.6f}"
TOUCH_TOL = 1e-6  # seconds: clips closer than this count as touching (frame times carry float noise)


class ExportFormatError(ValueError):
    """A HACS file does not follow the release format; the message names the file and line."""


def _fail(path, lineno: int, what: str) -> ExportFormatError:
    return ExportFormatError(f"{path}:{lineno}: {what}")


def round_time(x):
    """Seconds rounded the way the export writes them (TIME_DECIMALS decimals)."""
    return np.round(x, TIME_DECIMALS)


# ----------------------------------------------------------------------------- split
def subset_counts(n: int, fractions: Sequence[float]) -> tuple[int, ...]:
    """Exact videos per subset summing to n: floor(n x f), then one more each to the largest remainders
    (ties in subset order). The fractions are normalised to sum to exactly 1 first."""
    total = sum(fractions)
    raw = [n * f / total for f in fractions]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    return tuple(counts)


def split_videos(video_ids: Iterable[str], fractions: Sequence[float], seed: int) -> dict[str, str]:
    """video_id -> training / validation / testing: whole videos, exact counts (:func:`subset_counts`),
    a seeded permutation of the sorted unique ids (independent of the input order)."""
    if len(fractions) != len(SUBSETS) or min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be 3 non-negative shares summing to 1, got {tuple(fractions)}")
    ids = sorted(set(video_ids))
    quotas = dict(zip(SUBSETS, subset_counts(len(ids), fractions)))
    return dict(sorted(split_groups(ids, quotas, seed, rest=SUBSETS[-1]).items()))
