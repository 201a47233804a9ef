"""De-dup: blockwise similarity = brute force; components; keep rule; external class map; embedder invariances."""

import numpy as np
import pandas as pd
import pytest

from slac_utils import dedup as D
from slac_utils.config import ExternalTarget
from slac_utils.features import SignatureEmbedder


def test_cosine_edges_match_brute_force():
    rng = np.random.default_rng(0)
    A = D.normalize_rows(rng.normal(size=(137, 16)) + rng.normal(size=(1, 16)) * 2)
    S = A @ A.T
    want = {(i, j) for i in range(137) for j in range(i + 1, 137) if S[i, j] > 0.6}
    for bs in (1, 16, 50, 1000):
        i, j, s = D.cosine_edges(A, None, 0.6, bs)
        assert set(zip(i.tolist(), j.tolist())) == want
        assert np.allclose(s, S[i, j], atol=1e-6)
    B = D.normalize_rows(rng.normal(size=(9, 16)))
    i, j, s = D.cosine_edges(A, B, 0.3, 40)
    assert set(zip(i.tolist(), j.tolist())) == {(a, b) for a in range(137) for b in range(9) if (A @ B.T)[a, b] > 0.3}


def test_max_similarity():
    A = D.normalize_rows(np.array([[1, 0], [1, 0.1], [0, 1]], float))
    m = D.max_similarity(A, block_size=2)
    assert m[0] == pytest.approx(A[0] @ A[1]) and m[2] == pytest.approx(A[2] @ A[1])


def test_components_hand_case():
    lab = D.components(6, np.array([0, 1, 4]), np.array([1, 2, 5]))
    assert lab[0] == lab[1] == lab[2] and lab[4] == lab[5] and len(set(lab)) == 3


def _meta(ids, cls, w=None, dur=None):
    n = len(ids)
    return pd.DataFrame(
        dict(video_id=ids, class_label=cls, width=w or [320] * n, height=[240] * n, duration_s=dur or [10.0] * n)
    )


def test_internal_dedup_keeps_best_quality_per_component():
    # a, b, c: near-copies (chain a-b-c); d unique; e is the same content as a but in another class (not compared)
    base = np.eye(4)[0]
    X = D.normalize_rows(np.stack([base, base + 0.1 * np.eye(4)[1], base + 0.2 * np.eye(4)[1], np.eye(4)[2], base]))
    meta = _meta(["a", "b", "c", "d", "e"], ["k"] * 4 + ["other"], w=[320, 640, 320, 320, 320], dur=[10, 5, 12, 10, 10])
    t = D.internal_dedup(meta, X, 0.95).set_index("video_id")
    assert t.loc["b", "kept"] and not t.loc["a", "kept"] and not t.loc["c", "kept"]  # largest resolution wins
    assert t.loc["a", "duplicate_of"] == "b" and t.loc["a", "removed_by"] == "internal"
    assert t.loc["d", "kept"] and t.loc["d", "keep_reason"] == "unique"
    assert t.loc["e", "kept"]  # per-class graph: never compared with class k
    assert t.loc["a", "component_id"] == t.loc["c", "component_id"] != t.loc["d", "component_id"]


def test_external_dedup_respects_class_map_and_order():
    X = D.normalize_rows(np.eye(3))
    table = D.internal_dedup(_meta(["a", "b", "c"], ["swim", "swim", "run"]), X, 0.9)
    ext = pd.DataFrame(
        dict(target=["K", "K", "U"], video_id=["k1", "k2", "u1"], class_label=["backstroke", "jogging", "Swim"])
    )
    Xe = D.normalize_rows(np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], float))
    targets = [
        ExternalTarget(name="K", class_map={"swim": ["backstroke"]}),
        ExternalTarget(name="U", class_map={"swim": ["Swim"]}),
    ]
    t = D.external_dedup(table, X, ext, Xe, targets, 0.9).set_index("video_id")
    assert t.loc["a", "removed_by"] == "K" and t.loc["a", "duplicate_of"] == "K:k1"
    assert t.loc["b", "removed_by"] == "U"
    assert t.loc["c", "kept"]  # matches k2 ('jogging') but run is not mapped to it
    t2 = D.table2(t.reset_index(), targets)
    assert t2.to_dict("records") == [{"Internal": 0, "K": 1, "U": 1, "Kept": 1}]


def test_evaluate_internal_hand_case():
    truth = pd.DataFrame(dict(video_id=list("abcde"), dup_group=["a", "a", "a", "d", "e"]))
    d = pd.DataFrame(dict(video_id=list("abcde"), removed_by=["", "internal", "", "", "internal"]))
    ev = D.evaluate_internal(d, truth)
    # planted removable = 2 (b, c); removed b (correct) and e (wrong)
    assert (ev["true_removed"], ev["removed"], ev["planted"]) == (1, 2, 2)
    assert ev["precision"] == 0.5 and ev["recall"] == 0.5


def test_signature_invariant_to_reupload_changes():
    import cv2

    from slac_utils.demo.render import random_background

    rng = np.random.default_rng(3)
    emb = SignatureEmbedder()
    a = random_background(rng, 224, 224)
    b = random_background(rng, 224, 224)
    hsv = cv2.cvtColor(a, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] *= 1.5
    jitter = np.clip(
        (cv2.cvtColor(np.clip(hsv, 0, 255).astype(np.uint8), cv2.COLOR_HSV2RGB).astype(float) - 128) * 1.2 + 138, 0, 255
    ).astype(np.uint8)
    small = cv2.resize(cv2.resize(a, (150, 150), interpolation=cv2.INTER_AREA), (224, 224))
    fa, fj, fs, fb = emb.embed(np.stack([a, jitter, small, b]))
    assert fa @ fj > 0.97 and fa @ fs > 0.97
    assert fa @ fb < fa @ fj - 0.2


def test_dedup_on_planted_world(tiny_world):
    """Signature features + calibrated γ find the planted copies of the tiny world and spare its siblings."""
    from slac_utils import ingest
    from slac_utils.config import DedupConfig, IngestConfig
    from slac_utils.demo.world import load_truth
    from slac_utils.features import video_features

    m = ingest.build_manifest(
        ingest.list_csv(tiny_world / "videos.csv", tiny_world / "videos"), IngestConfig(), progress=False
    )
    cfg = DedupConfig()
    X, ids, failed = video_features(m, SignatureEmbedder(), cfg, progress=False)
    assert not failed
    A = D.prepare_features(X, "signature")
    meta = m.set_index("video_id").loc[ids].reset_index()
    t = D.internal_dedup(meta, A, cfg.gamma["signature"])
    ev = D.evaluate_internal(t, load_truth(tiny_world)["videos"])
    assert ev["planted"] > 0
    assert ev["precision"] == 1.0 and ev["recall"] >= 0.8


def test_signature_equal_for_a_mirrored_copy():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 255, (3, 224, 224, 3), dtype=np.uint8)
    emb = SignatureEmbedder()
    a, b = emb.embed(frames), emb.embed(np.ascontiguousarray(frames[:, :, ::-1]))
    np.testing.assert_allclose(a, b, atol=1e-4)
    # still tells different pictures apart
    other = emb.embed(rng.integers(0, 255, (3, 224, 224, 3), dtype=np.uint8))
    assert float((D.normalize_rows(a - a.mean(0)) * D.normalize_rows(other - a.mean(0))).sum(1).max()) < 0.9


def test_unit_rows_on_demand_equal_the_whole_matrix_prepared():
    from slac_utils.dedup import UnitRows, corpus_mean, prepare_features

    X = np.random.default_rng(3).normal(size=(500, 40)).astype(np.float32)
    idx = np.array([4, 17, 250, 499, 0])
    for emb in ("efficientnet_lite0", "signature"):
        center = corpus_mean(X, block=64)
        assert np.array_equal(center, X.mean(0))  # bit for bit numpy's own mean
        assert np.array_equal(UnitRows(X, emb, center)[idx], prepare_features(X, emb, center)[idx])
    assert np.array_equal(corpus_mean(X[:100], X[100:], block=7), X.mean(0))


def test_edges_and_max_equal_the_two_separate_passes():
    from slac_utils.dedup import cosine_edges, edges_and_max, max_similarity, normalize_rows

    A = normalize_rows(np.random.default_rng(5).normal(size=(301, 16)).astype(np.float32))
    A[7] = A[3]  # an exact copy
    for block in (64, 2048):
        (i, j, s), m = edges_and_max(A, 0.6, block)
        i2, j2, s2 = cosine_edges(A, None, 0.6, block)
        assert np.array_equal(i, i2) and np.array_equal(j, j2) and np.array_equal(s, s2) and (3, 7) in zip(i, j)
        assert np.array_equal(m, max_similarity(A, block))
    (i, _, _), m = edges_and_max(A[:1], 0.6)
    assert len(i) == 0 and m.tolist() == [-1.0]
