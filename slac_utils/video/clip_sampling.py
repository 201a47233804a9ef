"""Which frames and which pixels a Res3D clip is made of (paper 4.1, 4.2) -- index helpers, no model code.

Temporal sampling (frame indices into a video of ``n_frames`` frames, clips of ``T`` frames):

- :func:`start_clip_indices` -- evaluation on SLAC and Clip@1: one clip at the very beginning;
- :func:`random_clip_indices` -- training: a random T-frame window;
- :func:`even_clip_starts` -- Video@1: 10 evenly spaced clips;
- :func:`dense_clip_starts` -- dense prediction: a clip every 4 frames.

Short videos (fewer than ``T`` frames, e.g. the demo's 30-frame clips against the paper's T = 32) are
**padded by repeating the last frame**: the clip keeps T frames, its motion simply stops at the end
(and its optical flow there is zero).  :func:`clip_indices` applies this rule to any start.

Spatial sampling of (T, H, W, C) frames: :func:`multi_crop_boxes` (4 corners + centre),
:func:`ten_crop` (those 5 and their horizontal mirrors) and :func:`random_crop_flip` for training.
Crop sizes are an int (square) or ``(height, width)``.  Flow clips (last axis = (dx, dy)) need
``flow=True`` when mirrored: mirroring an image reverses horizontal motion, so dx changes sign
(for uint8-stored flow of :mod:`slac_utils.video.flow`, -dx is ``255 - v`` exactly).

Randomness always comes from an explicit ``numpy.random.Generator`` (or an int seed).
"""

from __future__ import annotations

import numpy as np

#: order of the boxes of multi_crop_boxes (and of the first five crops of ten_crop)
CROP_NAMES = ("top_left", "top_right", "bottom_left", "bottom_right", "center")


# --------------------------------------------------------------------------- temporal


def _check(n_frames: int, T: int) -> None:
    if n_frames < 1:
        raise ValueError(f"video has no frames (n_frames={n_frames})")
    if T < 1:
        raise ValueError(f"clip length T must be >= 1, got {T}")


def clip_indices(start: int, T: int, n_frames: int) -> np.ndarray:
    """Frame indices ``start, start+1, ..., start+T-1`` (int64), past-the-end ones clamped to the last frame."""
    _check(n_frames, T)
    if not 0 <= start < n_frames:
        raise ValueError(f"start {start} outside the video's {n_frames} frames")
    return np.minimum(start + np.arange(T, dtype=np.int64), n_frames - 1)


def clips_from_starts(starts, T: int, n_frames: int) -> np.ndarray:
    """(K, T) frame indices of the clips beginning at each of ``starts`` (padding as clip_indices)."""
    starts = np.asarray(starts, dtype=np.int64)
    return np.stack([clip_indices(int(s), T, n_frames) for s in starts]) if len(starts) else np.zeros((0, T), np.int64)


def start_clip_indices(n_frames: int, T: int) -> np.ndarray:
    """The evaluation clip: the first T frames, ``[0, 1, ..., T-1]``.

    A video shorter than T is padded by repeating its last frame, e.g. n_frames=3, T=5 gives
    ``[0, 1, 2, 2, 2]``.
    """
    return clip_indices(0, T, n_frames)


def random_clip_indices(n_frames: int, T: int, rng) -> np.ndarray:
    """Training: T consecutive frames starting at a uniform random start in ``[0, n_frames - T]``.

    A video shorter than T has only one window (start 0, padded as start_clip_indices); the
    generator is then not advanced.  ``rng``: a numpy Generator or an int seed.
    """
    _check(n_frames, T)
    if n_frames <= T:
        return clip_indices(0, T, n_frames)
    rng = np.random.default_rng(rng)
    return clip_indices(int(rng.integers(0, n_frames - T + 1)), T, n_frames)


def even_clip_starts(n_frames: int, T: int, k: int = 10) -> np.ndarray:
    """Video@1: start frames of k evenly spaced T-frame clips covering the video.

    Starts are ``round(linspace(0, n_frames - T, k))`` -- the first clip begins at frame 0, the last
    ends at the last frame.  When the video has fewer than k distinct start positions (n_frames - T
    + 1 < k, including videos shorter than T, whose only start is 0) the duplicates are dropped, so
    each distinct clip weighs the same in the video average; fewer than k starts come back.
    """
    _check(n_frames, T)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    last = max(n_frames - T, 0)
    return np.unique(np.round(np.linspace(0, last, k)).astype(np.int64))


def dense_clip_starts(n_frames: int, T: int, stride: int = 4) -> np.ndarray:
    """Dense prediction: a T-frame clip every ``stride`` frames, starts ``0, stride, 2*stride, ... <= n_frames - T``.

    Only full clips are taken (a video shorter than T gives the single padded clip at 0), so the last
    ``(n_frames - T) % stride`` frames (fewer than ``stride``) fall in no clip.
    """
    _check(n_frames, T)
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    return np.arange(0, max(n_frames - T, 0) + 1, stride, dtype=np.int64)


# --------------------------------------------------------------------------- spatial


def _size_hw(size) -> tuple[int, int]:
    ch, cw = (size, size) if np.isscalar(size) else size
    ch, cw = int(ch), int(cw)
    if ch < 1 or cw < 1:
        raise ValueError(f"crop size must be positive, got {size}")
    return ch, cw


def multi_crop_boxes(h: int, w: int, size) -> np.ndarray:
    """The 5 crops of multi-crop testing: (5, 4) int64 rows ``(y0, x0, y1, x1)``, half-open.

    Order (CROP_NAMES): top-left, top-right, bottom-left, bottom-right, centre.  The centre box is at
    ``((h - ch) // 2, (w - cw) // 2)``, the same rule as :func:`slac_utils.video.decode.center_crop`.
    """
    ch, cw = _size_hw(size)
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}x{cw} larger than frame {h}x{w}")
    yc, xc = (h - ch) // 2, (w - cw) // 2
    tl = [(0, 0), (0, w - cw), (h - ch, 0), (h - ch, w - cw), (yc, xc)]
    return np.array([(y, x, y + ch, x + cw) for y, x in tl], dtype=np.int64)


def mirror(frames: np.ndarray, flow: bool = False) -> np.ndarray:
    """Horizontal mirror of (..., H, W, C) frames; with ``flow=True`` channel 0 (dx) changes sign.

    Float flow: dx -> -dx.  uint8 flow (stored with a symmetric bound, :func:`slac_utils.video.flow.flow_to_uint8`):
    v -> 255 - v, which decodes to exactly -dx.
    """
    out = frames[..., ::-1, :].copy()
    if flow:
        if out.shape[-1] != 2:
            raise ValueError(f"flow frames need 2 channels (dx, dy), got {out.shape[-1]}")
        out[..., 0] = 255 - out[..., 0] if out.dtype == np.uint8 else -out[..., 0]
    return out


def ten_crop(frames: np.ndarray, size, flow: bool = False) -> np.ndarray:
    """Multi-crop test views of a clip: (10, T, ch, cw, C).

    Views 0-4 are the crops of :func:`multi_crop_boxes` (order CROP_NAMES); view 5 + i is the
    horizontal mirror of view i (dx negated for ``flow=True``, see :func:`mirror`).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise ValueError(f"frames must be (T, H, W, C), got shape {frames.shape}")
    boxes = multi_crop_boxes(frames.shape[1], frames.shape[2], size)
    crops = np.stack([frames[:, y0:y1, x0:x1] for y0, x0, y1, x1 in boxes])
    return np.concatenate([crops, mirror(crops, flow=flow)])


def random_crop_flip(frames: np.ndarray, size, rng, flip_prob: float = 0.5, flow: bool = False) -> np.ndarray:
    """Training augmentation: one random crop (uniform top-left corner) of every frame, mirrored with ``flip_prob``.

    The same box and flip apply to all T frames of the clip (a clip is one view).  Draws, in order, the
    corner y, the corner x, then the flip, from ``rng`` (a numpy Generator or int seed).
    """
    frames = np.asarray(frames)
    if frames.ndim != 4:
        raise ValueError(f"frames must be (T, H, W, C), got shape {frames.shape}")
    h, w = frames.shape[1:3]
    ch, cw = _size_hw(size)
    if ch > h or cw > w:
        raise ValueError(f"crop {ch}x{cw} larger than frame {h}x{w}")
    rng = np.random.default_rng(rng)
    y = int(rng.integers(0, h - ch + 1))
    x = int(rng.integers(0, w - cw + 1))
    out = frames[:, y : y + ch, x : x + cw]
    return mirror(out, flow=flow) if rng.random() < flip_prob else out.copy()
