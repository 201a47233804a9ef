"""Video reading with decord: probing, frame sampling and the paper's preprocessing."""

from __future__ import annotations

import numpy as np


def open_reader(path, width: int = -1, height: int = -1):
    """A decord VideoReader on the CPU, optionally resizing at decode time (fast path)."""
    import decord  # deferred: decord loads only when a video is read

    return decord.VideoReader(str(path), ctx=decord.cpu(0), width=width, height=height, num_threads=1)


def resized_size(width: int, height: int, short_edge: int) -> tuple[int, int]:
    """(w, h) with the short edge equal to short_edge, aspect preserved, even sizes (decoder friendly)."""
    if width <= height:
        w, h = short_edge, height * short_edge / width
    else:
        w, h = width * short_edge / height, short_edge
    return int(round(w / 2) * 2), int(round(h / 2) * 2)


# ImageNet channel statistics (RGB in [0, 1]) for every model with torchvision-style input normalisation
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


def center_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """Central size x size crop of (N, H, W, C) frames (paper 3.4: 224 x 224)."""
    h, w = frames.shape[1:3]
    if h < size or w < size:
        raise ValueError(f"frames {h}x{w} smaller than crop {size}")
    y, x = (h - size) // 2, (w - size) // 2
    return frames[:, y : y + size, x : x + size]


def sample_indices(
    n_frames: int, fps: float, sample_fps: float, min_frames: int = 1, max_frames: int | None = None
) -> np.ndarray:
    """Evenly spaced frame indices at sample_fps, at least min_frames (short videos), at most max_frames."""
    if n_frames <= 0:
        return np.zeros(0, int)
    duration = n_frames / fps
    k = int(np.floor(duration * sample_fps))
    k = max(k, min_frames)
    if max_frames:
        k = min(k, max_frames)
    k = min(k, n_frames)
    # centres of k equal bins: evenly spaced, never the very first/last frame
    return np.minimum(((np.arange(k) + 0.5) * n_frames / k).astype(int), n_frames - 1)


def read_frames(path, indices, size: tuple[int, int] | None = None) -> np.ndarray:
    """Frames (N, H, W, 3) uint8 RGB at the given indices, resized at decode time to size=(w, h)."""
    w, h = size if size else (-1, -1)
    vr = open_reader(path, w, h)
    idx = [int(i) for i in indices]
    if not idx:
        return np.zeros((0, max(h, 0), max(w, 0), 3), np.uint8)
    return vr.get_batch(idx).asnumpy()


def content_box(frames: np.ndarray, threshold: int = 24, max_border: float = 0.3) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the picture inside black bars that every frame shares.

    A bar row (column) is one whose brightest value over all frames and channels is <= threshold (H.264 bars
    decode to ~16, ringing included); bars are only taken from the edges inwards, at most max_border of the
    height (width) on each side, and a crop is only made when it removes at least 2% of the side."""
    n, h, w = frames.shape[:3]
    if n == 0:
        return 0, h, 0, w
    g = frames.max(axis=(0, 3)) if frames.ndim == 4 else frames.max(axis=0)

    def span(profile: np.ndarray, size: int) -> tuple[int, int]:
        lit = np.flatnonzero(profile > threshold)
        if not len(lit):
            return 0, size
        a, b = int(lit[0]), int(lit[-1]) + 1
        lim = int(max_border * size)
        a, b = (a if a <= lim else 0), (b if size - b <= lim else size)
        return (a, b) if (a + size - b) >= 0.02 * size else (0, size)

    top, bottom = span(g.max(axis=1), h)
    left, right = span(g.max(axis=0), w)
    return top, bottom, left, right


def crop_borders(frames: np.ndarray, short_edge: int, threshold: int = 24) -> np.ndarray:
    """frames with their shared black bars (letterbox, pillarbox) removed, resized back to short_edge."""
    import cv2  # deferred: OpenCV loads only when this function runs

    top, bottom, left, right = content_box(frames, threshold)
    h, w = frames.shape[1:3]
    if (top, bottom, left, right) == (0, h, 0, w):
        return frames
    size = resized_size(right - left, bottom - top, short_edge)
    return np.stack([cv2.resize(f[top:bottom, left:right], size, interpolation=cv2.INTER_AREA) for f in frames])


def preprocess_for_features(
    path, indices, width: int, height: int, short_edge: int = 256, crop: int = 224, drop_borders: bool = False
) -> np.ndarray:
    """Paper 3.4: resize to short edge 256 (aspect kept), central 224 x 224 crops. Resizing happens in the decoder.

    drop_borders: first remove black bars shared by all sampled frames (:func:`crop_borders`), so that a
    letterboxed or pillarboxed re-upload is embedded from the same picture as its original (not in the paper)."""
    frames = read_frames(path, indices, resized_size(width, height, short_edge))
    if drop_borders:
        frames = crop_borders(frames, short_edge)
    return center_crop(frames, crop)
