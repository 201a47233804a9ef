"""CDC localization model (paper section 5; Shou et al., CVPR 2017 "CDC"): a Res3D trunk, three
Convolutional-De-Convolutional operators and a per-frame (K+1)-way classifier, with its data, training,
dense inference, proposals and the paper's boundary refinement.

Architecture
------------
``CDC(trunk_model, num_classes, frames, crop)`` takes the ``trunk`` of a :class:`~slac_utils.res3d.Res3D`
(input B x 3 x L x H x W -> C x L/8 x h x w; paper: Res3D-34 at 32 x 112 x 112 -> 512 x 4 x 7 x 7) and
adds three Conv-Deconv operators (:class:`ConvDeconv`) that each *convolve in space* (no spatial padding,
stride 1: the map shrinks) and *deconvolve in time* (x2) in one step, ending at C x L x 1 x 1 (paper:
512 x 32 x 1 x 1), then a per-frame linear classifier (a kernel-1 Conv1d) giving B x num_classes x L logits,
``num_classes`` = K + 1 including background (paper: 201).  Output frame ``t`` is aligned to input frame ``t``.

A CDC operator with input (C_in, T, h, w) and kernel (k_h, k_w) holds, as in Shou et al.'s CDC filter, one
independent spatial kernel C_out x C_in x k_t x k_h x k_w *per upsampled output time step* (2 of them):
output frame 2t + r (r = 0, 1) is kernel r applied to input step t.  It is computed as one Conv3d with
2 C_out output channels whose two halves are interleaved in time.  ``temporal_kernel`` k_t is 1 here (the
pure x2 de-convolution of Shou's CDC filter: each input step produces its two output steps; the temporal
context comes from the trunk, whose receptive field spans the whole window).  Each operator is followed by
BatchNorm and ReLU (the trunk is batch-normalised too); weights have no bias.

Frame alignment: the trunk's stride-2 convolutions (kernel 3, padding 1) centre trunk step j on input
frame 8j; its 8 output frames 8j .. 8j+7 each get their own path through the three x2 de-convolutions
(2 x 2 x 2 distinct kernels), and a trained trunk's temporal receptive field spans tens of frames, so each
output frame is fitted to its own input frame by the per-frame loss.  (A freshly initialised Res3D, whose
residual blocks start as identities, sees only frames 8j-1 .. 8j+1 -- tests/test_cdc.py perturbs it.)

Spatial kernels adapt to the trunk's actual output size s (computed at build time from the trunk's
convolutions, :func:`trunk_output_shape`): operator 1 reduces s -> ceil(s/4), operator 2 reduces that to 1,
operator 3 is 1 x 1 (like Shou's CDC7/CDC8).  Paper size s = 7: kernels 6x6 (7 -> 2), 2x2 (2 -> 1), 1x1.
Demo size (56 x 56 crops) s = 4: kernels 4x4 (4 -> 1), 1x1, 1x1.

Parameter counts (``parameter_counts``; paper settings built on the meta device by
:func:`paper_parameter_counts`, checked in tests/test_cdc.py):

* Res3D-34 trunk (width 64):             63,475,904  (paper: 63.4M; within 0.1M, res3d.trunk_parameters)
* CDC operators, 512 channels:           21,498,880 = 2 x 512 x 512 x (36 + 4 + 1) weights + 3 x 1,024 BN
                                                     (paper: 20.4M; ours +1.10M, +5.4%)
* per-frame classifier (512 -> 201):        103,113

The paper's supplementary material with the exact layer shapes is not available, so the construction is
inferred.  No construction of this family reproduces 20.4M exactly: with 512 -> 512 operators a count is
512^2 x 2 x k_t x (sum of the three operators' spatial taps), and 20.4M = 512^2 x 77.8 would need
k_t x taps = 39 -- with k_t = 1, 39 is not a sum of three squares (39 = 8*4+7), and k_t = 3 would need 13
(not a sum of three positive squares either).  Alternatives considered (k_t = 1): 7x7, 1x1, 1x1 (Shou's
"full map in the first operator") 26.74M; 5x5, 3x3, 1x1 18.35M; 4x4, 4x4, 1x1 17.30M; 3x3 three times
14.16M; k_t = 3 (a Shou-style temporal kernel 3, padding 1): >= 42.5M with stride-1 kernels (3x3 three
times), 22.0M with a strided 2x2/2 first kernel.  6x6, 2x2, 1x1 with k_t = 1 is the closest (+1.10M).

Data
----
* :class:`SlacFrameDataset` -- CDC pre-training on SLAC clips: L random consecutive frames of a 2-second
  clip, every frame labelled with the clip's label (negatives -> background K), random crop + flip, all
  drawn from (seed, epoch, draw, index) by :class:`slac_utils.clipdata.ClipDataset` (composition).
* :class:`UntrimmedWindowDataset` -- fine-tuning: for each ground-truth segment, the segment expanded by
  ``expand_seconds`` on both sides (clamped to the video); L random consecutive frames in that window;
  frame labels: the label of a ground-truth segment whose *original* extent covers the frame centre,
  background elsewhere.

Frames are decoded with decord with the short side resized to ``resize_short`` (default
``crop x 8/7``: 64 for 56 crops, 128 for the paper's 112), then square ``crop`` crops; RGB in [0, 1]
normalised with the ImageNet mean/std (as :mod:`slac_utils.clipdata`).

Training, inference, refinement
-------------------------------
* :func:`train_cdc` -- per-frame cross-entropy, SGD momentum 0.9, linear warm-up then /10 every
  ``step_epochs`` (:func:`slac_utils.train.lr_at`), weighted draws (:func:`slac_utils.train.epoch_draws`),
  an atomic, byte-reproducible checkpoint per epoch, exact resume, bf16 + channels_last_3d on GPU, DDP under
  torchrun.
* :func:`frame_scores` -- (n_frames, K+1) per-frame softmax of a whole video from consecutive L-frame
  windows (the last one overlapping the previous so it ends at the last frame; each frame takes its score
  from exactly one window).
* :func:`sliding_window_proposals`, :func:`classify_only` (paper Table 9 "before refinement"),
  :func:`refine` (paper section 5 boundary refinement, alpha = 25%, beta = 2.0), :func:`temporal_nms`,
  :func:`localize_videos`, :func:`tune_beta`.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import sampling_clips as sc
from .clipdata import MEAN, STD, ClipDataset
from .res3d import Res3D
from .video import center_crop

#: the paper's counts (section 5)
PAPER_TRUNK_PARAMETERS = 63.4e6
PAPER_CDC_PARAMETERS = 20.4e6
#: paper settings: Res3D-34, width 64, 32 x 112 x 112 input, 200 actions + background
PAPER_SETTINGS = dict(depth=34, width=64, frames=32, crop=112, num_classes=201)


# ============================================================================ model
def _conv_out(n: int, k: int, s: int, p: int, d: int = 1) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def trunk_output_shape(trunk: nn.Module, frames: int, height: int, width: int) -> tuple[int, int, int, int]:
    """(C, T', h, w) of a Res3D trunk for a frames x height x width input, from its convolutions (no forward).

    Walks the main-path Conv3d layers in order (the stem and each block's conv1/conv2; the 1x1x1 shortcut
    convolutions give the same shape and are skipped).
    """
    t, h, w, c = frames, height, width, None
    for name, m in trunk.named_modules():
        if isinstance(m, nn.Conv3d) and ".down" not in name and not name.startswith("down"):
            k, s, p, d = m.kernel_size, m.stride, m.padding, m.dilation
            t, h, w = (_conv_out(n, k[i], s[i], p[i], d[i]) for i, n in enumerate((t, h, w)))
            c = m.out_channels
    if c is None:
        raise ValueError("trunk has no Conv3d")
    return c, t, h, w


def cdc_kernel_sizes(size: int) -> list[int]:
    """Spatial kernels of the three CDC operators for a trunk output of `size` (one axis): size -> ceil(size/4) -> 1 -> 1."""
    if size < 1:
        raise ValueError(f"trunk output size must be >= 1, got {size}")
    mid = max(1, math.ceil(size / 4))
    return [size - mid + 1, mid, 1]


class ConvDeconv(nn.Module):
    """One Conv-Deconv operator: convolution in space (valid, kernel k_h x k_w) and x`up` de-convolution in time.

    (B, C_in, T, h, w) -> (B, C_out, up*T, h-k_h+1, w-k_w+1).  There are `up` independent kernels, one per
    upsampled output step: output frame up*t + r is kernel r applied at input step t (temporal extent
    `temporal_kernel`, centred, zero padded).  Parameters: up x C_out x C_in x k_t x k_h x k_w (+ BN 2 C_out).
    """

    def __init__(
        self, cin: int, cout: int, kernel_hw: tuple[int, int], temporal_kernel: int = 1, up: int = 2, bn: bool = True
    ):
        super().__init__()
        if temporal_kernel % 2 != 1:
            raise ValueError(f"temporal_kernel must be odd (centred), got {temporal_kernel}")
        self.cout, self.up = cout, up
        self.conv = nn.Conv3d(
            cin, cout * up, (temporal_kernel, *kernel_hw), padding=(temporal_kernel // 2, 0, 0), bias=not bn
        )
        self.bn = nn.BatchNorm3d(cout) if bn else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x)  # (B, cout*up, T, h, w), channel index = o * up + r
        B, _, T, h, w = y.shape
        y = y.view(B, self.cout, self.up, T, h, w).permute(0, 1, 3, 2, 4, 5).reshape(B, self.cout, T * self.up, h, w)
        return self.relu(self.bn(y))


class CDC(nn.Module):
    """Res3D trunk + 3 Conv-Deconv operators + per-frame classifier: (B, 3, L, H, W) -> (B, num_classes, L) logits.

    ``num_classes`` counts the outputs including background (K + 1; paper: 201).  ``channels`` is the CDC
    width (0: the trunk's output channels, paper 512).  The trunk is ``trunk_model.trunk`` (shared, not
    copied), so its state-dict keys stay ``trunk.*`` as in Res3D; initialise it with
    :func:`slac_utils.res3d.load_trunk` on ``trunk_model`` before building (or train from scratch).
    """

    def __init__(
        self,
        trunk_model: Res3D,
        num_classes: int,
        frames: int,
        crop,
        channels: int = 0,
        temporal_kernel: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        ch, cw = (crop, crop) if np.isscalar(crop) else tuple(crop)
        self.trunk = trunk_model.trunk
        self.frames, self.crop, self.num_classes = int(frames), (int(ch), int(cw)), int(num_classes)
        c, t, h, w = trunk_output_shape(self.trunk, frames, ch, cw)
        self.trunk_shape = (c, t, h, w)
        n_ops = 3
        if t * 2**n_ops != frames:
            raise ValueError(
                f"the trunk maps {frames} frames to {t} steps; {n_ops} x2 de-convolutions give {t * 2**n_ops} != {frames} (frames must be a multiple of 8)"
            )
        width = channels or c
        kh, kw = cdc_kernel_sizes(h), cdc_kernel_sizes(w)
        self.kernels = list(zip(kh, kw))
        ops, cin = [], c
        for k in self.kernels:
            ops.append(ConvDeconv(cin, width, k, temporal_kernel=temporal_kernel))
            cin = width
        self.cdc = nn.Sequential(*ops)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv1d(width, num_classes, 1)
        self.channels = width
        for m in self.cdc.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.classifier.weight, std=0.01)
        nn.init.zeros_(self.classifier.bias)

    def replace_classifier(self, num_classes: int) -> "CDC":
        """A new per-frame classifier (fine-tuning on another label set); trunk and CDC operators are kept."""
        self.classifier = nn.Conv1d(self.channels, num_classes, 1)
        nn.init.normal_(self.classifier.weight, std=0.01)
        nn.init.zeros_(self.classifier.bias)
        self.num_classes = num_classes
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cdc(self.trunk(x))  # (B, C, L, 1, 1)
        return self.classifier(self.dropout(y.flatten(3).mean(3)))  # (B, num_classes, L)


def parameter_counts(model: CDC) -> dict[str, int]:
    """Parameters of the trunk, the three CDC operators (with their BN) and the per-frame classifier."""
    n = lambda mod: int(sum(p.numel() for p in mod.parameters()))  # noqa: E731
    out = dict(trunk=n(model.trunk), cdc=n(model.cdc), classifier=n(model.classifier))
    out["total"] = sum(out.values())
    return out


def build_cdc(
    num_classes: int,
    depth: int,
    width: int,
    frames: int,
    crop,
    channels: int = 0,
    trunk_state: dict | None = None,
    device=None,
) -> CDC:
    """A CDC model with a fresh Res3D trunk, optionally initialised from a Res3D checkpoint's state dict."""
    if device is not None:
        with torch.device(device):
            res = Res3D(num_classes, depth=depth, width=width)
            return CDC(res, num_classes, frames, crop, channels)
    res = Res3D(num_classes, depth=depth, width=width)
    if trunk_state is not None:
        from .res3d import load_trunk

        load_trunk(res, trunk_state)
    return CDC(res, num_classes, frames, crop, channels)


def paper_parameter_counts() -> dict[str, int]:
    """parameter_counts at the paper's settings (Res3D-34, width 64, 32 x 112 x 112, 201 classes), built on the meta device."""
    p = PAPER_SETTINGS
    return parameter_counts(build_cdc(p["num_classes"], p["depth"], p["width"], p["frames"], p["crop"], device="meta"))


# ============================================================================ data
def default_resize_short(crop: int) -> int:
    """Short side frames are resized to before square `crop` crops: crop x 8/7, even (56 -> 64, 112 -> 128)."""
    return int(round(crop * 8 / 7 / 2) * 2)


def normalise(frames: np.ndarray) -> torch.Tensor:
    """(T, H, W, 3) uint8 -> (3, T, H, W) float32, ImageNet mean/std (as slac_utils.clipdata)."""
    x = (frames.astype(np.float32) / 255.0 - MEAN) / STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(3, 0, 1, 2)))


def decode_video(path, resize_short: int) -> tuple[np.ndarray, float]:
    """All frames (N, H, W, 3) uint8 of a video, short side resized to resize_short at decode time, and its fps."""
    from .video import open_reader, resized_size

    vr = open_reader(path)
    h, w = vr[0].shape[:2]
    fps = float(vr.get_avg_fps())
    vr = open_reader(path, *resized_size(w, h, resize_short))
    return vr.get_batch(list(range(len(vr)))).asnumpy(), fps


class SlacFrameDataset:
    """CDC pre-training views of SLAC clips: (3 x L x crop x crop tensor, (L,) frame labels = the clip's label_index).

    ``table``: the labeled clips (path, label_index; negatives carry the background index K).  Decoding,
    caching, the random window, crop and flip (drawn from (seed, epoch, draw, index)) and normalisation are
    :class:`slac_utils.clipdata.ClipDataset`'s.
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
            from .video import open_reader

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
        from .video import open_reader, resized_size

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
def train_cdc(
    model: nn.Module,
    dataset,
    cfg,
    out_dir,
    seed: int = 0,
    resume: bool = True,
    progress: bool = True,
    epochs: int | None = None,
    device: str | None = None,
    stop_after: int | None = None,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    workers: int = 0,
    desc: str = "cdc",
) -> pd.DataFrame:
    """Train a CDC model with per-frame cross-entropy; returns the per-epoch log (epoch, lr, loss, frame_accuracy, windows, seconds).

    The Res3D training loop (:func:`slac_utils.train.train`) with per-frame labels: ``dataset.get(i, epoch=,
    draw=)`` -> (3 x L x H x W, (L,) labels); ``dataset.labels`` (per item) and ``dataset.background`` give the
    sampling weights ``cfg.pos_weight`` / ``cfg.neg_weight``; each epoch draws ``cfg.windows_per_epoch``
    (default: the dataset's size) items with replacement.  LR: ``cfg.base_lr``, ``warmup_epochs``,
    ``step_epochs``; SGD momentum 0.9.  ``epochs`` overrides ``cfg.epochs`` (CDC pre-training uses
    ``cfg.pretrain_epochs``).  ``<out_dir>/last.pt`` is written atomically after every epoch without wall-clock
    fields (byte-reproducible) and resumed from; every random draw derives from (seed, epoch), so a resumed run
    equals an uninterrupted one.  ``<out_dir>/log.csv``: the log without seconds.  ``stop_after``: end after that
    many epochs of this call.
    """
    from types import SimpleNamespace

    from .train import train

    run_cfg = SimpleNamespace(
        base_lr=cfg.base_lr,
        momentum=momentum,
        weight_decay=weight_decay,
        workers=workers,
        batch_size=cfg.batch_size,
        pos_weight=cfg.pos_weight,
        neg_weight=cfg.neg_weight,
        warmup_epochs=cfg.warmup_epochs,
        step_epochs=cfg.step_epochs,
        epochs=cfg.epochs,
        clips_per_epoch=None,
    )
    meta = dict(seed=seed, background=int(dataset.background), frames=getattr(model, "frames", None))
    return train(
        model,
        dataset,
        dataset.labels,
        dataset.background,
        run_cfg,
        out_dir,
        seed=seed,
        resume=resume,
        device=device,
        progress=progress,
        stop_after=stop_after,
        epochs=epochs,
        per_epoch=cfg.windows_per_epoch or len(dataset),
        desc=desc,
        accuracy_key="frame_accuracy",
        count_key="windows",
        meta=meta,
    )


# ============================================================================ inference
def window_starts(n_frames: int, L: int) -> np.ndarray:
    """Starts of the consecutive L-frame windows covering n frames: 0, L, 2L, ... and, if frames remain, n - L (overlapping)."""
    if n_frames <= L:
        return np.array([0], np.int64)
    starts = list(range(0, n_frames - L + 1, L))
    if starts[-1] + L < n_frames:
        starts.append(n_frames - L)
    return np.array(starts, np.int64)


@torch.no_grad()
def frame_scores(
    model: nn.Module,
    video,
    frames: int,
    crop: int,
    resize_short: int | None = None,
    batch_size: int = 16,
    device: str | None = None,
) -> np.ndarray:
    """(n_frames, num_classes) per-frame softmax of a whole untrimmed video.

    ``video``: a file path (decoded with the short side resized to ``resize_short``, default crop x 8/7) or
    (N, H, W, 3) uint8 frames at that size; both are centre-cropped to crop x crop.  Windows of
    ``frames`` (L) consecutive frames start at 0, L, 2L, ...; when frames remain, a last window ends at the
    last frame (overlapping its predecessor) and supplies only the frames not yet scored; a video shorter than L
    is one window padded by repeating its last frame.  Row t is the model's output at the position of frame t.
    """
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(video, (str, os.PathLike)):
        video, _ = decode_video(video, resize_short or default_resize_short(crop))
    video = np.asarray(video)
    if video.shape[1] != crop or video.shape[2] != crop:
        video = center_crop(video, crop)
    n, L = len(video), int(frames)
    starts = window_starts(n, L)
    model = model.to(device).eval()
    out, covered = None, 0
    for b in range(0, len(starts), batch_size):
        sb = starts[b : b + batch_size]
        x = torch.stack([normalise(video[sc.clip_indices(int(s), L, n)]) for s in sb]).to(device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            p = F.softmax(model(x).float(), 1).cpu().numpy()  # (B, C, L)
        if out is None:
            out = np.zeros((n, p.shape[1]), np.float32)
        for s, pw in zip(sb, p):
            s = int(s)
            lo = max(covered, s)  # frames already scored by an earlier window keep that score
            hi = min(s + L, n)
            if hi > lo:
                out[lo:hi] = pw[:, lo - s : hi - s].T
                covered = hi
    return out


# ============================================================================ proposals and refinement
def _as_proposals(proposals) -> pd.DataFrame:
    if isinstance(proposals, pd.DataFrame):
        p = proposals.copy()
    else:
        a = np.asarray(proposals, dtype=float).reshape(
            -1, np.shape(proposals)[-1] if len(np.shape(proposals)) > 1 else 2
        )
        p = pd.DataFrame(a[:, :2], columns=["start", "end"])
        if a.shape[1] > 2:
            p["score"] = a[:, 2]
    if "score" not in p:
        p["score"] = 1.0
    return p[["start", "end", "score"]].reset_index(drop=True)


def sliding_window_proposals(n_frames: int, fps: float, window_seconds, stride_fraction: float) -> pd.DataFrame:
    """Multi-scale sliding windows (start, end in seconds, score 1.0).

    For each length w: windows of round(w x fps) frames starting every max(1, round(length x stride_fraction))
    frames at 0, stride, ... up to the last start that fits.  Windows longer than the video are skipped; a
    video shorter than every window gets one window over the whole video.
    """
    rows = []
    for w in window_seconds:
        wf = max(1, int(round(w * fps)))
        if wf > n_frames:
            continue
        stride = max(1, int(round(wf * stride_fraction)))
        for s in range(0, n_frames - wf + 1, stride):
            rows.append((s, s + wf))
    if not rows and n_frames > 0:
        rows.append((0, n_frames))
    fr = np.array(sorted(set(rows)), dtype=float).reshape(-1, 2)
    return pd.DataFrame(dict(start=fr[:, 0] / fps, end=fr[:, 1] / fps, score=np.ones(len(fr))))


def _frames_of(start: float, end: float, fps: float, n: int) -> tuple[int, int]:
    a = int(np.clip(round(start * fps), 0, max(n - 1, 0)))
    b = int(np.clip(round(end * fps), a + 1, n))
    return a, b


def _extended(a: int, b: int, alpha: float, n: int) -> tuple[int, int]:
    ext = int(round(alpha * (b - a)))
    return max(0, a - ext), min(n, b + ext)


def _classify(scores: np.ndarray, ea: int, eb: int) -> int:
    return int(np.argmax(scores[ea:eb].mean(0)))


def _labelled(scores: np.ndarray, fps: float, proposals, alpha: float, background: int | None):
    """The steps :func:`classify_only` and :func:`refine` share: for each proposal, its frames [a, b), the
    extension [ea, eb) by alpha on each side, the label of highest mean score over the extension and the
    proposal's score -- (a, b, ea, eb, label, proposal score); proposals labelled background are skipped."""
    n, C = scores.shape
    background = C - 1 if background is None else background
    for s, e, ps in _as_proposals(proposals).itertuples(index=False):
        a, b = _frames_of(s, e, fps, n)
        ea, eb = _extended(a, b, alpha, n)
        lab = _classify(scores, ea, eb)
        if lab != background:
            yield a, b, ea, eb, lab, ps


def segment_score(scores: np.ndarray, label: int, i: int, j: int, alpha: float) -> float:
    """Detection confidence of frames [i, j) for class `label`: the label's mean score inside minus its mean score
    in the two flanks of alpha x (j - i) frames just outside (clamped to the video; no flank counts 0).

    The paper ranks by its proposals' own scores ([36]), which sliding windows lack; the inside mean alone
    ties every window that lies inside a long action with the window that fits it, the contrast does not.
    """
    n = len(scores)
    f = max(1, int(round(alpha * (j - i))))
    inside = float(scores[i:j, label].mean())
    flank = np.concatenate([scores[max(0, i - f) : i, label], scores[j : min(n, j + f), label]])
    return inside - (float(flank.mean()) if len(flank) else 0.0)


def classify_only(
    scores: np.ndarray, fps: float, proposals, alpha: float = 0.25, background: int | None = None
) -> pd.DataFrame:
    """Paper Table 9 'before refinement': each proposal with the label of refine(), boundaries unchanged.

    The label is the argmax (background included) of the mean per-frame score over the proposal extended
    by alpha of its length on each side; background proposals are dropped.  Output: start, end (seconds, the
    proposal's own), label (class index), score = :func:`segment_score` of the proposal x the proposal's score.
    """
    scores = np.asarray(scores)
    rows = [
        (a / fps, b / fps, lab, segment_score(scores, lab, a, b, alpha) * ps)
        for a, b, ea, eb, lab, ps in _labelled(scores, fps, proposals, alpha, background)
    ]
    return pd.DataFrame(rows, columns=["start", "end", "label", "score"]).astype({"label": int})


def refine(
    scores: np.ndarray, fps: float, proposals, alpha: float = 0.25, beta: float = 2.0, background: int | None = None
) -> pd.DataFrame:
    """The paper's boundary refinement (section 5, after Shou et al.'s CDC) of each proposal on per-frame scores.

    ``scores``: (n_frames, K+1) per-frame softmax; ``proposals``: start, end in seconds (and optionally a
    score; default 1).  For a proposal covering frames [a, b) (seconds x fps, rounded):

    1. extend it by alpha x (b - a) frames on each side (clamped to the video): [ea, eb);
    2. label = argmax over all classes, background included, of the mean score over [ea, eb); a proposal
       labelled background is dropped;
    3. mu, sigma = mean and standard deviation of that label's per-frame scores over [ea, eb);
    4. shrink each boundary inward from the extended ends, frame by frame, until the label's score at the
       boundary frame is higher than mu - beta x sigma; the refined segment is [first such frame, last such
       frame + 1).  (sigma = 0: every frame equals mu, none is higher; the extended segment is kept.)

    Output: start, end (seconds), label (class index), score = :func:`segment_score` of the refined segment
    (the label's mean score inside it minus its mean in the alpha-length flanks just outside) x the proposal's
    score (1 for sliding windows).  The paper does not say how its detections are scored (its proposals come
    scored from [36]); the inside-minus-flanks contrast ranks a segment that fits an action above a window
    lying inside a longer action, which the inside mean alone cannot (every such window would score ~1).
    """
    scores = np.asarray(scores)
    rows = []
    for a, b, ea, eb, lab, ps in _labelled(scores, fps, proposals, alpha, background):
        act = scores[ea:eb, lab].astype(np.float64)
        mu, sd = act.mean(), act.std()
        above = np.flatnonzero(act > mu - beta * sd)
        if len(above) == 0:
            i, j = ea, eb
        else:
            i, j = ea + int(above[0]), ea + int(above[-1]) + 1
        rows.append((i / fps, j / fps, lab, segment_score(scores, lab, i, j, alpha) * ps))
    return pd.DataFrame(rows, columns=["start", "end", "label", "score"]).astype({"label": int})


def temporal_nms(dets: pd.DataFrame, tiou: float | None, by: str = "label") -> pd.DataFrame:
    """Greedy non-maximum suppression per ``by`` group: drop a detection whose tIoU with a higher-scored kept one exceeds tiou."""
    if tiou is None or len(dets) == 0:
        return dets.reset_index(drop=True)
    keep = []
    for _, g in dets.groupby(by, sort=False):
        g = g.sort_values("score", ascending=False, kind="mergesort")
        s, e, idx = g.start.to_numpy(), g.end.to_numpy(), g.index.to_numpy()
        alive = np.ones(len(g), bool)
        for k in range(len(g)):
            if not alive[k]:
                continue
            keep.append(idx[k])
            inter = np.clip(np.minimum(e[k], e) - np.maximum(s[k], s), 0, None)
            union = (e[k] - s[k]) + (e - s) - inter
            iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
            alive &= ~(iou > tiou)
            alive[k] = False
    return dets.loc[sorted(keep)].reset_index(drop=True)


def localize_videos(
    scores_by_video: dict,
    fps_by_video: dict,
    proposals_by_video: dict,
    classes: list[str],
    refined: bool = True,
    alpha: float = 0.25,
    beta: float = 2.0,
    nms_tiou: float | None = None,
) -> pd.DataFrame:
    """Detections (video_id, label name, score, start, end) of every video: refine() or classify_only(), then optional NMS."""
    K = len(classes)
    out = []
    for vid in sorted(scores_by_video):
        sc_ = scores_by_video[vid]
        props = proposals_by_video.get(vid)
        if props is None or len(props) == 0:
            continue
        d = (
            refine(sc_, fps_by_video[vid], props, alpha, beta, K)
            if refined
            else classify_only(sc_, fps_by_video[vid], props, alpha, K)
        )
        d = temporal_nms(d, nms_tiou)
        d.insert(0, "video_id", vid)
        out.append(d)
    if not out:
        return pd.DataFrame(
            {
                "video_id": pd.Series(dtype=str),
                "label": pd.Series(dtype=str),
                "score": pd.Series(dtype=float),
                "start": pd.Series(dtype=float),
                "end": pd.Series(dtype=float),
            }
        )
    d = pd.concat(out, ignore_index=True)
    d["label"] = [classes[i] for i in d.label]
    return d[["video_id", "label", "score", "start", "end"]]


def tune_beta(
    scores_by_video: dict,
    fps_by_video: dict,
    proposals_by_video: dict,
    gt: pd.DataFrame,
    classes: list[str],
    grid,
    tiou_thresholds,
    alpha: float = 0.25,
    protocol: str = "activitynet",
    nms_tiou: float | None = None,
) -> tuple[float, pd.DataFrame]:
    """Choose beta from ``grid`` by average mAP (slac_utils.detection_eval) on held-out videos; returns (beta, table beta/average_mAP).

    Ties go to the first grid value.  ``gt``: video_id, label, start, end of the held-out videos.
    """
    from .detection_eval import evaluate

    rows = []
    for b in grid:
        det = localize_videos(
            scores_by_video, fps_by_video, proposals_by_video, classes, True, alpha, float(b), nms_tiou
        )
        det = det[det.label.isin(set(gt.label))]  # a class without ground truth here cannot change any AP
        r = evaluate(gt, det, list(tiou_thresholds), protocol=protocol)
        rows.append(dict(beta=float(b), average_mAP=float(r["average_mAP"])))
    table = pd.DataFrame(rows)
    best = float(table.beta.iloc[int(np.argmax(table.average_mAP.to_numpy()))])
    return best, table
