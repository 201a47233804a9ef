"""The report's inputs (metrics, stage tables) and the tables built here: Table 1 (datasets), Table 2 (de-dup) and
the pipeline counts of Figure 1."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd

from ..io import META_SUFFIX, read_table
from ..paper import PAPER_PIPELINE, PAPER_TABLE1, PAPER_TABLE2
from .catalog import STAGE


# ----------------------------------------------------------------------------- inputs
def _maybe(path):
    """read_table, or None when the path is None or missing."""
    if path is None or not Path(path).exists():
        return None
    return read_table(path)


def read_metrics(metrics_dir) -> dict[str, dict]:
    """stage name (file stem) -> its metrics JSON, for every metrics/*.json."""
    d = Path(metrics_dir)
    if not d.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(d.glob("*.json"))}


def find_stage_tables(tables_root, exclude=()) -> dict[int, list[tuple[Path, dict]]]:
    """N -> [(csv path, metadata)] of the stage tables whose metadata (``<stem>.meta.json``, written with every
    stage table) says they reproduce the paper's Table N (1..9), under tables_root, excluding folders in exclude
    and any folder named like this stage (a report's own tables are never read back as stage tables); sorted."""
    root = Path(tables_root)
    excl = {os.path.abspath(e) for e in exclude}
    found: dict[int, list[tuple[Path, dict]]] = {}
    if not root.is_dir():
        return found
    for m in sorted(root.rglob("*" + META_SUFFIX)):
        if any(os.path.abspath(m).startswith(e + os.sep) for e in excl) or STAGE in m.relative_to(root).parts[:-1]:
            continue
        meta = json.loads(m.read_text(encoding="utf-8"))
        n, csv = meta.get("paper_table"), m.parent / meta.get("csv", "")
        if isinstance(n, int) and 1 <= n <= 9 and csv.is_file():
            found.setdefault(n, []).append((csv, meta))
    return found


def _labeled_only(labeled: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if labeled is None else labeled[labeled.label.isin([1, -1])].reset_index(drop=True)


# ----------------------------------------------------------------------------- tables 1 and 2
def table1(profile: dict, params, labeled, dedup, manifest) -> tuple[pd.DataFrame, list[str]]:
    """The paper's rows and one row for the dataset this run built."""
    lab = _labeled_only(labeled)
    if lab is not None:
        videos = set(lab.video_id)
        if dedup is not None:
            videos &= set(dedup.video_id[dedup.kept.astype(bool)])
        actions, n_videos, n_ann = int(lab.class_label.nunique()), len(videos), int(len(lab))
        pos, neg = int((lab.label == 1).sum()), int((lab.label == -1).sum())
    else:
        actions = n_videos = n_ann = None
        pos = neg = None
    cand = None
    if manifest is not None:
        cand = int((manifest.status == "ok").sum()) if "status" in manifest else int(len(manifest))
        if actions is None:
            actions = int(manifest.class_label.nunique())
    elif dedup is not None:
        cand = int(len(dedup))
    source = (
        "demo world (synthetic)" if params.data.source == "demo" else f"{params.data.source}: {params.data.videos_dir}"
    )
    cols = ["Dataset", "Actions", "Videos", "Annotations", "Source", "Localization", "Candidate videos", "values from"]
    rows = [(*r, "1.1M" if r[0] == "SLAC" else "—", "paper (Table 1)") for r in PAPER_TABLE1]
    rows.append(
        (
            "SLAC, this run",
            "—" if actions is None else str(actions),
            "—" if n_videos is None else str(n_videos),
            "—" if n_ann is None else str(n_ann),
            source,
            "Yes (sparse 2-s clips)",
            "—" if cand is None else str(cand),
            f"ours ({profile['scale']})",
        )
    )
    df = pd.DataFrame(rows, columns=cols)
    notes = [
        "ours: Actions = classes with labeled clips; Videos = videos kept by de-duplication that have labeled clips; "
        "Annotations = labeled clips (label +1 or -1, golden-set guideline examples included); Candidate videos = decodable candidate videos before de-duplication"
    ]
    if pos is not None:
        notes.append(f"ours: {pos} positive and {neg} negative clips (paper: 755K positive, 993K negative of 1.75M)")
    if lab is None:
        notes.append("ours: no labeled clips (stage 05 has not run): counts not produced by this run")
    return df, notes


def _int(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def table2(stage: pd.DataFrame, candidates: int | None) -> tuple[pd.DataFrame, list[str]]:
    """Long form: each de-dup step with the paper's removed videos beside ours (our external target mapped by name)."""
    stage_cols = [c for c in stage.columns if c not in ("Internal", "Kept")]
    row = stage.iloc[0] if len(stage) else pd.Series(dtype=object)
    used, rows = set(), []
    rows.append(("Candidate videos (start)", "1.1M", "all candidates", candidates))
    for step, paper, key in PAPER_TABLE2:
        if key is None:
            rows.append((step, paper, "within each class", _int(row.get("Internal"))))
            continue
        hit = [c for c in stage_cols if key in c.lower().replace("-", "").replace("_", "")]
        used |= set(hit)
        if hit:
            rows.append((step, paper, ", ".join(hit), sum(_int(row.get(c)) or 0 for c in hit)))
        else:
            rows.append((step, paper, "not in this run", None))
    for c in stage_cols:
        if c not in used:
            rows.append((f"{c} (ours only)", "—", c, _int(row.get(c))))
    rows.append(("Kept after de-duplication", "—", "", _int(row.get("Kept"))))
    df = pd.DataFrame(rows, columns=["step", "removed (paper)", "target set (ours)", "removed (ours)"])
    df["removed (ours)"] = pd.Series([None if pd.isna(v) else int(v) for v in df["removed (ours)"]], dtype=object)
    notes = [
        "paper: starting with 1.1M candidate videos, duplicates removed within SLAC, then against Kinetics, ActivityNet, UCF-101 and HMDB-51 in turn; "
        "the paper does not print the number kept (1.1M minus the removals is about 922K)",
        "ours: our external targets are matched to the paper's datasets by name; the row 'Kept' is ours only",
    ]
    return df, notes


# ----------------------------------------------------------------------------- counts (Figure 1)
def pipeline_counts(metrics: dict, manifest, dedup, candidates, clips, labeled) -> dict:
    """This run's count at each step of Figure 1: from the data tables where given, else from metrics; None: unknown."""
    m = lambda stage, key: metrics.get(stage, {}).get(key)  # noqa: E731
    c = {}
    if manifest is not None and "status" in manifest:
        c["listed"], c["ok"] = int(len(manifest)), int((manifest.status == "ok").sum())
    else:
        c["listed"], c["ok"] = m("00_ingest", "listed"), m("00_ingest", "ok")
    if dedup is not None and "removed_by" in dedup:
        kept, rb = dedup.kept.astype(bool), dedup.removed_by.fillna("").astype(str)
        c["dedup_in"], c["kept"] = int(len(dedup)), int(kept.sum())
        c["removed_internal"] = int((~kept & (rb == "internal")).sum())
        c["removed_external"] = int((~kept & (rb != "internal")).sum())
    else:
        c["dedup_in"], c["kept"] = m("01_dedup", "candidates"), m("01_dedup", "kept")
        ext = m("01_dedup", "removed_external")
        c["removed_internal"], c["removed_external"] = (
            m("01_dedup", "removed_internal"),
            sum(ext.values()) if isinstance(ext, dict) else ext,
        )
    c["shots"] = m("02_shots_persons", "shots")
    if candidates is not None:
        c["person_shots"], c["person_videos"] = int(len(candidates)), int(candidates.video_id.nunique())
    else:
        c["person_shots"], c["person_videos"] = (
            m("02_shots_persons", "person_shots"),
            m("02_shots_persons", "videos_kept"),
        )
    c["X_frames"] = m("03_proposals", "X_frames") or m("04_sampling", "X_frames")
    c["frames_acc"], c["web_acc"] = (
        m("03_proposals", "frames_model_heldout_accuracy"),
        m("03_proposals", "web_model_heldout_accuracy"),
    )
    if clips is not None:
        c["clips"], c["clip_videos"] = int(len(clips)), int(clips.video_id.nunique())
        c["hard"], c["easy"] = (
            (int((clips.kind == "hard").sum()), int((clips.kind == "easy").sum())) if "kind" in clips else (None, None)
        )
    else:
        c["clips"], c["clip_videos"], c["hard"], c["easy"] = (
            m("04_sampling", "clips"),
            m("04_sampling", "videos"),
            m("04_sampling", "hard"),
            m("04_sampling", "easy"),
        )
    lab = _labeled_only(labeled)
    if lab is not None:
        c["labeled"], c["positives"], c["negatives"] = (
            int(len(lab)),
            int((lab.label == 1).sum()),
            int((lab.label == -1).sum()),
        )
        a = lab[lab.annotator != "golden_set"] if "annotator" in lab else lab
        c["seconds_per_clip"] = float(a.seconds.mean()) if "seconds" in a and len(a) else None
    else:
        c["labeled"], c["positives"], c["negatives"] = (
            m("05_annotate", "labeled"),
            m("05_annotate", "positives"),
            m("05_annotate", "negatives"),
        )
        c["seconds_per_clip"] = m("05_annotate", "seconds_per_clip")
    return c


def _n(v, fmt="{:,}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return fmt.format(v)


def counts_table(c: dict) -> pd.DataFrame:
    P = PAPER_PIPELINE
    rows = [
        ("candidate videos (decodable / listed)", f"{_n(c['ok'])} / {_n(c['listed'])}", P["candidates"]),
        ("removed as internal duplicates", _n(c["removed_internal"]), P["removed_internal"]),
        ("removed as duplicates of external test sets", _n(c["removed_external"]), P["removed_external"]),
        ("videos kept after de-duplication", _n(c["kept"]), "—"),
        ("shots in kept videos", _n(c["shots"]), "—"),
        ("person shots (proposals X)", _n(c["person_shots"]), P["person_share"]),
        ("videos with a person shot", _n(c["person_videos"]), f"{P['removed_no_person']} videos removed"),
        ("sampled 2-s clips (hard / easy)", f"{_n(c['clips'])} ({_n(c['hard'])} / {_n(c['easy'])})", P["clips"]),
        ("videos with sampled clips", _n(c["clip_videos"]), P["videos"]),
        (
            "labeled clips (positive / negative)",
            f"{_n(c['labeled'])} ({_n(c['positives'])} / {_n(c['negatives'])})",
            f"{P['clips']} ({P['positives']} / {P['negatives']})",
        ),
        ("annotation seconds per clip", _n(c["seconds_per_clip"], "{:.1f} s"), P["seconds_per_clip"]),
    ]
    return pd.DataFrame(rows, columns=["step", "ours", "paper"])
