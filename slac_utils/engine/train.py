"""Training loop of the Res3D recognition models (paper section 4.1), readable in one sitting.

* Weighted sampling: every epoch draws ``clips_per_epoch`` clips *with replacement* from the unnormalised
  multinomial over clips with weight ``pos_weight`` (1.0) for positives and ``neg_weight`` (0.02; scaled by
  ``neg_weight_scaling``, :func:`background_weight`) for
  negatives, which all share the background label (K+1-way softmax).
* Learning rate: linear warm-up from ``base_lr`` to ``base_lr x world_size`` over ``warmup_epochs``, then
  divided by 10 every ``step_epochs`` (paper: 0.005 per GPU, 64 GPUs, 10 + 10 + ... for 45 epochs); SGD
  with momentum, set per iteration.
* Resume: ``last.pt`` is written after every epoch (model, optimiser, epoch, log); every random draw of an
  epoch derives from (seed, epoch), so a resumed run gives the same result as an uninterrupted one.
* Devices: CPU, one GPU (bf16 autocast, channels_last_3d) or many with ``torchrun`` (DistributedDataParallel;
  each process takes its slice of the epoch's draws).  Paper scale, 16 hosts x 4 GPUs::

      torchrun --nnodes 16 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint $HOST0:29500 \\
          -m slac_utils.recognition --params params.yaml

A training run writes ``<out_dir>/last.pt`` and ``<out_dir>/log.csv`` (epoch, lr, loss, train_accuracy,
clips, seconds: the DVC plot of the stage).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..models.checkpoints import CHECKPOINT, load_checkpoint, save_checkpoint


def lr_at(epoch: float, base_lr: float, world_size: int, warmup_epochs: float, step_epochs: float) -> float:
    """Learning rate at a (fractional) epoch: linear warm-up to base_lr*world_size, then /10 every step_epochs."""
    peak = base_lr * world_size
    if warmup_epochs > 0 and epoch < warmup_epochs:
        return base_lr + (peak - base_lr) * epoch / warmup_epochs
    return peak * 0.1 ** math.floor((epoch - warmup_epochs) / step_epochs)


def sampling_weights(labels: np.ndarray, background: int, pos_weight: float, neg_weight: float) -> np.ndarray:
    """Unnormalised multinomial weights: neg_weight for background clips, pos_weight for the rest."""
    return np.where(np.asarray(labels) == background, neg_weight, pos_weight).astype(np.float64)


def background_weight(labels: np.ndarray, background: int, cfg) -> float:
    """The sampling weight of background items under ``cfg.neg_weight_scaling`` (``fixed`` when the cfg has none).

    ``fixed``: ``cfg.neg_weight`` as given.  ``background_per_class``: the weight that gives background the share of
    draws relative to one average positive class that ``neg_weight`` gives it in the paper's training set
    (``paper_negative_share`` of the clips negative, over ``paper_classes`` classes: 0.575 x 0.02 against
    0.425 / 200 x 1.0, background drawn 5.4 times as often as a class), here with this set's own counts.  At the
    paper's scale it is ``neg_weight`` itself; on the demo's 5 classes it is about 40 times larger."""
    scaling = getattr(cfg, "neg_weight_scaling", None)
    if scaling is None or scaling.rule == "fixed":
        return float(cfg.neg_weight)
    labels = np.asarray(labels)
    neg = int((labels == background).sum())
    pos = labels[labels != background]
    if neg == 0 or len(pos) == 0:
        return float(cfg.neg_weight)
    share = scaling.paper_negative_share
    ratio = (share * cfg.neg_weight) / ((1 - share) / scaling.paper_classes * cfg.pos_weight)
    per_class = len(pos) / len(np.unique(pos))
    return float(ratio * cfg.pos_weight * per_class / neg)


def epoch_draws(weights: np.ndarray, n: int, seed: int, epoch: int, rank: int = 0, world_size: int = 1) -> np.ndarray:
    """The clips of one epoch: n draws with replacement proportional to weights; process `rank` takes its slice."""
    g = torch.Generator().manual_seed(int(seed) * 100_003 + int(epoch))
    draws = torch.multinomial(torch.as_tensor(weights, dtype=torch.float64), n, replacement=True, generator=g).numpy()
    return draws[rank::world_size]


def cpu_threads(n: int) -> None:
    """torch's intra-op threads when training on the CPU (params: recognition/transfer/localization.threads); no-op on a GPU."""
    if not torch.cuda.is_available():
        torch.set_num_threads(int(n))


def distributed() -> tuple[int, int, int]:
    """(rank, local_rank, world_size), initialising the process group when launched by torchrun."""
    if "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1:
        import torch.distributed as dist  # deferred: only under torchrun

        if not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        return dist.get_rank(), int(os.environ.get("LOCAL_RANK", 0)), dist.get_world_size()
    return 0, 0, 1


class _Subset(torch.utils.data.Dataset):
    def __init__(self, ds, idx, epoch):
        self.ds, self.idx, self.epoch = ds, idx, epoch

    def __len__(self):
        return len(self.idx)

    def __getitem__(self, i):
        return self.ds.get(int(self.idx[i]), epoch=self.epoch, draw=i)


def train(
    model: nn.Module,
    dataset,
    labels: np.ndarray,
    background: int,
    cfg,
    out_dir,
    seed: int = 0,
    resume: bool = True,
    device: str | None = None,
    progress: bool = True,
    stop_after: int | None = None,
    *,
    epochs: int | None = None,
    per_epoch: int | None = None,
    desc: str = "",
    accuracy_key: str = "train_accuracy",
    count_key: str = "clips",
    meta: dict | None = None,
) -> pd.DataFrame:
    """Train with weighted sampling, warm-up + step LR and per-epoch checkpoints; returns the per-epoch log.

    ``dataset.get(index, epoch=, draw=)`` returns (input tensor C x T x H x W, label) with augmentation drawn from
    (seed, epoch, draw); the label is a class index (clip models) or a (T,) tensor of them (per-frame models such
    as CDC: loss and accuracy are then over frames).  ``cfg`` supplies base_lr, momentum, weight_decay, workers,
    batch_size, pos_weight, neg_weight, warmup_epochs, step_epochs and epochs (``epochs`` overrides it) and
    clips_per_epoch (``per_epoch`` overrides it).  The log has columns epoch, lr, loss, ``accuracy_key``,
    ``count_key`` (items drawn), seconds; the checkpoint's meta is ``meta`` (default: seed and background).
    ``stop_after`` ends the run after that many epochs of this call (to test resuming).

    One loop on purpose, readable in one sitting: resume, sampling, warm-up and steps, checkpoint, log."""
    rank, local_rank, world = distributed()
    device = device or (f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    cuda = device.startswith("cuda")
    n_epochs = cfg.epochs if epochs is None else int(epochs)
    meta = dict(seed=seed, background=background) if meta is None else meta
    model = model.to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last_3d)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.base_lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    out_dir = Path(out_dir)
    ckpt = out_dir / CHECKPOINT
    start, log = 0, []
    if resume and ckpt.exists():
        state = load_checkpoint(ckpt, device)
        (model.module if world > 1 else model).load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start, log = state["epoch"], state["log"]
    weights = sampling_weights(labels, background, cfg.pos_weight, background_weight(labels, background, cfg))
    per_epoch = per_epoch or cfg.clips_per_epoch or len(labels)
    steps = max(1, math.ceil(per_epoch / world / cfg.batch_size))
    done = 0
    for epoch in range(start, n_epochs):
        if stop_after is not None and done >= stop_after:
            break
        torch.manual_seed(seed * 1_000_003 + epoch)  # dropout etc.: reproducible per epoch, so resume is exact
        draws = epoch_draws(weights, per_epoch, seed, epoch, rank, world)
        loader = torch.utils.data.DataLoader(
            _Subset(dataset, draws, epoch),
            batch_size=cfg.batch_size,
            shuffle=False,
            num_workers=cfg.workers,
            pin_memory=cuda,
            drop_last=False,
            persistent_workers=False,
        )
        model.train()
        t0, tot, correct, n, items = time.perf_counter(), 0.0, 0, 0, 0
        bar = tqdm(
            loader,
            desc=f"{desc + ' ' if desc else ''}epoch {epoch + 1}/{n_epochs}",
            disable=not progress or rank != 0,
            leave=False,
        )
        for it, (x, y) in enumerate(bar):
            lr = lr_at(epoch + it / steps, cfg.base_lr, world, cfg.warmup_epochs, cfg.step_epochs)
            for gp in opt.param_groups:
                gp["lr"] = lr
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            if cuda:
                x = x.contiguous(memory_format=torch.channels_last_3d)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                logits = model(x)
                loss = F.cross_entropy(logits.float(), y)  # (B, C) vs (B,), or per frame (B, C, T) vs (B, T)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * y.numel()
            correct += int((logits.argmax(1) == y).sum())
            n += y.numel()
            items += len(y)
            bar.set_postfix(loss=f"{tot / n:.3f}", lr=f"{lr:.4g}")
        log.append(
            {
                "epoch": epoch + 1,
                "lr": round(lr, 8),
                "loss": tot / max(n, 1),
                accuracy_key: correct / max(n, 1),
                count_key: items,
                "seconds": time.perf_counter() - t0,
            }
        )
        if rank == 0:
            save_checkpoint(ckpt, model, opt, epoch + 1, log, meta)
        done += 1
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)
        df = pd.DataFrame(log)
        df.drop(columns=["seconds"], errors="ignore").round(6).to_csv(out_dir / "log.csv", index=False)
    return pd.DataFrame(log)


@torch.no_grad()
def predict(
    model: nn.Module, dataset, indices=None, batch_size: int = 16, device: str | None = None, workers: int = 0
) -> np.ndarray:
    """Softmax scores (N, C) of the evaluation view of each clip (``dataset.get(i)`` without augmentation)."""
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device).eval()
    idx = np.arange(len(dataset)) if indices is None else np.asarray(indices)
    loader = torch.utils.data.DataLoader(
        _Subset(dataset, idx, None), batch_size=batch_size, shuffle=False, num_workers=workers
    )
    out = []
    for x, _ in loader:
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.startswith("cuda")):
            out.append(F.softmax(model(x.to(device)).float(), 1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 0))
