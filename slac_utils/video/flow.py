"""Farneback optical flow for the flow stream of Res3D (paper 4.1, Table 4).

The paper computes flow with Farneback's method "with the same number of frames and the same
resolution as RGB".  Here that means: the flow clip is computed from *the very frames of the RGB
clip* (same indices from :mod:`slac_utils.video.clip_sampling`, same decoded resolution) and then cropped
with the same boxes (:func:`slac_utils.video.clip_sampling.ten_crop` with ``flow=True``).

**T flow fields from T frames.**  ``flow[t]`` is the forward flow from frame t to frame t+1 for
t = 0 .. T-2, and the last field repeats ``flow[T-2]`` (a single frame gives one zero field).  This
keeps the RGB and flow clips on exactly the same T frame indices, so a short, padded clip (its last
frame repeated, see sampling_clips) has exactly zero flow over the padding, and needs no extra frame
that a short video may not have.  :func:`pairwise_flow` returns the T-1 raw fields for anyone who prefers
to read T+1 frames instead.

Convention (OpenCV's): ``prev[y, x] ~= next[y + flow[y, x, 1], x + flow[y, x, 0]]`` -- channel 0 is
dx (pixels, positive = rightwards), channel 1 is dy (positive = downwards).

**Storage.**  The usual two-stream storage: each component clipped to ``[-bound, +bound]`` (default
:data:`FLOW_BOUND` = 20 px) and mapped linearly onto 0..255 (``v = round((f + bound) * 255 / (2 *
bound))``).  The step is 2 * bound / 255 = 0.157 px, the round-trip error at most half of it (0.078 px),
zero decodes to +0.078 px (127.5 rounds to 128), and mirroring is exact: ``255 - v`` decodes to ``-f``.

**Model input.**  :func:`flow_tensor` gives the 2-channel float32 tensor ``(2, T, H, W)`` (channels
dx, dy; the C, T, H, W layout of 3-D convolutions) scaled by ``1 / bound`` into [-1, 1].

Farneback is deterministic for a given OpenCV build and parameters (no randomness, per-pixel output).
"""

from __future__ import annotations

import numpy as np

#: clipping bound of stored and model-input flow, in pixels per frame
FLOW_BOUND = 20.0

#: OpenCV Farneback parameters (the values of OpenCV's sample, good for small video frames):
#: pyr_scale -- each pyramid level is this fraction of the previous one; levels -- pyramid levels
#: (including the original); winsize -- averaging window, larger = smoother and more robust to
#: noise, blurrier motion edges; iterations -- per level; poly_n -- neighbourhood of the per-pixel
#: polynomial expansion; poly_sigma -- Gaussian sigma of that expansion (1.1-1.5 for poly_n 5);
#: flags -- 0, or cv2.OPTFLOW_FARNEBACK_GAUSSIAN for a Gaussian instead of a box window.
FARNEBACK_DEFAULTS = dict(pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0)


def to_gray(frames: np.ndarray) -> np.ndarray:
    """(T, H, W) uint8 grey of (T, H, W, 3) RGB uint8 frames (already grey (T, H, W) passes through)."""
    import cv2  # deferred: OpenCV loads only when this function runs

    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {frames.dtype}")
    if frames.ndim == 3:
        return frames
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be (T, H, W, 3) RGB or (T, H, W) grey, got shape {frames.shape}")
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def farneback_pair(
    prev: np.ndarray,
    nxt: np.ndarray,
    *,
    pyr_scale: float = 0.5,
    levels: int = 3,
    winsize: int = 15,
    iterations: int = 3,
    poly_n: int = 5,
    poly_sigma: float = 1.2,
    flags: int = 0,
) -> np.ndarray:
    """Flow (H, W, 2) float32 from grey uint8 image ``prev`` to ``nxt`` (parameters: FARNEBACK_DEFAULTS).

    Byte-identical images (a padded clip's repeated last frame, duplicated frames of a frame-rate
    conversion) get exactly zero flow without running Farneback, whose polynomial fit leaves
    ~0.01 px of noise near the borders there.
    """
    import cv2  # deferred: OpenCV loads only when this function runs

    if prev.shape == nxt.shape and np.array_equal(prev, nxt):
        return np.zeros((*prev.shape[:2], 2), np.float32)
    return cv2.calcOpticalFlowFarneback(
        prev, nxt, None, pyr_scale, levels, winsize, iterations, poly_n, poly_sigma, flags
    )


def pairwise_flow(frames: np.ndarray, **params) -> np.ndarray:
    """(T-1, H, W, 2) float32: the flow between each pair of consecutive frames of a (T, H, W[, 3]) uint8 clip."""
    g = to_gray(frames)
    h, w = g.shape[1:3]
    if len(g) < 2:
        return np.zeros((0, h, w, 2), np.float32)
    return np.stack([farneback_pair(g[t], g[t + 1], **params) for t in range(len(g) - 1)]).astype(
        np.float32, copy=False
    )


def farneback_clip(frames: np.ndarray, **params) -> np.ndarray:
    """(T, H, W, 2) float32 flow of a T-frame uint8 RGB clip, at the frames' own resolution.

    ``flow[t]`` = flow from frame t to t+1; the last field repeats the one before (T = 1: zeros).
    Keyword arguments are Farneback's parameters (see FARNEBACK_DEFAULTS); unknown names fail.
    """
    unknown = set(params) - set(FARNEBACK_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown Farneback parameter(s) {sorted(unknown)}; known: {sorted(FARNEBACK_DEFAULTS)}")
    pw = pairwise_flow(frames, **params)
    if len(pw) == 0:
        t, h, w = np.asarray(frames).shape[:3]
        return np.zeros((t, h, w, 2), np.float32)
    return np.concatenate([pw, pw[-1:]])


def flow_to_uint8(flow: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Quantise flow (any shape) to uint8: clip to [-bound, bound], map linearly onto 0..255, round."""
    if bound <= 0:
        raise ValueError(f"bound must be positive, got {bound}")
    f = np.clip(np.asarray(flow, dtype=np.float32), -bound, bound)
    return np.round((f + bound) * (255.0 / (2 * bound))).astype(np.uint8)


def uint8_to_flow(u: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Inverse of flow_to_uint8 (float32 pixels); exact up to the 2 * bound / 255 quantisation step."""
    if bound <= 0:
        raise ValueError(f"bound must be positive, got {bound}")
    u = np.asarray(u)
    if u.dtype != np.uint8:
        raise ValueError(f"stored flow must be uint8, got {u.dtype}")
    return (u.astype(np.float32) * np.float32(2 * bound / 255.0) - np.float32(bound)).astype(np.float32)


def flow_tensor(flow: np.ndarray, bound: float = FLOW_BOUND) -> np.ndarray:
    """Flow-model input (2, T, H, W) float32 in [-1, 1] from a (T, H, W, 2) flow clip.

    Float flow (pixels) is clipped to +-bound and divided by bound; uint8 flow (as stored by
    flow_to_uint8 with the same bound) is decoded first.  ``torch.from_numpy`` takes it as is.
    """
    flow = np.asarray(flow)
    if flow.ndim != 4 or flow.shape[-1] != 2:
        raise ValueError(f"flow clip must be (T, H, W, 2), got shape {flow.shape}")
    f = uint8_to_flow(flow, bound) if flow.dtype == np.uint8 else flow.astype(np.float32)
    f = np.clip(f, -bound, bound) / np.float32(bound)
    return np.ascontiguousarray(f.transpose(3, 0, 1, 2), dtype=np.float32)


def flow_clip_tensor(frames: np.ndarray, bound: float = FLOW_BOUND, **params) -> np.ndarray:
    """RGB uint8 clip (T, H, W, 3) -> flow-model input (2, T, H, W): farneback_clip then flow_tensor."""
    return flow_tensor(farneback_clip(frames, **params), bound)
