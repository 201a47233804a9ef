"""The provenance sidecar, the counts and README of an export, and :func:`run`, which writes all of it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..annotation import gold_accuracy_table
from ..io import read_table, write_table
from .clips import _keyed, clips_table, labeled_for_export, write_clips_csv
from .layout import (
    CLIP_COLUMNS,
    CLIP_ORDER,
    CLIPS_FILE,
    KEY,
    PROVENANCE_COLUMNS,
    PROVENANCE_FILE,
    README_FILE,
    SEGMENTS_FILE,
    SEGMENTS_LAYOUT,
    SUBSETS,
    TIME_DECIMALS,
    split_videos,
)
from .segments import positive_segments, segments_database, truth_action_segments, write_segments_json


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
