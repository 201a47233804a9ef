"""Stages 03-04: R(x) on hand-computed cases, sampling rules, clip windows, the proposal models."""

import numpy as np
import pandas as pd
import pytest

from slac_utils import sampling as S


def test_kl_and_representativeness_hand_case():
    P = np.array([[0.5, 0.5], [0.9, 0.1]])
    Q = np.array([[0.5, 0.5], [0.5, 0.5]])
    kl = S.kl_divergence(P, Q)
    assert kl[0] == pytest.approx(0.0, abs=1e-9)
    assert kl[1] == pytest.approx(0.9 * np.log(1.8) + 0.1 * np.log(0.2))
    # video 0: three frames, two identical and one orthogonal; video 1: a single frame
    F = np.array([[1, 0], [1, 0], [0, 1], [3, 4]], float)
    rep = S.representativeness(F, np.array([0, 0, 0, 1]))
    assert rep == pytest.approx([0.5, 0.5, 0.0, 1.0])


def test_segment_sums_and_kl_match_the_plain_formulas():
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(40), rng.integers(1, 30, 40))
    X = rng.random((len(codes), 7)).astype(np.float32)
    got = S.segment_sums(X, codes)
    assert got.dtype == np.float32 and got.shape == (40, 7)
    assert np.allclose(got, np.stack([X[codes == v].sum(0) for v in range(40)]), rtol=1e-6)
    assert S.segment_sums(X[:0], codes[:0]).shape == (0, 7)
    P = rng.dirichlet(np.full(5, 0.3), 50).astype(np.float32)
    Q = rng.dirichlet(np.full(5, 0.3), 50).astype(np.float32)
    Pc, Qc = np.clip(P, 1e-8, 1), np.clip(Q, 1e-8, 1)
    P0, Q0 = P.copy(), Q.copy()
    assert np.array_equal(S.kl_divergence(P, Q), np.sum(Pc * (np.log(Pc) - np.log(Qc)), axis=1))  # bit for bit
    assert np.array_equal(P, P0) and np.array_equal(Q, Q0)  # the inputs are not touched


def test_compute_R_matches_equation_1():
    PY = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8]])
    PG = np.array([[0.3, 0.6, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    F = np.array([[1, 0], [1, 1], [0, 1]], float)
    c = np.array([0, 0, 0])
    df = S.compute_R(PY, PG, F, c, np.zeros(3, int))
    U = F / np.linalg.norm(F, axis=1, keepdims=True)
    want = []
    for i in range(3):
        cons = PY[i, 0] + PG[i, 0]
        kl = np.sum(PY[i] * np.log(PY[i] / PG[i]))
        rep = np.mean([U[i] @ U[j] for j in range(3) if j != i])
        want.append(cons * kl * rep)
    want = np.array(want)
    assert df.R_raw.to_numpy() == pytest.approx(want)
    assert df.R.to_numpy() == pytest.approx(want / want.sum())  # L1-normalised per video
    assert df.R[1] == 0.0  # identical predictions: no disagreement, never sampled


def test_gumbel_top_k_is_sampling_without_replacement():
    p = np.array([0.7, 0.2, 0.1, 0.0, 0.5, 0.5])
    codes = np.array([0, 0, 0, 0, 1, 1])
    rng = np.random.default_rng(0)
    first = np.zeros(4)
    for _ in range(4000):
        m = S.gumbel_top_k(p, codes, np.array([1, 2]), rng)
        assert m[:4].sum() == 1 and m[4:].sum() == 2 and not m[3]
        first[np.flatnonzero(m[:4])[0]] += 1
    assert first[:3] / 4000 == pytest.approx([0.7, 0.2, 0.1], abs=0.03)


def test_sample_tau_filter_and_easy_positive():
    # video 0: frame 0 has R mass but consensus below tau -> dropped; frame 2 has the highest consensus -> easy
    df = pd.DataFrame(dict(code=[0, 0, 0], R=[0.6, 0.4, 0.0], consensus=[0.005, 0.5, 1.2]))
    kind = S.sample(df, max_per_video=8, tau=0.01, easy_positive=True, rng=np.random.default_rng(1))
    assert list(kind) == ["", "hard", "easy"]
    # at most max_per_video
    df2 = pd.DataFrame(dict(code=[0] * 10, R=np.full(10, 0.1), consensus=np.arange(10) / 10 + 0.1))
    k2 = S.sample(df2, max_per_video=3, tau=0.01, easy_positive=False, rng=np.random.default_rng(2))
    assert (k2 == "hard").sum() == 3


def test_easy_positive_not_duplicated_when_already_sampled():
    df = pd.DataFrame(dict(code=[0, 0], R=[1.0, 0.0], consensus=[1.5, 0.2]))
    kind = S.sample(df, 8, 0.01, True, np.random.default_rng(0))
    assert list(kind) == ["hard", ""]


def test_clip_window_never_crosses_shot():
    t = np.array([5.0, 0.3, 9.8, 4.0])
    s0 = np.array([0.0, 0.0, 0.0, 3.5])
    s1 = np.array([10.0, 10.0, 10.0, 4.7])  # the last shot is shorter than 2 s
    a, b = S.clip_window(t, s0, s1, 2.0)
    assert a.tolist() == [4.0, 0.0, 8.0, 3.5]
    assert b.tolist() == pytest.approx([6.0, 2.0, 10.0, 4.7])
    assert (a >= s0).all() and (b <= s1).all()


def test_descriptor_model_learns_colour_cue():
    """The demo's weight-free proposal backbone separates classes that differ by a coloured object."""
    from slac_utils.config import ProposalsConfig
    from slac_utils.proposals import ProposalModel

    rng = np.random.default_rng(0)
    imgs, y = [], []
    for k, col in enumerate([(230, 40, 40), (40, 40, 230), (40, 200, 40)]):
        for _ in range(90):
            bg = rng.integers(60, 200, 3)  # a flat scene colour with mild sensor noise, like a real frame
            im = np.clip(bg + rng.normal(0, 6, (64, 64, 3)), 0, 255).astype(np.uint8)
            x, yy = rng.integers(2, 34, 2)
            im[yy : yy + 28, x : x + 28] = col
            imgs.append(im)
            y.append(k)
    imgs, y = np.stack(imgs), np.array(y)
    m = ProposalModel(ProposalsConfig(backbone="features", image_size=64, epochs=300), 3, seed=0)
    m.fit(imgs[::2], y[::2], progress=False)
    P, f = m.predict(imgs[1::2])
    # three classes, chance 1/3: HOG dimensions outnumber the colour cue, so the bar is "well above chance"
    assert (P.argmax(1) == y[1::2]).mean() > 0.6
    assert P.shape == (135, 3) and np.allclose(P.sum(1), 1, atol=1e-5) and f.shape[0] == 135


def test_cnn_backbones_shapes():
    import torch

    from slac_utils.proposals import SmallCNN

    m = SmallCNN(6, width=8)
    logits, f = m(torch.zeros(2, 3, 96, 96))
    assert logits.shape == (2, 6) and f.shape == (2, m.feature_dim)


def test_clip_files_are_cached_linked_and_remade_when_missing(tmp_path, monkeypatch):
    import pandas as pd

    from slac_utils import sampling as S
    from slac_utils.config import ComputeConfig
    from slac_utils.video.encode import write_h264

    from .clip_fixtures import clip_frames

    src = write_h264(tmp_path / "src.mp4", clip_frames(0, n=60, h=48, w=64), 15)
    (tmp_path / "bad.mp4").write_bytes(b"not a video")

    def sel(out):
        return pd.DataFrame(
            dict(
                clip_id=["a", "b", "c", "d"],
                src_path=[str(src), str(src), str(src), str(tmp_path / "bad.mp4")],
                f0=[0, 30, 0, 0],
                f1=[30, 60, 30, 30],  # c is a's window: one file, linked twice
                fps=15.0,
                path=[str(tmp_path / out / "x" / f"{k}.mp4") for k in "abcd"],
            )
        )

    calls = []
    real = S.write_clip
    monkeypatch.setattr(S, "write_clip", lambda *a: calls.append(a[0].f0) or real(*a))
    plain = S.extract_clips(sel("plain"), 64, 23, progress=False)
    comp = ComputeConfig(cache_dir=str(tmp_path / "cache"), batch_videos=2)
    cached = S.extract_clips(sel("cached"), 64, 23, comp, progress=False)
    n = len(calls)
    again = S.extract_clips(sel("again"), 64, 23, comp, progress=False)  # DVC emptied the outputs: linked back
    assert plain[:3] == cached[:3] == again[:3] == ["", "", ""] and all(
        e.startswith("clip extraction failed") for e in (plain[3], cached[3])
    )
    assert len(calls) == n  # nothing re-encoded
    for k in "abc":
        b = (tmp_path / "plain" / "x" / f"{k}.mp4").read_bytes()
        assert (
            b
            == (tmp_path / "cached" / "x" / f"{k}.mp4").read_bytes()
            == (tmp_path / "again" / "x" / f"{k}.mp4").read_bytes()
        )
    assert not (tmp_path / "again" / "x" / "d.mp4").exists()
    for f in (tmp_path / "cache").rglob("*.mp4"):
        f.unlink()  # the cached files removed behind the shards' back: made again
    assert S.extract_clips(sel("fourth"), 64, 23, comp, progress=False)[:3] == ["", "", ""]
    assert (tmp_path / "fourth" / "x" / "b.mp4").read_bytes() == (tmp_path / "plain" / "x" / "b.mp4").read_bytes()
