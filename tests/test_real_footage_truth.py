"""The real-footage benchmark's truth tables and evaluation functions (bench/real_footage/truth.py).

Hand-made cases only; no network.  The tests on the built benchmark skip when data/real_footage
has not been built (`.venv/bin/python bench/real_footage/build.py`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
HERE = REPO / "bench" / "real_footage"
BUILT = REPO / "data" / "real_footage"


def _load(name: str, path: Path):
    # loaded by file path under a unique name: no dependence on the `tests` package or sys.path
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


T = _load("slac_bench_real_footage_truth", HERE / "truth.py")


def cuts(rows):
    return pd.DataFrame(rows, columns=["video", "frame", "kind", "span_start", "span_frames"])


# ----------------------------------------------------------------------------- helpers
def test_parse_ranges_and_overlap():
    assert T.parse_ranges("") == []
    assert T.parse_ranges("3-5;10-10") == [(3, 6), (10, 11)]
    assert T.person_overlap("0-9", 5, 20) == 5
    assert T.person_overlap("0-9;15-19", 5, 20) == 10
    assert T.person_overlap(None, 0, 10) == 0


# ----------------------------------------------------------------------------- shots
def test_shot_prf_cut_tolerance():
    t = cuts([("v", 50, "cut", 50, 1), ("v", 100, "cut", 100, 1)])
    r = T.shot_prf({"v": [52, 104]}, t, tolerance=2)
    assert (r["hits"], r["n_true"], r["n_pred"]) == (1, 2, 2)
    assert r["precision"] == 0.5 and r["recall"] == 0.5
    assert T.shot_prf({"v": [52, 104]}, t, tolerance=4)["f1"] == 1.0


def test_shot_prf_is_one_to_one():
    t = cuts([("v", 50, "cut", 50, 1)])
    r = T.shot_prf({"v": [49, 50, 51]}, t)
    assert r["hits"] == 1 and r["n_pred"] == 3 and r["precision"] == pytest.approx(1 / 3)


def test_shot_prf_gradual_matches_anywhere_in_span():
    t = cuts([("v", 105, "dissolve", 100, 11), ("v", 208, "fade", 200, 16)])
    assert T.shot_prf({"v": [98, 214]}, t)["recall"] == 1.0  # 98 = span start - 2; 214 inside the fade
    r = T.shot_prf({"v": [97, 218]}, t)  # 97 < 100 - 2; 218 > 215 + 2
    assert r["hits"] == 0 and r["recall_dissolve"] == 0.0 and r["recall_fade"] == 0.0
    assert np.isnan(r["recall_cut"]) and r["n_cut"] == 0


def test_shot_prf_kinds_videos_and_frame_zero():
    t = cuts([("a", 10, "cut", 10, 1), ("a", 40, "dissolve", 35, 10), ("b", 20, "cut", 20, 1)])
    r = T.shot_prf({"a": [0, 10]}, t)  # frame 0 is never a boundary; video b is not evaluated
    assert r["n_pred"] == 1 and r["n_true"] == 2 and r["videos_missing"] == 1
    assert r["recall_cut"] == 1.0 and r["recall_dissolve"] == 0.0
    empty = T.shot_prf({"a": []}, t)
    assert empty["precision"] == 1.0 and empty["recall"] == 0.0 and empty["f1"] == 0.0


def test_shot_prf_same_source_and_source_column():
    t = cuts([("v", 10, "cut", 10, 1), ("v", 50, "cut", 50, 1)]).assign(same_source=[1, 0])
    r = T.shot_prf({"v": [50]}, t)
    assert r["recall_same_source"] == 0.0 and r["n_same_source"] == 1
    src = pd.DataFrame(dict(source=["s"], frame=[7], kind=["cut"], span_start=[7], span_frames=[1]))
    assert T.shot_prf({"s": [8]}, src)["recall"] == 1.0


def test_shot_prf_without_span_start_is_centred():
    t = pd.DataFrame(dict(video=["v"], frame=[100], kind=["dissolve"], span_frames=[10]))
    assert T.shot_prf({"v": [93]}, t)["hits"] == 1  # span 95..104, minus tolerance 2
    assert T.shot_prf({"v": [92]}, t)["hits"] == 0


# ----------------------------------------------------------------------------- persons
def _shots():
    return pd.DataFrame(
        dict(
            video=["v"] * 5,
            shot_id=range(5),
            has_person=[1, 1, 0, 0, 1],
            framing=["full", "closeup", "animation", "none", "closeup"],
            ambiguous=[0, 0, 0, 0, 1],
        )
    )


def test_person_shot_pr_threshold_and_ambiguous():
    s = {("v", 0): 0.9, ("v", 1): 0.2, ("v", 2): 0.7, ("v", 3): 0.1, ("v", 4): 0.0}
    r = T.person_shot_pr(s, _shots(), threshold=0.5)
    assert (r["tp"], r["fp"], r["fn"], r["tn"], r["n"]) == (1, 1, 1, 1, 4)
    assert r["precision"] == 0.5 and r["recall"] == 0.5
    assert (
        r["recall_full"] == 1.0
        and r["recall_closeup"] == 0.0
        and r["fp_rate_animation"] == 1.0
        and r["fp_rate_none"] == 0.0
    )
    r = T.person_shot_pr(s, _shots(), threshold=0.5, include_ambiguous=True)
    assert r["fn"] == 2 and r["n"] == 5
    assert T.person_shot_pr(s, _shots(), threshold=0.05)["recall"] == 1.0


def test_person_shot_pr_missing_shots_are_counted_not_scored():
    r = T.person_shot_pr({("v", 0): 0.9}, _shots())
    assert r["n"] == 1 and r["missing"] == 3 and r["precision"] == 1.0


# ----------------------------------------------------------------------------- dedup
def _dups():
    return pd.DataFrame(
        dict(
            video_a=["o", "o", "x", "o", "p"],
            video_b=["c1", "c2", "y", "z", "q"],
            relation=["copy", "copy", "copy", "distinct_shared_footage", "distinct"],
            transform=["trim", "mirror", "grade", "share", "time ranges"],
        )
    )


def test_dedup_pr_closure_star_equals_pairwise():
    star = T.dedup_pr([("c1", "o"), ("c2", "o"), ("y", "x")], _dups())
    chain = T.dedup_pr([("c1", "c2"), ("c2", "o"), ("x", "y")], _dups())
    for r in (star, chain):
        assert r["precision"] == 1.0 and r["recall"] == 1.0 and r["n_true_pairs"] == 4 and r["distinct_merged"] == 0


def test_dedup_pr_errors_and_distinct_merges():
    r = T.dedup_pr([("o", "c1"), ("o", "z")], _dups())
    # predicted group {o, c1, z}: pairs (c1,o) true, (o,z) and (c1,z) false
    assert r["hits"] == 1 and r["n_pred_pairs"] == 3 and r["precision"] == pytest.approx(1 / 3)
    assert r["recall"] == pytest.approx(1 / 4) and r["distinct_merged"] == 1 and r["distinct_pairs"] == 2
    assert ("o", "z", "distinct_shared_footage") in r["merged_distinct"]
    none = T.dedup_pr([], _dups())
    assert none["precision"] == 1.0 and none["recall"] == 0.0


def test_copy_recall_by_transform():
    r = T.copy_recall_by_transform([("o", "c1")], _dups())
    assert r == {"grade": 0.0, "mirror": 0.0, "trim": 1.0}


# ----------------------------------------------------------------------------- the committed hand truth
def test_hand_truth_tables_are_consistent():
    t = T.load_truth(HERE / "truth")
    cuts_, shots = t["source_cuts"], t["source_shots"]
    assert set(cuts_.kind) <= set(T.KINDS)
    assert set(shots.framing) <= {"full", "closeup", "crowd", "none", "animation"}
    for src, g in shots.groupby("source"):
        g = g.sort_values("shot_id")
        assert g.shot_id.tolist() == list(range(len(g))) and g.start_frame.iloc[0] == 0
        assert (g.start_frame.to_numpy()[1:] == g.end_frame.to_numpy()[:-1]).all(), src
        assert sorted(cuts_[cuts_.source == src].frame) == g.start_frame.tolist()[1:], src
        assert ((g.clean_start >= g.start_frame) & (g.clean_end <= g.end_frame)).all(), src
        for r in g.itertuples():
            assert all(r.start_frame <= a and b <= r.end_frame for a, b in T.parse_ranges(r.person_frames)), (
                src,
                r.shot_id,
            )
            assert bool(r.has_person) == bool(r.person_frames) or r.ambiguous, (src, r.shot_id)
            assert r.framing != "animation" or not r.has_person
    g = cuts_[cuts_.kind != "cut"]
    assert ((g.span_start <= g.frame) & (g.frame <= g.span_start + g.span_frames)).all()


# ----------------------------------------------------------------------------- the built benchmark (optional)
needs_built = pytest.mark.skipif(
    not (BUILT / "truth" / "spliced_cuts.csv").exists(),
    reason="real-footage benchmark not built (run .venv/bin/python bench/real_footage/build.py)",
)


@needs_built
def test_built_spliced_truth_tiles_each_video():
    import av

    t = T.load_truth(BUILT)
    for v, g in t["spliced_shots"].groupby("video"):
        g = g.sort_values("shot_id")
        with av.open(str(BUILT / "spliced" / f"{v}.mp4")) as c:
            n = c.streams.video[0].frames
        assert g.start_frame.iloc[0] == 0 and g.end_frame.iloc[-1] == n, v
        assert sorted(t["spliced_cuts"][t["spliced_cuts"].video == v].frame) == g.start_frame.tolist()[1:], v


@needs_built
def test_built_layout_and_dups_refer_to_listed_files():
    t = T.load_truth(BUILT)
    vids = t["videos"]
    assert all((BUILT / p).exists() for p in vids.path)
    assert set(t["dups"].video_a) | set(t["dups"].video_b) <= set(vids.video_id)
    assert vids.video_id.is_unique
    assert set(t["broken"].video_id) <= set(vids[vids.kind == "broken"].video_id)
