"""Active sampling of clips by R(x) (paper section 3.6, equation 1).
The library of stage 04; the stage itself is :mod:`slac_utils.stages.sampling`.

For each candidate video, X holds one frame per person shot (stage 03).  With c the video's query class,

    R(x) = (P^Y_c(x) + P^G_c(x)) * KL(P^Y(x) || P^G(x)) * 1/(|X|-1) * sum_{x' != x} cos(f(x), f(x'))

           consensus               disagreement          representativeness

R is L1-normalised over X; at most ``max_per_video`` (8) frames are drawn without replacement from
that distribution and kept only when their consensus exceeds tau (0.01); one extra "easy positive",
the frame of highest consensus, is added.  Each frame becomes a 2-second clip (1 s each side), moved
or cut so that it never crosses its shot's boundaries.

Everything is vectorised over all frames of all videos (segment sums for the representativeness term,
Gumbel-top-k for sampling without replacement), so R(x) over SLAC's 1.75M frames takes seconds.

Output ``data/interim/clips.parquet``, one row per clip:

=================  =============================================================
clip_id            '<video_id>_<shot_id:03d>_<frame:06d>'
video_id, class_label, shot_id
frame, time_s      the sampled frame
start_s, end_s     the clip (inside the shot)
kind               'hard' (sampled by R) or 'easy' (highest consensus)
R                  normalised R(x) within its video
consensus, kl, representativeness   the three factors
path               the clip file (H.264 MP4) under the clips folder
=================  =============================================================

and ``clips_truth.parquet`` (clip_id, truth_kind, truth_label) when demo truth exists.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from .compute import Step, error_text, run_step
from .compute.files import artifact_paths, ensure_files, stat_key, temp_beside
from .config import ComputeConfig
from .video.decode import open_reader, read_frames
from .video.encode import write_h264

KINDS = ["action", "no_action", "no_context", "no_person"]
EPS = 1e-8


# ----------------------------------------------------------------------------- R(x)
def segment_starts(codes: np.ndarray) -> np.ndarray:
    """Start index of each run of equal codes (codes must be grouped, e.g. sorted by video)."""
    if len(codes) == 0:
        return np.zeros(0, int)
    return np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])


def segment_sums(X: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Row sums of each run of equal codes, (n_runs, D), in X's dtype.

    A sparse 0/1 matrix product: ~30x faster than ``np.add.reduceat(X, starts, axis=0)``, whose axis-0 loop is slow
    for many short runs (bench/bench_sampling.py: R(x) over 1.75M frames 22.3 s -> 7.6 s on 2 cores)."""
    starts = segment_starts(codes)
    n = len(X)
    if n == 0:
        return np.zeros((0,) + X.shape[1:], X.dtype)
    M = csr_matrix((np.ones(n, X.dtype), np.arange(n), np.r_[starts, n]), shape=(len(starts), n))
    return np.asarray(M @ X)


def representativeness(F: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Mean cosine of each frame to the other frames of its video; 1 for a video with a single frame."""
    U = F / np.maximum(np.linalg.norm(F, axis=1, keepdims=True), EPS)
    starts = segment_starts(codes)
    sums = segment_sums(U, codes) if len(U) else U
    counts = np.diff(np.r_[starts, len(codes)])
    seg = np.repeat(np.arange(len(starts)), counts)
    n = counts[seg]
    dot = np.einsum("ij,ij->i", U, sums[seg])
    return np.where(n > 1, (dot - np.einsum("ij,ij->i", U, U)) / np.maximum(n - 1, 1), 1.0)


def kl_divergence(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """KL(P || Q) per row, with probabilities clamped at 1e-8 (in place on the temporaries: at 1.75M x 201 the
    allocations, not the arithmetic, were the cost)."""
    P = np.clip(P, EPS, 1.0)
    Q = np.clip(Q, EPS, 1.0)
    out = np.log(P)
    np.subtract(out, np.log(Q, out=Q), out=out)
    np.multiply(out, P, out=out)
    return np.sum(out, axis=1)


def compute_R(PY: np.ndarray, PG: np.ndarray, F: np.ndarray, c: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
    """The three factors, R(x) and R normalised within each video (rows grouped by video code)."""
    rows = np.arange(len(c))
    consensus = PY[rows, c] + PG[rows, c]
    kl = kl_divergence(PY, PG)
    rep = representativeness(F, codes)
    R = consensus * kl * rep
    R = np.maximum(R, 0.0)  # cosine of ReLU features is >= 0; guard against negative features
    starts = segment_starts(codes)
    tot = np.add.reduceat(R, starts) if len(R) else R
    seg = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(codes)]))
    Rn = np.where(tot[seg] > 0, R / np.where(tot[seg] > 0, tot[seg], 1), 0.0)
    return pd.DataFrame(dict(consensus=consensus, kl=kl, representativeness=rep, R_raw=R, R=Rn))


def gumbel_top_k(p: np.ndarray, codes: np.ndarray, k: np.ndarray | int, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask: per video (grouped codes), k draws without replacement with probabilities p.

    Gumbel-top-k: the k largest log p + Gumbel noise are a sample without replacement proportional to p.
    Frames with p = 0 are never drawn; k may be an int or one value per video.
    """
    n = len(p)
    if n == 0:
        return np.zeros(0, bool)
    keys = np.where(p > 0, np.log(np.maximum(p, 1e-300)) + rng.gumbel(size=n), -np.inf)
    order = np.lexsort((-keys, codes))  # by video, then key descending
    starts = segment_starts(codes[order])
    counts = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, counts)
    kk = np.repeat(np.broadcast_to(np.asarray(k), (len(starts),)), counts)
    chosen = np.zeros(n, bool)
    chosen[order] = (rank < kk) & np.isfinite(keys[order])
    return chosen


def argmax_per_video(v: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Index of the (first) maximum of v within each video."""
    order = np.lexsort((-v, codes))
    return order[segment_starts(codes[order])]


def sample(
    df: pd.DataFrame, max_per_video: int, tau: float, easy_positive: bool, rng: np.random.Generator
) -> pd.Series:
    """'hard' / 'easy' / '' for each row of a compute_R frame (rows grouped by video, column 'code')."""
    codes = df.code.to_numpy()
    hard = gumbel_top_k(df.R.to_numpy(), codes, max_per_video, rng) & (df.consensus.to_numpy() > tau)
    kind = np.where(hard, "hard", "")
    if easy_positive and len(df):
        best = argmax_per_video(df.consensus.to_numpy(), codes)
        best = best[kind[best] == ""]  # already sampled as hard: no duplicate clip
        kind[best] = "easy"
    return pd.Series(kind, index=df.index)


def clip_window(
    t: np.ndarray, shot_start: np.ndarray, shot_end: np.ndarray, length: float
) -> tuple[np.ndarray, np.ndarray]:
    """[t - L/2, t + L/2] moved to lie inside [shot_start, shot_end]; cut to the shot when it is shorter than L."""
    start = np.clip(t - length / 2, shot_start, np.maximum(shot_start, shot_end - length))
    return start, np.minimum(start + length, shot_end)


# ----------------------------------------------------------------------------- truth (demo)
def _segments(demo_dir) -> pd.DataFrame:
    return pd.read_parquet(Path(demo_dir) / "truth" / "segments.parquet")


def frame_truth_kind(X: pd.DataFrame, demo_dir) -> np.ndarray:
    """True segment kind at each (video_id, frame) of X ('' when the video has no truth)."""
    seg = {v: g for v, g in _segments(demo_dir).groupby("video_id")}
    out = []
    for v, f in zip(X.video_id, X.frame):
        g = seg.get(v)
        hit = g[(g.start_frame <= f) & (f < g.end_frame)] if g is not None else None
        out.append(hit.kind.iloc[0] if hit is not None and len(hit) else "")
    return np.array(out, dtype=object)


def clip_truth(clips: pd.DataFrame, demo_dir, fps: dict) -> pd.DataFrame:
    """Majority true kind of each clip and its label (1 when at least half the clip is the action)."""
    seg = {v: g for v, g in _segments(demo_dir).groupby("video_id")}
    rows = []
    for r in clips.itertuples():
        g = seg.get(r.video_id)
        if g is None:
            continue
        a, b = r.start_s * fps[r.video_id], r.end_s * fps[r.video_id]
        ov = (np.minimum(g.end_frame.to_numpy(), b) - np.maximum(g.start_frame.to_numpy(), a)).clip(min=0)
        by_kind = pd.Series(ov, index=g.kind.to_numpy()).groupby(level=0).sum()
        rows.append(
            dict(
                clip_id=r.clip_id,
                truth_kind=str(by_kind.idxmax()),
                truth_label=1 if by_kind.get("action", 0) >= 0.5 * (b - a) else -1,
            )
        )
    return pd.DataFrame(rows, columns=["clip_id", "truth_kind", "truth_label"])


def strategy_draws(df: pd.DataFrame, kinds: np.ndarray, cfg, seeds: int = 20, seed: int = 0) -> pd.DataFrame:
    """Per seed and strategy, the share of each true kind among the frames picked by R(x), uniform and consensus-only
    sampling at the same budget (columns strategy, seed, frames and one per kind).

    The budget of a video is the number of hard frames R(x) sampling kept there in that seed; the baselines draw
    that many frames of X without replacement, uniformly or proportionally to consensus, so the three strategies
    of one seed are paired (the claims table compares them seed by seed)."""
    codes = df.code.to_numpy()
    rows = []
    for s in range(seeds):
        rng = np.random.default_rng([seed, s])
        hard = sample(df, cfg.max_per_video, cfg.tau, False, rng).to_numpy() == "hard"
        budget = np.bincount(codes, weights=hard, minlength=codes.max() + 1 if len(codes) else 0).astype(int)[
            np.unique(codes)
        ]
        picks = {
            "R(x) (paper)": hard,
            "uniform": gumbel_top_k(np.ones(len(df)), codes, budget, rng),
            "consensus only": gumbel_top_k(df.consensus.to_numpy(), codes, budget, rng),
        }
        for name, m in picks.items():
            k = pd.Series(kinds[m]).value_counts()
            rows.append(
                dict(
                    strategy=name,
                    seed=s,
                    frames=int(m.sum()),
                    **{kd: float(k.get(kd, 0)) / max(1, m.sum()) for kd in KINDS},
                )
            )
    return pd.DataFrame(rows)


def compare_strategies(draws: pd.DataFrame) -> pd.DataFrame:
    """:func:`strategy_draws` aggregated: per strategy the mean share of each kind over seeds, and its sd."""
    return (
        draws.groupby("strategy", sort=False)
        .agg(
            frames=("frames", "mean"),
            **{kd: (kd, "mean") for kd in KINDS},
            **{f"{kd}_sd": (kd, "std") for kd in KINDS},
        )
        .reset_index()
    )


def clip_table(df: pd.DataFrame, cand: pd.DataFrame, clip_seconds: float, clips_dir) -> pd.DataFrame:
    """The sampled frames of ``df`` (kind != "") as clips: a ``clip_seconds`` window around each inside its shot
    (start_s, end_s; frames f0, f1 at the video's fps), clip_id ``<video>_<shot:03d>_<frame:06d>``, the clip file's
    ``path`` under ``clips_dir/<class>/`` and the source video's ``src_path``."""
    shots = cand.set_index(["video_id", "shot_id"])
    sel = df[df.kind != ""].copy()
    key = list(zip(sel.video_id, sel.shot_id))
    s0, s1 = shots.loc[key, "start_s"].to_numpy(), shots.loc[key, "end_s"].to_numpy()
    sel["start_s"], sel["end_s"] = clip_window(sel.time_s.to_numpy(), s0, s1, clip_seconds)
    sel["fps"] = sel.video_id.map(dict(zip(cand.video_id, cand.fps)))
    sel["f0"] = np.round(sel.start_s * sel.fps).astype(int)
    sel["f1"] = np.maximum(
        sel.f0 + 1, np.minimum(np.round(sel.end_s * sel.fps).astype(int), shots.loc[key, "end_frame"].to_numpy())
    )
    sel["clip_id"] = [f"{v}_{s:03d}_{f:06d}" for v, s, f in zip(sel.video_id, sel.shot_id, sel.frame)]
    sel["path"] = [str(Path(clips_dir) / k / f"{i}.mp4") for k, i in zip(sel.class_label, sel.clip_id)]
    sel["src_path"] = sel.video_id.map(dict(zip(cand.video_id, cand.path)))

    return sel


# ----------------------------------------------------------------------------- clip files
def clip_step(clip_width: int, crf: int, threads: int = 2) -> Step:
    """Stage 04's clip extraction as a runner step. Its rows: ``path`` (the source video), ``f0``, ``f1``, ``fps``
    and ``dest`` (the file to write, atomically); a clip that cannot be written is an error row. A batch is
    written by ``threads`` threads (decoding and x264 release the GIL)."""

    def process(state, r) -> dict:
        tmp = temp_beside(r.dest)
        err = write_clip(SimpleNamespace(src_path=r.path, path=str(tmp), f0=r.f0, f1=r.f1, fps=r.fps), clip_width, crf)
        if err:
            tmp.unlink(missing_ok=True)
            raise RuntimeError(err)
        os.replace(tmp, r.dest)
        return dict(written=True)

    def process_batch(state, rows: pd.DataFrame) -> list[dict]:
        with ThreadPoolExecutor(threads) as ex:
            return list(ex.map(lambda r: process(state, r), rows.itertuples(index=False)))

    return Step(
        name="clip_files",
        version="1",
        process=process,
        process_batch=process_batch,
        params=dict(clip_width=clip_width, crf=crf),
        resources={"cpus": threads, "gpus": 0},
    )


def extract_clips(sel: pd.DataFrame, clip_width: int, crf: int, compute=None, progress: bool = True) -> list[str]:
    """Write the clip file of every row of ``sel`` (``clip_table``'s) at its ``path``; returns each row's error
    ('' when written).  Through :func:`slac_utils.compute.run_step`: with ``compute.cache_dir`` the files are made
    once under it, keyed by the source file (path, size, modification time), the frame range and the encoding, and
    linked into place, so that a re-run of the stage (DVC deletes its outputs first) re-encodes nothing."""
    compute = compute or ComputeConfig(cache_dir=None)
    step = clip_step(clip_width, crf)
    stats = {p: stat_key(p) for p in sel.src_path.unique()}
    rows = pd.DataFrame(
        dict(
            path=sel.src_path.astype(str).to_numpy(),
            f0=sel.f0.to_numpy(),
            f1=sel.f1.to_numpy(),
            fps=sel.fps.to_numpy(),
            video_id=sel.clip_id.to_numpy(),
        )
    )
    rows["key_extra"] = [f"{stats[p]}:{a}:{b}:{f!r}" for p, a, b, f in zip(rows.path, rows.f0, rows.f1, rows.fps)]
    for d in {str(Path(p).parent) for p in sel.path}:
        Path(d).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="slac-clips-") as tmp:  # the files' home when there is no cache
        home = tmp if compute.cache_dir is None else step.store(compute.cache_dir).dir
        rows["dest"] = artifact_paths(home, rows, ".mp4")
        table, _ = run_step(step, rows, compute, progress, "clips")
        errors = [f"clip extraction failed: {e}" if e else "" for e in ensure_files(step, rows, table)]
        for dest, out, err in zip(rows.dest, sel.path, errors):
            if not err:  # a clip listed twice (the same window) is one file, linked twice
                _link_or_copy(dest, out)
    return errors


def _link_or_copy(src: str, dst: str) -> None:
    """``dst`` becomes the file ``src`` (a hard link where the file system allows, else a copy)."""
    Path(dst).unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def write_clip(row, clip_width: int, crf: int) -> str:
    """Decode the clip's frames from its source video and write the H.264 file; returns '' or an error."""

    try:
        vr = open_reader(row.src_path)
        h, w = vr[0].shape[:2]
        cw = min(clip_width, w)
        size = (cw - cw % 2, max(2, int(round(h * cw / w / 2)) * 2))
        frames = read_frames(row.src_path, range(row.f0, row.f1), size)
        write_h264(row.path, frames, row.fps, crf)
        return ""
    except Exception as e:  # one bad clip never stops the stage
        return error_text(e, 160)
