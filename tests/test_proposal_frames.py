"""Stage 03's frame step (slac_utils.proposal_frames): every frame a table asks for, in its order, decoded once
per video and described by the frozen backbone; cached, incremental, an unreadable video left out with its reason."""

import numpy as np
import pandas as pd
import pytest

from slac_utils import proposal_frames as PF
from slac_utils.config import ComputeConfig, ProposalsConfig
from slac_utils.models.proposal_nets import make_descriptor
from slac_utils.proposals import square_resize
from slac_utils.video.decode import read_frames
from slac_utils.video.encode import write_h264

from .clip_fixtures import clip_frames


def _world(tmp_path, n=3):
    paths = [write_h264(tmp_path / f"{i}.mp4", clip_frames(i, n=30, h=48, w=64), 15) for i in range(n)]
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(paths[0].read_bytes()[:1500])  # truncated: opens, fails mid-stream
    manifest = pd.DataFrame(
        dict(video_id=[f"v{i}" for i in range(n)] + ["broken"], path=[str(p) for p in paths] + [str(bad)])
    ).assign(sha256=lambda d: "s" + d.video_id)
    # frames asked in no order, twice over, by two tables stacked (training frames, then X)
    ask = pd.DataFrame(
        dict(
            video_id=["v1", "v0", "v1", "broken", "v0", "v2", "v1"],
            frame=[20, 3, 5, 4, 3, 29, 20],
        )
    ).merge(manifest[["video_id", "path"]], on="video_id", how="left")
    return manifest, ask


def _expected(ask, cfg):
    desc = make_descriptor("features", cfg.image_size)
    rows = [desc(square_resize(read_frames(p, [f])[0], cfg.image_size)[None])[0] for p, f in zip(ask.path, ask.frame)]
    return np.stack(rows)


def test_frame_inputs_are_the_descriptor_of_each_asked_frame_in_order(tmp_path):
    manifest, ask = _world(tmp_path)
    cfg = ProposalsConfig(backbone="features", image_size=64)
    comp = ComputeConfig(cache_dir=str(tmp_path / "cache"))
    inputs, pool5, ok, failures = PF.frame_inputs(ask, manifest, cfg, "features", comp, progress=False)
    assert ok.tolist() == [True, True, True, False, True, True, True]
    assert list(failures) == ["broken"] and failures["broken"].startswith("frames could not be read: ")
    want = _expected(ask[ok], cfg)
    assert inputs.dtype == np.float32 and np.allclose(inputs[ok], want, atol=1e-5)
    assert not inputs[~ok].any() and pool5.shape == (len(ask), 0)
    assert np.array_equal(inputs[0], inputs[6]) and np.array_equal(inputs[1], inputs[4])


def test_a_rerun_decodes_nothing_and_a_new_frame_decodes_only_its_video(tmp_path, monkeypatch):
    manifest, ask = _world(tmp_path)
    cfg = ProposalsConfig(backbone="features", image_size=64)
    comp = ComputeConfig(cache_dir=str(tmp_path / "cache"))
    first = PF.frame_inputs(ask, manifest, cfg, "features", comp, progress=False)
    decoded = []
    real = PF.read_frames
    monkeypatch.setattr(PF, "read_frames", lambda p, idx: decoded.append(p) or real(p, idx))
    again = PF.frame_inputs(ask, manifest, cfg, "features", comp, progress=False)
    assert decoded == [] and all(np.array_equal(a, b) for a, b in zip(first[:3], again[:3]))
    more = pd.concat([ask, ask[ask.video_id == "v2"].assign(frame=7)], ignore_index=True)
    out = PF.frame_inputs(more, manifest, cfg, "features", comp, progress=False)
    assert decoded == [str(tmp_path / "2.mp4")] and np.array_equal(out[0][: len(ask)], first[0])


def test_cnn_backbones_get_the_resized_frames_themselves(tmp_path):
    manifest, ask = _world(tmp_path, n=1)
    ask = ask[ask.video_id == "v0"]
    cfg = ProposalsConfig(backbone="small", image_size=32)
    inputs, _, ok, _ = PF.frame_inputs(ask, manifest, cfg, "small", None, progress=False)
    want = square_resize(read_frames(str(tmp_path / "0.mp4"), [3])[0], 32)
    assert ok.all() and inputs.shape == (2, 32, 32, 3) and inputs.dtype == np.uint8
    assert np.array_equal(inputs[0], want)


@pytest.mark.parametrize("backbone", ["features", "efficientnet_lite0"])
def test_fit_on_inputs_is_fit_on_images(backbone):
    from slac_utils.models.efficientnet import available
    from slac_utils.proposals import ProposalModel

    if backbone == "efficientnet_lite0" and not available():
        pytest.skip("efficientnet-lite0 package not installed")
    rng = np.random.default_rng(0)
    imgs = rng.integers(0, 255, (12, 64, 64, 3), dtype=np.uint8)
    y = np.arange(12) % 3
    cfg = ProposalsConfig(backbone=backbone, image_size=64, epochs=5)
    a, b = ProposalModel(cfg, 3, 0), ProposalModel(cfg, 3, 0)
    a.fit(imgs, y, progress=False)
    b.fit_inputs(b.encode(imgs), y, progress=False)
    assert np.array_equal(a.predict(imgs)[0], b.predict_inputs(b.encode(imgs))[0])
