"""CDC's inputs: decoding and normalisation, per-frame labels, SLAC frame clips for pre-training and windows of
untrimmed videos for fine-tuning."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..data.clips import MEAN, STD, ClipDataset
from ..video import clip_sampling as sc
from ..video.decode import center_crop, open_reader, resized_size


def default_resize_short(crop: int) -> int:
    """Short side frames are resized to before square `crop` crops: crop x 8/7, even (56 -> 64, 112 -> 128)."""
    return int(round(crop * 8 / 7 / 2) * 2)


def normalise(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T, H, W) float32, ImageNet mean/std (as slac_utils.data.clips)."""
    x = (frames.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(3, 0, 1, 2)))


def decode_video(path, resize_short: int) -> tuple[np.ndarray, float]:
    """All frames (N, H, W, 3) uint8 of a video, short side resized to resize_short at decode time, and its fps."""

    vr = open_reader(path)
    h, w = vr[0].shape[:2]
    fps = float(vr.get_avg_fps())
    vr = open_reader(path, *resized_size(w, h, resize_short))
    return vr.get_batch(list(range(len(vr)))).asnumpy(), fps


class SlacFrameDataset:
    """CDC pre-training views of SLAC clips: (3 x L x crop x crop tensor, (L,) frame labels = the clip's label_index).

    ``table``: the labeled clips (path, label_index; negatives carry the background index K).  Decoding,
    caching, the random window, crop and flip (drawn from (seed, epoch, draw, index)) and normalisation are
    :class:`slac_utils.data.clips.ClipDataset`'s.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        frames: int,
        crop: int,
        background: int,
        resize_short: int | None = None,
        seed: int = 0,
        cache: bool = True,
    ):
        self.clips = ClipDataset(
            table, frames, (crop, crop), resize_short or default_resize_short(crop), "rgb", seed, cache=cache
        )
        self.labels = self.clips.labels
        self.background, self.frames = int(background), int(frames)

    def __len__(self) -> int:
        return len(self.clips)

    def get(self, i: int, epoch: int | None = None, draw: int | None = None):
        x, y = self.clips.get(i, epoch=epoch, draw=draw)
        return x, torch.full((self.frames,), int(y), dtype=torch.long)


def frame_labels(n_frames: int, fps: float, segments: pd.DataFrame, background: int) -> np.ndarray:
    """(n_frames,) labels: a segment's label_index where the segment (start, end in s) covers the frame centre, else background."""
    lab = np.full(n_frames, background, np.int64)
    centres = (np.arange(n_frames) + 0.5) / fps
    for s, e, y in segments[["start", "end", "label_index"]].itertuples(index=False):
        lab[(centres >= s) & (centres < e)] = int(y)
    return lab


def window_start_range(w0: int, w1: int, L: int, n: int) -> tuple[int, int]:
    """Inclusive range of starts of L consecutive frames inside [w0, w1) of an n-frame video.

    A window shorter than L takes the L frames covering it (as far as the video allows); a video shorter
    than L has the single start 0 (padded by repeating the last frame, sampling_clips.clip_indices).
    """
    if n <= L:
        return 0, 0
    lo, hi = w0, w1 - L
    if hi < lo:  # window shorter than L: the L-frame windows that contain it
        lo, hi = max(0, w1 - L), min(w0, n - L)
        if hi < lo:
            lo = hi = min(max(0, w0), n - L)
    return max(0, lo), min(hi, n - L)


class UntrimmedWindowDataset:
    """Fine-tuning windows around ground-truth segments of untrimmed videos.

    ``videos``: video_id, path, and optionally fps (default: the file's); ``segments``: video_id, start, end
    (seconds), label_index -- one training item per segment.  Item i: the segment expanded by
    ``expand_seconds`` on both sides (clamped to the video), L random consecutive frames inside it, a random
    ``crop`` x ``crop`` box and flip (all from (seed, epoch, draw, i)); labels per frame: the label of any
    segment of the video covering the frame (the original, unexpanded extents), background elsewhere.
    ``get(i)`` without epoch: the window centred on the segment, centre crop (evaluation view).
    ``cache=True`` decodes each video once and keeps it in memory (the demo); ``frames_by_video`` passes
    already decoded frames (dict video_id -> (N, H, W, 3) uint8 at the resized size).
    """

    def __init__(
        self,
        videos: pd.DataFrame,
        segments: pd.DataFrame,
        frames: int,
        crop: int,
        background: int,
        resize_short: int | None = None,
        expand_seconds: float = 2.0,
        seed: int = 0,
        cache: bool = True,
        frames_by_video: dict | None = None,
    ):
        self.videos = videos.set_index("video_id", drop=False)
        self.segments = segments.reset_index(drop=True)
        missing = set(self.segments.video_id) - set(self.videos.index)
        if missing:
            raise ValueError(f"segments of videos not in the video table: {sorted(missing)[:3]}")
        self.L, self.crop, self.background, self.seed = int(frames), int(crop), int(background), int(seed)
        self.short = resize_short or default_resize_short(crop)
        self.expand = float(expand_seconds)
        self.labels = self.segments.label_index.to_numpy().astype(np.int64)
        self._frames: dict[str, np.ndarray] = dict(frames_by_video or {})
        self._cache = cache
        self._meta: dict[str, tuple[int, float, np.ndarray]] = {}
        if cache:
            for v in sorted(set(self.segments.video_id)):
                self._video(v)

    def __len__(self) -> int:
        return len(self.segments)

    def _video(self, vid: str):
        """(frames or None, n_frames, fps, per-frame labels) of a video.  With caching the video is decoded whole
        on first use and kept; without, only its length and fps are read here (frames come per window)."""
        fr = self._frames.get(vid)
        if vid not in self._meta or (fr is None and self._cache):
            row = self.videos.loc[vid]
            fps = float(row["fps"]) if "fps" in self.videos and not pd.isna(row["fps"]) else None
            if fr is None and self._cache:
                fr, fps_file = decode_video(row["path"], self.short)
                self._frames[vid] = fr
                n = len(fr)
            elif fr is not None:
                n, fps_file = len(fr), None
            else:
                vr = open_reader(row["path"])
                n, fps_file = len(vr), float(vr.get_avg_fps())
            if fps is None:
                fps = fps_file if fps_file is not None else float(open_reader(row["path"]).get_avg_fps())
            segs = self.segments[self.segments.video_id == vid]
            self._meta[vid] = (n, fps, frame_labels(n, fps, segs, self.background))
        return (fr, *self._meta[vid])

    def _read(self, vid: str, fr, idx: np.ndarray) -> np.ndarray:
        if fr is not None:
            return fr[idx]

        path = self.videos.loc[vid, "path"]
        h, w = open_reader(path)[0].shape[:2]
        return open_reader(path, *resized_size(w, h, self.short)).get_batch([int(k) for k in idx]).asnumpy()

    def window(self, i: int) -> tuple[int, int]:
        """[w0, w1) frames of item i's expanded segment, clamped to the video."""
        r = self.segments.iloc[i]
        _, n, fps, _ = self._video(r.video_id)
        w0 = max(0, int(math.floor((r.start - self.expand) * fps)))
        w1 = min(n, int(math.ceil((r.end + self.expand) * fps)))
        return w0, max(w1, w0 + 1)

    def get(self, i: int, epoch: int | None = None, draw: int | None = None):
        r = self.segments.iloc[i]
        fr, n, fps, lab = self._video(r.video_id)
        w0, w1 = self.window(i)
        lo, hi = window_start_range(w0, w1, self.L, n)
        if epoch is None:
            start = (lo + hi) // 2
            idx = sc.clip_indices(start, self.L, n)
            clip = center_crop(self._read(r.video_id, fr, idx), self.crop)
        else:
            rng = np.random.default_rng([self.seed, epoch, draw if draw is not None else 0, i])
            start = int(rng.integers(lo, hi + 1))
            idx = sc.clip_indices(start, self.L, n)
            clip = sc.random_crop_flip(self._read(r.video_id, fr, idx), self.crop, int(rng.integers(2**63)))
        return normalise(clip), torch.from_numpy(lab[idx].copy())


# ============================================================================ training
