"""Res3D training throughput versus data-loading throughput, side by side in one run (paper 4.1).

Measures, on this machine:

* train -- clips/s of one SGD step (forward, backward, update) of Res3D on random input of the clip shape,
  for the CPU demo model (Res3D-18, width 16, 8 x 56 x 72) and the paper model (Res3D-34, width 64,
  32 x 112 x 112 on a GPU; on CPU a 16-frame input so the run stays short -- the report says which);
* load -- clips/s of :class:`slac_utils.data.clips.ClipDataset` training views read from the 2-second clip files
  (decord decode + resize + random crop/flip, RGB; and Farneback flow), with 0 and ``--workers`` DataLoader
  worker processes, no in-memory cache;
* load with the flow precomputed by the runner (:mod:`slac_utils.data.flow_cache`: pair flows once per clip,
  windows assembled from them), the way stages 06-08 read flow when ``compute.cache_dir`` is set;
* the ratio load / train: above 1 the loader keeps the trainer fed.

On a GPU (when ``torch.cuda.is_available()``) the paper model runs in bf16 autocast with channels_last_3d
(the training loop's settings); the goal from the issue is >= 600 clips/s for Res3D-34 at 32 x 112 x 112 on one
H100 (the paper's 64-GPU cluster as a whole).

Reads the demo's clips (data/interim/clips from `make repro`); without them it writes synthetic ones.

    python bench/bench_train.py [--steps 5] [--batch 8] [--workers 2] [--limit 48]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils.config import ComputeConfig  # noqa: E402
from slac_utils.data.clips import ClipDataset  # noqa: E402
from slac_utils.data.flow_cache import precompute_flow  # noqa: E402
from slac_utils.models.res3d import Res3D  # noqa: E402

CLIPS = Path("data/interim/clips")


def train_rate(model: torch.nn.Module, shape: tuple, batch: int, steps: int, device: str) -> float:
    """Clips per second of SGD steps on random input of (batch, *shape), after one warm-up step."""
    cuda = device.startswith("cuda")
    model = model.to(device)
    if cuda:
        model = model.to(memory_format=torch.channels_last_3d)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(batch, *shape, device=device)
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last_3d)
    y = torch.randint(0, model.fc.out_features, (batch,), device=device)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    if cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if cuda:
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - t0)


def load_rate(
    table: pd.DataFrame, T: int, crop, short: int, modality: str, workers: int, batch: int, flow_files=None
) -> float:
    """Clips per second of training views through a DataLoader (no cache); ``flow_files``: precomputed pair flows."""
    ds = ClipDataset(table, T, crop, short, modality, seed=0, cache=False, flow_files=flow_files)

    class _Views(torch.utils.data.Dataset):
        def __len__(self):
            return len(ds)

        def __getitem__(self, i):
            return ds.get(i, epoch=0, draw=i)

    loader = torch.utils.data.DataLoader(_Views(), batch_size=batch, num_workers=workers)
    t0 = time.perf_counter()
    n = sum(len(y) for _, y in loader)
    return n / (time.perf_counter() - t0)


def clip_table(limit: int) -> pd.DataFrame:
    files = sorted(CLIPS.rglob("*.mp4"))[:limit]
    if not files:
        from slac_utils.video.encode import write_h264

        folder = Path(tempfile.mkdtemp())
        rng = np.random.default_rng(0)
        for i in range(limit):
            frames = np.repeat(rng.integers(0, 255, (1, 120, 160, 3), dtype=np.uint8), 30, 0)
            frames = np.stack([np.roll(f, 3 * k, 1) for k, f in enumerate(frames)])
            write_h264(folder / f"c{i:03d}.mp4", frames, 15.0)
        files = sorted(folder.glob("*.mp4"))
        print(f"(no demo clips under {CLIPS}: {len(files)} synthetic 160x120 clips)")
    return pd.DataFrame({"path": [str(f) for f in files], "label_index": 0})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=48, help="clip files read by the loader benchmark")
    a = ap.parse_args()
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    if not cuda:
        torch.set_num_threads(2)
    torch.manual_seed(0)
    table = clip_table(a.limit)
    paper_T = 32 if cuda else 16
    configs = [
        ("demo: Res3D-18 w16, 8x56x72", Res3D(6, depth=18, width=16), (3, 8, 56, 72), 8, (56, 72), 64, a.batch),
        (
            f"paper: Res3D-34 w64, {paper_T}x112x112",
            Res3D(201, depth=34, width=64),
            (3, paper_T, 112, 112),
            paper_T,
            (112, 112),
            128,
            (32 if cuda else 2),
        ),
    ]
    rows = []
    for name, model, shape, T, crop, short, batch in configs:
        steps = a.steps if (cuda or "demo" in name) else 2
        tr = train_rate(model, shape, batch, steps, device)
        row = {"model": name, "device": device + (" bf16" if cuda else ""), "batch": batch, "train clips/s": tr}
        with tempfile.TemporaryDirectory() as cache:  # the runner's flow precompute, not timed
            pre = precompute_flow(table, short, ComputeConfig(cache_dir=cache), progress=False)
            for modality in ("rgb", "flow", "flow precomputed"):
                for w in (0, a.workers):
                    files = pre if modality == "flow precomputed" else None
                    ld = load_rate(table, T, crop, short, modality.split()[0], w, batch, files)
                    row[f"load {modality} w{w} clips/s"] = ld
                row[f"{modality} load/train (w{a.workers})"] = row[f"load {modality} w{a.workers} clips/s"] / tr
        rows.append(row)
        print(pd.DataFrame([row]).T.to_string(header=False, float_format=lambda v: f"{v:.2f}"), "\n", flush=True)
    df = pd.DataFrame(rows)
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    if cuda:
        got = df.iloc[1]["train clips/s"]
        print(
            f"\nRes3D-34 32x112x112 bf16 on {torch.cuda.get_device_name()}: {got:.0f} clips/s (goal >= 600: {'met' if got >= 600 else 'NOT met'})"
        )


if __name__ == "__main__":
    main()
