"""Truth tables of the real-footage benchmark and the three evaluations on them (pure functions).

Tables (CSV, in ``<out>/truth/``; the hand-made source tables also in ``bench/real_footage/truth/``).
Frames are 0-based indices of decoded frames of the benchmark's own files; ``end_frame`` is exclusive.

``source_cuts.csv`` (hand-judged)   source, frame, kind, span_start, span_frames, notes
``spliced_cuts.csv`` (planted)      video, frame, kind, span_start, span_frames, same_source
    kind: ``cut`` | ``dissolve`` | ``fade`` (through black).  ``frame`` is the first frame of the new
    shot (for a dissolve/fade its middle); the transition occupies frames
    ``[span_start, span_start + span_frames)`` (a cut: ``span_start = frame``, ``span_frames = 1``).
    same_source=1: both sides come from one source video (a jump cut in one scene, or two shots
    of one film) — the hard case for histogram detectors.
``source_shots.csv`` (hand-judged)  source, shot_id, start_frame, end_frame, has_person (0/1),
    framing (full|closeup|crowd|none|animation), ambiguous (0/1: e.g. only a hand is visible),
    person_frames (``a-b[;c-d]`` inclusive ranges where a real person is visible, empty: none),
    clean_start, clean_end (the part free of transitions and fades, used for splicing), notes.
    Cartoon characters are not persons (``framing=animation``, ``has_person=0``), as in the paper.
``spliced_shots.csv`` (derived)     video, shot_id, start_frame, end_frame, has_person, framing,
    ambiguous, source, source_start, source_end (the source frames the shot was cut from).
``dups.csv``                        video_a, video_b, relation, transform
    relation: ``copy`` (a re-upload of the same video: must be merged), ``distinct_shared_footage``
    (different videos that share some footage: must NOT be merged), ``distinct``.  Copies are
    transitive: two copies of one original are copies of each other.  Every pair of videos not
    joined by ``copy`` rows is a non-copy, listed or not.
``broken.csv``                      file, video_id, kind, reason (files that ingest must quarantine)
``sources.csv``                     file, package, package_version, licence, original_path,
    original_sha256, label, fps, frames, width, height, description, in_person_calibration (1: frames
    of this source are in bench/person_frames_truth.csv, which the person-score calibration was fitted
    on — person results on it are not held out)

Video ids are the file stems (already safe for ``slac_utils.ingest.make_video_id``).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

KINDS = ("cut", "dissolve", "fade")


def load_truth(root) -> dict[str, pd.DataFrame]:
    """Every truth table present in root (a ``truth/`` folder or the folder above it), by stem."""
    root = Path(root)
    tdir = root / "truth" if (root / "truth").is_dir() else root
    return {
        p.stem: pd.read_csv(p, dtype={"person_frames": str, "notes": str, "transform": str}, keep_default_na=False)
        for p in sorted(tdir.glob("*.csv"))
    }


def parse_ranges(spec) -> list[tuple[int, int]]:
    """'a-b;c-d' -> [(a, b+1), (c, d+1)] (half-open); '' -> []."""
    out = []
    for part in str(spec or "").split(";"):
        part = part.strip()
        if part:
            a, _, b = part.partition("-")
            out.append((int(a), int(b or a) + 1))
    return out


def person_overlap(spec, start: int, end: int) -> int:
    """Number of frames of [start, end) inside the person ranges of spec."""
    return sum(max(0, min(end, b) - max(start, a)) for a, b in parse_ranges(spec))


def _cut_table(truth_cuts: pd.DataFrame) -> pd.DataFrame:
    t = truth_cuts.rename(columns={"source": "video"}).copy()
    if "span_start" not in t:
        span = t["span_frames"] if "span_frames" in t else 1
        t["span_frames"] = np.maximum(np.asarray(span, int), 1)
        t["span_start"] = t.frame - t.span_frames // 2
    t["span_frames"] = np.maximum(t.span_frames.astype(int), 1)
    return t


def match_video(pred, truth: pd.DataFrame, tolerance: int) -> list[bool]:
    """Greedy one-to-one matching in one video: true boundaries in frame order each take the nearest
    unused prediction inside [span_start - tol, span_start + span_frames - 1 + tol]. Hit flag per row."""
    p = np.sort(np.asarray(list(pred), float))
    used = np.zeros(len(p), bool)
    hits = []
    for r in truth.sort_values("frame").itertuples():
        lo, hi = r.span_start - tolerance, r.span_start + r.span_frames - 1 + tolerance
        ok = (p >= lo) & (p <= hi) & ~used
        if ok.any():
            cand = np.flatnonzero(ok)
            used[cand[np.argmin(np.abs(p[cand] - r.frame))]] = True
        hits.append(bool(ok.any()))
    return hits


def _prf(hits: int, n_true: int, n_pred: int) -> tuple[float, float, float]:
    p = hits / n_pred if n_pred else 1.0
    r = hits / n_true if n_true else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def shot_prf(pred: dict, truth_cuts: pd.DataFrame, tolerance: int = 2) -> dict:
    """Boundary precision/recall/F1 over the videos in pred (video -> boundary frames, 0 excluded).

    Truth rows of videos absent from pred are ignored (counted in ``videos_missing``). Returns
    precision, recall, f1, hits, n_true, n_pred, recall_<kind> and n_<kind> for cut/dissolve/fade."""
    t = _cut_table(truth_cuts)
    hits, n_pred, same = 0, 0, [0, 0]
    by_kind = {k: [0, 0] for k in KINDS}
    for vid, b in pred.items():
        b = [int(x) for x in b if int(x) > 0]
        n_pred += len(b)
        tv = t[t.video == vid]
        flags = match_video(b, tv, tolerance)
        hits += sum(flags)
        tv = tv.sort_values("frame")
        for kind, f in zip(tv.kind, flags):
            by_kind.setdefault(kind, [0, 0])
            by_kind[kind][0] += int(f)
            by_kind[kind][1] += 1
        if "same_source" in tv:
            s = tv.same_source.astype(int).to_numpy() == 1
            same[0] += int(np.sum(np.asarray(flags, bool) & s)) if len(flags) else 0
            same[1] += int(s.sum())
    n_true = sum(v[1] for v in by_kind.values())
    p, r, f1 = _prf(hits, n_true, n_pred)
    out = dict(
        precision=p,
        recall=r,
        f1=f1,
        hits=hits,
        n_true=n_true,
        n_pred=n_pred,
        videos_missing=int(len(set(t.video) - set(pred))),
    )
    for k, (h, n) in by_kind.items():
        out[f"recall_{k}"] = h / n if n else float("nan")
        out[f"n_{k}"] = n
    if "same_source" in t:
        out["recall_same_source"] = same[0] / same[1] if same[1] else float("nan")
        out["n_same_source"] = same[1]
    return out


def person_shot_pr(
    scores: dict, truth_shots: pd.DataFrame, threshold: float = 0.5, include_ambiguous: bool = False
) -> dict:
    """Recall and precision of has_person for the shots in scores ((video, shot_id) -> probability).

    A shot is predicted a person shot when its score >= threshold. Ambiguous shots (only a hand ...)
    are left out unless include_ambiguous. Also recall per framing (of person shots) and the
    false-positive rate per framing (of no-person shots, e.g. animation)."""
    t = truth_shots.rename(columns={"source": "video"})
    if not include_ambiguous and "ambiguous" in t:
        t = t[t.ambiguous.astype(int) == 0]
    rows = []
    for r in t.itertuples():
        key = (r.video, int(r.shot_id))
        if key in scores:
            rows.append((bool(int(r.has_person)), bool(scores[key] >= threshold), r.framing))
    tp = sum(1 for y, p, _ in rows if y and p)
    fp = sum(1 for y, p, _ in rows if not y and p)
    fn = sum(1 for y, p, _ in rows if y and not p)
    out = dict(
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=len(rows) - tp - fp - fn,
        n=len(rows),
        missing=len(t) - len(rows),
        threshold=threshold,
    )
    per = defaultdict(lambda: [0, 0])
    for y, p, fr in rows:
        per[(y, fr)][0] += int(p)
        per[(y, fr)][1] += 1
    for (y, fr), (k, n) in sorted(per.items()):
        out[f"{'recall' if y else 'fp_rate'}_{fr}"] = k / n
    return out


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        self.parent[self.find(a)] = self.find(b)


def _closure_pairs(pairs) -> tuple[set, _UnionFind]:
    uf = _UnionFind()
    for a, b in pairs:
        if a != b:
            uf.union(a, b)
    groups = defaultdict(list)
    for x in list(uf.parent):
        groups[uf.find(x)].append(x)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(sorted(g), 2)}, uf


def dedup_pr(pred_pairs, truth_dups: pd.DataFrame) -> dict:
    """Precision/recall over copy pairs, both sides closed transitively (a removed video merged into
    one kept video counts the same as all pairwise edges). pred_pairs: iterable of (video_a, video_b).

    distinct_merged: truth pairs with relation != copy whose videos end up in one predicted group."""
    pred, uf = _closure_pairs(pred_pairs)
    cp = truth_dups[truth_dups.relation == "copy"]
    true, _ = _closure_pairs(zip(cp.video_a, cp.video_b))
    hits = len(pred & true)
    nd = truth_dups[truth_dups.relation != "copy"]
    merged = [
        (a, b, rel)
        for a, b, rel in zip(nd.video_a, nd.video_b, nd.relation)
        if a in uf.parent and b in uf.parent and uf.find(a) == uf.find(b)
    ]
    return dict(
        precision=hits / len(pred) if pred else 1.0,
        recall=hits / len(true) if true else 1.0,
        hits=hits,
        n_pred_pairs=len(pred),
        n_true_pairs=len(true),
        distinct_merged=len(merged),
        distinct_pairs=len(nd),
        merged_distinct=merged,
        false_pairs=sorted(pred - true),
        missed_pairs=sorted(true - pred),
    )


def copy_recall_by_transform(pred_pairs, truth_dups: pd.DataFrame) -> dict[str, float]:
    """Per transform (first word of the transform column): the share of its (original, copy) rows whose two videos are predicted in one group."""
    _, uf = _closure_pairs(pred_pairs)
    cp = truth_dups[truth_dups.relation == "copy"]
    out = defaultdict(list)
    for a, b, tr in zip(cp.video_a, cp.video_b, cp["transform"]):
        out[str(tr).split(" ")[0]].append(a in uf.parent and b in uf.parent and uf.find(a) == uf.find(b))
    return {k: float(np.mean(v)) for k, v in sorted(out.items())}


def copy_groups(truth_dups: pd.DataFrame) -> dict[str, str]:
    """video -> representative of its copy group (copies closed transitively); videos without a copy are absent."""
    cp = truth_dups[truth_dups.relation == "copy"]
    _, uf = _closure_pairs(zip(cp.video_a, cp.video_b))
    return {x: uf.find(x) for x in list(uf.parent)}
