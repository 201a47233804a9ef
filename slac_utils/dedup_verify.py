"""Temporal verification of near-duplicate candidates (not in the paper; ``dedup.verify``).

The paper (section 3.4) joins two videos when the cosine of their *mean* frame features exceeds γ.
On real footage a mean cannot tell a re-upload from a video that merely looks the same on average:
two time ranges of one static street camera score 0.98-0.99, and a short clip contained in a
longer compilation scores like a copy (bench/results/real_footage_dedup.md).  So a candidate pair
(mean cosine above ``dedup.verify.candidate_gamma``) is joined only when its frames align in time:

1. **Tracks.** Each candidate video is sampled at ``verify.fps`` (at most ``verify.max_frames``
   frames, evenly spaced), black bars dropped, short edge ``verify.short_edge``, and every frame
   described by the weight-free :class:`~slac_utils.features.SignatureEmbedder` (grey DCT, mirror-
   and grade-invariant).  A track = (times in s, signatures (N, D), motion (N, D)).  *Motion* is the
   signature minus the video's own mean signature, renormalised: what changes over time.  A static
   background, a logo or a colour grade is constant, so it cancels; pedestrians walking do not.
2. **Alignment.** Time in the shorter video ``t`` maps to ``scale * t + offset`` in the longer:
   ``scale`` is 1 or a ratio of common frame rates (a re-upload whose frames were re-timed, e.g. a
   23.976 fps video played at 30), ``offset`` any shift (a trimmed copy).  Hypotheses come from each
   frame's best match; each is scored by the share of the shorter video's frames whose partner at
   the mapped time matches (motion cosine >= ``verify.frame_threshold``).
3. **Decision.** A copy when the best alignment matches ``verify.min_short_coverage`` of the
   shorter video's frames and covers ``verify.min_long_coverage`` of the longer video's duration
   (a clip inside a compilation matches all its own frames but a small part of the compilation).
   A video whose frames hardly change (motion energy below ``verify.static_energy``, a still image
   with sound) has no motion to align: its raw signatures are compared instead.

``verify_edges(edges, tracks, cfg)`` returns one row per candidate pair (the table
``reports/tables/01_dedup/dedup_verification.md`` shows): ``a, b, cosine, short_coverage,
long_coverage, scale, offset_s, mode ('motion' | 'still'), verified``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .compute import error_text
from .features import SignatureEmbedder
from .video.decode import preprocess_for_features, sample_indices

COMMON_FPS = (23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)


def time_scales(rates=COMMON_FPS, spread: float = 1.34) -> np.ndarray:
    """1 first, then every ratio of two common frame rates within [1/spread, spread] (re-timed re-uploads)."""
    ratios = sorted({round(a / b, 4) for a in rates for b in rates if 1 / spread < a / b < spread} - {1.0})
    return np.array([1.0, *ratios])


@dataclass(frozen=True)
class Track:
    """A video's frame track: sample times (s), unit signatures (N, D), unit motion (N, D), motion energy,
    duration (s)."""

    times: np.ndarray
    signatures: np.ndarray
    motion: np.ndarray
    energy: float
    duration: float


def _unit(X: np.ndarray) -> np.ndarray:
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-9)


def make_track(signatures: np.ndarray, times: np.ndarray, duration: float) -> Track:
    """A :class:`Track` from per-frame unit signatures at the given times."""
    S = np.asarray(signatures, np.float32)
    resid = S - S.mean(0, keepdims=True)
    energy = float(np.linalg.norm(resid, axis=1).mean()) if len(S) else 0.0
    return Track(np.asarray(times, float), S, _unit(resid), energy, float(duration))


def read_track(row, cfg, drop_borders: bool = True, embedder: SignatureEmbedder | None = None) -> Track:
    """The track of one manifest row (path, n_frames, fps, width, height) with ``dedup.verify`` params."""
    emb = embedder or SignatureEmbedder()
    idx = sample_indices(row.n_frames, row.fps, cfg.fps, 2, cfg.max_frames)
    frames = preprocess_for_features(
        row.path, idx, row.width, row.height, cfg.short_edge, cfg.short_edge * 7 // 8, drop_borders
    )
    return make_track(emb.embed(frames), idx / row.fps, row.n_frames / row.fps)


def _nearest(times: np.ndarray, t: np.ndarray) -> np.ndarray:
    k = np.clip(np.searchsorted(times, t), 1, max(len(times) - 1, 1))
    if len(times) == 1:
        return np.zeros(len(t), int)
    return np.where(np.abs(times[k - 1] - t) <= np.abs(times[k] - t), k - 1, k)


def align(short: Track, long: Track, frame_threshold: float, static_energy: float, scales=None, n_offsets: int = 3):
    """Best time alignment of ``short`` into ``long``: dict(short_coverage, long_coverage, scale, offset_s, mode)."""
    still = min(short.energy, long.energy) < static_energy
    A, B = (short.signatures, long.signatures) if still else (short.motion, long.motion)
    S = A @ B.T
    ta, tb = short.times, long.times
    tol = 0.75 * max(np.median(np.diff(ta)) if len(ta) > 1 else 1.0, np.median(np.diff(tb)) if len(tb) > 1 else 1.0)
    j, s = S.argmax(1), S.max(1)
    good = s >= frame_threshold
    best = dict(short_coverage=0.0, long_coverage=0.0, scale=1.0, offset_s=0.0, mode="still" if still else "motion")
    if not good.any():
        return best
    rows = np.arange(len(ta))
    for a in time_scales() if scales is None else scales:
        off = tb[j[good]] - a * ta[good]
        vals, cnt = np.unique(np.round(off / tol).astype(int), return_counts=True)
        # offsets voted by the best matches, plus start- and end-aligned (all a still's frames match alike)
        for b in [*(vals[np.argsort(-cnt, kind="stable")[:n_offsets]] * tol), tb[0] - a * ta[0], tb[-1] - a * ta[-1]]:
            t = a * ta + b
            k = _nearest(tb, t)
            hit = (np.abs(tb[k] - t) <= tol) & (S[rows, k] >= frame_threshold)
            cov = float(hit.mean())
            if cov > best["short_coverage"] + 1e-9:
                span = hit.sum() * short.duration / max(len(ta), 1) * a
                best.update(short_coverage=cov, long_coverage=float(min(span / long.duration, 1.0)), scale=float(a))
                best["offset_s"] = float(b)
    return best


def verify_pair(ta: Track, tb: Track, cfg) -> dict:
    """:func:`align` of the shorter track into the longer, and the decision ``verified``."""
    short, long = (ta, tb) if ta.duration <= tb.duration else (tb, ta)
    r = align(short, long, cfg.frame_threshold, cfg.static_energy)
    r["verified"] = bool(r["short_coverage"] >= cfg.min_short_coverage and r["long_coverage"] >= cfg.min_long_coverage)
    return r


def verify_edges(a_ids, b_ids, cosines, tracks: dict[str, Track], cfg, progress: bool = False) -> pd.DataFrame:
    """One row per candidate pair (see the module docstring); a pair with a missing track is not verified."""
    rows = []
    it = zip(a_ids, b_ids, cosines)
    for a, b, c in tqdm(it, total=len(a_ids), desc="verify pairs", disable=not progress):
        if a in tracks and b in tracks:
            r = verify_pair(tracks[a], tracks[b], cfg)
        else:
            r = dict(short_coverage=np.nan, long_coverage=np.nan, scale=np.nan, offset_s=np.nan, mode="unreadable")
            r["verified"] = False
        rows.append(dict(a=a, b=b, cosine=float(c), **r))
    cols = ["a", "b", "cosine", "short_coverage", "long_coverage", "scale", "offset_s", "mode", "verified"]
    return pd.DataFrame(rows, columns=cols)


def read_tracks(
    rows: pd.DataFrame, cfg, drop_borders: bool = True, progress: bool = True, desc: str = "verify tracks"
) -> tuple[dict, dict]:
    """Tracks of the manifest rows (keyed by ``key`` column if present, else video_id); failures -> reasons."""
    emb, tracks, failed = SignatureEmbedder(), {}, {}
    keys = rows["key"] if "key" in rows else rows["video_id"]
    for key, r in tqdm(zip(keys, rows.itertuples(index=False)), total=len(rows), desc=desc, disable=not progress):
        try:
            tracks[key] = read_track(r, cfg, drop_borders, emb)
        except Exception as e:  # a file that probed fine but fails mid-stream: its pairs stay unverified
            failed[key] = error_text(e)
    return tracks, failed


class PairVerifier:
    """``verify(a_keys, b_keys, cosines) -> bool mask`` for :func:`slac_utils.dedup.internal_dedup` and
    ``external_dedup``: reads each video's track once (on first need), keeps every decision for the report.

    rows: key -> manifest row (path, n_frames, fps, width, height); candidates are keyed by video_id, external
    videos by ``'<target>:<video_id>'``."""

    def __init__(self, rows: dict, cfg, drop_borders: bool = True, progress: bool = True):
        self.rows, self.cfg, self.drop_borders, self.progress = rows, cfg, drop_borders, progress
        self.tracks: dict[str, Track] = {}
        self.failed: dict[str, str] = {}
        self.decisions: list[pd.DataFrame] = []

    def __call__(self, a_keys, b_keys, cosines) -> np.ndarray:
        need = sorted({*a_keys, *b_keys} - set(self.tracks) - set(self.failed))
        if need:
            rows = pd.DataFrame([self.rows[k]._asdict() for k in need]).assign(key=need)
            tracks, failed = read_tracks(rows, self.cfg, self.drop_borders, self.progress)
            self.tracks.update(tracks)
            self.failed.update(failed)
        df = verify_edges(list(a_keys), list(b_keys), list(cosines), self.tracks, self.cfg)
        self.decisions.append(df)
        return df.verified.to_numpy(bool)

    def table(self) -> pd.DataFrame:
        """Every decision so far, sorted by (a, b)."""
        if not self.decisions:
            return verify_edges([], [], [], {}, self.cfg)
        return pd.concat(self.decisions, ignore_index=True).sort_values(["a", "b"], kind="mergesort")
