"""Calibrate the cosine threshold γ of a de-dup embedder (dedup.gamma.<embedder>).

On demo worlds with planted near-duplicates and siblings (``--world DIR``, repeatable, generated with
``python -m slac_utils.demo.world --params <params with demo.seed> --out DIR``; without ``--world`` a
small world of ``--seed`` is generated in a temporary folder) it prints the cosine of planted-duplicate
pairs versus different-video pairs of the same class, the gap between them and the precision/recall of
each threshold.  With ``--real-footage DIR`` (``DIR/truth/dups.csv``: video_a, video_b, relation
copy|distinct_shared_footage|distinct, transform; the videos anywhere under DIR, file stem = video id)
it also prints the gap on real footage: min copy similarity versus max distinct similarity.

``--center yes|no`` overrides the feature preparation of ``dedup.prepare_features`` (centring on the
corpus mean) to compare the two; the shipped γ sits in the gap of every world.

    .venv/bin/python bench/calibrate_dedup.py --embedder efficientnet_lite0 --world /tmp/demo_s0 --world /tmp/demo_s1
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils import dedup as D  # noqa: E402
from slac_utils import ingest
from slac_utils.config import DedupConfig, DemoConfig, IngestConfig  # noqa: E402
from slac_utils.demo.world import generate, load_truth  # noqa: E402
from slac_utils.features import make_embedder, video_features  # noqa: E402

GRID = [0.7, 0.75, 0.8, 0.82, 0.85, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99]
VIDEO_ENDINGS = {".mp4", ".webm", ".mkv", ".avi", ".mov", ".m4v"}


def prepare(X: np.ndarray, embedder: str, center: str) -> np.ndarray:
    if center == "auto":
        return D.prepare_features(X, embedder)
    return D.normalize_rows(X - X.mean(0) if center == "yes" else X)


def cached_features(m: pd.DataFrame, emb, cfg: DedupConfig, cache: Path | None):
    """video_features, remembered in <cache>/<embedder>-<digest of the listed paths and sampling settings>.npz."""
    import hashlib

    how = {k: getattr(cfg, k, None) for k in ("fps", "min_frames", "max_frames", "short_edge", "crop", "drop_borders")}
    key = hashlib.sha1(
        ("\n".join(map(str, sorted(m.path))) + repr(sorted(how.items())) + repr(emb.info())).encode()
    ).hexdigest()[:12]
    f = cache / f"{emb.name}-{key}.npz" if cache else None
    if f is not None and f.exists():
        z = np.load(f, allow_pickle=False)
        return z["X"], list(z["ids"]), {}
    X, ids, failed = video_features(m, emb, cfg, progress=False)
    if f is not None:
        f.parent.mkdir(parents=True, exist_ok=True)
        np.savez(f, X=X, ids=np.array(ids))
    return X, ids, failed


def demo_world(world: Path, emb, cfg: DedupConfig, center: str, cache: Path | None = None) -> dict:
    m = ingest.build_manifest(ingest.list_csv(world / "videos.csv", world / "videos"), IngestConfig(), progress=False)
    X, ids, _ = cached_features(m, emb, cfg, cache)
    A = prepare(X, emb.name, center)
    meta = m.set_index("video_id").loc[ids].reset_index()
    truth = load_truth(world)["videos"]
    pairs = D._truth_pairs(meta, A, truth)
    dup = pairs[pairs.pair == "planted duplicate"].cosine
    sib = pairs[pairs.pair == "sibling (same actor+scene)"].cosine
    other = pairs[pairs.pair != "planted duplicate"].cosine
    print(f"\n== {world} ({len(ids)} videos, embedder {emb.name}, centre {center})")
    print(
        f"planted duplicates ({len(dup)}): min {dup.min():.4f}  5% {dup.quantile(0.05):.4f}; siblings ({len(sib)}): max {sib.max() if len(sib) else float('nan'):.4f}; "
        f"other same-class pairs ({len(other)}): max {other.max():.4f}  99.9% {other.quantile(0.999):.4f}"
    )
    print(
        f"gap: ({other.max():.4f}, {dup.min():.4f}) width {dup.min() - other.max():+.4f}, midpoint {(dup.min() + other.max()) / 2:.4f}"
    )
    print(D.pr_vs_threshold(meta, A, truth, GRID, "best_quality", 0).to_string(index=False))
    return dict(world=str(world), dup_min=float(dup.min()), other_max=float(other.max()))


def real_footage(root: Path, emb, cfg: DedupConfig, center: str, cache: Path | None = None) -> dict | None:
    truth_csv = root / "truth" / "dups.csv"
    if not truth_csv.exists():
        print(f"\n== real footage: {truth_csv} does not exist (not measured)")
        return None
    pairs = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    files = {p.stem: p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_ENDINGS}
    ids = sorted(set(pairs.video_a) | set(pairs.video_b))
    absent = [v for v in ids if v not in files]
    listing = pd.DataFrame(
        dict(
            video_id=[v for v in ids if v in files],
            class_label="real",
            path=[str(files[v]) for v in ids if v in files],
            url="",
            title="",
            listing_error="",
        )
    )
    m = ingest.build_manifest(listing, IngestConfig(), progress=False)
    X, got, failed = cached_features(m, emb, cfg, cache)
    A = prepare(X, emb.name, center)
    pos = {v: i for i, v in enumerate(got)}
    ok = pairs[pairs.video_a.isin(pos) & pairs.video_b.isin(pos)].copy()
    ok["cosine"] = [float(A[pos[a]] @ A[pos[b]]) for a, b in zip(ok.video_a, ok.video_b)]
    print(
        f"\n== real footage {root} ({len(got)} videos; {len(absent)} listed but absent, {len(failed)} unreadable; embedder {emb.name}, centre {center})"
    )
    print(ok.groupby("relation").cosine.describe().to_string())
    if "transform" in ok:
        print(ok[ok.relation == "copy"].groupby("transform").cosine.agg(["count", "min", "mean"]).to_string())
    copy_min = ok.loc[ok.relation == "copy", "cosine"].min()
    dist_max = ok.loc[ok.relation != "copy", "cosine"].max()
    print(
        f"gap: max distinct {dist_max:.4f} (shared footage included), min copy {copy_min:.4f}, width {copy_min - dist_max:+.4f}"
    )
    return dict(world=str(root), dup_min=float(copy_min), other_max=float(dist_max))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedder", default="signature", choices=["signature", "efficientnet_lite0", "resnet50"])
    ap.add_argument("--resnet50-weights", default=None)
    ap.add_argument("--world", action="append", type=Path, default=[], help="a generated demo world (repeatable)")
    ap.add_argument("--seed", type=int, default=1, help="without --world: generate a small world of this seed")
    ap.add_argument("--real-footage", type=Path, default=None, help="real-footage benchmark folder (truth/dups.csv)")
    ap.add_argument("--center", choices=["auto", "yes", "no"], default="auto", help="auto: as dedup.prepare_features")
    ap.add_argument("--cache", type=Path, default=None, help="keep per-world features here (re-runs skip the network)")
    a = ap.parse_args(argv)
    cfg = DedupConfig(embedder=a.embedder, resnet50_weights=a.resnet50_weights)
    emb = make_embedder(cfg)
    worlds = list(a.world)
    if not worlds:
        out = Path(tempfile.mkdtemp()) / "demo"
        generate(
            DemoConfig(
                seed=a.seed, videos_per_class=16, duplicate_prob=0.3, web_images_per_class=0, background_images=0
            ),
            out,
            progress=False,
        )
        worlds = [out]
    res = [demo_world(w, emb, cfg, a.center, a.cache) for w in worlds]
    if a.real_footage is not None:
        r = real_footage(a.real_footage, emb, cfg, a.center, a.cache)
        res += [r] if r else []
    lo, hi = max(r["other_max"] for r in res), min(r["dup_min"] for r in res)
    print(
        f"\ncommon gap over {len(res)} set(s): ({lo:.4f}, {hi:.4f}), width {hi - lo:+.4f}, midpoint {(lo + hi) / 2:.4f}; current γ = {cfg.gamma.get(emb.name)}"
    )


if __name__ == "__main__":
    main()
