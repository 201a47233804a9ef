"""Spliced multi-shot videos with planted boundaries, and the 156-s cost-benchmark video.

A spliced video is 3-6 segments, each lying inside the clean part of ONE hand-judged source shot
(``truth/source_shots.csv``), scaled to fit 640x360 (black bars where the aspect differs),
resampled to 25 fps by frame index, and joined by hard cuts, cross-dissolves (8-15 frames) or fades
through black (5-9 frames out, as many in).  So the only boundaries are the planted ones.  Some
joins are "same-scene" cuts: two segments from different times of one source (``same_source=1``).
Plans come from a seeded RNG; frames are composed in numpy and piped to the imageio-ffmpeg x264.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from sources import X264, ffmpeg_exe
from truth import person_overlap

W, H, FPS = 640, 360, 25
SPLICE_FPS = {"tree": 15.0}  # irregular time-lapse timestamps: use the nominal capture rate
MIN_SEG_S, MAX_SEG_S = 1.2, 4.5


@dataclass
class Segment:
    source: str
    shot_id: int
    start: int  # source frames [start, end)
    end: int
    src_fps: float


@dataclass
class Plan:
    video: str
    segments: list[Segment]
    joins: list[tuple[str, int]] = field(default_factory=list)  # (kind, frames) between segments i and i+1


def fit(frame: np.ndarray, w: int = W, h: int = H) -> np.ndarray:
    """Scale an RGB frame to fit w x h keeping its aspect, centred on black."""
    fh, fw = frame.shape[:2]
    s = min(w / fw, h / fh)
    nw, nh = max(2, int(round(fw * s))), max(2, int(round(fh * s)))
    im = cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    out = np.zeros((h, w, 3), np.uint8)
    y, x = (h - nh) // 2, (w - nw) // 2
    out[y : y + nh, x : x + nw] = im
    return out


def decode_range(path, start: int, end: int) -> list[np.ndarray]:
    """RGB frames [start, end) of a file, decoded from the beginning (the clips are short)."""
    import av

    out = []
    with av.open(str(path)) as c:
        for i, fr in enumerate(c.decode(video=0)):
            if i >= end:
                break
            if i >= start:
                out.append(fr.to_ndarray(format="rgb24"))
    return out


def segment_frames(seg: Segment, src_dir: Path, fps: float = FPS) -> list[np.ndarray]:
    """The segment at fps and W x H: output frame k shows source frame start + floor(k * src_fps / fps)."""
    raw = decode_range(src_dir / f"{seg.source}.mp4", seg.start, seg.end)
    n = int(round((seg.end - seg.start) / seg.src_fps * fps))
    idx = [min(len(raw) - 1, int(k * seg.src_fps / fps)) for k in range(n)]
    cache: dict[int, np.ndarray] = {}
    return [cache.setdefault(i, fit(raw[i])) for i in idx]


class Writer:
    """Raw RGB frames piped to ffmpeg/x264 (deterministic: fixed threads, bit-exact flags)."""

    def __init__(self, out: Path, fps: float = FPS, crf: int = 20, w: int = W, h: int = H):
        self.tmp = out.with_name(out.stem + ".part.mp4")
        self.out, self.n = out, 0
        cmd = [
            ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w}x{h}",
            "-r",
            str(fps),
            "-i",
            "-",
            *X264,
            "-crf",
            str(crf),
            str(self.tmp),
        ]
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        self.p.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
        self.n += 1

    def close(self) -> int:
        self.p.stdin.close()
        if self.p.wait() != 0:
            raise RuntimeError(f"ffmpeg failed writing {self.out}")
        self.tmp.replace(self.out)
        return self.n


def render(plan: Plan, src_dir: Path, out: Path) -> tuple[list[dict], list[tuple[int, int]]]:
    """Write the spliced video; returns its boundary rows and the [start, end) output range of each segment."""
    wr = Writer(out) if not out.exists() else None
    if wr:
        segs = [segment_frames(s, src_dir) for s in plan.segments]
    else:  # already written: only the frame arithmetic is needed, on 1-pixel stand-ins
        segs = [
            [np.zeros((1, 1, 3), np.uint8)] * int(round((s.end - s.start) / s.src_fps * FPS)) for s in plan.segments
        ]
    pos, cuts, spans = 0, [], []
    carry: list[np.ndarray] = []  # tail frames of the previous segment still to be blended
    for i, frames in enumerate(segs):
        kind, k = plan.joins[i - 1] if i else ("", 0)
        head = list(frames)
        emitted = []
        if kind == "dissolve":
            for j in range(k):
                a = (j + 1) / (k + 1)
                emitted.append((carry[j] * (1 - a) + head[j] * a).round().astype(np.uint8))
            head = head[k:]
        elif kind == "fade":
            emitted += [(f * (1 - (j + 1) / k)).round().astype(np.uint8) for j, f in enumerate(carry)]  # last one black
            head = [
                (f * (j / k)).round().astype(np.uint8) if j < k else f for j, f in enumerate(head)
            ]  # first one black
        else:
            emitted += carry
        nxt_kind, nxt_k = plan.joins[i] if i < len(plan.joins) else ("", 0)
        keep = nxt_k if nxt_kind in ("dissolve", "fade") else 0
        body, carry = (head[: len(head) - keep], head[len(head) - keep :]) if keep else (head, [])
        if i:
            t0 = pos  # first frame of the transition (the first blended / fading-out frame)
            span = k if kind == "dissolve" else (2 * k if kind == "fade" else 1)
            frame = t0 + k // 2 if kind == "dissolve" else (t0 + k if kind == "fade" else t0)
            prev, cur = plan.segments[i - 1], plan.segments[i]
            cuts.append(
                dict(
                    video=plan.video,
                    frame=frame,
                    kind=kind,
                    span_start=t0 if kind != "cut" else frame,
                    span_frames=span,
                    same_source=int(prev.source == cur.source),
                )
            )
        start = pos + len(emitted) - (k if kind == "dissolve" else 0)
        for f in emitted + body:
            if wr:
                wr.write(f)
            pos += 1
        spans.append((start, pos + len(carry)))
    for f in carry:
        if wr:
            wr.write(f)
        pos += 1
    if wr:
        assert wr.close() == pos
    return cuts, spans


def shot_rows(plan: Plan, cuts: list[dict], n_frames: int, src_shots: pd.DataFrame) -> list[dict]:
    """spliced_shots rows: shot k spans boundary k to boundary k+1; person flags from the source shot."""
    edges = [0] + [c["frame"] for c in cuts] + [n_frames]
    rows = []
    for k, seg in enumerate(plan.segments):
        s = src_shots[(src_shots.source == seg.source) & (src_shots.shot_id == seg.shot_id)].iloc[0]
        share = person_overlap(s.person_frames, seg.start, seg.end) / (seg.end - seg.start)
        has = int(share >= 0.5)
        framing = s.framing if has else ("animation" if s.framing == "animation" else "none")
        rows.append(
            dict(
                video=plan.video,
                shot_id=k,
                start_frame=edges[k],
                end_frame=edges[k + 1],
                has_person=has,
                framing=framing,
                ambiguous=int((bool(int(s.ambiguous)) and share > 0) or 0 < share < 0.5),
                source=seg.source,
                source_start=seg.start,
                source_end=seg.end,
            )
        )
    return rows


def shot_pool(src_shots: pd.DataFrame, fps_of: dict) -> pd.DataFrame:
    """Source shots whose clean part lasts >= MIN_SEG_S, with their splice fps and a sampling weight."""
    p = src_shots.copy()
    p["src_fps"] = [SPLICE_FPS.get(s, fps_of[s]) for s in p.source]
    p["clean_s"] = (p.clean_end - p.clean_start) / p.src_fps
    p = p[(p.clean_s >= MIN_SEG_S) & ~((p.framing == "none") & (p.source == "bbb_trailer"))].reset_index(drop=True)
    w = {
        "vtest": 3.0,
        "carphone": 2.0,
        "bikes": 1.5,
        "megamind": 1.0,
        "bbb_trailer": 0.6,
        "box": 0.7,
        "cup": 0.7,
        "tree": 1.0,
        "bigbuckbunny": 1.0,
    }
    p["weight"] = [w.get(s, 1.0) for s in p.source]
    return p


def pick_segment(rng, row, length_s: float, avoid: tuple[int, int] | None = None) -> Segment | None:
    """A random window of length_s inside the clean part of a shot, at least 2 s from `avoid` (same-scene cuts)."""
    n = int(round(min(length_s, row.clean_s) * row.src_fps))
    lo, hi = int(row.clean_start), int(row.clean_end) - n
    if hi < lo:
        return None
    starts = np.arange(lo, hi + 1)
    if avoid is not None:
        gap = int(2 * row.src_fps)
        starts = starts[(starts + n <= avoid[0] - gap) | (starts >= avoid[1] + gap)]
        if not len(starts):
            return None
    s = int(rng.choice(starts))
    return Segment(row.source, int(row.shot_id), s, s + n, float(row.src_fps))


def make_plan(rng, name: str, pool: pd.DataFrame, n_seg: int, same_scene_p: float = 0.25) -> Plan:
    segs: list[Segment] = []
    prob = pool.weight / pool.weight.sum()
    while len(segs) < n_seg:
        length = float(rng.uniform(MIN_SEG_S + 0.3, MAX_SEG_S))
        seg = None
        if segs and rng.random() < same_scene_p:
            prev = segs[-1]
            row = pool[(pool.source == prev.source) & (pool.shot_id == prev.shot_id)].iloc[0]
            seg = pick_segment(rng, row, length, avoid=(prev.start, prev.end))
        if seg is None:
            row = pool.iloc[int(rng.choice(len(pool), p=prob))]
            if segs and (row.source, row.shot_id) == (segs[-1].source, segs[-1].shot_id):
                continue
            seg = pick_segment(rng, row, length)
        if seg is not None:
            segs.append(seg)
    joins = []
    for i in range(n_seg - 1):
        kind = str(rng.choice(["cut", "dissolve", "fade"], p=[0.45, 0.3, 0.25]))
        if min((g.end - g.start) / g.src_fps for g in segs[i : i + 2]) < 1.6:
            kind = "cut"  # keep every shot >= ~1 s of untouched frames
        joins.append(
            (kind, 1 if kind == "cut" else int(rng.integers(8, 16) if kind == "dissolve" else rng.integers(5, 10)))
        )
    return Plan(name, segs, joins)


def bench_video(src_dir: Path, names: list[str], out: Path, seconds: float = 156.0, fps: float = 30.0) -> int:
    """640x360 @ fps H.264 of the sources concatenated (looped) to `seconds`; frames written."""
    if out.exists():
        return int(round(seconds * fps))
    total = int(round(seconds * fps))
    wr = Writer(out, fps=fps, crf=23)
    i = 0
    while wr.n < total:
        name = names[i % len(names)]
        i += 1
        raw = decode_range(src_dir / f"{name}.mp4", 0, 10**9)
        src_fps = SPLICE_FPS.get(name, 0) or _fps(src_dir / f"{name}.mp4")
        for k in range(int(len(raw) / src_fps * fps)):
            if wr.n >= total:
                break
            wr.write(fit(raw[min(len(raw) - 1, int(k * src_fps / fps))]))
    return wr.close()


def _fps(path) -> float:
    import av

    with av.open(str(path)) as c:
        return float(c.streams.video[0].average_rate)
