"""slac_utils.export on small hand-made tables: split, HACS clips CSV, segments JSON, provenance, run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from slac_utils import export as ex
from slac_utils.config import Params
from slac_utils.engine.detection_io import read_activitynet

LABELED_COLUMNS = [
    "clip_id",
    "video_id",
    "class_label",
    "shot_id",
    "frame",
    "time_s",
    "start_s",
    "end_s",
    "kind",
    "R",
    "consensus",
    "kl",
    "representativeness",
    "path",
    "label",
    "annotator_label",
    "annotator",
    "is_gold",
    "gold_label",
    "seconds",
    "page",
    "ts_server",
]


def _clip(video, cls, shot, start, end, label, annotator="ann-a", annotator_label=None, gold=0, kind="hard"):
    """One labeled_clips row (stage 05 layout); label is the final label, gold the golden answer (0: not golden)."""
    frame = int(round((start + end) / 2 * 15))
    return dict(
        clip_id=f"{video}_{shot:03d}_{frame:06d}",
        video_id=video,
        class_label=cls,
        shot_id=shot,
        frame=frame,
        time_s=(start + end) / 2,
        start_s=start,
        end_s=end,
        kind=kind,
        R=0.25,
        consensus=1.5,
        kl=0.5,
        representativeness=0.6,
        path=f"clips/{cls}/{video}_{frame}.mp4",
        label=label,
        annotator_label=label if annotator_label is None else annotator_label,
        annotator=annotator,
        is_gold=gold != 0,
        gold_label=gold,
        seconds=8.0,
        page=0,
        ts_server=1.0,
    )


def _labeled(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=LABELED_COLUMNS).astype(
        dict(label="int8", annotator_label="int8", gold_label="int8")
    )


@pytest.fixture
def labeled() -> pd.DataFrame:
    """Rows deliberately out of order. vidB: golden check clips (one answered wrong by ann-b) and a guideline example."""
    return _labeled(
        [
            _clip("vidB", "jump_rope", 1, 4.0, 6.0, -1, annotator="ann-b"),
            _clip("vidA", "archery", 0, 2.0, 4.0, 1),
            _clip("vidA", "archery", 0, 0.0, 2.0, 1),
            _clip("vidA", "archery", 1, 12.1, 14.1, -1, kind="easy"),
            _clip("vidB", "jump_rope", 0, 0.5, 2.5, 1, annotator="ann-b", gold=1),
            _clip(
                "vidB", "jump_rope", 0, 1.0, 3.0, 1, annotator="ann-b", annotator_label=-1, gold=1
            ),  # wrong answer, golden label wins
            _clip("vidB", "jump_rope", 2, 7.0, 9.0, -1, annotator="ann-b", gold=-1),
            _clip(
                "vidC", "archery", 0, 3.0, 5.0, -1, annotator="golden_set", annotator_label=0, gold=-1
            ),  # guideline example
            _clip("vidC", "archery", 0, 5.0, 7.0, 0, annotator="ann-a"),  # no final label: not exported
        ]
    )


@pytest.fixture
def manifest() -> pd.DataFrame:
    return pd.DataFrame(
        dict(
            video_id=["vidA", "vidB", "vidC", "vidD"],
            class_label=["archery", "jump_rope", "archery", "archery"],
            path=[f"videos/{v}.mp4" for v in "ABCD"],
            n_frames=[300, 150, 120, 90],
            fps=[15.0, 15.0, 15.0, 15.0],
            duration_s=[20.0, 10.0, 8.0, 6.0],
            sha256=[c * 64 for c in "abcd"],
            status="ok",
        )
    )


SUBSETS = {"vidA": "training", "vidB": "validation", "vidC": "testing"}


# ----------------------------------------------------------------------------- split
@pytest.mark.parametrize(
    "n, fractions, expected",
    [
        (10, (0.7, 0.15, 0.15), (7, 2, 1)),  # 7 + 1.5 + 1.5: the left-over video goes to the first tie (validation)
        (102, (0.9654, 0.0115, 0.0231), (99, 1, 2)),  # 98.47 + 1.17 + 2.36
        (3, (1 / 3, 1 / 3, 1 / 3), (1, 1, 1)),
        (0, (0.7, 0.15, 0.15), (0, 0, 0)),
        (5, (1.0, 0.0, 0.0), (5, 0, 0)),
    ],
)
def test_subset_counts_exact(n, fractions, expected):
    assert ex.subset_counts(n, fractions) == expected


def test_subset_counts_always_sum_to_n():
    for n in range(60):
        for fr in [(0.7, 0.15, 0.15), (0.9654, 0.0115, 0.0231), (0.5, 0.25, 0.25)]:
            c = ex.subset_counts(n, fr)
            assert sum(c) == n and all(abs(k - n * f) < 1 for k, f in zip(c, fr))


def test_split_videos_disjoint_exact_deterministic():
    ids = [f"v{i:02d}" for i in range(20)]
    s = ex.split_videos(ids, (0.7, 0.15, 0.15), seed=3)
    assert set(s) == set(ids) and set(s.values()) <= set(ex.SUBSETS)  # each video once, in one subset
    assert [list(s.values()).count(x) for x in ex.SUBSETS] == [14, 3, 3]
    assert (
        ex.split_videos(list(reversed(ids)) + ids[:5], (0.7, 0.15, 0.15), seed=3) == s
    )  # order and repeats do not matter
    assert ex.split_videos(ids, (0.7, 0.15, 0.15), seed=4) != s
    with pytest.raises(ValueError, match="fractions"):
        ex.split_videos(ids, (0.7, 0.2, 0.2), seed=0)


# ----------------------------------------------------------------------------- clips CSV
def test_clips_table_columns_order_and_labels(labeled):
    t = ex.clips_table(labeled, SUBSETS)
    assert list(t.columns) == ["classname", "youtube_id", "subset", "start", "end", "label"]
    assert list(t.itertuples(index=False, name=None)) == [
        ("archery", "vidA", "training", 0.0, 2.0, 1),
        ("archery", "vidA", "training", 2.0, 4.0, 1),
        ("archery", "vidA", "training", 12.1, 14.1, -1),
        ("archery", "vidC", "testing", 3.0, 5.0, -1),  # the guideline example, with its golden label
        ("jump_rope", "vidB", "validation", 0.5, 2.5, 1),
        ("jump_rope", "vidB", "validation", 1.0, 3.0, 1),  # the golden label, not the annotator's -1
        ("jump_rope", "vidB", "validation", 4.0, 6.0, -1),
        ("jump_rope", "vidB", "validation", 7.0, 9.0, -1),
    ]
    assert set(t.label) == {1, -1}


def test_clips_table_refuses_videos_without_subset_and_colliding_keys(labeled):
    with pytest.raises(ValueError, match="vidC"):
        ex.clips_table(labeled, {"vidA": "training", "vidB": "validation"})
    twins = _labeled([_clip("vidA", "archery", 0, 1.001, 3.001, 1), _clip("vidA", "archery", 0, 1.004, 3.004, 1)])
    with pytest.raises(ValueError, match="share a key"):
        ex.clips_table(twins, SUBSETS)


def test_write_clips_csv_text(tmp_path, labeled):
    path = ex.write_clips_csv(ex.clips_table(labeled, SUBSETS), tmp_path / "HACS_clips_v1.1.csv")
    lines = path.read_bytes().decode().split("\n")
    assert lines[0] == "classname,youtube_id,subset,start,end,label"
    assert lines[1:4] == [
        "archery,vidA,training,0.0,2.0,1",
        "archery,vidA,training,2.0,4.0,1",
        "archery,vidA,training,12.1,14.1,-1",
    ]
    assert lines[-1] == "" and len(lines) == 10 and "\r" not in path.read_text()


def test_clips_csv_round_trip(tmp_path, labeled):
    t = ex.clips_table(
        labeled.assign(start_s=labeled.start_s + 1 / 3, end_s=labeled.end_s + 1 / 3), SUBSETS
    )  # 0.33 / 2.33 ...
    path = ex.write_clips_csv(t, tmp_path / "clips.csv")
    pd.testing.assert_frame_equal(ex.read_clips_csv(path), t)
    pd.testing.assert_frame_equal(pd.read_csv(path), t)
    assert t.start.iloc[0] == 0.33


@pytest.mark.parametrize(
    "body, line, what",
    [
        ("classname,youtube_id,subset,start,end\n", 1, "header"),
        ("classname,youtube_id,subset,start,end,label\narchery,v1,training,1.0,3.0,0\n", 2, "label '0'"),
        (
            "classname,youtube_id,subset,start,end,label\narchery,v1,training,1.0,3.0,1\narchery,v1,training,3.0,3.0,-1\n",
            3,
            "not before",
        ),
        ("classname,youtube_id,subset,start,end,label\narchery,v1,train,1.0,3.0,1\n", 2, "subset 'train'"),
        ("classname,youtube_id,subset,start,end,label\narchery,v1,training,1.0,3.0\n", 2, "6 fields"),
        ("classname,youtube_id,subset,start,end,label\narchery,v1,training,one,3.0,1\n", 2, "not a number"),
        ("classname,youtube_id,subset,start,end,label\narchery,v1,training,-1.0,3.0,1\n", 2, ">= 0"),
        (
            "classname,youtube_id,subset,start,end,label\narchery,v1,training,1.0,3.0,1\narchery,v1,training,1.0,3.0,-1\n",
            3,
            "repeats line 2",
        ),
        (
            "classname,youtube_id,subset,start,end,label\narchery,v1,training,1.0,3.0,1\narchery,v2,testing,1,3,1\narchery,v1,testing,5,7,1\n",
            4,
            "in testing here and in training on line 2",
        ),
    ],
)
def test_read_clips_csv_names_file_and_line(tmp_path, body, line, what):
    path = tmp_path / "bad.csv"
    path.write_text(body)
    with pytest.raises(ex.ExportFormatError) as e:
        ex.read_clips_csv(path)
    assert isinstance(e.value, ValueError)
    assert f"{path}:{line}:" in str(e.value) and what in str(e.value)


# ----------------------------------------------------------------------------- segments
def merge_rows(df):
    return list(df[["start", "end"]].itertuples(index=False, name=None))


def test_merge_touching_by_hand():
    iv = pd.DataFrame(dict(start=[4.0, 0.0, 2.0, 8.0, 17.9333333], end=[6.0, 2.0, 4.5, 10.0, 19.9]))
    # 0-2 touches 2-4.5, which overlaps 4-6 -> 0-6; 8-10 alone; 17.93.. alone
    assert merge_rows(ex.merge_touching(iv)) == [(0.0, 6.0), (8.0, 10.0), (17.9333333, 19.9)]
    noisy = pd.DataFrame(
        dict(start=[1.0, 2.9333333333333336], end=[2.933333333333333, 4.0])
    )  # frame times with float noise
    assert merge_rows(ex.merge_touching(noisy)) == [(1.0, 4.0)]


def test_positive_segments_by_hand(labeled):
    rows = labeled.to_dict("records") + [
        _clip("vidA", "archery", 0, 3.5, 5.5, 1),  # overlaps 2-4 in shot 0 -> 0-5.5
        _clip("vidA", "archery", 1, 5.5, 7.5, 1),  # touches 0-5.5 but in shot 1: its own segment
        _clip("vidA", "archery", 1, 9.0, 11.0, 1),  # a gap to 7.5: its own segment
    ]
    segs = ex.positive_segments(_labeled(rows))
    assert list(segs.columns) == ["video_id", "label", "start", "end"]
    assert list(segs.itertuples(index=False, name=None)) == [
        ("vidA", "archery", 0.0, 5.5),
        ("vidA", "archery", 5.5, 7.5),
        ("vidA", "archery", 9.0, 11.0),
        ("vidB", "jump_rope", 0.5, 3.0),  # two overlapping positive golden clips
    ]


def test_positive_segments_empty():
    segs = ex.positive_segments(_labeled([_clip("vidA", "archery", 0, 0.0, 2.0, -1)]))
    assert segs.empty and list(segs.columns) == ["video_id", "label", "start", "end"]


def test_truth_action_segments(manifest):
    truth = pd.DataFrame(
        dict(
            video_id=["vidA", "vidA", "vidB", "vidX"],
            shot_id=[0, 1, 0, 0],
            kind=["action", "no_action", "action", "action"],
            start_frame=[0, 30, 15, 0],
            end_frame=[30, 60, 45, 15],
            start_s=[0.0, 2.0, 1.0, 0.0],
            end_s=[2.0, 4.0, 3.0, 1.0],
        )
    )
    out = ex.truth_action_segments(truth, manifest)
    assert list(out.itertuples(index=False, name=None)) == [
        ("vidA", "archery", 0.0, 2.0),
        ("vidB", "jump_rope", 1.0, 3.0),
    ]


def _database(subsets=SUBSETS):
    segs = pd.DataFrame(
        dict(
            video_id=["vidA", "vidA", "vidB"],
            label=["archery", "archery", "jump_rope"],
            start=[12.346, 0.0, -0.5],
            end=[25.0, 2.004, 3.333333],
        )
    )
    return ex.segments_database(
        subsets, {"vidA": 20.0, "vidB": 10.0, "vidC": 31.5333333}, segs, "https://www.youtube.com/watch?v={video_id}"
    )


def test_segments_database_layout():
    db = _database()
    assert set(db) == {"database", "version"}
    assert list(db["database"]) == ["vidA", "vidB", "vidC"]
    for entry in db["database"].values():
        assert set(entry) == {"annotations", "subset", "duration", "url"}
        assert all(set(a) == {"label", "segment"} and len(a["segment"]) == 2 for a in entry["annotations"])
    assert db["database"]["vidA"] == dict(
        annotations=[
            dict(label="archery", segment=[0.0, 2.0]),
            dict(label="archery", segment=[12.35, 20.0]),
        ],  # sorted, rounded, clipped
        subset="training",
        duration="20.000000",
        url="https://www.youtube.com/watch?v=vidA",
    )
    assert db["database"]["vidB"]["annotations"] == [dict(label="jump_rope", segment=[0.0, 3.33])]
    assert db["database"]["vidC"] == dict(
        annotations=[], subset="testing", duration="31.533333", url="https://www.youtube.com/watch?v=vidC"
    )


def test_segments_database_refuses_unknown_videos():
    with pytest.raises(ValueError, match="vidA"):
        _database(subsets={"vidB": "training", "vidC": "testing"})
    with pytest.raises(ValueError, match="without a duration"):
        ex.segments_database({"vidZ": "training"}, {}, pd.DataFrame(columns=ex.SEGMENT_COLUMNS), "{video_id}")


def test_segments_json_deterministic_bytes(tmp_path):
    a = ex.write_segments_json(_database(), tmp_path / "a.json")
    shuffled = {k: SUBSETS[k] for k in reversed(list(SUBSETS))}
    b = ex.write_segments_json(_database(subsets=shuffled), tmp_path / "b.json")
    assert a.read_bytes() == b.read_bytes()
    text = a.read_text()
    assert json.loads(text) == _database() and text.endswith("}\n")
    assert (
        text.index('"annotations"') < text.index('"duration"') < text.index('"subset"') < text.index('"url"')
    )  # sorted keys


def test_segments_json_round_trip_through_read_activitynet(tmp_path):
    path = ex.write_segments_json(_database(), tmp_path / "HACS_segments_v1.1.json")
    got = read_activitynet(path)
    assert {"video_id", "label", "start", "end", "subset", "duration"} <= set(got.columns)
    segs = got[got.label.notna()].sort_values(["video_id", "start"]).reset_index(drop=True)
    assert list(segs[["video_id", "label", "start", "end", "subset"]].itertuples(index=False, name=None)) == [
        ("vidA", "archery", 0.0, 2.0, "training"),
        ("vidA", "archery", 12.35, 20.0, "training"),
        ("vidB", "jump_rope", 0.0, 3.33, "validation"),
    ]
    assert np.allclose(segs.duration.astype(float), [20.0, 20.0, 10.0])
    val = read_activitynet(path, subset="validation")
    assert set(val.video_id) == {"vidB"}


# ----------------------------------------------------------------------------- provenance
def test_annotator_gold_accuracy_by_hand(labeled):
    acc = ex.annotator_gold_accuracy(labeled)
    # ann-b answered 3 golden check clips, one wrongly; ann-a had none; golden_set's guideline example is nobody's answer
    assert list(acc.itertuples(index=False, name=None)) == [("ann-b", 3, pytest.approx(2 / 3))]


def test_provenance_rows_follow_the_csv(labeled, manifest):
    prov = ex.provenance_table(labeled, SUBSETS, manifest)
    clips = ex.clips_table(labeled, SUBSETS)
    assert list(prov.columns) == ex.PROVENANCE_COLUMNS
    pd.testing.assert_frame_equal(prov[clips.columns.tolist()], clips)
    assert not prov.duplicated(ex.KEY).any()
    b = prov[prov.youtube_id == "vidB"]
    assert set(b.annotator_gold_n) == {3} and np.allclose(b.annotator_gold_accuracy, 2 / 3)
    assert set(b.source_sha256) == {"b" * 64} and set(b.source_path) == {"videos/B.mp4"}
    a = prov[prov.annotator == "ann-a"]
    assert set(a.annotator_gold_n) == {0} and a.annotator_gold_accuracy.isna().all()
    ex_row = prov[prov.annotator == "golden_set"].iloc[0]
    assert (ex_row.label, ex_row.annotator_label, ex_row.gold_label, bool(ex_row.is_gold)) == (-1, 0, -1, True)
    assert set(prov.clip_path) <= set(labeled.path)
    with pytest.raises(ValueError, match="manifest"):
        ex.provenance_table(labeled, SUBSETS, manifest[manifest.video_id != "vidC"])


# ----------------------------------------------------------------------------- run
def _inputs(tmp_path, labeled, manifest):
    lp, mp, tp = tmp_path / "labeled.parquet", tmp_path / "manifest.parquet", tmp_path / "segments.parquet"
    labeled.to_parquet(lp, index=False)
    manifest.to_parquet(mp, index=False)
    pd.DataFrame(
        dict(
            video_id=["vidA", "vidB", "vidD"],
            shot_id=[0, 0, 0],
            kind=["action", "action", "action"],
            start_frame=[0, 0, 0],
            end_frame=[90, 60, 30],
            start_s=[0.0, 0.0, 0.0],
            end_s=[6.0, 4.0, 2.0],
        )
    ).to_parquet(tp, index=False)
    return lp, mp, tp


def test_run_writes_the_release_files_deterministically(tmp_path, labeled, manifest):
    lp, mp, tp = _inputs(tmp_path, labeled, manifest)
    params = Params(seed=5)
    counts = ex.run(params, lp, mp, tmp_path / "a")
    ex.run(params, lp, mp, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted([ex.CLIPS_FILE, ex.SEGMENTS_FILE, ex.PROVENANCE_FILE, "provenance.csv", ex.README_FILE])
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes(), n

    clips = ex.read_clips_csv(tmp_path / "a" / ex.CLIPS_FILE)
    assert counts["all_clips"] == len(clips) == 8 and counts["unlabeled_skipped"] == 1
    assert (counts["all_positive"], counts["all_negative"]) == (4, 4)
    assert counts["all_segments"] == 2  # vidA 0-4 (two touching clips), vidB 0.5-3
    assert sum(counts[f"{s}_videos"] for s in ex.SUBSETS) == 3
    assert clips.groupby("youtube_id").subset.nunique().max() == 1
    db = json.loads((tmp_path / "a" / ex.SEGMENTS_FILE).read_text())
    assert {v: e["subset"] for v, e in db["database"].items()} == dict(
        clips.drop_duplicates("youtube_id")[["youtube_id", "subset"]].values
    )
    prov = pd.read_parquet(tmp_path / "a" / ex.PROVENANCE_FILE)
    pd.testing.assert_frame_equal(prov[ex.CLIP_COLUMNS], clips)
    readme = (tmp_path / "a" / ex.README_FILE).read_text()
    assert ex.CLIPS_FILE in readme and "| all " in readme and "seed: `5`" in readme


def test_run_exports_given_truth_segments(tmp_path, labeled, manifest):
    lp, mp, tp = _inputs(tmp_path, labeled, manifest)
    ex.run(Params(), lp, mp, tmp_path / "out", segments_truth_path=tp)
    db = json.loads((tmp_path / "out" / ex.SEGMENTS_FILE).read_text())["database"]
    assert set(db) == {"vidA", "vidB", "vidC"}  # vidD has no labeled clip: not exported
    assert db["vidA"]["annotations"] == [dict(label="archery", segment=[0.0, 6.0])]
    assert db["vidB"]["annotations"] == [dict(label="jump_rope", segment=[0.0, 4.0])]
    assert db["vidC"]["annotations"] == []
