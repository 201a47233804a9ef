"""Temporal verification of de-dup candidates: hand-made tracks with known answers, then real encoded videos."""

from types import SimpleNamespace

import numpy as np
import pytest

from slac_utils import dedup as D
from slac_utils import ingest
from slac_utils.config import DedupConfig, IngestConfig
from slac_utils.dedup_verify import PairVerifier, make_track, time_scales, verify_pair
from slac_utils.video.encode import write_h264

CFG = DedupConfig().verify


def _walk(n, dim=40, seed=0, fps=30, corr_s=0.3):
    """Frame signatures of a video whose picture keeps changing: an AR(1) process (correlation time corr_s) around a
    fixed offset, on the unit sphere."""
    rng = np.random.default_rng(seed)
    rho = np.exp(-1 / (fps * corr_s))
    X = np.empty((n, dim))
    X[0] = rng.normal(size=dim)
    for t in range(1, n):
        X[t] = rho * X[t - 1] + np.sqrt(1 - rho**2) * rng.normal(size=dim)
    X += rng.normal(size=dim)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _resample(X, times_src, times_new, noise=0.0, seed=1):
    """Signatures at times_new, nearest source frame, plus noise (re-encoding)."""
    k = np.clip(np.searchsorted(times_src, times_new), 0, len(times_src) - 1)
    rng = np.random.default_rng(seed)
    Y = X[k] + rng.normal(size=X[k].shape) * noise
    return Y / np.linalg.norm(Y, axis=1, keepdims=True)


def _track(X, times, duration=None):
    return make_track(X, times, duration if duration is not None else times[-1] + (times[1] - times[0]))


# the "source": 30 s at 30 fps, signatures of every frame
T30 = np.arange(900) / 30
SRC = _walk(900)


def _sampled(t0, t1, fps=10.0, noise=0.02, seed=1, scale=1.0):
    times = np.arange(t0, t1, 1 / fps) + 0.5 / fps
    return _track(_resample(SRC, T30, t0 + (times - t0) * scale, noise, seed), times - t0, t1 - t0)


def test_trimmed_reencoded_copy_is_verified_with_its_offset():
    orig, copy = _sampled(0, 30), _sampled(3.05, 27.0, seed=2)
    r = verify_pair(orig, copy, CFG)
    assert r["verified"] and r["mode"] == "motion"
    assert r["short_coverage"] > 0.95 and r["long_coverage"] > 0.75
    assert r["scale"] == 1.0 and r["offset_s"] == pytest.approx(3.05, abs=0.1)


def test_retimed_copy_is_found_at_its_frame_rate_ratio():
    # the same frames played at 30 fps instead of 23.976: the copy's second t shows the original's 1.2512 t
    ratio = 30 / 23.976
    orig = _sampled(0, 30)
    copy = _sampled(0, 30 / ratio, scale=ratio, seed=3)
    r = verify_pair(orig, copy, CFG)
    assert r["verified"] and r["scale"] == pytest.approx(ratio, rel=0.01)
    assert np.isclose(time_scales(), ratio, rtol=1e-3).any()


def test_static_camera_time_ranges_are_not_copies():
    # one fixed background (large, shared) plus different small movement in each time range: the raw frames are
    # nearly identical (mean cosine ~0.99, what fools the paper's mean feature), the motion is not
    rng = np.random.default_rng(5)
    bg = rng.normal(size=40) * 0.8  # motion energy ~0.15, as a real static street camera (~0.21)
    a = bg + _walk(300, seed=11)
    b = bg + _walk(300, seed=12)
    ta = _track(a / np.linalg.norm(a, axis=1, keepdims=True), np.arange(300) / 10)
    tb = _track(b / np.linalg.norm(b, axis=1, keepdims=True), np.arange(300) / 10)
    assert (ta.signatures.mean(0) @ tb.signatures.mean(0)) / (
        np.linalg.norm(ta.signatures.mean(0)) * np.linalg.norm(tb.signatures.mean(0))
    ) > 0.98
    r = verify_pair(ta, tb, CFG)
    assert not r["verified"] and r["short_coverage"] < 0.2


def test_clip_inside_a_compilation_is_not_a_copy():
    clip, compilation = _sampled(10, 16), _sampled(0, 30, seed=4)
    r = verify_pair(clip, compilation, CFG)
    assert r["short_coverage"] > 0.95 and r["long_coverage"] == pytest.approx(0.2, abs=0.05)
    assert not r["verified"]


def test_unrelated_videos_and_stills():
    r = verify_pair(_sampled(0, 20), _track(_walk(200, seed=9), np.arange(200) / 10), CFG)
    assert not r["verified"] and r["short_coverage"] < 0.2
    # a still picture with sound: no motion to align, its raw frames decide
    rng = np.random.default_rng(0)
    pic, other = rng.normal(size=40), rng.normal(size=40)
    still = lambda v, n, s: _track(  # noqa: E731
        (v + np.random.default_rng(s).normal(size=(n, 40)) * 1e-3) / np.linalg.norm(v), np.arange(n) / 10
    )
    same = verify_pair(still(pic, 100, 1), still(pic, 90, 2), CFG)
    assert same["mode"] == "still" and same["verified"]
    assert not verify_pair(still(pic, 100, 1), still(other, 90, 2), CFG)["verified"]


def _scene(n, seed, bg=None, fps=15):
    """n frames 96x128: a textured background (fixed, or bg) with a bright square moving on a seeded path."""
    rng = np.random.default_rng(seed)
    bg = bg if bg is not None else rng.integers(0, 255, (12, 16, 3)).repeat(8, 0).repeat(8, 1).astype(np.uint8)
    pos = np.cumsum(rng.normal(size=(n, 2)) * 3, axis=0) + [48, 64]
    frames = np.repeat(bg[None], n, axis=0).copy()
    for f, (y, x) in zip(frames, pos):
        y, x = int(np.clip(y, 0, 80)), int(np.clip(x, 0, 112))
        f[y : y + 16, x : x + 16] = 255
    return frames, bg


def test_verifier_on_encoded_videos_keeps_copies_and_splits_the_static_camera(tmp_path):
    frames, bg = _scene(150, seed=1)
    other, _ = _scene(150, seed=2, bg=bg)  # the same fixed camera, another time: someone else moving
    d = tmp_path / "videos" / "k"
    write_h264(d / "orig.mp4", frames, 15)
    write_h264(d / "copy.mp4", frames[12:140, :, ::-1], 15, crf=34)  # trimmed, mirrored, low quality
    write_h264(d / "later.mp4", other, 15)
    m = ingest.build_manifest(ingest.list_folder(tmp_path / "videos", (".mp4",)), IngestConfig(), progress=False)
    assert (m.status == "ok").all()
    X = D.normalize_rows(np.ones((3, 4)))  # every pair a candidate: the mean features cannot tell them apart
    ver = PairVerifier({r.video_id: r for r in m.itertuples(index=False)}, CFG, True, progress=False)
    t = D.internal_dedup(m, X, 0.5, verify=ver).set_index("video_id")
    assert t.loc["orig", "kept"] and t.loc["later", "kept"] and not t.loc["copy", "kept"]
    assert t.loc["copy", "duplicate_of"] == "orig"
    dec = ver.table().set_index(["a", "b"])
    assert len(dec) == 3 and dec.verified.sum() == 1
    # without verification (the paper's rule) all three collapse into one
    assert D.internal_dedup(m, X, 0.5).kept.sum() == 1


def test_verifier_reports_an_unreadable_video_as_unverified(tmp_path):
    frames, _ = _scene(60, seed=3)
    write_h264(tmp_path / "a.mp4", frames, 15)
    row = SimpleNamespace(video_id="a", path=str(tmp_path / "a.mp4"), n_frames=60, fps=15.0, width=128, height=96)
    gone = SimpleNamespace(
        video_id="b", path=str(tmp_path / "missing.mp4"), n_frames=60, fps=15.0, width=128, height=96
    )

    class R(SimpleNamespace):
        def _asdict(self):
            return dict(vars(self))

    ver = PairVerifier({"a": R(**vars(row)), "b": R(**vars(gone))}, CFG, True, progress=False)
    assert not ver(["a"], ["b"], [0.99]).any()
    assert "b" in ver.failed and ver.table().iloc[0]["mode"] == "unreadable"
