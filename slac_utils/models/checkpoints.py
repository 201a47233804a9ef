"""Trained models on disk, one layout for every stage that trains (06, 08, 09):

``<model_dir>/last.pt``   written by :func:`save_checkpoint` after every epoch (atomically; no wall-clock time in it,
                          so it is byte-reproducible): ``model`` (state dict), ``optimizer``, ``epoch``, ``log``
                          (one row per epoch), ``meta``. A restarted run resumes from it (:mod:`slac_utils.engine.train`).
``<model_dir>/meta.json`` what a later stage needs to rebuild the model without the training code: classes,
                          background index, architecture (depth, width, frames, crop, ...), where it started from.
``<model_dir>/log.csv``   the per-epoch log (a DVC plot), written by the training loop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

CHECKPOINT = "last.pt"
META = "meta.json"


def save_checkpoint(path, model, opt, epoch: int, log: list[dict], meta: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    m = model.module if hasattr(model, "module") else model
    tmp = path.with_suffix(".tmp")
    # wall-clock seconds stay out of the file: a checkpoint is a DVC output and must be byte-reproducible
    log = [{k: v for k, v in row.items() if k != "seconds"} for row in log]
    torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch, "log": log, "meta": meta}, tmp)
    os.replace(tmp, path)  # atomic: an interruption never leaves a half-written checkpoint


def load_checkpoint(path, device="cpu") -> dict:
    """The whole checkpoint (model, optimizer, epoch, log, meta) of ``path`` (a file, or a model dir)."""
    path = Path(path)
    return torch.load(path / CHECKPOINT if path.is_dir() else path, map_location=device, weights_only=False)


def load_state(path) -> dict:
    """The model's state dict: the ``model`` entry of a checkpoint, or the file itself when it holds a bare state dict
    (``transfer.pretrained`` files)."""
    state = load_checkpoint(path)
    return state.get("model", state)


def write_meta(model_dir, **meta) -> Path:
    """``<model_dir>/meta.json``: sorted keys, two-space indent, a final newline (values JSON cannot hold: str)."""
    path = Path(model_dir) / META
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str) + "\n")
    return path


def read_meta(model_dir) -> dict:
    return json.loads((Path(model_dir) / META).read_text())


def load_trained(model_dir) -> tuple[dict, dict]:
    """(state dict, meta) of a trained model directory."""
    return load_state(model_dir), read_meta(model_dir)
