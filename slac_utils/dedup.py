"""Near-duplicate removal (paper section 3.4).
The library of stage 01; the stage itself is :mod:`slac_utils.stages.dedup`.

Internal: per class, a graph whose nodes are videos and whose edges join pairs with
cosine similarity of their mean features above gamma; one video is kept per connected
component.  External: each kept video is compared with the videos of the mapped
classes of each target evaluation set, in order, and removed when a match exceeds
gamma (paper Table 2).

With ``dedup.verify`` on (the default; not in the paper) an edge also needs its two videos' frames to align in
time (:mod:`slac_utils.dedup_verify`), and gamma is the lower ``dedup.verify.candidate_gamma``.

Similarity is computed blockwise with matrix products (``cosine_edges``): memory is
``block_size x n`` floats, never ``n x n``, and there is no Python loop over pairs.

Output table (``data/interim/dedup.parquet``), one row per ok candidate video:

===============  =================================================================
video_id         candidate video
class_label      its class
component_id     internal duplicate component ('<class>/<n>'; singletons have their own)
kept             True if the video survives internal *and* external de-dup
duplicate_of     the kept video of its component, or '<target>:<video_id>' it matches
removed_by       '' | 'internal' | name of the external target
max_similarity   highest cosine to another video of its class (internal)
keep_reason      why this video is the one kept (or why removed)
===============  =================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def normalize_rows(X: np.ndarray) -> np.ndarray:
    X = np.asarray(X, np.float32)
    return X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)


def prepare_features(X: np.ndarray, embedder: str, center: np.ndarray | None = None) -> np.ndarray:
    """Unit rows for cosine; the signature embedder is first centred on the corpus mean (see features.py)."""
    X = np.asarray(X, np.float32)
    if embedder == "signature":
        X = X - (X.mean(0) if center is None else center)
    return normalize_rows(X)


def corpus_mean(*arrays, block: int = 65536) -> np.ndarray:
    """The mean row of all rows of ``arrays`` (memory maps welcome), block by block, bit for bit what
    ``np.concatenate(arrays).mean(0)`` gives: numpy sums float32 rows in order along axis 0, and so does this,
    carrying the running sum into the next block."""
    acc, n = None, 0
    for X in arrays:
        for s in range(0, len(X), block):
            part = np.asarray(X[s : s + block], np.float32)
            acc = np.add.reduce(part if acc is None else np.concatenate([acc[None], part]), axis=0)
            n += len(part)
    return np.true_divide(acc, n, dtype=np.float32) if n else np.zeros(0, np.float32)


class UnitRows:
    """:func:`prepare_features` on demand: ``rows[idx]`` are the unit (for the signature embedder first centred)
    rows ``idx`` of ``X``, read only then — X may be a memory map of the whole crawl, and de-dup asks for one class
    (or one target class) at a time.  ``rows[idx]`` equals ``prepare_features(X, ...)[idx]`` exactly."""

    def __init__(self, X, embedder: str, center: np.ndarray | None = None):
        if embedder == "signature" and center is None:
            center = corpus_mean(X)
        self.X, self.embedder, self.center = X, embedder, center

    def __len__(self) -> int:
        return len(self.X)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.X.shape

    def __getitem__(self, idx) -> np.ndarray:
        return prepare_features(np.asarray(self.X[idx], np.float32), self.embedder, self.center)


def cosine_edges(A: np.ndarray, B: np.ndarray | None = None, threshold: float = 0.9, block_size: int = 2048):
    """Pairs (i, j, sim) with cosine(A_i, B_j) > threshold, from unit-norm rows.

    With B=None, compares A with itself and returns only i < j.  Blockwise: each block of
    rows of A is multiplied with all of B, so memory stays block_size x len(B).
    """
    same = B is None
    B = A if same else B
    I, J, S = [], [], []
    for s in range(0, len(A), block_size):
        sim = A[s : s + block_size] @ B.T
        if same:
            # keep the strict upper triangle only
            rows = np.arange(s, s + len(sim))[:, None]
            sim = np.where(np.arange(len(B))[None, :] > rows, sim, -np.inf)
        ii, jj = np.nonzero(sim > threshold)
        I.append(ii + s)
        J.append(jj)
        S.append(sim[ii, jj])
    if not I:
        return np.zeros(0, int), np.zeros(0, int), np.zeros(0, np.float32)
    return np.concatenate(I), np.concatenate(J), np.concatenate(S).astype(np.float32)


def max_similarity(A: np.ndarray, block_size: int = 2048) -> np.ndarray:
    """Per row, the highest cosine to any other row (blockwise)."""
    out = np.full(len(A), -1.0, np.float32)
    for s in range(0, len(A), block_size):
        sim = A[s : s + block_size] @ A.T
        sim[np.arange(len(sim)), np.arange(s, s + len(sim))] = -np.inf
        out[s : s + len(sim)] = sim.max(1) if A.shape[0] > 1 else -1.0
    return out


def edges_and_max(A: np.ndarray, threshold: float, block_size: int = 2048):
    """``cosine_edges(A, None, threshold)`` and ``max_similarity(A)`` from one blockwise product (the same
    numbers as the two calls, half the work): ((i, j, sim), per-row highest cosine to another row)."""
    I, J, S = [], [], []
    maxs = np.full(len(A), -1.0, np.float32)
    for s in range(0, len(A), block_size):
        sim = A[s : s + block_size] @ A.T
        rows = np.arange(s, s + len(sim))
        upper = np.where(np.arange(len(A))[None, :] > rows[:, None], sim, -np.inf)
        ii, jj = np.nonzero(upper > threshold)
        I.append(ii + s)
        J.append(jj)
        S.append(upper[ii, jj])
        sim[np.arange(len(sim)), rows] = -np.inf
        maxs[s : s + len(sim)] = sim.max(1) if A.shape[0] > 1 else -1.0
    if not I:
        return (np.zeros(0, int), np.zeros(0, int), np.zeros(0, np.float32)), maxs
    return (np.concatenate(I), np.concatenate(J), np.concatenate(S).astype(np.float32)), maxs


def components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Connected-component label of each of n nodes given undirected edges (i, j)."""
    if n == 0:
        return np.zeros(0, int)
    g = coo_matrix((np.ones(len(i), np.int8), (i, j)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def _keep_order(meta: pd.DataFrame, rule: str, rng: np.random.Generator) -> np.ndarray:
    """Rank of each row for keeping (lower is kept first)."""
    if rule == "random":
        return rng.permutation(len(meta))
    key = pd.DataFrame(
        {
            "px": -(meta.width.to_numpy() * meta.height.to_numpy()),
            "dur": -meta.duration_s.to_numpy(),
            "id": meta.video_id.to_numpy(),
        }
    )
    order = key.sort_values(["px", "dur", "id"], kind="mergesort").index.to_numpy()
    rank = np.empty(len(meta), int)
    rank[order] = np.arange(len(meta))
    return rank


def internal_dedup(
    meta: pd.DataFrame,
    X: np.ndarray,
    gamma: float,
    keep: str = "best_quality",
    seed: int = 0,
    block_size: int = 2048,
    verify=None,
) -> pd.DataFrame:
    """Per-class duplicate components. meta: rows aligned with X (video_id, class_label, width, height, duration_s).

    verify: None (the paper: every pair above gamma is an edge) or ``verify(a_ids, b_ids, cosines) -> bool mask``
    keeping the edges that pass (``slac_utils.dedup_verify.PairVerifier``).
    The returned table is aligned with meta/X (row k describes meta row k), so it can be passed to external_dedup with X.
    """
    rng = np.random.default_rng(seed)
    out = [None] * len(meta)
    labels = meta.class_label.to_numpy()  # converted once (Arrow strings convert on every call)
    for cls in sorted(meta.class_label.unique()):
        idx = np.flatnonzero(labels == cls)
        m = meta.iloc[idx].reset_index(drop=True)
        A = X[idx]
        (i, j, s), maxs = edges_and_max(A, gamma, block_size)
        if verify is not None and len(i):
            ok = verify(m.video_id.to_numpy()[i], m.video_id.to_numpy()[j], s)
            i, j = i[ok], j[ok]
        lab = components(len(m), i, j)
        rank = _keep_order(m, keep, rng)
        kept_of = {}
        for c in np.unique(lab):
            members = np.flatnonzero(lab == c)
            kept_of[c] = members[np.argmin(rank[members])]
        sizes = np.bincount(lab)
        for r in range(len(m)):
            k = kept_of[lab[r]]
            is_kept = k == r
            reason = (
                "unique"
                if sizes[lab[r]] == 1
                else (
                    f"kept: {'best quality' if keep == 'best_quality' else 'random pick'} of {sizes[lab[r]]} near-duplicates"
                    if is_kept
                    else f"near-duplicate of {m.video_id[k]}"
                )
            )
            out[idx[r]] = dict(
                video_id=m.video_id[r],
                class_label=cls,
                component_id=f"{cls}/{int(lab[r])}",
                kept=bool(is_kept),
                duplicate_of="" if is_kept else m.video_id[k],
                removed_by="" if is_kept else "internal",
                max_similarity=float(maxs[r]),
                keep_reason=reason,
            )
    return pd.DataFrame(out)


def external_dedup(
    table: pd.DataFrame,
    X: np.ndarray,
    ext_meta: pd.DataFrame,
    Xe: np.ndarray,
    targets,
    gamma: float,
    block_size: int = 2048,
    verify=None,
) -> pd.DataFrame:
    """Remove kept videos that match a target set's mapped classes, target by target (in order).

    table rows must be aligned with X (as internal_dedup returns them).  verify: as in :func:`internal_dedup`;
    external videos are keyed ``'<target>:<video_id>'``.
    """
    table = table.copy()
    # string columns converted once (pandas' Arrow strings convert on every call: 200K rows x 200 classes)
    labels, ids = table.class_label.to_numpy(), table.video_id.to_numpy()
    elabels, eids, etargets = (ext_meta[c].to_numpy() for c in ("class_label", "video_id", "target"))
    for t in targets:
        tm = etargets == t.name
        for cls, tclasses in t.class_map.items():
            cand = np.flatnonzero((labels == cls) & table.kept.to_numpy())
            tgt = np.flatnonzero(tm & np.isin(elabels, tclasses))
            if len(cand) == 0 or len(tgt) == 0:
                continue
            ci, tj, s = cosine_edges(X[cand], Xe[tgt], gamma, block_size)
            if verify is not None and len(ci):
                ok = verify(ids[cand[ci]], [f"{t.name}:{v}" for v in eids[tgt[tj]]], s)
                ci, tj, s = ci[ok], tj[ok], s[ok]
            best: dict[int, tuple[float, int]] = {}
            for a, b, v in zip(ci, tj, s):
                if a not in best or v > best[a][0]:
                    best[a] = (float(v), b)
            for a, (v, b) in best.items():
                r = cand[a]
                table.loc[r, ["kept", "removed_by", "duplicate_of", "keep_reason"]] = [
                    False,
                    t.name,
                    f"{t.name}:{ext_meta.video_id.iloc[tgt[b]]}",
                    f"matches {t.name} ({ext_meta.class_label.iloc[tgt[b]]}) at {v:.3f}",
                ]
    return table


def table2(dedup: pd.DataFrame, targets) -> pd.DataFrame:
    """Paper Table 2: videos removed within the dataset and against each target, in order."""
    row = {"Internal": int((dedup.removed_by == "internal").sum())}
    for t in targets:
        row[t.name] = int((dedup.removed_by == t.name).sum())
    row["Kept"] = int(dedup.kept.sum())
    return pd.DataFrame([row])


# ----------------------------------------------------------------------------- evaluation against planted truth
def evaluate_internal(dedup: pd.DataFrame, truth_videos: pd.DataFrame) -> dict:
    """Precision/recall of internal removals against the planted duplicate groups.

    A removal is correct when the removed video's planted group keeps another member.
    Recall's denominator is sum over groups (present videos - 1).
    """
    t = truth_videos.set_index("video_id")
    d = dedup.copy()
    d["group"] = t.loc[d.video_id, "dup_group"].to_numpy()
    removed = d[d.removed_by == "internal"]
    kept_groups = set(d.loc[d.removed_by != "internal", "group"])
    # a removed video whose group has no surviving member, or that is not in a planted group of size > 1, is a false positive
    sizes = d.groupby("group").size()
    tp = int(sum((sizes[g] > 1) and (g in kept_groups) for g in removed.group))
    should = int((sizes - 1).clip(lower=0).sum())
    p = tp / len(removed) if len(removed) else 1.0
    r = tp / should if should else 1.0
    return dict(
        removed=int(len(removed)),
        true_removed=tp,
        planted=should,
        precision=p,
        recall=r,
        f1=2 * p * r / (p + r) if p + r else 0.0,
    )


def evaluate_external(dedup: pd.DataFrame, truth_external: pd.DataFrame, targets) -> pd.DataFrame:
    """Per target: removals versus planted overlaps (only overlaps in mapped classes are removable)."""
    rows = []
    for t in targets:
        te = truth_external[(truth_external.target == t.name) & (truth_external.copy_of != "")]
        planted = set(te.loc[te.mapped, "copy_of"])
        removed = set(dedup.loc[dedup.removed_by == t.name, "video_id"])
        tp = len(removed & planted)
        rows.append(
            dict(
                target=t.name,
                removed=len(removed),
                true_removed=tp,
                planted_mapped=len(planted),
                planted_unmapped=int((~te.mapped).sum()),
                precision=tp / len(removed) if removed else 1.0,
                recall=tp / len(planted) if planted else 1.0,
            )
        )
    return pd.DataFrame(rows)


def pr_vs_threshold(
    meta: pd.DataFrame, X: np.ndarray, truth_videos: pd.DataFrame, grid, keep: str, seed: int, block_size: int = 2048
) -> pd.DataFrame:
    """Internal precision/recall for each threshold in grid (components recomputed per threshold)."""
    rows = []
    for g in grid:
        d = internal_dedup(meta, X, g, keep, seed, block_size)
        e = evaluate_internal(d, truth_videos)
        rows.append(dict(threshold=g, **e))
    return pd.DataFrame(rows)


def _truth_pairs(meta: pd.DataFrame, A: np.ndarray, truth_videos: pd.DataFrame | None) -> pd.DataFrame:
    """Cosine of every same-class pair (for the histogram), labelled by planted truth when known."""
    rows = []
    t = truth_videos.set_index("video_id") if truth_videos is not None else None
    for cls in sorted(meta.class_label.unique()):
        idx = np.flatnonzero(meta.class_label.to_numpy() == cls)
        S = A[idx] @ A[idx].T
        iu = np.triu_indices(len(idx), 1)
        df = pd.DataFrame(dict(cosine=S[iu]))
        if t is not None:
            ids = meta.video_id.to_numpy()[idx]
            grp = t.loc[ids, "dup_group"].to_numpy()
            sib = t.loc[ids, "sibling_of"].to_numpy()
            lab = np.where(
                grp[iu[0]] == grp[iu[1]],
                "planted duplicate",
                np.where(
                    (sib[iu[0]] == ids[iu[1]]) | (sib[iu[1]] == ids[iu[0]]),
                    "sibling (same actor+scene)",
                    "different videos",
                ),
            )
            df["pair"] = lab
        rows.append(df)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=["cosine"])


def with_unreadable(table: pd.DataFrame, manifest: pd.DataFrame, failed: dict) -> pd.DataFrame:
    """The de-dup table plus one row per video whose features could not be computed (``failed``: video_id ->
    reason): not kept, ``removed_by`` = unreadable."""
    if not failed:
        return table
    fail = manifest.set_index("video_id").loc[list(failed)].reset_index()
    return pd.concat(
        [
            table,
            pd.DataFrame(
                dict(
                    video_id=fail.video_id,
                    class_label=fail.class_label,
                    component_id="",
                    kept=False,
                    duplicate_of="",
                    removed_by="unreadable",
                    max_similarity=np.nan,
                    keep_reason=[failed[v] for v in fail.video_id],
                )
            ),
        ],
        ignore_index=True,
    )
