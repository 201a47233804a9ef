"""Ingest: probing, ids, quarantine of broken files (hand-made files with known answers)."""

import numpy as np
import pandas as pd
import pytest

from slac_utils import ingest
from slac_utils.config import IngestConfig
from slac_utils.demo.footage import write_video
from slac_utils.stages import ingest as ingest_stage
from slac_utils.video.decode import center_crop, read_frames, resized_size, sample_indices


def _clip(path, n=30, w=64, h=48, fps=10):
    fr = np.zeros((n, h, w, 3), np.uint8)
    fr[:, :, : w // 2] = 200
    fr += np.arange(n, dtype=np.uint8)[:, None, None, None]
    write_video(path, fr, fps)
    return fr


def test_sample_indices():
    assert list(sample_indices(100, 10, 1.0)) == [5, 15, 25, 35, 45, 55, 65, 75, 85, 95]
    assert len(sample_indices(20, 10, 0.2, min_frames=4)) == 4  # short video: min_frames
    assert len(sample_indices(10_000, 10, 1.0, max_frames=8)) == 8
    assert len(sample_indices(3, 10, 1.0, min_frames=8)) == 3
    assert len(sample_indices(0, 10, 1.0)) == 0


def test_resize_and_crop_geometry():
    assert resized_size(320, 240, 256) == (342, 256)
    assert resized_size(240, 320, 256) == (256, 342)
    x = np.zeros((2, 256, 342, 3), np.uint8)
    x[:, 16:240, 59:283] = 1
    c = center_crop(x, 224)
    assert c.shape == (2, 224, 224, 3) and c.min() == 1


def test_make_video_id():
    assert ingest.make_video_id("dQw4w9WgXcQ") == "dQw4w9WgXcQ"
    odd = ingest.make_video_id("Archery – tutorial (part 2) ñ")
    assert odd.startswith("Archery_tutorial_part_2_n-") and len(odd.split("-")[-1]) == 8
    assert ingest.make_video_id("a b") != ingest.make_video_id("a_b")


@pytest.fixture()
def messy_folder(tmp_path):
    root = tmp_path / "videos"
    (root / "archery").mkdir(parents=True)
    (root / "juggling").mkdir()
    _clip(root / "archery" / "good1.mp4")
    _clip(root / "archery" / "weird name (copy) é.mp4")
    good = (root / "archery" / "good1.mp4").read_bytes()
    (root / "juggling" / "trunc.mp4").write_bytes(good[: len(good) // 3])
    (root / "juggling" / "empty.mp4").write_bytes(b"")
    (root / "juggling" / "page.mp4").write_text("<html>not a video</html>")
    (root / "juggling" / "notes.txt").write_text("hello")
    (root / "stray.mp4").write_bytes(good)
    return root


def test_folder_ingest_quarantines_and_keeps_going(messy_folder):
    listing = ingest.list_folder(messy_folder, [".mp4"])
    m = ingest.build_manifest(listing, IngestConfig(workers=2), progress=False).set_index("path")
    status = {p.split("/")[-1]: (s, e) for p, s, e in zip(m.index, m.status, m.error)}
    assert status["good1.mp4"][0] == "ok"
    assert status["weird name (copy) é.mp4"][0] == "ok"
    assert status["trunc.mp4"][0] == "quarantined" and status["trunc.mp4"][1].startswith("unreadable")
    assert status["empty.mp4"] == ("quarantined", "empty: zero-length file")
    assert status["page.mp4"][1].startswith("unreadable")
    assert "unsupported file ending '.txt'" in status["notes.txt"][1]
    assert status["stray.mp4"][1] == "file outside a class folder"
    good = m.loc[[p for p in m.index if p.endswith("good1.mp4")][0]]
    assert (good.n_frames, good.width, good.height, round(good.fps)) == (30, 64, 48, 10)
    assert len(good.sha256) == 64


def test_probes_are_cached_by_path_size_and_mtime(messy_folder, tmp_path, monkeypatch):
    import os

    from slac_utils.config import ComputeConfig

    calls = []
    real = ingest.probe
    monkeypatch.setattr(ingest, "probe", lambda *a: calls.append(a[0]) or real(*a))
    listing = ingest.list_folder(messy_folder, [".mp4"])
    cfg, comp = IngestConfig(workers=1), ComputeConfig(cache_dir=str(tmp_path / "cache"))
    m0 = ingest.build_manifest(listing, cfg, progress=False)
    first = len(calls)
    m1 = ingest.build_manifest(listing, cfg, False, comp)
    m2 = ingest.build_manifest(listing, cfg, False, comp)  # from the cache: nothing probed
    assert len(calls) == 2 * first and m0.equals(m1) and m1.equals(m2)
    good = next(p for p in listing.path if str(p).endswith("good1.mp4"))
    os.utime(good, ns=(1, 1))  # the file "changed": probed again, alone
    m3 = ingest.build_manifest(listing, cfg, False, comp)
    assert calls[2 * first :] == [str(good)] and m3.equals(m0)


def test_csv_missing_file_and_duplicate_id(tmp_path):
    _clip(tmp_path / "a.mp4")
    csv = tmp_path / "list.csv"
    pd.DataFrame(
        dict(video_id=["v1", "v2", "v1"], class_label=["x", "x", "y"], path=["a.mp4", "nope.mp4", "a.mp4"])
    ).to_csv(csv, index=False)
    m = ingest.build_manifest(ingest.list_csv(csv, tmp_path), IngestConfig(workers=1), progress=False)
    assert list(m.status) == ["ok", "quarantined", "quarantined"]
    assert m.error[1] == "missing: file not found"
    assert m.error[2].startswith("duplicate video_id 'v1'")


def test_csv_needs_columns(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("id,label\n1,x\n")
    with pytest.raises(ValueError, match="missing columns"):
        ingest.list_csv(csv, tmp_path)


def test_read_frames_roundtrip(tmp_path):
    fr = _clip(tmp_path / "c.mp4")
    got = read_frames(tmp_path / "c.mp4", [0, 29])
    assert got.shape == (2, 48, 64, 3)
    assert np.abs(got.astype(int) - fr[[0, 29]].astype(int)).mean() < 6  # lossy but close


def test_ingest_run_folder_source(tmp_path, tiny_world, tiny_params_file):
    """data.source=folder over the same files: same ok videos (ids from file stems), same quarantine."""
    import json

    from slac_utils.config import load_params

    p = load_params(tiny_params_file, {"data.source": "folder"})
    paths = ingest_stage.Paths(
        manifest_path=tmp_path / "m.parquet",
        external_manifest_path=tmp_path / "e.parquet",
        tables_dir=tmp_path / "t",
        figures_dir=tmp_path / "f",
        metrics_path=tmp_path / "m.json",
        demo_dir=None,
    )
    res = ingest_stage.run(p, paths)
    m = res["manifest"]
    # the csv lists a 'missing' file that a folder listing cannot see: one fewer row, three quarantined
    assert (m.status == "quarantined").sum() == 3 and json.loads((tmp_path / "m.json").read_text())["ok"] == (
        m.status == "ok"
    ).sum()
    assert m.video_id.is_unique


def test_content_box_finds_letterbox_and_pillarbox_bars():
    from slac_utils.video.decode import content_box, crop_borders

    rng = np.random.default_rng(0)
    pic = rng.integers(40, 255, (4, 60, 100, 3), dtype=np.uint8)
    letter = np.full((4, 80, 100, 3), 16, np.uint8)  # H.264 black is ~16
    letter[:, 10:70] = pic
    assert content_box(letter) == (10, 70, 0, 100)
    pillar = np.zeros((4, 60, 140, 3), np.uint8)
    pillar[:, :, 20:120] = pic
    assert content_box(pillar) == (0, 60, 20, 120)
    out = crop_borders(letter, short_edge=60)
    assert out.shape == (4, 60, 100, 3)
    np.testing.assert_array_equal(out, pic)  # same size: the crop is exact


def test_content_box_leaves_dark_pictures_alone():
    from slac_utils.video.decode import content_box

    rng = np.random.default_rng(1)
    night = rng.integers(0, 40, (4, 60, 100, 3), dtype=np.uint8)  # dark, but not bars
    assert content_box(night) == (0, 60, 0, 100)
    one_dark_row = rng.integers(40, 255, (4, 60, 100, 3), dtype=np.uint8)
    one_dark_row[:, :1] = 0  # under 2% of the height: not cropped
    assert content_box(one_dark_row) == (0, 60, 0, 100)
    deep = rng.integers(40, 255, (4, 60, 100, 3), dtype=np.uint8)
    deep[:, :30] = 0  # a dark upper half is scenery, not a bar (more than max_border)
    assert content_box(deep)[0] == 0
