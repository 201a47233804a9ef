"""Per-video cost of stages 00-02 on one 2.6-minute 640x360 30 fps H.264 video, per backend.

The video is the benchmark's ``bench_156s.mp4`` (4,680 frames of real footage, sources looped).  Each step
runs as its stage runs it, on this one file, in this process (``--threads`` torch/OpenCV threads):

* 00 ingest — ``ingest.probe`` (SHA-256 of the file, open, decode the last frame);
* 01 de-dup features — ``features.video_features`` with each embedder (signature, efficientnet_lite0), and the
  temporal-verification track (``dedup_verify.read_track``; read only for videos that have a candidate pair, so it
  is listed but not added to the totals);
* 02a shots — each detector (histogram, transnetv2) over every frame;
* 02b persons — each person backend (opencv, ssd_mobilenet) on ``frames_per_shot`` frames of each shot the
  histogram detector found (so both backends score the same shots).

Prints seconds per video and the derived videos per core-hour (1 thread) for each combination of the
defaults, and writes ``--out`` (default ``bench/results/real_footage_cost.md``).  On a CUDA machine the
torch models run there too (``--device cuda``); cv2.dnn and OpenCV always run on the CPU.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from slac_utils import ingest  # noqa: E402
from slac_utils import persons as P
from slac_utils import shots as S
from slac_utils.config import DedupConfig, PersonsConfig, ShotsConfig  # noqa: E402
from slac_utils.dedup_verify import read_track  # noqa: E402
from slac_utils.features import make_embedder, video_features  # noqa: E402


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def measure(path: Path, device: str, repeats: int = 1) -> pd.DataFrame:
    rows = []
    meta, secs = timed(lambda: ingest.probe(str(path)))
    rows.append(dict(stage="00 ingest", step="probe + sha256", backend="-", seconds=secs))
    man = pd.DataFrame([dict(video_id="bench_156s", path=str(path), class_label="bench", **meta)])
    for emb_name in ("signature", "efficientnet_lite0"):
        cfg = DedupConfig(embedder=emb_name)
        emb = make_embedder(cfg)
        if hasattr(emb, "device") and device:
            emb.device = device
        _, secs = timed(lambda: video_features(man, emb, cfg, progress=False))
        rows.append(
            dict(stage="01 dedup", step=f"features ({cfg.max_frames} frames max)", backend=emb_name, seconds=secs)
        )
    vcfg = DedupConfig().verify
    _, secs = timed(lambda: read_track(man.iloc[0], vcfg))
    rows.append(
        dict(
            stage="01 dedup",
            step=f"verification track ({vcfg.fps:g} fps, {vcfg.max_frames} frames max; only videos with a candidate pair)",
            backend="signature track",
            seconds=secs,
        )
    )
    shots_by = {}
    for det_name in ("histogram", "transnetv2"):
        cfg = ShotsConfig(detector=det_name, transnet_device=device if det_name == "transnetv2" else None)
        det = S.make_shot_detector(cfg)
        (sh, _), secs = timed(lambda: S.detect_shots(man, cfg, progress=False, detector=det))
        shots_by[det_name] = sh
        rows.append(
            dict(
                stage="02a shots", step=f"{meta['n_frames']} frames -> {len(sh)} shots", backend=det_name, seconds=secs
            )
        )
    sh = shots_by["histogram"]
    for p_name in ("opencv", "ssd_mobilenet"):
        cfg = PersonsConfig(detector=p_name)
        det = P.make_detector(cfg)
        _, secs = timed(lambda: P.score_shots(sh, man, det, cfg, progress=False))
        rows.append(
            dict(
                stage="02b persons",
                step=f"{len(sh)} shots x {cfg.frames_per_shot} frames",
                backend=p_name,
                seconds=secs,
            )
        )
    return pd.DataFrame(rows)


def totals(t: pd.DataFrame) -> pd.DataFrame:
    s = {(r.stage, r.backend): r.seconds for r in t.itertuples()}
    probe = s[("00 ingest", "-")]
    rows = []
    for name, emb, shot, per in (
        ("weight-free (demo defaults)", "signature", "histogram", "opencv"),
        ("CPU defaults on real footage", "efficientnet_lite0", "histogram", "ssd_mobilenet"),
        ("GPU defaults (TransNetV2) run here", "efficientnet_lite0", "transnetv2", "ssd_mobilenet"),
    ):
        sec = probe + s[("01 dedup", emb)] + s[("02a shots", shot)] + s[("02b persons", per)]
        rows.append(
            dict(
                combination=name,
                embedder=emb,
                shots=shot,
                persons=per,
                seconds_per_video=sec,
                videos_per_hour=3600 / sec,
            )
        )
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", type=Path, default=Path("data/real_footage/bench_156s.mp4"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", type=Path, default=HERE.parent / "results" / "real_footage_cost.md")
    a = ap.parse_args(argv)
    if not a.video.exists():
        sys.exit(f"{a.video} not found: build the benchmark first (make real-footage)")
    import cv2
    import torch

    torch.set_num_threads(a.threads)
    cv2.setNumThreads(a.threads)
    t = measure(a.video, a.device)
    tot = totals(t)
    gpu = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else "none"
    text = (
        f"# Per-video cost of stages 00-02\n\n`python bench/real_footage/cost.py --threads {a.threads} --device {a.device}` on "
        f"`{a.video.name}` ({a.threads} CPU thread(s); GPU: {gpu}).\n\n"
        + t.to_markdown(index=False, floatfmt=".2f")
        + "\n\n"
        + tot.to_markdown(index=False, floatfmt=".1f")
        + "\n"
    )
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)


if __name__ == "__main__":
    main()
