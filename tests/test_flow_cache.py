"""Flow precomputed by the runner: a window's flow from the clip's pair flows equals Farneback on the window."""

import numpy as np
import pandas as pd
import torch

from slac_utils.config import ComputeConfig
from slac_utils.data.clips import ClipDataset
from slac_utils.data.flow_cache import precompute_flow, window_flow
from slac_utils.video.encode import write_h264
from slac_utils.video.flow import farneback_clip, pairwise_flow

from .clip_fixtures import clip_frames


def test_window_flow_is_farneback_on_the_window():
    frames = clip_frames(2, n=12, h=48, w=64)
    frames[7] = frames[6]  # a duplicated frame: exactly zero flow either way
    P = pairwise_flow(frames)
    for idx in ([0, 1, 2, 3], [5, 6, 7, 8, 9], [8, 9, 10, 11, 11, 11], [4]):  # ... a padded window, one frame
        assert np.array_equal(window_flow(P, frames[idx], idx), farneback_clip(frames[idx]))


def _table(tmp_path):
    paths = [write_h264(tmp_path / f"{i}.mp4", clip_frames(i, n=n, h=48, w=64), 15) for i, n in enumerate((20, 6, 14))]
    return pd.DataFrame(dict(path=[str(p) for p in paths], label_index=[0, 1, 2], f0=[2, 0, 0], f1=[18, 6, 14]))


def test_a_flow_dataset_is_the_same_with_precomputed_flow(tmp_path):
    t = _table(tmp_path)
    comp = ComputeConfig(cache_dir=str(tmp_path / "cache"), batch_videos=2)
    files = precompute_flow(t, 40, comp, progress=False)
    assert all(f is not None and f.endswith(".npy") for f in files)
    assert precompute_flow(t, 40, ComputeConfig(cache_dir=None), progress=False) == [None] * 3
    for cache in (False, True):
        plain = ClipDataset(t, 8, (32, 32), 40, "flow", seed=3, cache=cache)
        pre = ClipDataset(t, 8, (32, 32), 40, "flow", seed=3, cache=cache, flow_files=files)
        for i in range(3):  # clip 1 has 6 frames: its 8-frame windows repeat the last one
            for epoch, draw in ((0, 0), (1, 5), (None, None)):
                a, b = plain.get(i, epoch, draw)[0], pre.get(i, epoch, draw)[0]
                assert torch.equal(a, b), (cache, i, epoch)
            assert torch.equal(plain.views(i, np.array([0, 4]), ten_crop=True), pre.views(i, np.array([0, 4]), True))
    again = precompute_flow(t, 40, comp, progress=False)  # cached: the same files, nothing recomputed
    assert again == files
