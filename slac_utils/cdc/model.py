"""The CDC network (conv-deconv head on a Res3D trunk), its parameter counts beside the paper's, and its
training through the one training loop (``train.train``)."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from ..engine.train import train
from ..models.res3d import Res3D, load_trunk
from ..paper import PAPER_SETTINGS


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
    :func:`slac_utils.models.res3d.load_trunk` on ``trunk_model`` before building (or train from scratch).
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
        load_trunk(res, trunk_state)
    return CDC(res, num_classes, frames, crop, channels)


def paper_parameter_counts() -> dict[str, int]:
    """parameter_counts at the paper's settings (Res3D-34, width 64, 32 x 112 x 112, 201 classes), built on the meta device."""
    p = PAPER_SETTINGS
    return parameter_counts(build_cdc(p["num_classes"], p["depth"], p["width"], p["frames"], p["crop"], device="meta"))


# ============================================================================ data


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

    The Res3D training loop (:func:`slac_utils.engine.train.train`) with per-frame labels: ``dataset.get(i, epoch=,
    draw=)`` -> (3 x L x H x W, (L,) labels); ``dataset.labels`` (per item) and ``dataset.background`` give the
    sampling weights ``cfg.pos_weight`` / ``cfg.neg_weight``; each epoch draws ``cfg.windows_per_epoch``
    (default: the dataset's size) items with replacement.  LR: ``cfg.base_lr``, ``warmup_epochs``,
    ``step_epochs``; SGD momentum 0.9.  ``epochs`` overrides ``cfg.epochs`` (CDC pre-training uses
    ``cfg.pretrain_epochs``).  ``<out_dir>/last.pt`` is written atomically after every epoch without wall-clock
    fields (byte-reproducible) and resumed from; every random draw derives from (seed, epoch), so a resumed run
    equals an uninterrupted one.  ``<out_dir>/log.csv``: the log without seconds.  ``stop_after``: end after that
    many epochs of this call.
    """

    run_cfg = SimpleNamespace(
        base_lr=cfg.base_lr,
        momentum=momentum,
        weight_decay=weight_decay,
        workers=workers,
        batch_size=cfg.batch_size,
        pos_weight=cfg.pos_weight,
        neg_weight=cfg.neg_weight,
        neg_weight_scaling=cfg.neg_weight_scaling,
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
