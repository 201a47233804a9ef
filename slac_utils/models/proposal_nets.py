"""The networks of the two proposal models of paper section 3.6 (Y: video frames, G: web images); the wrapper that
trains and applies them is ``proposals.ProposalModel``. Backbones: ``features`` (an MLP on a fixed HOG + colour
descriptor, weight-free), ``efficientnet_lite0`` (an MLP head on frozen ImageNet EfficientNet-Lite0 features, weights in a package),
``small_cnn`` (trained from scratch), ``resnet50`` (ImageNet ResNet-50, paper; local weights file).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn as nn

from ..video.decode import IMAGENET_MEAN, IMAGENET_STD
from .efficientnet import FrozenFeatures, available

MEAN = torch.from_numpy(IMAGENET_MEAN).view(1, 3, 1, 1)
STD = torch.from_numpy(IMAGENET_STD).view(1, 3, 1, 1)
BACKGROUND = "__background__"


# ----------------------------------------------------------------------------- models
class SmallCNN(nn.Module):
    """A compact CNN for CPU demos: a 4x4/4 patchify stem, three conv stages (the last is 'conv5'),
    average + max pooling (max keeps small context objects: balls, ropes), a linear classifier."""

    def __init__(self, n_out: int, width: int = 32):
        super().__init__()
        c = [width, width * 2, width * 4, width * 8]

        def block(i, o, stride):
            return nn.Sequential(
                nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True)
            )

        self.stages = nn.Sequential(
            nn.Sequential(nn.Conv2d(3, c[0], 4, stride=4, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True)),
            block(c[0], c[1], 2),
            block(c[1], c[2], 2),
            block(c[2], c[3], 1),
        )
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(2 * c[3], n_out)
        self.feature_dim = 2 * c[3]

    def conv5(self, x):
        return self.stages(x)

    def forward(self, x):
        m = self.conv5(x)
        f = torch.cat([m.mean((2, 3)), m.amax((2, 3))], 1)
        return self.fc(self.dropout(f)), f


class ResNet50Classifier(nn.Module):
    """torchvision ResNet-50 with a K+1 head (paper); conv5 = layer4."""

    def __init__(self, n_out: int, weights_path: str | None = None):
        super().__init__()
        import torchvision  # deferred: torchvision loads only when this backend runs

        m = torchvision.models.resnet50(weights=None)
        if weights_path:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
            m.load_state_dict({k: v for k, v in state.items() if not k.startswith("fc.")}, strict=False)
        m.fc = nn.Linear(2048, n_out)
        self.m = m
        self.feature_dim = 2048

    def conv5(self, x):
        m = self.m
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        return m.layer4(m.layer3(m.layer2(m.layer1(x))))

    def forward(self, x):
        f = self.conv5(x).mean((2, 3))
        return self.m.fc(f), f


class Descriptor:
    """Weight-free image descriptor for the CPU demo: HOG (shape, pose) + square-rooted HSV colour histograms
    over the whole image and its four quadrants (context objects are mostly a colour in a place)."""

    def __init__(self, size: int):
        cell = max(8, size // 7)
        win = cell * (size // cell)
        self.size, self.win = size, win
        self.hog = cv2.HOGDescriptor((win, win), (2 * cell, 2 * cell), (cell, cell), (cell, cell), 9)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        out = []
        h = self.size // 2
        for im in images:
            g = cv2.cvtColor(im[: self.win, : self.win], cv2.COLOR_RGB2GRAY)
            parts = [self.hog.compute(g).ravel()]
            hsv = cv2.cvtColor(im, cv2.COLOR_RGB2HSV)
            for y0, y1, x0, x1 in (
                (0, 2 * h, 0, 2 * h),
                (0, h, 0, h),
                (0, h, h, 2 * h),
                (h, 2 * h, 0, h),
                (h, 2 * h, h, 2 * h),
            ):
                c = cv2.calcHist([hsv[y0:y1, x0:x1]], [0, 1, 2], None, [12, 4, 4], [0, 180, 0, 256, 0, 256]).ravel()
                parts.append(np.sqrt(c / max(c.sum(), 1)))
            out.append(np.concatenate(parts))
        return np.asarray(out, np.float32)


class FeatureMLP(nn.Module):
    """Standardised descriptor -> one hidden layer -> K+1 logits."""

    def __init__(self, dim: int, n_out: int, hidden: int = 256):
        super().__init__()
        self.register_buffer("mu", torch.zeros(dim))
        self.register_buffer("sd", torch.ones(dim))
        self.net = nn.Sequential(
            nn.Dropout(0.2), nn.Linear(dim, hidden), nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, n_out)
        )

    def forward(self, d):
        return self.net((d - self.mu) / self.sd)


def resolve_backbone(cfg) -> str:
    """proposals.backbone with auto resolved: efficientnet_lite0 when its two packages are installed, else features."""
    if cfg.backbone != "auto":
        return cfg.backbone

    return "efficientnet_lite0" if available() else "features"


def make_descriptor(backbone: str, image_size: int):
    """The fixed descriptor of a descriptor backbone (None for the CNNs trained end to end)."""
    if backbone == "efficientnet_lite0":
        return FrozenFeatures()
    return Descriptor(image_size) if backbone == "features" else None


def make_model(cfg, n_out: int) -> nn.Module:
    return ResNet50Classifier(n_out, cfg.resnet50_weights) if cfg.backbone == "resnet50" else SmallCNN(n_out)
