"""Temporal detection files: ActivityNet-v1.3 JSON (ground truth, results, proposals), THUMOS14 annotation
folders, and the writers of ground truth and results (stage 09). Malformed entries raise
:class:`DetectionFormatError` naming the entry instead of being coerced.

Tables
------
Ground truth (:func:`read_activitynet`, :func:`read_thumos14`), one row per annotated instance:

==========  =========================================================================
video_id    str, the video's key in the database
label       str, the action class
start, end  float seconds, start <= end
subset      str ("training" / "validation" for ActivityNet, "test" / "val" for THUMOS14)
duration    float seconds of the whole video, NaN when the file does not give it
==========  =========================================================================

Videos without annotations (ActivityNet's testing subset) have no row.  THUMOS14's "Ambiguous"
segments come as a second table of the same shape, label ``"Ambiguous"``.

Predictions (:func:`read_results`), one row per detection, in file order (the order decides ties):

==========  =========================================================================
video_id    str
label       str, must be a ground-truth class
score       float confidence
start, end  float seconds
==========  =========================================================================

Proposals (:func:`read_proposals`) have the same columns, ``label`` <NA> where the file has none.

``evaluate(...)["per_class"]``: ``label``, ``n_gt``, ``n_pred``, then one column ``AP@t`` per
threshold, classes in order of first appearance in the ground truth.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

PROTOCOLS = ("activitynet", "thumos14")
AMBIGUOUS = "Ambiguous"
GT_COLUMNS = ["video_id", "label", "start", "end", "subset", "duration"]
PRED_COLUMNS = ["video_id", "label", "score", "start", "end"]
#: column aliases accepted in proposal CSVs (ActivityNet's proposal tables use video-id/t-start/t-end)
CSV_ALIASES = {"video": "video_id", "video-id": "video_id", "t-start": "start", "t-end": "end"}


class DetectionFormatError(ValueError):
    """A malformed ground-truth / prediction file or entry; the message names the file and the entry."""


def require_columns(table: pd.DataFrame, columns, name: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise DetectionFormatError(f"the {name} table lacks the columns {missing}")


# ----------------------------------------------------------------------------- readers


def _load_json(path):
    try:
        with Path(path).open() as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise DetectionFormatError(f"{path}: not valid JSON ({e})") from None


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _require(entry, keys, where: str) -> None:
    if not isinstance(entry, dict):
        raise DetectionFormatError(f"{where}: expected an object, got {entry!r}")
    for key in keys:
        if key not in entry:
            raise DetectionFormatError(f"{where}: missing key {key!r}")


def _label(label, where: str) -> str:
    if not isinstance(label, str):
        raise DetectionFormatError(f"{where}: 'label' must be a string, got {label!r}")
    return label


def _segment(segment, where: str) -> tuple[float, float]:
    if not (isinstance(segment, (list, tuple)) and len(segment) == 2 and all(_is_number(x) for x in segment)):
        raise DetectionFormatError(f"{where}: 'segment' must be a [start, end] pair of numbers, got {segment!r}")
    start, end = float(segment[0]), float(segment[1])
    if not start <= end:
        raise DetectionFormatError(f"{where}: segment [{start}, {end}] must have start <= end")
    return start, end


def _score(score, where: str) -> float:
    if not _is_number(score) or math.isnan(score):
        raise DetectionFormatError(f"{where}: 'score' must be a number, got {score!r}")
    return float(score)


def _frame(rows, columns) -> pd.DataFrame:
    floats = {c: float for c in columns if c in ("start", "end", "score", "duration")}
    return pd.DataFrame(rows, columns=columns).astype(floats)


def read_activitynet(path, subset: str | None = None) -> pd.DataFrame:
    """Ground-truth table of an ActivityNet-v1.3 style JSON.

    Layout: ``{"database": {video_id: {"subset", "annotations": [{"label", "segment": [s, e]}],
    "duration"? (a number, or a numeric string as HACS writes it), "url"?}}, "taxonomy", "version"}`` (only
    "database" is required here).  ``subset``
    keeps only videos of that subset (the official default is "validation"); None keeps all.
    """
    data = _load_json(path)
    _require(data, ["database"], str(path))
    if not isinstance(data["database"], dict):
        raise DetectionFormatError(f"{path}: 'database' must be an object of videos")
    rows = []
    for video_id, video in data["database"].items():
        where = f"{path}: database[{video_id!r}]"
        _require(video, ["subset", "annotations"], where)
        if not isinstance(video["annotations"], list):
            raise DetectionFormatError(f"{where}: 'annotations' must be a list")
        duration = video.get("duration")
        if isinstance(duration, str):  # HACS writes durations as strings ("92.166667")
            try:
                duration = float(duration)
            except ValueError:
                raise DetectionFormatError(f"{where}: 'duration' must be a number, got {duration!r}") from None
        if duration is not None and not _is_number(duration):
            raise DetectionFormatError(f"{where}: 'duration' must be a number, got {duration!r}")
        for i, ann in enumerate(video["annotations"]):
            at = f"{where}['annotations'][{i}]"
            _require(ann, ["label", "segment"], at)
            label, (start, end) = _label(ann["label"], at), _segment(ann["segment"], at)
            if subset is None or video["subset"] == subset:
                rows.append((video_id, label, start, end, video["subset"], math.nan if duration is None else duration))
    return _frame(rows, GT_COLUMNS)


def _result_rows(path, label_required: bool, labels=None) -> list[tuple]:
    data = _load_json(path)
    _require(data, ["results"], str(path))
    if not isinstance(data["results"], dict):
        raise DetectionFormatError(f"{path}: 'results' must be an object of videos")
    known = None if labels is None else set(labels)
    rows = []
    for video_id, entries in data["results"].items():
        if not isinstance(entries, list):
            raise DetectionFormatError(f"{path}: results[{video_id!r}] must be a list")
        for i, entry in enumerate(entries):
            at = f"{path}: results[{video_id!r}][{i}]"
            _require(entry, ["label", "score", "segment"] if label_required else ["score", "segment"], at)
            label = _label(entry["label"], at) if "label" in entry else None
            if known is not None and label not in known:
                raise DetectionFormatError(f"{at}: label {label!r} is not a ground-truth class")
            rows.append((video_id, label, _score(entry["score"], at), *_segment(entry["segment"], at)))
    return rows


def read_results(path, labels=None) -> pd.DataFrame:
    """Prediction table of an ActivityNet results JSON.

    Layout: ``{"results": {video_id: [{"label", "score", "segment": [s, e]}]}, "version",
    "external_data"}`` (only "results" is required here).  ``labels``: when given, a label outside
    it is an error (strict mode; :func:`main` passes the ground-truth classes).
    """
    return _frame(_result_rows(path, True, labels), PRED_COLUMNS)


def read_proposals(path) -> pd.DataFrame:
    """Proposal table of a results/proposals JSON (label optional) or a CSV.

    CSV: a header with ``video`` (or ``video_id`` / ``video-id``), ``start`` (or ``t-start``),
    ``end`` (or ``t-end``), ``score`` and optionally ``label``.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        return _frame(_result_rows(path, False), PRED_COLUMNS)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False).rename(columns=CSV_ALIASES)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise DetectionFormatError(f"{path}: not a valid CSV ({e})") from None
    require_columns(table, ["video_id", "start", "end", "score"], str(path))
    # line numbers: the header is line 1, table row i is line i + 2
    for column in ("start", "end", "score"):
        values = pd.to_numeric(table[column], errors="coerce")
        if values.isna().any():
            i = int(values.isna().to_numpy().argmax())
            raise DetectionFormatError(
                f"{path}: line {i + 2} (video {table['video_id'].iloc[i]!r}): "
                f"{column} {table[column].iloc[i]!r} is not a number"
            )
        table[column] = values.astype(float)
    inverted = (table["start"] > table["end"]).to_numpy()
    if inverted.any():
        i = int(inverted.argmax())
        raise DetectionFormatError(f"{path}: line {i + 2} (video {table['video_id'].iloc[i]!r}): start > end")
    table["label"] = table["label"].where(table["label"] != "", None) if "label" in table.columns else None
    return table[PRED_COLUMNS]


def _thumos14_lines(path: Path, label: str, subset: str):
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            if len(fields) != 3:
                raise ValueError
            video_id, start, end = fields[0], float(fields[1]), float(fields[2])
        except ValueError:
            raise DetectionFormatError(
                f"{path}: line {number}: expected 'video_name start end', got {line!r}"
            ) from None
        if not start <= end:
            raise DetectionFormatError(f"{path}: line {number} (video {video_id!r}): start {start} > end {end}")
        yield video_id, label, start, end, subset, math.nan


def read_thumos14(ann_dir, subset: str = "test") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ground truth, ambiguous) tables of a THUMOS14 annotation folder.

    One ``<Class>_<subset>.txt`` per class (classes in file-name order) plus
    ``Ambiguous_<subset>.txt``, lines ``video_name start end``; the kit refuses to run without the
    Ambiguous file, and so does this reader.
    """
    ann_dir, suffix = Path(ann_dir), f"_{subset}.txt"
    class_files = [f for f in sorted(ann_dir.glob(f"*{suffix}")) if f.name != AMBIGUOUS + suffix]
    if not class_files:
        raise DetectionFormatError(f"{ann_dir}: no <Class>{suffix} annotation files")
    ambiguous_file = ann_dir / (AMBIGUOUS + suffix)
    if not ambiguous_file.is_file():
        raise DetectionFormatError(f"{ambiguous_file}: missing (the THUMOS14 kit requires it)")
    gt = [row for f in class_files for row in _thumos14_lines(f, f.name[: -len(suffix)], subset)]
    return _frame(gt, GT_COLUMNS), _frame(list(_thumos14_lines(ambiguous_file, AMBIGUOUS, subset)), GT_COLUMNS)


# ----------------------------------------------------------------------------- writers


def _write_json(obj, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, sort_keys=True) + "\n")
    return path


def write_activitynet_gt(gt: pd.DataFrame, path, version: str = "VERSION 1.3", decimals: int = 6) -> Path:
    """Write a ground-truth table as ActivityNet-v1.3 JSON (sorted keys, floats rounded to ``decimals``).

    Each video gets ``subset``, ``annotations`` (table order) and ``duration`` when known; the
    taxonomy is written empty (the evaluation never reads it).
    """
    database = {}
    for row in gt.itertuples(index=False):
        video = database.setdefault(row.video_id, {"subset": row.subset, "annotations": []})
        if not pd.isna(row.duration):
            video["duration"] = round(float(row.duration), decimals)
        video["annotations"].append(
            {"label": row.label, "segment": [round(float(row.start), decimals), round(float(row.end), decimals)]}
        )
    return _write_json({"version": version, "taxonomy": [], "database": database}, path)


def write_results(pred: pd.DataFrame, path, version: str = "VERSION 1.3", decimals: int = 6) -> Path:
    """Write a prediction table as an ActivityNet results JSON (sorted keys, floats rounded)."""
    results = {}
    for row in pred.itertuples(index=False):
        results.setdefault(row.video_id, []).append(
            {
                "label": row.label,
                "score": round(float(row.score), decimals),
                "segment": [round(float(row.start), decimals), round(float(row.end), decimals)],
            }
        )
    return _write_json({"version": version, "external_data": {"used": False, "details": ""}, "results": results}, path)
