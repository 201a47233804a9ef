"""Calibrate the cosine threshold of the weight-free signature embedder (dedup.gamma.signature).

Generates a separately seeded demo world (seed 1) with planted near-duplicates and siblings, and
prints the similarity of planted-duplicate pairs versus different-video pairs of the same class with
the precision/recall of each threshold; the shipped default sits in the gap.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils import dedup as D, ingest  # noqa: E402
from slac_utils.config import DedupConfig, DemoConfig, IngestConfig  # noqa: E402
from slac_utils.demo_world import generate, load_truth  # noqa: E402
from slac_utils.features import SignatureEmbedder, video_features  # noqa: E402


def main(seed: int = 1):
    out = Path(tempfile.mkdtemp()) / "demo"
    generate(DemoConfig(seed=seed, videos_per_class=16, duplicate_prob=0.3, web_images_per_class=0, background_images=0), out, progress=False)
    m = ingest.build_manifest(ingest.list_csv(out / "videos.csv", out / "videos"), IngestConfig(), progress=False)
    cfg = DedupConfig()
    X, ids, _ = video_features(m, SignatureEmbedder(), cfg, progress=False)
    A = D.prepare_features(X, "signature")
    meta = m.set_index("video_id").loc[ids].reset_index()
    truth = load_truth(out)["videos"]
    pairs = D._truth_pairs(meta, A, truth)
    dup = pairs[pairs.pair == "planted duplicate"].cosine
    other = pairs[pairs.pair != "planted duplicate"].cosine
    print(f"planted duplicates: min {dup.min():.3f}  5% {dup.quantile(0.05):.3f}; other same-class pairs: max {other.max():.3f}  99.9% {other.quantile(0.999):.3f}")
    print(f"gap midpoint: {(dup.min() + other.max()) / 2:.3f}")
    print(D.pr_vs_threshold(meta, A, truth, [0.7, 0.75, 0.8, 0.82, 0.85, 0.88, 0.9], "best_quality", 0).to_string(index=False))


if __name__ == "__main__":
    main()
