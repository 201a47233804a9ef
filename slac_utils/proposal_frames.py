"""Stage 03's per-video step: the frames the proposal models see, decoded and described once per video.

Stage 03 reads frames of every candidate video three times over: the frames model's training frames, the
background frames of low-person shots, and X, one frame per person shot (paper 3.6; 1.75M frames at paper
scale).  :func:`frame_inputs` gathers every frame a table asks for video by video and runs one runner step
(:func:`frame_step`, through :func:`slac_utils.compute.run_step`, local or Ray) that decodes a video's frames,
square-resizes them to ``proposals.image_size`` and applies what is fixed before training:

* ``inputs``: the backbone's frozen descriptor (``efficientnet_lite0``: ImageNet EfficientNet-Lite0 features,
  ``features``: the weight-free HOG + colour descriptor), or the resized uint8 frames themselves for the CNNs
  trained end to end (``small``, ``resnet50``), whose input cannot be computed before their training;
* ``pool5``: with ``proposals.resnet50_weights``, ImageNet ResNet-50 pool5 of the frame at 224 px (f(x) of R(x),
  paper 3.7).

Cached per (file content, the video's frame list, backbone, size, weights), a re-run of stage 03 with other
training params (epochs, lr, holdout) decodes nothing, and a video added to the crawl is the only one decoded.
The trained heads then score the gathered features in the stage's process (a small MLP on a matrix).

Step row (one per video): ``video_id, path, sha256, frames`` (sorted distinct indices) and ``key_extra`` (their
digest).  Result: ``inputs`` (flattened float32 descriptor or uint8 frames, frame-major), ``pool5`` (flattened
float32, or empty).
"""

from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import pandas as pd

from .compute import Step, run_step
from .config import ComputeConfig
from .models.proposal_nets import make_descriptor
from .proposals import square_resize
from .video.decode import read_frames


class FrameEncoders:
    """What one worker applies to a video's resized frames: the backbone's descriptor (None: the frames
    themselves) and, given ResNet-50 weights, the pool5 embedder; built once per worker."""

    def __init__(self, backbone: str, image_size: int, resnet50_weights: str | None):
        self.desc = make_descriptor(backbone, image_size)
        self.pool5 = None
        if resnet50_weights:
            from .features import ResNet50Embedder  # deferred: torchvision loads only when weights are given

            self.pool5 = ResNet50Embedder(resnet50_weights)


def _process(cfg, enc: FrameEncoders, r) -> dict:
    frames = read_frames(r.path, list(r.frames))
    images = np.stack([square_resize(f, cfg.image_size) for f in frames]) if len(frames) else _empty(cfg)
    inputs = enc.desc(images).astype(np.float32) if enc.desc is not None else images
    pool5 = np.zeros(0, np.float32)
    if enc.pool5 is not None and len(images):
        pool5 = enc.pool5.embed(np.stack([square_resize(f, 224) for f in images])).astype(np.float32)
    return dict(inputs=inputs.reshape(-1), pool5=pool5.reshape(-1), n=len(images))


def _empty(cfg) -> np.ndarray:
    return np.zeros((0, cfg.image_size, cfg.image_size, 3), np.uint8)


def frame_step(cfg, backbone: str) -> Step:
    """The runner step of stage 03 (see the module docstring); ``backbone``: the resolved one."""
    setup = partial(FrameEncoders, backbone, cfg.image_size, cfg.resnet50_weights)
    weights = _file_tag(cfg.resnet50_weights)
    desc = make_descriptor(backbone, cfg.image_size)
    info = desc.info() if hasattr(desc, "info") else {}
    threads = cfg.threads if (backbone == "efficientnet_lite0" or cfg.resnet50_weights) else None  # a network
    return Step(
        name=f"proposal_frames_{backbone}",
        version="1",
        process=partial(_process, cfg),
        setup=setup,
        params=dict(backbone=backbone, image_size=cfg.image_size, resnet50=weights, descriptor=info),
        resources={"cpus": 1, "gpus": 0},
        threads=threads,
    )


def _file_tag(path) -> str | None:
    """A weights file named by its path, size and mtime (it is read once per worker, never hashed per run)."""
    if not path:
        return None
    from .compute.files import stat_key

    return stat_key(path)


def video_rows(table: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    """One step row per video of ``table`` (rows video_id, path, frame): its distinct frames, sorted, and their
    digest as ``key_extra``; ``sha256`` from the manifest where it has the video."""
    g = table.groupby(["video_id", "path"], sort=True).frame
    per = g.apply(lambda f: sorted({int(i) for i in f})).rename("frames").reset_index()
    per["key_extra"] = [hashlib.sha256(repr(f).encode()).hexdigest()[:16] for f in per.frames]
    if "sha256" in manifest:
        per = per.merge(manifest[["video_id", "sha256"]].drop_duplicates("video_id"), on="video_id", how="left")
        per["sha256"] = per.sha256.fillna("")
    return per


def frame_inputs(
    table: pd.DataFrame,
    manifest: pd.DataFrame,
    cfg,
    backbone: str,
    compute=None,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, str]]:
    """(inputs, pool5, ok, failures) for the rows (video_id, path, frame) of ``table``, in its order: the inputs of
    each frame (descriptor vectors (N, D) or frames (N, S, S, 3)), its pool5 (N, 2048; (N, 0) without weights),
    whether its video could be read (rows of unreadable videos are zeros), and {video_id: reason}."""
    table = table.reset_index(drop=True)
    rows = video_rows(table, manifest)
    res, _ = run_step(frame_step(cfg, backbone), rows, compute or ComputeConfig(cache_dir=None), progress, "frames")
    at, failures, shape, pdim = {}, {}, None, 0
    for r, t in zip(rows.itertuples(index=False), res.itertuples(index=False)):
        if t.status != "ok":
            failures[r.video_id] = f"frames could not be read: {t.error}"
            continue
        n = int(t.n)
        x = np.asarray(t.inputs).reshape(n, -1) if n else None
        p = np.asarray(t.pool5, np.float32).reshape(n, -1) if n and len(t.pool5) else np.zeros((n, 0), np.float32)
        shape, pdim = (shape or (x.shape[1:] if x is not None else None)), max(pdim, p.shape[1])
        for i, f in enumerate(r.frames):
            at[(r.video_id, f)] = (x[i], p[i])
    width = shape if shape is not None else (0,)
    is_image = make_descriptor(backbone, cfg.image_size) is None  # CNNs trained end to end take the frames
    dtype = np.uint8 if is_image else np.float32
    inputs = np.zeros((len(table), *width), dtype)
    pool5 = np.zeros((len(table), pdim), np.float32)
    ok = np.zeros(len(table), bool)
    for i, (vid, f) in enumerate(zip(table.video_id, table.frame)):
        hit = at.get((vid, int(f)))
        if hit is not None:
            inputs[i], ok[i] = hit[0], True
            if pdim:
                pool5[i] = hit[1]
    if is_image:
        inputs = inputs.reshape(len(table), cfg.image_size, cfg.image_size, 3)
    return inputs, pool5, ok, failures
