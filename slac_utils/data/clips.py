"""Clip datasets for Res3D: video files read with decord, RGB or Farneback flow, training and evaluation views.

A dataset is a table with a ``path`` (video or clip file) and a ``label_index`` (int), optionally ``f0`` /
``f1`` (a frame range inside a longer video; default: the whole file).  Frames are decoded resized so the
short side is ``resize_short`` (aspect kept), then:

* training (``get(i, epoch, draw)``): a random T-frame window and a random crop of ``crop`` (h, w) with a
  horizontal flip, all drawn from (seed, epoch, draw), so an epoch is reproducible and a resumed run exact;
* evaluation (``get(i)``): the T frames at the beginning and the centre crop (paper 4.1: "a single sequence
  of 32 frames in the beginning of the clip");
* ``views(i, starts, crops)``: several clips of one video (Video@1: 10 evenly spaced; dense: every 4
  frames) x 1 centre crop or 10 crops (4 corners + centre and mirrors), for the transfer metrics.

RGB input is scaled to [0, 1] and normalised with the ImageNet mean/std (0.485, 0.456, 0.406) /
(0.229, 0.224, 0.225); flow input is Farneback flow computed on the same frames at the same resolution,
clipped to +-20 px and scaled to [-1, 1] (:mod:`slac_utils.video.flow`).  Tensors are (C, T, H, W).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ..video import clip_sampling as sc
from ..video.decode import IMAGENET_MEAN as MEAN
from ..video.decode import IMAGENET_STD as STD
from ..video.decode import open_reader, resized_size
from ..video.flow import farneback_clip, flow_tensor
from .flow_cache import window_flow


class _Cached:
    """A decoded clip held in memory, with the reader interface ClipDataset uses (get_batch(...).asnumpy())."""

    def __init__(self, frames: np.ndarray):
        self.frames = frames

    def __len__(self):
        return len(self.frames)

    def get_batch(self, idx):
        return _Arr(self.frames[np.asarray(idx)])


class _Arr:
    def __init__(self, a):
        self.a = a

    def asnumpy(self):
        return self.a


class ClipDataset:
    def __init__(
        self,
        table: pd.DataFrame,
        T: int,
        crop: tuple[int, int],
        resize_short: int,
        modality: str = "rgb",
        seed: int = 0,
        cache: bool = False,
        flow_files: list | None = None,
    ):
        """cache=True decodes every clip once (and computes its flow once) and keeps it in memory: for small
        datasets such as the demo's, where decoding and Farneback would otherwise dominate each epoch.
        flow_files: per row, the clip's precomputed pair flows (:func:`slac_utils.data.flow_cache.precompute_flow`)
        or None; a window's flow is then assembled from them instead of running Farneback (the same numbers)."""
        if modality not in ("rgb", "flow"):
            raise ValueError(f"modality must be rgb or flow, got {modality!r}")
        self.t = table.reset_index(drop=True)
        self.T, self.crop, self.short, self.modality, self.seed = T, tuple(crop), resize_short, modality, seed
        self.labels = self.t.label_index.to_numpy()
        self._cache: dict[int, tuple] = {}
        self._flow_cache: dict[tuple, np.ndarray] = {}
        self.flow_files = list(flow_files) if flow_files is not None else [None] * len(self.t)
        if cache:
            for i in range(len(self.t)):
                vr, f0, f1 = self._reader(i)
                self._cache[i] = (_Cached(vr.get_batch(list(range(f0, f1))).asnumpy()), 0, f1 - f0)

    def __len__(self) -> int:
        return len(self.t)

    def _reader(self, i: int):
        if i in self._cache:
            return self._cache[i]
        r = self.t.iloc[i]
        vr = open_reader(r.path)
        h, w = vr[0].shape[:2]
        vr = open_reader(r.path, *resized_size(w, h, self.short))
        f0 = int(r.f0) if "f0" in self.t and not pd.isna(r.f0) else 0
        f1 = int(r.f1) if "f1" in self.t and not pd.isna(r.f1) else len(vr)
        return vr, f0, min(f1, len(vr))

    def _to_tensor(self, frames: np.ndarray, flow: np.ndarray | None) -> torch.Tensor:
        if self.modality == "flow":
            return torch.from_numpy(flow_tensor(flow))
        x = (frames.astype(np.float32) / 255.0 - MEAN) / STD
        return torch.from_numpy(np.ascontiguousarray(x.transpose(3, 0, 1, 2)))

    def _clip(self, vr, f0: int, idx: np.ndarray, i: int | None = None):
        frames = vr.get_batch([int(f0 + k) for k in idx]).asnumpy()
        if self.modality != "flow":
            return frames, None
        if i is not None and self.flow_files[i] is not None:  # precomputed pair flows: no Farneback here
            return frames, window_flow(np.load(self.flow_files[i], mmap_mode="r"), frames, idx)
        key = (id(vr), f0, tuple(int(k) for k in idx))
        if isinstance(vr, _Cached):  # cached clips: each distinct window's flow is computed once
            if key not in self._flow_cache:
                self._flow_cache[key] = farneback_clip(frames)
            return frames, self._flow_cache[key]
        return frames, farneback_clip(frames)

    def get(self, i: int, epoch: int | None = None, draw: int | None = None):
        """(tensor C x T x H x W, label): a training view when epoch is given, else the evaluation view."""
        vr, f0, f1 = self._reader(i)
        n = f1 - f0
        if epoch is None:
            frames, flow = self._clip(vr, f0, sc.start_clip_indices(n, self.T), i)
            y0, x0, y1, x1 = sc.multi_crop_boxes(*frames.shape[1:3], self.crop)[4]  # centre
            frames, flow = frames[:, y0:y1, x0:x1], (flow[:, y0:y1, x0:x1] if flow is not None else None)
        else:
            rng = np.random.default_rng([self.seed, epoch, draw if draw is not None else 0, i])
            frames, flow = self._clip(vr, f0, sc.random_clip_indices(n, self.T, rng), i)
            crop_seed = int(rng.integers(2**63))  # the same box and flip for the RGB frames and their flow
            frames = sc.random_crop_flip(frames, self.crop, crop_seed)
            if flow is not None:
                flow = sc.random_crop_flip(flow, self.crop, crop_seed, flow=True)
        return self._to_tensor(frames, flow), int(self.labels[i])

    def views(self, i: int, starts: np.ndarray, ten_crop: bool = False) -> torch.Tensor:
        """(V, C, T, H, W): clips starting at `starts` (frame offsets in the video), centre crop or ten crops each."""
        vr, f0, f1 = self._reader(i)
        out = []
        for s in starts:
            frames, flow = self._clip(vr, f0, sc.clip_indices(int(s), self.T, f1 - f0), i)
            if ten_crop:
                fr = sc.ten_crop(frames, self.crop)
                fl = sc.ten_crop(flow, self.crop, flow=True) if flow is not None else [None] * len(fr)
                out += [self._to_tensor(a, b) for a, b in zip(fr, fl)]
            else:
                y0, x0, y1, x1 = sc.multi_crop_boxes(*frames.shape[1:3], self.crop)[4]
                out.append(
                    self._to_tensor(frames[:, y0:y1, x0:x1], flow[:, y0:y1, x0:x1] if flow is not None else None)
                )
        return torch.stack(out)

    def n_frames(self, i: int) -> int:
        _, f0, f1 = self._reader(i)
        return f1 - f0
