"""CDC localization model (paper section 5): shapes, frame alignment, parameter counts, refinement, training."""

import numpy as np
import pandas as pd
import pytest
import torch

from slac_utils import cdc
from slac_utils.config import LocalizationConfig
from slac_utils.data.clips import MEAN, STD
from slac_utils.models.res3d import Res3D


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny convolutions: one thread is faster, and immune to a busy machine's thread contention."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _tiny(num_classes=3, frames=16, crop=32, width=4):
    torch.manual_seed(0)
    return cdc.CDC(Res3D(num_classes, depth=10, width=width), num_classes, frames, crop)


# ----------------------------------------------------------------------------- model
def test_output_shape_l32_small_trunk():
    m = _tiny(num_classes=5, frames=32, crop=32).eval()
    assert m.trunk_shape == (32, 4, 2, 2)  # trunk output computed at build time: C x L/8 x h x w
    assert m.kernels == [(2, 2), (1, 1), (1, 1)]  # the spatial reduction adapts to the 2 x 2 map
    with torch.no_grad():
        assert m(torch.randn(2, 3, 32, 32, 32)).shape == (2, 5, 32)


def test_conv_deconv_interleaves_one_kernel_per_output_step():
    op = cdc.ConvDeconv(1, 1, (1, 1), bn=False)
    with torch.no_grad():
        op.conv.weight[:] = torch.tensor([1.0, 10.0]).view(2, 1, 1, 1, 1)  # kernel r=0: x1, kernel r=1: x10
        op.conv.bias.zero_()
    x = torch.tensor([1.0, 2.0, 3.0]).view(1, 1, 3, 1, 1)
    assert op(x).flatten().tolist() == [1.0, 10.0, 2.0, 20.0, 3.0, 30.0]  # output 2t + r = kernel r at input t


def test_every_output_frame_sees_its_input_frame():
    m = _tiny(frames=16).eval()
    for (
        mod
    ) in m.modules():  # a fresh Res3D zero-initialises each block's last BN (identity blocks); make them trained-like
        if isinstance(mod, torch.nn.BatchNorm3d):
            torch.nn.init.ones_(mod.weight)
    for t in (1, 7, 8, 15):
        x = torch.randn(1, 3, 16, 32, 32, requires_grad=True)
        m(x)[0, :, t].sum().backward()
        assert x.grad[0, :, t].abs().sum() > 0, t


class _FrameMean(torch.nn.Module):
    """A 'model' whose logit of class 0 at frame t is the mean of input frame t (class 1: 0)."""

    num_classes = 2

    def forward(self, x):
        m = x.mean((1, 3, 4))
        return torch.stack([m, torch.zeros_like(m)], 1)


@pytest.mark.parametrize("n", [5, 16, 37, 48])
def test_frame_scores_alignment_is_exact(n):
    rng = np.random.default_rng(n)
    video = rng.integers(0, 256, (n, 8, 8, 3), dtype=np.uint8)
    p = cdc.frame_scores(_FrameMean(), video, frames=16, crop=8, batch_size=3, device="cpu")
    expect = 1 / (1 + np.exp(-cdc.normalise(video).mean((0, 2, 3)).numpy()))
    assert p.shape == (n, 2)
    np.testing.assert_allclose(p[:, 0], expect, rtol=1e-5)


def test_window_starts():
    assert cdc.window_starts(48, 16).tolist() == [0, 16, 32]
    assert cdc.window_starts(37, 16).tolist() == [0, 16, 21]  # last window ends at the last frame
    assert cdc.window_starts(5, 16).tolist() == [0]


# ----------------------------------------------------------------------------- parameter counts
def test_parameter_counts_at_paper_settings():
    m = cdc.build_cdc(201, 34, 64, 32, 112, device="meta")  # paper settings, no memory, no forward pass
    assert m.trunk_shape == (512, 4, 7, 7) and m.kernels == [(6, 6), (2, 2), (1, 1)]
    counts = cdc.parameter_counts(m)
    assert abs(counts["trunk"] - 63.4e6) <= 0.1e6  # the paper's 63.4M
    assert counts["trunk"] == sum(p.numel() for p in m.trunk.parameters())
    # docstring: 2 x 512 x 512 x (6x6 + 2x2 + 1x1) weights + 3 BN layers of 2 x 512
    assert counts["cdc"] == 2 * 512 * 512 * (36 + 4 + 1) + 3 * 1024 == 21_498_880
    assert counts["classifier"] == 512 * 201 + 201


def test_parameter_counts_split():
    m = _tiny()
    c = cdc.parameter_counts(m)
    assert c["total"] == sum(p.numel() for p in m.parameters()) == c["trunk"] + c["cdc"] + c["classifier"]


# ----------------------------------------------------------------------------- proposals and refinement
def _curve():
    """40 frames at 10 fps, classes (0, 1, background): class 0 at 0.9 on frames 10..29, 0.6 on frame 8, else 0.1."""
    a = np.full(40, 0.1)
    a[10:30] = 0.9
    a[8] = 0.6
    return np.stack([a, np.zeros(40), 1 - a], 1)


def test_refine_hand_made_curve():
    s = _curve()
    # proposal frames [12, 28): extended by 25% of 16 = 4 frames -> [8, 32); mu = 0.7875, sigma = 0.2666
    r = cdc.refine(s, 10.0, [(1.2, 2.8)], alpha=0.25, beta=2.0)
    assert len(r) == 1 and r.label[0] == 0
    # threshold mu - 2 sigma = 0.254: from the left frame 8 (0.6) is already higher -> start 0.8 s;
    # from the right frames 31, 30 (0.1) are not -> the end shrinks to after frame 29 -> 3.0 s
    assert r.start[0] == pytest.approx(0.8) and r.end[0] == pytest.approx(3.0)
    # score: mean label score inside [8, 30) minus the mean over the flanks of round(0.25 x 22) = 6 frames: [2, 8) and [30, 36)
    assert r.score[0] == pytest.approx((0.6 + 0.1 + 20 * 0.9) / 22 - 0.1)
    loose = cdc.refine(s, 10.0, [(1.2, 2.8)], alpha=0.25, beta=3.0)  # threshold < 0.1: nothing is shrunk
    assert (loose.start[0], loose.end[0]) == pytest.approx((0.8, 3.2))
    tight = cdc.refine(s, 10.0, [(1.2, 2.8)], alpha=0.25, beta=0.5)  # threshold 0.654: frame 8 (0.6) goes too
    assert (tight.start[0], tight.end[0]) == pytest.approx((1.0, 3.0))
    scored = cdc.refine(s, 10.0, pd.DataFrame(dict(start=[1.2], end=[2.8], score=[0.5])), beta=2.0)
    assert scored.score[0] == pytest.approx(0.5 * r.score[0])  # times the proposal's score


def test_classify_only_keeps_the_proposal():
    c = cdc.classify_only(_curve(), 10.0, [(1.2, 2.8)], alpha=0.25)
    assert (c.start[0], c.end[0], c.label[0]) == (pytest.approx(1.2), pytest.approx(2.8), 0)
    assert c.score[0] == pytest.approx(
        0.9 - (0.6 + 0.1 + 0.9 * 4 + 0.1 * 2) / 8
    )  # inside [12, 28) minus flanks [8, 12), [28, 32)


def test_background_proposals_are_dropped():
    s = _curve()
    props = [(3.3, 3.9), (0.0, 0.6), (1.2, 2.8)]  # the first two lie where background dominates
    assert cdc.refine(s, 10.0, props).start.tolist() == pytest.approx([0.8])
    assert cdc.classify_only(s, 10.0, props).start.tolist() == pytest.approx([1.2])


def test_sliding_window_proposals():
    p = cdc.sliding_window_proposals(100, 10.0, [2.0, 4.0, 20.0], 0.25)
    two, four = p[np.isclose(p.end - p.start, 2.0)], p[np.isclose(p.end - p.start, 4.0)]
    assert (
        len(two) == 17 and len(four) == 7 and len(p) == 24
    )  # 20-frame windows every 5, 40-frame every 10; 20 s > video
    assert (two.start.min(), two.end.max(), four.start.max(), four.end.max()) == pytest.approx((0.0, 10.0, 6.0, 10.0))
    assert (p.score == 1.0).all()
    short = cdc.sliding_window_proposals(8, 10.0, [2.0], 0.25)
    assert short[["start", "end"]].values.tolist() == [[0.0, 0.8]]  # shorter than every window: the whole video


def test_temporal_nms():
    d = pd.DataFrame(
        dict(start=[0.0, 0.1, 5.0, 0.0], end=[2.0, 2.1, 6.0, 2.0], label=[0, 0, 0, 1], score=[0.9, 0.8, 0.7, 0.6])
    )
    kept = cdc.temporal_nms(d, 0.5)
    assert kept.score.tolist() == [0.9, 0.7, 0.6]  # the near-duplicate of the same class goes


# ----------------------------------------------------------------------------- data
def test_untrimmed_windows_labels_follow_the_original_segments():
    n, fps = 120, 10.0
    video = (
        np.repeat(np.arange(n, dtype=np.uint8)[:, None, None, None], 40, 1).repeat(40, 2).repeat(3, 3)
    )  # frame t has value t
    videos = pd.DataFrame(dict(video_id=["v"], path=["unused"], fps=[fps]))
    segs = pd.DataFrame(dict(video_id=["v", "v"], start=[3.0, 8.0], end=[5.0, 8.5], label_index=[1, 0]))
    ds = cdc.UntrimmedWindowDataset(
        videos, segs, frames=16, crop=32, background=2, expand_seconds=2.0, frames_by_video={"v": video}
    )
    assert ds.window(0) == (10, 70) and ds.window(1) == (60, 105)
    for i in range(2):
        for draw in range(5):
            x, y = ds.get(i, epoch=0, draw=draw)
            t = np.rint((x[0, :, 0, 0].numpy() * STD[0] + MEAN[0]) * 255).astype(int)  # frame index of each input frame
            assert np.all(np.diff(t) == 1) and ds.window(i)[0] <= t[0] and t[-1] < ds.window(i)[1]
            expect = np.where((t >= 30) & (t < 50), 1, np.where((t >= 80) & (t < 85), 0, 2))
            assert y.tolist() == expect.tolist()
    a, b = ds.get(0, epoch=3, draw=1), ds.get(0, epoch=3, draw=1)
    assert torch.equal(a[0], b[0])  # seeded by (seed, epoch, draw, index)


def test_window_start_range():
    assert cdc.window_start_range(10, 70, 16, 120) == (10, 54)
    assert cdc.window_start_range(50, 58, 16, 120) == (
        42,
        50,
    )  # window shorter than L: the L-frame windows containing it
    assert cdc.window_start_range(0, 5, 16, 10) == (0, 0)  # video shorter than L


# ----------------------------------------------------------------------------- training
class _Toy:
    """Synthetic windows: a bright square in colour channel c on the frames of action c, background elsewhere."""

    background = 2

    def __init__(self, L=16):
        self.L, self.labels = L, np.array([0, 1, 0, 1])
        self.bounds = [(0, 16), (0, 8), (8, 16), (4, 12)]

    def __len__(self):
        return len(self.labels)

    def get(self, i, epoch=None, draw=None):
        x = torch.zeros(3, self.L, 32, 32)
        y = torch.full((self.L,), self.background, dtype=torch.long)
        a, b = self.bounds[i]
        c = int(self.labels[i])
        x[c, a:b, 8:24, 8:24] = 2.0
        y[a:b] = c
        return x, y


def _cfg(**kw):
    base = dict(
        frames=16, crop=32, epochs=3, batch_size=2, base_lr=0.05, warmup_epochs=0, step_epochs=100, windows_per_epoch=4
    )
    return LocalizationConfig(**{**base, **kw})


def test_tiny_cdc_overfits(tmp_path):
    ds = _Toy()
    x, y = (torch.stack(t) for t in zip(*(ds.get(i) for i in range(len(ds)))))

    def loss(m):
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(m.eval()(x), y))

    m = _tiny(width=4)
    before = loss(m)
    log = cdc.train_cdc(
        m, ds, _cfg(epochs=40, base_lr=0.02, batch_size=4, windows_per_epoch=8), tmp_path, seed=0, progress=False
    )
    assert loss(m) < 0.5 * before  # per-frame cross-entropy of the four windows
    assert list(log.columns) == ["epoch", "lr", "loss", "frame_accuracy", "windows", "seconds"]
    assert (tmp_path / "last.pt").exists() and (tmp_path / "log.csv").exists()
    assert (
        "seconds" not in torch.load(tmp_path / "last.pt", weights_only=False)["log"][0]
    )  # no wall clock in the checkpoint


def test_resume_equals_uninterrupted(tmp_path):
    cfg = _cfg(epochs=3)
    a = _tiny()
    cdc.train_cdc(a, _Toy(), cfg, tmp_path / "a", seed=1, progress=False)
    b = _tiny()
    cdc.train_cdc(b, _Toy(), cfg, tmp_path / "b", seed=1, progress=False, stop_after=1)
    torch.manual_seed(99)  # a fresh process: another global RNG state, a new model object
    b2 = _tiny()
    log = cdc.train_cdc(b2, _Toy(), cfg, tmp_path / "b", seed=1, progress=False)
    assert list(log.epoch) == [1, 2, 3]
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b2.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka


def test_external_ground_truth_quarantines_missing_and_broken_videos(tmp_path):
    """ActivityNet-format annotations: a good video is used, a missing and a broken one are listed with reasons."""
    import json

    from slac_utils.config import Params
    from slac_utils.localization import external_ground_truth
    from slac_utils.video.encode import write_h264

    from .clip_fixtures import clip_frames

    vd = tmp_path / "videos"
    vd.mkdir()
    write_h264(vd / "good.mp4", clip_frames(0, n=30), 15.0)
    (vd / "broken.mp4").write_bytes(b"\x00" * 500)
    seg = lambda s, e: {"label": "archery", "segment": [s, e]}  # noqa: E731
    db = {
        v: {"subset": sub, "duration": 2.0, "annotations": [seg(0.2, 1.5)]}
        for v, sub in (("good", "training"), ("broken", "training"), ("gone", "validation"))
    }
    (tmp_path / "gt.json").write_text(json.dumps({"database": db}))
    cfg = Params().localization.model_copy(
        update=dict(dataset="activitynet", annotations_path=str(tmp_path / "gt.json"), videos_dir=str(vd))
    )
    videos, gt, amb, bad = external_ground_truth(cfg)
    assert list(videos.video_id) == ["good"] and videos.n_frames.iloc[0] == 30 and amb is None
    assert list(gt.video_id) == ["good"] and gt.subset.iloc[0] == "training"
    reasons = dict(zip(bad.video_id, bad.reason))
    assert reasons["gone"].startswith("missing") and reasons["broken"].startswith("unreadable")
