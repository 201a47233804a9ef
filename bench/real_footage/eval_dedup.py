"""Near-duplicate removal on the real-footage benchmark, per embedder: precision/recall of the planted
copies, distinct pairs merged, and the PR-versus-γ table.

Videos: every file of the folder-source layout ``videos/<class>/`` (what stage 00 would list), probed by
``ingest.build_manifest`` (the broken files are quarantined there and take no part).  Stage 01's
internal de-dup runs per class; here it runs over **all classes at once** (``class_label`` set to one
value), the harder test: a copy filed under another class, and every distinct pair, count.
A removed video's ``duplicate_of`` is a predicted pair; pairs are closed transitively on both sides
(``truth.dedup_pr``), so a group of k copies is k(k-1)/2 pairs.

Embedders: ``signature`` (weight-free) and ``efficientnet_lite0`` (ImageNet, the default where its
packages are installed), each at its ``dedup.gamma`` of the schema, after ``dedup.prepare_features``.

Output: Markdown on stdout and in ``--out`` (default ``bench/results/real_footage_dedup.md``); features
cached in ``--cache``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from calibrate_dedup import cached_features  # noqa: E402
from truth import copy_groups, copy_recall_by_transform, dedup_pr, load_truth  # noqa: E402

from slac_utils import dedup as D  # noqa: E402
from slac_utils import ingest
from slac_utils.config import DataConfig, DedupConfig, IngestConfig  # noqa: E402
from slac_utils.dedup_verify import PairVerifier  # noqa: E402
from slac_utils.features import make_embedder  # noqa: E402

GRID = [0.8, 0.85, 0.87, 0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99]


def manifest(root: Path) -> pd.DataFrame:
    listing = ingest.list_folder(root / "videos", DataConfig().video_extensions)
    return ingest.build_manifest(listing, IngestConfig(), progress=False)


def predicted_pairs(meta: pd.DataFrame, A: np.ndarray, gamma: float, verify=None) -> list[tuple[str, str]]:
    d = D.internal_dedup(meta.assign(class_label="all"), A, gamma, verify=verify)
    return [(r.video_id, r.duplicate_of) for r in d.itertuples() if not r.kept]


def _row(name, method, gamma, ids, r, secs):
    return dict(
        embedder=name,
        method=method,
        gamma=gamma,
        videos=len(ids),
        precision=r["precision"],
        recall=r["recall"],
        true_pairs=r["n_true_pairs"],
        predicted_pairs=r["n_pred_pairs"],
        distinct_merged=r["distinct_merged"],
        distinct_pairs=r["distinct_pairs"],
        missed=" ".join(f"{a}~{b}" for a, b in r["missed_pairs"][:6]),
        videos_per_s=len(ids) / secs if secs > 1 else float("nan"),
    )


def evaluate(root: Path, cache: Path | None, embedders=("signature", "efficientnet_lite0")):
    m = manifest(root)
    dups = load_truth(root)["dups"]
    ok = m[m.status == "ok"]
    rows, grid_rows, by_tr, verified = [], [], {}, {}
    for name in embedders:
        cfg = DedupConfig(embedder=name)
        emb = make_embedder(cfg)
        t0 = time.perf_counter()
        X, ids, failed = cached_features(ok, emb, cfg, cache)
        secs = time.perf_counter() - t0
        meta = ok.set_index("video_id").loc[ids].reset_index()
        A = D.prepare_features(X, emb.name)
        gamma = cfg.gamma[emb.name]
        r = dedup_pr(predicted_pairs(meta, A, gamma), dups)
        rows.append(_row(name, "mean cosine (paper)", gamma, ids, r, secs))
        verifier = PairVerifier(
            {v.video_id: v for v in meta.itertuples(index=False)}, cfg.verify, cfg.drop_borders, False
        )
        vg = cfg.verify.candidate_gamma[emb.name]
        t0 = time.perf_counter()
        rv = dedup_pr(predicted_pairs(meta, A, vg, verifier), dups)
        rows.append(_row(name, "+ temporal verification", vg, ids, rv, time.perf_counter() - t0 + secs))
        by_tr[f"{name} + verification"] = copy_recall_by_transform(predicted_pairs(meta, A, vg, verifier), dups)
        verified[name] = verifier.table()
        by_tr[name] = copy_recall_by_transform(predicted_pairs(meta, A, gamma), dups)
        for g in GRID:
            q = dedup_pr(predicted_pairs(meta, A, g), dups)
            grid_rows.append(
                dict(
                    embedder=name,
                    gamma=g,
                    precision=q["precision"],
                    recall=q["recall"],
                    distinct_merged=q["distinct_merged"],
                )
            )
    quarantined = m[m.status != "ok"][["video_id", "error"]]
    return pd.DataFrame(rows), pd.DataFrame(grid_rows), pd.DataFrame(by_tr), quarantined, verified


def _verification_summary(v: pd.DataFrame, dups: pd.DataFrame) -> pd.DataFrame:
    """The verifier's decisions, each pair labelled copy / not a copy by the truth (copies closed transitively)."""
    groups = copy_groups(dups)
    v = v.drop_duplicates(["a", "b"]).copy()
    v["truth"] = ["copy" if groups.get(a, a) == groups.get(b, b) else "not a copy" for a, b in zip(v.a, v.b)]
    return v.sort_values(["truth", "verified", "a", "b"], kind="mergesort")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", type=Path, default=Path("data/real_footage"))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/slac/real_footage_eval")
    ap.add_argument("--out", type=Path, default=HERE.parent / "results" / "real_footage_dedup.md")
    a = ap.parse_args(argv)
    if not (a.root / "truth").is_dir():
        sys.exit(f"{a.root}/truth not found: build the benchmark first (make real-footage)")
    tab, grid, by_tr, quar, verified = evaluate(a.root, a.cache)
    wide = grid.pivot(index="gamma", columns="embedder", values=["precision", "recall", "distinct_merged"])
    wide.columns = [f"{e} {k}" for k, e in wide.columns]
    text = (
        "# Near-duplicate removal on real footage\n\n`python bench/real_footage/eval_dedup.py` — all classes as one "
        "(harder than stage 01's per-class de-dup); pairs closed transitively. videos_per_s: NaN when features came from the cache.\n\n"
        + tab.to_markdown(index=False, floatfmt=".3f")
        + "\n\n## Copy recall per transform (at each embedder's γ)\n\n"
        + by_tr.to_markdown(floatfmt=".2f")
        + "\n\n## PR versus γ\n\n"
        + wide.reset_index().to_markdown(index=False, floatfmt=".3f")
        + "\n\n## Temporal verification of the candidate pairs (dedup.verify)\n\n"
        + "".join(
            f"### {name}\n\n"
            + _verification_summary(v, load_truth(a.root)["dups"]).to_markdown(index=False, floatfmt=".3f")
            + "\n\n"
            for name, v in verified.items()
        )
        + "## Quarantined by stage 00\n\n"
        + quar.to_markdown(index=False)
        + "\n"
    )
    print(text)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(text)


if __name__ == "__main__":
    main()
