"""The demo world: real decodable videos, consistent truth, planted copies/broken files, determinism."""

import json

import numpy as np
import pandas as pd

from slac_utils.config import DemoConfig
from slac_utils.demo.footage import render_video, write_video
from slac_utils.demo.plan import plan_world
from slac_utils.demo.world import load_truth
from slac_utils.video.decode import open_reader

from .conftest import TINY_DEMO


def test_truth_tables_are_consistent(tiny_world):
    t = load_truth(tiny_world)
    v, s, g = t["videos"], t["shots"], t["segments"]
    ok = v[v.broken == ""]
    for vid, shots in s.groupby("video_id"):
        # shots tile the video exactly
        assert shots.start_frame.iloc[0] == 0
        assert (shots.start_frame.to_numpy()[1:] == shots.end_frame.to_numpy()[:-1]).all()
        n = ok.set_index("video_id").loc[vid, "n_frames"]
        assert shots.end_frame.iloc[-1] == n
        segs = g[g.video_id == vid]
        assert segs.end_frame.sum() - segs.start_frame.sum() == n  # segments tile it too
    assert set(g.kind) <= {"action", "no_action", "no_context", "no_person"}
    assert set(s.transition_in) >= {"start", "cut"}


def test_files_decode_and_match_truth(tiny_world):
    t = load_truth(tiny_world)
    v = t["videos"]
    for r in v[v.broken == ""].itertuples():
        vr = open_reader(tiny_world / "videos" / r.path)
        assert len(vr) == r.n_frames
    listing = pd.read_csv(tiny_world / "videos.csv")
    assert list(listing.columns) == ["video_id", "class_label", "path", "url", "title"]
    assert len(listing) == len(v)


def test_planted_copies_and_broken_files(tiny_world):
    v = load_truth(tiny_world)["videos"]
    copies = v[v.is_copy]
    assert len(copies) > 0
    assert all(json.loads(c) for c in copies.transforms)
    assert (copies.copy_of.isin(v.video_id)).all()
    assert set(v.broken) - {""} == {"truncated", "zero_length", "not_a_video", "missing"}
    missing = v[v.broken == "missing"].path.iloc[0]
    assert not (tiny_world / "videos" / missing).exists()
    assert (tiny_world / "videos" / v[v.broken == "zero_length"].path.iloc[0]).stat().st_size == 0
    assert any(" " in p for p in v.path)  # the oddly named upload


def test_external_sets_and_web_images(tiny_world):
    t = load_truth(tiny_world)
    e = t["external"]
    assert set(e.target) == {"demo_kinetics_val", "demo_ucf101_test"}
    overl = e[e.copy_of != ""]
    assert overl.mapped.any() and (~overl.mapped).any()  # one overlap sits in an unmapped class
    w = t["web_images"]
    assert set(w.class_label) == set(DemoConfig(**TINY_DEMO).classes) | {"__background__"}
    assert all((tiny_world / p).exists() for p in w.path)


def test_generation_is_deterministic(tmp_path):
    cfg = DemoConfig(**TINY_DEMO)
    jobs_a = plan_world(cfg)[0]
    jobs_b = plan_world(cfg)[0]
    assert [j.dest for j in jobs_a] == [j.dest for j in jobs_b]
    plan = jobs_a[0].plan
    fa, fb = render_video(plan), render_video(jobs_b[0].plan)
    assert np.array_equal(fa, fb)
    write_video(tmp_path / "a.mp4", fa[:20], plan.fps)
    write_video(tmp_path / "b.mp4", fb[:20], plan.fps)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()


def test_schema_knows_the_demo_classes_without_importing_demo_code():
    from slac_utils.config import DEMO_CLASSES
    from slac_utils.demo.motions import CLASSES

    assert tuple(CLASSES) == DEMO_CLASSES
