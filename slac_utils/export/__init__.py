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

Rooms: ``layout`` (names, columns, rounding, the split), ``clips`` (the CSV), ``segments`` (the JSON), ``writer``
(provenance, README, :func:`run`).
"""

from .clips import clips_table, labeled_for_export, read_clips_csv, write_clips_csv
from .layout import (
    CLIP_COLUMNS,
    CLIP_ORDER,
    CLIPS_FILE,
    DURATION_FORMAT,
    KEY,
    LABELS,
    PROVENANCE_COLUMNS,
    PROVENANCE_FILE,
    README_FILE,
    SEGMENT_COLUMNS,
    SEGMENTS_FILE,
    SEGMENTS_LAYOUT,
    SEGMENTS_VERSION,
    SUBSETS,
    TIME_DECIMALS,
    TOUCH_TOL,
    ExportFormatError,
    round_time,
    split_videos,
    subset_counts,
)
from .segments import merge_touching, positive_segments, segments_database, truth_action_segments, write_segments_json
from .writer import annotator_gold_accuracy, provenance_table, readme_text, run, subset_summary

__all__ = [
    "CLIPS_FILE",
    "CLIP_COLUMNS",
    "CLIP_ORDER",
    "DURATION_FORMAT",
    "ExportFormatError",
    "KEY",
    "LABELS",
    "PROVENANCE_COLUMNS",
    "PROVENANCE_FILE",
    "README_FILE",
    "SEGMENTS_FILE",
    "SEGMENTS_LAYOUT",
    "SEGMENTS_VERSION",
    "SEGMENT_COLUMNS",
    "SUBSETS",
    "TIME_DECIMALS",
    "TOUCH_TOL",
    "annotator_gold_accuracy",
    "clips_table",
    "labeled_for_export",
    "merge_touching",
    "positive_segments",
    "provenance_table",
    "read_clips_csv",
    "readme_text",
    "round_time",
    "run",
    "segments_database",
    "split_videos",
    "subset_counts",
    "subset_summary",
    "truth_action_segments",
    "write_clips_csv",
    "write_segments_json",
]
