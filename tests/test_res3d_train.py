"""Res3D shapes and size, the LR schedule, weighted sampling, overfitting a handful of clips, exact resume."""

import numpy as np
import pytest
import torch

from slac_utils.config import RecognitionConfig
from slac_utils.engine.train import epoch_draws, lr_at, predict, sampling_weights, train
from slac_utils.models.res3d import Res3D, load_trunk, replace_head, trunk_parameters


def test_res3d34_size_and_shapes():
    m = Res3D(201, depth=34)
    assert trunk_parameters(m) == pytest.approx(63.4e6, rel=0.005)  # the paper's 63.4M
    with torch.no_grad():
        f = Res3D(6, depth=10, width=8).features(torch.zeros(1, 3, 32, 112, 112))
    assert f.shape == (1, 64, 4, 7, 7)  # T/8, H/16, W/16: the CDC head's input grid
    flow = Res3D(6, depth=10, width=8, in_channels=2)
    assert flow(torch.zeros(2, 2, 8, 32, 32)).shape == (2, 6)


def test_trunk_transfer():
    src = Res3D(6, depth=10, width=4)
    dst = replace_head(Res3D(6, depth=10, width=4), 11)
    not_loaded = load_trunk(dst, src.state_dict())
    assert set(not_loaded) == {"fc.weight", "fc.bias"}
    assert torch.equal(dst.trunk[0][0].weight, src.trunk[0][0].weight)
    with pytest.raises(ValueError, match="does not match"):
        load_trunk(Res3D(6, depth=10, width=8), src.state_dict())


def test_lr_schedule_paper_values():
    # per GPU 0.005, 64 GPUs: 0.32 after 10 warm-up epochs, /10 every 10 epochs
    assert lr_at(0, 0.005, 64, 10, 10) == pytest.approx(0.005)
    assert lr_at(5, 0.005, 64, 10, 10) == pytest.approx(0.005 + 0.315 / 2)
    assert lr_at(10, 0.005, 64, 10, 10) == pytest.approx(0.32)
    assert lr_at(19.9, 0.005, 64, 10, 10) == pytest.approx(0.32)
    assert lr_at(20, 0.005, 64, 10, 10) == pytest.approx(0.032)
    assert lr_at(44, 0.005, 64, 10, 10) == pytest.approx(0.00032)


def test_weighted_draws():
    labels = np.array([0] * 10 + [5] * 990)  # 10 positives, 990 background (label 5)
    w = sampling_weights(labels, background=5, pos_weight=1.0, neg_weight=0.02)
    d = epoch_draws(w, 20000, seed=0, epoch=0)
    share_pos = (labels[d] == 0).mean()
    assert share_pos == pytest.approx(10 / (10 + 990 * 0.02), abs=0.02)  # 1.0 vs 0.02: ~1/3 positives
    assert np.array_equal(d, epoch_draws(w, 20000, seed=0, epoch=0))
    assert not np.array_equal(d, epoch_draws(w, 20000, seed=0, epoch=1))
    parts = [epoch_draws(w, 100, 0, 3, rank=r, world_size=4) for r in range(4)]
    assert sorted(np.concatenate(parts)) == sorted(epoch_draws(w, 100, 0, 3))


def test_background_weight_keeps_the_papers_share_relative_to_a_class():
    from types import SimpleNamespace

    from slac_utils.config import RecognitionConfig
    from slac_utils.config.learning import NegWeightScaling
    from slac_utils.engine.train import background_weight

    cfg = RecognitionConfig()
    # the paper's set: 200 classes, 57.5% negatives -> neg_weight itself
    per_class, neg = 425, 200 * 425 * 0.575 / 0.425
    paper = np.array([c for c in range(200) for _ in range(per_class)] + [200] * int(round(neg)))
    assert background_weight(paper, 200, cfg) == pytest.approx(0.02, rel=1e-3)
    # the demo's training split: 74 positives over 5 classes, 93 negatives
    demo = np.array([k % 5 for k in range(74)] + [5] * 93)
    w = background_weight(demo, 5, cfg)
    ratio = 0.575 * 0.02 / (0.425 / 200)  # background drawn 5.41x as often as an average class
    assert w * 93 / (74 / 5) == pytest.approx(ratio) and w == pytest.approx(0.861, abs=1e-3)
    assert (
        background_weight(demo, 5, cfg.model_copy(update=dict(neg_weight_scaling=NegWeightScaling(rule="fixed"))))
        == 0.02
    )
    assert background_weight(demo, 5, SimpleNamespace(neg_weight=0.3)) == 0.3  # no rule: as given
    assert background_weight(np.array([5, 5]), 5, cfg) == 0.02  # nothing to compare with: as given


class ToyClips:
    """Four classes of tiny clips: a bright square moving in a class-specific direction."""

    def __init__(self, n=12, T=4, size=16):
        self.labels = np.arange(n) % 4
        self.T, self.size = T, size

    def __len__(self):
        return len(self.labels)

    def get(self, i, epoch=None, draw=None):
        y = int(self.labels[i])
        x = torch.zeros(3, self.T, self.size, self.size)
        dy, dx = [(0, 1), (1, 0), (0, -1), (-1, 0)][y]
        for t in range(self.T):
            r, c = 6 + dy * t, 6 + dx * t
            x[:, t, r : r + 4, c : c + 4] = 1.0
        if epoch is not None:  # augmentation drawn from (epoch, draw): reproducible
            g = torch.Generator().manual_seed(epoch * 1000 + draw)
            x = x + 0.05 * torch.randn(x.shape, generator=g)
        return x, y


def _cfg(**kw):
    base = dict(
        epochs=12,
        batch_size=4,
        base_lr=0.05,
        warmup_epochs=2,
        step_epochs=8,
        workers=0,
        clips_per_epoch=24,
        neg_weight=0.02,
    )
    return RecognitionConfig(**{**base, **kw})


def test_tiny_model_overfits(tmp_path):
    torch.manual_seed(0)
    ds = ToyClips()
    model = Res3D(4, depth=10, width=8)
    log = train(
        model, ds, ds.labels, background=-1, cfg=_cfg(base_lr=0.02), out_dir=tmp_path, seed=0, progress=False
    )  # all clips weight 1
    assert log.loss.iloc[-1] < log.loss.iloc[0] / 3
    P = predict(model, ds)
    assert (P.argmax(1) == ds.labels).mean() == 1.0
    assert (tmp_path / "log.csv").exists() and (tmp_path / "last.pt").exists()


def test_resume_equals_uninterrupted(tmp_path):
    ds = ToyClips()
    cfg = _cfg(epochs=4)
    torch.manual_seed(0)
    a = Res3D(4, depth=10, width=4)
    train(a, ds, ds.labels, 3, cfg, tmp_path / "a", seed=1, progress=False)
    torch.manual_seed(0)
    b = Res3D(4, depth=10, width=4)
    train(b, ds, ds.labels, 3, cfg, tmp_path / "b", seed=1, progress=False, stop_after=2)  # interrupted after 2 epochs
    torch.manual_seed(123)  # a fresh process: different global RNG state, new model object
    b2 = Res3D(4, depth=10, width=4)
    log = train(b2, ds, ds.labels, 3, cfg, tmp_path / "b", seed=1, progress=False)
    assert list(log.epoch) == [1, 2, 3, 4]
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b2.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka


def test_splits_by_video_and_background_label():
    import pandas as pd

    from slac_utils.config import RecognitionConfig
    from slac_utils.recognition import make_splits

    videos = [f"v{i:02d}" for i in range(20) for _ in range(3)]
    lab = pd.DataFrame(
        dict(
            clip_id=[f"c{i}" for i in range(60)],
            video_id=videos,
            class_label=["a", "b"] * 30,
            label=[1, -1, 1] * 20,
            path=["x.mp4"] * 60,
        )
    )
    s = make_splits(lab, ["a", "b"], RecognitionConfig(val_fraction=0.2, test_fraction=0.2), seed=0)
    assert s.groupby("video_id").split.nunique().max() == 1  # never a video in two splits
    assert s.split.value_counts().to_dict() == {"train": 36, "val": 12, "test": 12}
    assert set(s.loc[s.label == -1, "label_index"]) == {2}  # every negative shares the background label K
    assert set(s.loc[s.label == 1, "label_index"]) <= {0, 1}
