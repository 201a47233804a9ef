"""Export of the labeled clips in the layout of the public HACS release (http://hacs.csail.mit.edu).
The library of stage 10; the stage itself is :mod:`slac_utils.stages.report`.

HACS (the public release of SLAC) ships two annotation files, described in the README of
github.com/hangzhaomit/HACS-dataset and parsed the same way by its ``dataset_stats.py`` / ``download_videos.py``:

``HACS_clips_v1.1.csv`` — one row per 2-second labeled clip, header and column order exactly

    classname,youtube_id,subset,start,end,label

    classname    str    the action class (HACS spells classes as "Archery"; we keep the pipeline's class labels)
    youtube_id   str    the video id
    subset       str    training | validation | testing (whole videos: a video is in one subset only)
    start, end   float  the clip in seconds from the start of the video (HACS rows read ``15.5,17.5``)
    label        int    1 positive, -1 negative

``HACS_segments_v1.1.json`` — the ActivityNet layout:
``{"database": {youtube_id: {"annotations": [{"label": classname, "segment": [start, end]}, ...],
"subset": ..., "duration": "92.166667", "url": "https://www.youtube.com/watch?v=..."}}, "version": ...}``.
As in the release, ``duration`` is a string with 6 decimals (HACS tools read it with ``float(...)``) and segment
times are rounded to 2 decimals (the README prints ``[5.40, 11.60]``; JSON writes the float as ``5.4``).
The release README shows only ``database``; we add ``version`` as ActivityNet files have (the official
ActivityNet evaluator also asks for ``taxonomy``, which HACS does not ship; HACS evaluators drop that check).

Decisions for a run of this pipeline
------------------------------------
* Which clips: every row of stage 05's ``labeled_clips`` whose final ``label`` is 1 or -1. That includes the
  golden-set guideline examples (annotator ``golden_set``, ``annotator_label`` 0): their final label is the
  golden answer. A row whose final label is 0 (no label) is not a labeled clip and is left out (counted).
* Times: clip and segment times are rounded to ``TIME_DECIMALS`` (2) decimals, so the key
  (youtube_id, start, end, classname) in the CSV and in the provenance sidecar is the same value; two clips of
  one video and class that round to the same key raise an error.
* Row order of the CSV and the sidecar: classname, youtube_id, start, end (code-point order of the strings).
* Split (:func:`split_videos`): whole videos, shuffled by a seeded permutation of the sorted video ids; the
  counts are exact, by largest remainder: each subset gets floor(n x fraction), the videos left over go one
  each to the subsets with the largest fractional parts (ties: training, validation, testing). The paper's
  502K / 6K / 12K videos are ``export.split_fractions`` = (0.9654, 0.0115, 0.0231) in configs/paper.yaml.
* Segments: the videos of the segments JSON are the videos of the clips CSV, each in the same subset (in HACS,
  every validation and testing video of the clips file is in the segments file too). A run of this pipeline
  has no full temporal annotation, so by default a video's segments are its positive clips merged per
  (video, class, shot): clips that overlap or touch (next start <= current end) become one segment; clips of
  different shots are never merged (a shot cut ends the segment). A video without positive clips has an
  empty ``annotations`` list. When a table of segment annotations (video_id, label, start, end) is given it is
  exported instead; the demo passes its planted action segments (:func:`truth_action_segments`). Segments
  are clipped to [0, duration].

Files written by :func:`run` into ``out_dir``:

``HACS_clips_v1.1.csv``, ``HACS_segments_v1.1.json`` (above); ``provenance.parquet`` (+ ``provenance.csv``),
one row per CSV row in the same order, keyed by (youtube_id, start, end, classname):

    youtube_id, start, end, classname, subset, label   as in the CSV
    clip_id, shot_id, frame, kind                      the clip (kind: hard = sampled by R, easy = highest consensus)
    R, consensus, kl, representativeness              R(x) (normalised within its video) and its three factors
    annotator, annotator_label, is_gold, gold_label   who labeled it, their label, golden-set answer (0: none)
    annotator_gold_n, annotator_gold_accuracy         the annotator's golden check clips and accuracy on them
                                                      (0 / NaN for annotators without any, and for golden_set)
    source_path, source_sha256                        the original video file and its SHA-256 (from the manifest)
    source_fps, source_n_frames, source_duration_s    its frame rate, frames and duration
    clip_path                                         the 2-second clip file

and ``README.md`` (the files, counts per subset and label, the profile). Same inputs give the same bytes.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .annotation import gold_accuracy_table
from .io import read_table, write_table

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
    shuffled = [ids[i] for i in np.random.default_rng(seed).permutation(len(ids))]
    names = np.repeat(SUBSETS, subset_counts(len(ids), fractions))
    return dict(sorted(zip(shuffled, names.tolist())))


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


# ----------------------------------------------------------------------------- provenance
def annotator_gold_accuracy(labeled: pd.DataFrame) -> pd.DataFrame:
    """annotator, annotator_gold_n, annotator_gold_accuracy over the golden clips each annotator labeled
    (guideline examples, annotator_label 0, are nobody's answer and do not count)."""
    g = labeled[labeled.is_gold.astype(bool) & (labeled.annotator_label != 0)]
    acc = gold_accuracy_table(
        pd.DataFrame(dict(annotator=g.annotator, label=g.annotator_label, gold_label=g.gold_label))
    )
    return acc.rename(columns=dict(gold_n="annotator_gold_n", gold_accuracy="annotator_gold_accuracy"))[
        ["annotator", "annotator_gold_n", "annotator_gold_accuracy"]
    ]


def provenance_table(labeled: pd.DataFrame, subsets: Mapping[str, str], manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per clips-CSV row, in the same order: PROVENANCE_COLUMNS (see the module docstring)."""
    d = _keyed(labeled, subsets)
    src = manifest[["video_id", "path", "sha256", "fps", "n_frames", "duration_s"]].rename(
        columns=dict(
            path="source_path",
            sha256="source_sha256",
            fps="source_fps",
            n_frames="source_n_frames",
            duration_s="source_duration_s",
        )
    )
    missing = sorted(set(d.video_id) - set(src.video_id))
    if missing:
        raise ValueError(f"export: videos not in the manifest: {missing[:10]}")
    d = (
        d.rename(columns=dict(path="clip_path"))
        .merge(src, on="video_id", how="left")
        .merge(annotator_gold_accuracy(labeled), on="annotator", how="left")
    )
    d["annotator_gold_n"] = d.annotator_gold_n.fillna(0).astype("int64")
    return d[PROVENANCE_COLUMNS].astype(dict(annotator_gold_accuracy="float64", is_gold=bool))


# ----------------------------------------------------------------------------- counts, README, run
def subset_summary(clips: pd.DataFrame, db: dict) -> pd.DataFrame:
    """Per subset (and all): videos, clips, positive and negative clips, videos and segments in the segments JSON."""
    entries = db["database"].values()
    rows = []
    for name in [*SUBSETS, "all"]:
        c = clips if name == "all" else clips[clips.subset == name]
        e = [x for x in entries if name in ("all", x["subset"])]
        rows.append(
            dict(
                subset=name,
                videos=c.youtube_id.nunique(),
                clips=len(c),
                positive=int((c.label == 1).sum()),
                negative=int((c.label == -1).sum()),
                segment_videos=len(e),
                segments=sum(len(x["annotations"]) for x in e),
            )
        )
    return pd.DataFrame(rows)


def readme_text(summary: pd.DataFrame, profile: dict, segments_source: str) -> str:
    """README.md of the export folder: the files, counts per subset and label, the profile."""
    lines = [
        "# SLAC labeled dataset in the HACS release formats",
        "",
        "Written by `slac_utils.export.run` (stage 10); the layout follows the HACS release "
        "(github.com/hangzhaomit/HACS-dataset, README 'Annotation File Format').",
        "",
        "## Files",
        "",
        f"- `{CLIPS_FILE}`: one row per labeled 2-second clip, header `{','.join(CLIP_COLUMNS)}`; label 1 positive, "
        f"-1 negative; start/end in seconds ({TIME_DECIMALS} decimals); rows by {', '.join(CLIP_ORDER)}.",
        f"- `{SEGMENTS_FILE}`: ActivityNet layout `"
        + SEGMENTS_LAYOUT
        + "`; every video of the clips file, in the same "
        f"subset; duration a string with 6 decimals, segments in seconds ({TIME_DECIMALS} decimals). Segments: {segments_source}.",
        f"- `{PROVENANCE_FILE}` (and `provenance.csv`): per clip, keyed by ({', '.join(KEY)}) in the order of the clips "
        "file: R(x) and its factors, shot, hard/easy, annotator and their golden-set accuracy, source video path and "
        "SHA-256, clip file.",
        "",
        "## Counts",
        "",
        summary.to_markdown(index=False),
        "",
        "## Profile",
        "",
        *[f"- {k}: `{v}`" for k, v in profile.items()],
        "",
    ]
    return "\n".join(lines)


def run(params, labeled_path, manifest_path, out_dir, segments_truth_path=None) -> dict:
    """Write the clips CSV, segments JSON, provenance sidecar and README into out_dir; return the counts.

    segments_truth_path: the demo world's truth/segments.parquet; when given, its action segments are
    exported instead of the merged positive clips."""
    cfg = params.export
    out = Path(out_dir)
    labeled_all = read_table(labeled_path)
    manifest = read_table(manifest_path)
    labeled = labeled_for_export(labeled_all)
    subsets = split_videos(labeled.video_id, cfg.split_fractions, params.seed)
    clips = clips_table(labeled, subsets)
    if segments_truth_path is not None:
        segs = truth_action_segments(read_table(segments_truth_path), manifest)
        segs = segs[segs.video_id.isin(set(subsets))]
        source = f"the planted action segments of {segments_truth_path}"
    else:
        segs = positive_segments(labeled)
        source = "positive clips merged per video, class and shot where they overlap or touch"
    durations = manifest.set_index("video_id").duration_s.to_dict()
    db = segments_database(subsets, durations, segs, cfg.url_template)
    write_clips_csv(clips, out / CLIPS_FILE)
    write_segments_json(db, out / SEGMENTS_FILE)
    prov = provenance_table(labeled, subsets, manifest)
    write_table(prov, out / PROVENANCE_FILE)
    write_table(prov, (out / PROVENANCE_FILE).with_suffix(".csv"))
    summary = subset_summary(clips, db)
    profile = dict(
        data_source=params.data.source,
        seed=params.seed,
        split_fractions=tuple(cfg.split_fractions),
        url_template=cfg.url_template,
    )
    (out / README_FILE).write_bytes(readme_text(summary, profile, source).encode("utf-8"))
    counts = {
        f"{r.subset}_{k}": int(getattr(r, k))
        for r in summary.itertuples()
        for k in ("videos", "clips", "positive", "negative", "segments")
    }
    return dict(counts, unlabeled_skipped=int(len(labeled_all) - len(labeled)))
