"""Temporal action detection mAP (slac_utils.engine.detection_eval): tIoU, the ActivityNet and THUMOS14
protocols on hand-made cases with the expected numbers worked out in the comments, a brute-force
cross-check of the ActivityNet protocol, the readers / writers and the command line."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from slac_utils.engine import detection_eval as D
from slac_utils.engine import detection_io as DIO

from .conftest import REPO


def gt_table(*rows):
    """(video_id, label, start, end) rows -> ground-truth table."""
    return pd.DataFrame(rows, columns=["video_id", "label", "start", "end"])


def pred_table(*rows):
    """(video_id, label, score, start, end) rows -> prediction table."""
    return pd.DataFrame(rows, columns=["video_id", "label", "score", "start", "end"])


# --------------------------------------------------------------------------- tIoU


def test_tiou_edge_cases():
    tiou = D.segment_tiou(
        [0, 10],
        [
            [10, 20],  # touching: intersection 0 -> 0
            [0, 10],  # identical -> 1
            [2, 4],  # contained: 2 / 10 = 0.2
            [5, 15],  # partial: 5 / (10 + 10 - 5) = 1/3
            [30, 40],
        ],
    )  # disjoint -> 0
    assert tiou.tolist() == pytest.approx([0.0, 1.0, 0.2, 1 / 3, 0.0])
    assert D.segment_tiou([2, 4], [[0, 10]]).tolist() == pytest.approx([0.2])  # containment is symmetric
    assert np.isnan(D.segment_tiou([5, 5], [[5, 5]])[0])  # 0/0, as the official code


def test_pairwise_tiou_rows_are_segment_tiou_bit_for_bit():
    rng = np.random.default_rng(1)
    a = np.sort(rng.uniform(0, 50, (7, 2)), axis=1)
    b = np.sort(rng.uniform(0, 50, (5, 2)), axis=1)
    m = D.pairwise_tiou(a, b)
    assert m.shape == (7, 5)
    for i in range(7):
        assert np.array_equal(m[i], D.segment_tiou(a[i], b))


def test_thumos14_overlap_uses_the_hull():
    ov = D.thumos14_overlap([[0, 10]], [[10, 20], [5, 15], [2, 4], [0, 10]])
    # touching 0; partial 5 / hull(0..15) = 1/3; contained 2 / 10; identical 1
    assert ov[0].tolist() == pytest.approx([0.0, 1 / 3, 0.2, 1.0])
    assert D.thumos14_overlap([[5, 5]], [[5, 5]])[0, 0] == 0.0  # no positive intersection -> 0, never NaN


# --------------------------------------------------------------------------- interpolated AP


def test_interpolated_ap_makes_precision_monotone():
    # ranked FP, TP, TP against 2 gts: precision [0, 1/2, 2/3], recall [0, 1/2, 1]
    # mprec [0, 0, .5, .667, 0] -> from the right [.667, .667, .667, .667, 0]; mrec [0, 0, .5, 1, 1]
    # recall changes at 0->.5 and .5->1: AP = .5 * 2/3 + .5 * 2/3 = 2/3
    assert D.interpolated_ap([0, 1 / 2, 2 / 3], [0, 1 / 2, 1]) == pytest.approx(2 / 3)
    # without the interpolation it would be .5 * 1/2 + .5 * 2/3 = 0.5833
    assert D.interpolated_ap([], []) == 0.0


# --------------------------------------------------------------------------- activitynet protocol


def test_duplicate_detection_is_a_false_positive():
    gt = gt_table(("v1", "A", 0, 10), ("v1", "A", 20, 30))
    pred = pred_table(
        ("v1", "A", 0.9, 0, 10),  # tIoU 1 with gt 1: TP
        ("v1", "A", 0.8, 1, 10),  # tIoU 0.9 with gt 1, already taken: FP (duplicate)
        ("v1", "A", 0.7, 20, 30),
    )  # gt 2: TP
    # precision [1, 1/2, 2/3], recall [1/2, 1/2, 1] -> monotone [1, 1, 2/3, 2/3, 0]
    # AP = 1/2 * 1 + 1/2 * 2/3 = 5/6, at 0.5 and at 0.95 (0.9 < 0.95 is a FP anyway)
    r = D.evaluate(gt, pred, [0.5, 0.95])
    assert r["mAP"] == pytest.approx([5 / 6, 5 / 6])
    assert r["average_mAP"] == pytest.approx(5 / 6)
    assert r["per_class"].to_dict("records") == [
        {"label": "A", "n_gt": 2, "n_pred": 3, "AP@0.5": pytest.approx(5 / 6), "AP@0.95": pytest.approx(5 / 6)}
    ]
    # without the duplicate both gts are found at precision 1: AP 1
    assert D.evaluate(gt, pred.drop(index=1), [0.5])["mAP"] == pytest.approx([1.0])


def test_tied_scores_follow_numpy_default_argsort_like_the_official_code():
    gt = gt_table(("v1", "A", 0, 10))
    pred = pred_table(
        ("v1", "A", 0.5, 0, 10),  # TP
        ("v1", "A", 0.5, 50, 60),
    )  # FP, same score
    # TP first: precision [1, 1/2], recall [1, 1] -> AP 1
    # FP first: precision [0, 1/2], recall [0, 1] -> AP 1 * 1/2 = 0.5
    first = np.array([0.5, 0.5]).argsort()[::-1][0]  # the official ordering
    expected = 1.0 if first == 0 else 0.5
    assert D.evaluate(gt, pred, [0.5])["mAP"] == pytest.approx([expected])
    # the THUMOS14 kit sorts stably: file order decides, TP listed first -> 1, FP listed first -> 1/2 / 1
    assert D.evaluate(gt, pred, [0.5], protocol="thumos14")["mAP"] == pytest.approx([1.0])
    assert D.evaluate(gt, pred.iloc[::-1], [0.5], protocol="thumos14")["mAP"] == pytest.approx([0.5])


def test_class_without_predictions_scores_zero():
    gt = gt_table(("v1", "A", 0, 10), ("v2", "B", 0, 10))
    pred = pred_table(("v1", "A", 0.9, 0, 10))
    # AP(A) = 1, AP(B) = 0 (no prediction) -> mAP (1 + 0) / 2 = 0.5 at every threshold
    r = D.evaluate(gt, pred, [0.5, 0.7])
    assert r["mAP"] == pytest.approx([0.5, 0.5])
    assert r["average_mAP"] == pytest.approx(0.5)
    assert r["per_class"]["n_pred"].tolist() == [1, 0]


def test_prediction_in_a_video_without_that_class_is_a_false_positive():
    gt = gt_table(("v1", "A", 0, 10), ("v2", "B", 0, 10))
    pred = pred_table(
        ("v1", "A", 0.6, 0, 10),  # TP
        ("v2", "A", 0.9, 0, 10),
    )  # v2 has B only: FP though the segment is perfect
    # ranked FP, TP: precision [0, 1/2], recall [0, 1] -> AP(A) = 1/2; AP(B) = 0 -> mAP 1/4
    assert D.evaluate(gt, pred, [0.5])["mAP"] == pytest.approx([0.25])


def test_threshold_boundary_activitynet_inclusive_thumos14_strict():
    gt = gt_table(("v1", "A", 0, 5))
    pred = pred_table(("v1", "A", 0.9, 0, 10))  # tIoU 5 / 10 = 0.5 exactly
    assert D.evaluate(gt, pred, [0.5])["mAP"] == [1.0]  # 0.5 < 0.5 is False: TP
    assert D.evaluate(gt, pred, [0.5], protocol="thumos14")["mAP"] == [0.0]  # 0.5 > 0.5 is False: FP


def test_unknown_prediction_label_is_an_error_naming_the_row():
    gt = gt_table(("v1", "A", 0, 10))
    pred = pred_table(("v1", "A", 0.9, 0, 10), ("v7", "Z", 0.5, 0, 1))
    with pytest.raises(DIO.DetectionFormatError, match=r"row 1 \(video 'v7'\): label 'Z'"):
        D.evaluate(gt, pred)


def test_default_thresholds_are_the_official_arrays():
    gt = gt_table(("v1", "A", 0, 10))
    pred = pred_table(("v1", "A", 0.9, 0, 10))
    r = D.evaluate(gt, pred)
    assert r["tiou_thresholds"] == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    assert np.array_equal(D.DEFAULT_TIOU["activitynet"], np.linspace(0.5, 0.95, 10))
    assert D.evaluate(gt, pred, protocol="thumos14")["tiou_thresholds"] == [0.3, 0.4, 0.5, 0.6, 0.7]


# --------------------------------------------------------------------------- thumos14 protocol


def test_thumos14_matching_is_ground_truth_driven():
    gt = gt_table(("v1", "A", 0, 10))
    pred = pred_table(
        ("v1", "A", 0.9, 0, 6),  # tIoU 0.6
        ("v1", "A", 0.5, 0, 10),
    )  # tIoU 1
    # ActivityNet: the most confident prediction takes the gt (0.6 >= 0.5): TP, FP -> AP 1
    assert D.evaluate(gt, pred, [0.5])["mAP"] == pytest.approx([1.0])
    # THUMOS14: the gt takes its best-overlap detection (the 0.5 one): ranked FP, TP
    # prap: precision at the TP is 1/2, divided by 1 gt -> 0.5
    assert D.evaluate(gt, pred, [0.5], protocol="thumos14")["mAP"] == pytest.approx([0.5])


def test_thumos14_ap_is_not_interpolated():
    gt = gt_table(("v1", "A", 0, 10), ("v1", "A", 20, 30))
    pred = pred_table(
        ("v1", "A", 0.9, 50, 60),  # FP
        ("v1", "A", 0.8, 0, 10),  # TP
        ("v1", "A", 0.7, 20, 30),
    )  # TP
    # precision [0, 1/2, 2/3]; prap: (1/2 + 2/3) / 2 gts = 7/12; ActivityNet interpolates to 2/3
    assert D.evaluate(gt, pred, [0.5], protocol="thumos14")["mAP"] == pytest.approx([7 / 12])
    assert D.evaluate(gt, pred, [0.5])["mAP"] == pytest.approx([2 / 3])


def test_thumos14_drops_unmatched_detections_on_ambiguous_segments():
    gt = gt_table(("v1", "A", 0, 10))
    ambiguous = gt_table(("v1", "Ambiguous", 20, 30), ("v1", "Ambiguous", 9, 12))
    pred = pred_table(
        ("v1", "A", 0.9, 21, 29),  # unmatched, on an ambiguous segment: dropped
        ("v1", "A", 0.8, 0, 10),  # TP (touches the ambiguous 9..12 but is matched: kept)
        ("v1", "A", 0.7, 40, 50),
    )  # FP, away from the ambiguous segments
    # without the ambiguous table: FP, TP, FP -> precision at the TP 1/2 -> AP 1/2
    assert D.evaluate(gt, pred, [0.5], protocol="thumos14")["mAP"] == pytest.approx([0.5])
    # with it: TP, FP -> precision at the TP 1 -> AP 1
    assert D.evaluate(gt, pred, [0.5], protocol="thumos14", ambiguous=ambiguous)["mAP"] == pytest.approx([1.0])
    with pytest.raises(ValueError, match="thumos14"):
        D.evaluate(gt, pred, [0.5], ambiguous=ambiguous)


# --------------------------------------------------------------------------- brute force


def brute_force_activitynet(gt, pred, thresholds):
    """The ActivityNet procedure spelled out with plain loops (per class, per prediction, per gt)."""
    classes = list(dict.fromkeys(gt["label"]))
    ap = np.zeros((len(thresholds), len(classes)))
    for c, label in enumerate(classes):
        g = gt[gt["label"] == label].reset_index(drop=True)
        p = pred[pred["label"] == label].reset_index(drop=True)
        if p.empty:
            continue
        p = p.loc[p["score"].to_numpy().argsort()[::-1]].reset_index(drop=True)
        for t, thr in enumerate(thresholds):
            taken = set()
            tp, fp = [], []
            for _, row in p.iterrows():
                same_video = g[g["video_id"] == row["video_id"]]
                is_tp = False
                if len(same_video):
                    ious = []
                    for j, gg in same_video.iterrows():
                        inter = max(0.0, min(row["end"], gg["end"]) - max(row["start"], gg["start"]))
                        union = (gg["end"] - gg["start"]) + (row["end"] - row["start"]) - inter
                        ious.append((inter / union, j))
                    order = np.array([iou for iou, _ in ious]).argsort()[::-1]
                    for k in order:
                        iou, j = ious[k]
                        if iou < thr:
                            break
                        if j in taken:
                            continue
                        taken.add(j)
                        is_tp = True
                        break
                tp.append(1.0 if is_tp else 0.0)
                fp.append(0.0 if is_tp else 1.0)
            tp_c, fp_c = np.cumsum(tp), np.cumsum(fp)
            prec = list(tp_c / (tp_c + fp_c))
            rec = list(tp_c / len(g))
            mprec, mrec = [0.0] + prec + [0.0], [0.0] + rec + [1.0]
            for i in range(len(mprec) - 2, -1, -1):
                mprec[i] = max(mprec[i], mprec[i + 1])
            ap[t, c] = sum((mrec[i] - mrec[i - 1]) * mprec[i] for i in range(1, len(mrec)) if mrec[i] != mrec[i - 1])
    return ap.mean(axis=1)


@pytest.mark.parametrize("score_decimals", [None, 1])  # 1 decimal: many tied scores
def test_activitynet_matches_brute_force_on_random_data(score_decimals):
    rng = np.random.default_rng(2024)
    classes, videos = ["A", "B", "C", "D"], [f"v{i}" for i in range(8)]
    gt_rows = []
    for v in videos[:6]:  # v6, v7 have no ground truth at all
        for _ in range(rng.integers(0, 4)):
            s = rng.uniform(0, 60)
            gt_rows.append((v, rng.choice(classes[:3]), s, s + rng.uniform(1, 20)))  # D has no gt
    gt = gt_table(*gt_rows)
    pred_rows = []
    for _ in range(150):
        s = rng.uniform(0, 60)
        score = rng.random() if score_decimals is None else round(rng.random(), score_decimals)
        pred_rows.append((rng.choice(videos), rng.choice(classes[:3]), score, s, s + rng.uniform(0.5, 20)))
    # a few near-copies of gts so that high thresholds have matches too
    for v, label, s, e in gt_rows[::2]:
        d = rng.uniform(-0.5, 0.5)
        pred_rows.append((v, label, round(rng.random(), 1), s + d, e + d))
    pred = pred_table(*pred_rows)
    thresholds = np.linspace(0.1, 0.95, 18)
    r = D.evaluate(gt, pred, thresholds)
    assert r["mAP"] == pytest.approx(brute_force_activitynet(gt, pred, thresholds).tolist(), rel=1e-12, abs=1e-15)
    assert 0 < r["average_mAP"] < 1


# --------------------------------------------------------------------------- thresholds


def test_parse_tiou():
    r = D.parse_tiou("0.5:0.95:0.05")
    assert len(r) == 10 and np.array_equal(r, np.linspace(0.5, 0.95, 10))
    assert D.parse_tiou("0.3,0.4,0.5,0.6,0.7").tolist() == [0.3, 0.4, 0.5, 0.6, 0.7]
    assert D.parse_tiou("0.1:0.7:0.1").round(10).tolist() == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    for bad in ["0.5:0.95:0.1", "0.5:0.95", "a,b", "0:1.5:0.5", "0.7:0.3:0.1", ""]:
        with pytest.raises(ValueError, match="tIoU thresholds"):
            D.parse_tiou(bad)


# --------------------------------------------------------------------------- readers / writers


def anet_gt(tmp_path, database):
    path = tmp_path / "gt.json"
    path.write_text(json.dumps({"version": "VERSION 1.3", "taxonomy": [], "database": database}))
    return path


def anet_results(tmp_path, results):
    path = tmp_path / "pred.json"
    path.write_text(json.dumps({"version": "VERSION 1.3", "external_data": {}, "results": results}))
    return path


def test_ground_truth_round_trip_and_subset(tmp_path):
    gt = pd.DataFrame(
        [
            ("v2", "B", 1.5, 4.25, "validation", 30.0),
            ("v1", "A", 0.0, 10.0, "training", 12.5),
            ("v2", "A", 5.0, 6.0, "validation", 30.0),
            ("v3", "C", 2.0, 3.0, "validation", np.nan),
        ],
        columns=DIO.GT_COLUMNS,
    )
    path = DIO.write_activitynet_gt(gt, tmp_path / "out" / "gt.json")
    text = path.read_text()
    assert DIO.write_activitynet_gt(gt, tmp_path / "again.json").read_text() == text  # deterministic
    back = DIO.read_activitynet(path)
    # videos come back in sorted-key order, annotations in table order within a video
    expected = gt.iloc[[1, 0, 2, 3]].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    assert "duration" not in json.loads(text)["database"]["v3"]
    val = DIO.read_activitynet(path, subset="validation")
    assert val["video_id"].tolist() == ["v2", "v2", "v3"]


def test_results_round_trip(tmp_path):
    pred = pd.DataFrame(
        [("v1", "A", 0.25, 1.0, 2.0), ("v1", "B", 0.5, 0.0, 3.333333333), ("v0", "A", 1.0, 4.0, 8.0)],
        columns=DIO.PRED_COLUMNS,
    )
    path = DIO.write_results(pred, tmp_path / "pred.json")
    data = json.loads(path.read_text())
    assert set(data) == {"version", "external_data", "results"}
    assert data["results"]["v1"][1] == {"label": "B", "score": 0.5, "segment": [0.0, 3.333333]}  # rounded
    back = DIO.read_results(path)
    expected = pred.iloc[[2, 0, 1]].reset_index(drop=True)
    expected.loc[2, "end"] = 3.333333
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    proposals = DIO.read_proposals(path)  # a results file is a proposals file with labels
    pd.testing.assert_frame_equal(proposals, back, check_dtype=False)


def test_read_proposals_json_without_labels_and_csv(tmp_path):
    path = anet_results(tmp_path, {"v1": [{"segment": [1, 2], "score": 0.5}]})
    p = DIO.read_proposals(path)
    assert p[["video_id", "score", "start", "end"]].values.tolist() == [["v1", 0.5, 1.0, 2.0]]
    assert p["label"].isna().all()
    (tmp_path / "a.csv").write_text("video,start,end,score\n007,1.5,2.5,0.9\n008,0,1,0.1\n")
    (tmp_path / "b.csv").write_text("video-id,t-start,t-end,score,label\n007,1.5,2.5,0.9,A\n")
    a, b = DIO.read_proposals(tmp_path / "a.csv"), DIO.read_proposals(tmp_path / "b.csv")
    assert a.values.tolist() == [["007", None, 0.9, 1.5, 2.5], ["008", None, 0.1, 0.0, 1.0]]  # ids keep zeros
    assert b.values.tolist() == [["007", "A", 0.9, 1.5, 2.5]]
    (tmp_path / "c.csv").write_text("video,start,end,score\n007,1.5,2.5,0.9\n008,3,1,0.1\n")
    with pytest.raises(DIO.DetectionFormatError, match=r"c\.csv: line 3 \(video '008'\): start > end"):
        DIO.read_proposals(tmp_path / "c.csv")
    (tmp_path / "d.csv").write_text("video,start,end,score\n007,1.5,2.5,high\n")
    with pytest.raises(DIO.DetectionFormatError, match=r"d\.csv: line 2 \(video '007'\): score 'high'"):
        DIO.read_proposals(tmp_path / "d.csv")


def test_read_thumos14(tmp_path):
    (tmp_path / "BaseballPitch_test.txt").write_text("video_test_0000001 1.0 2.5\n\nvideo_test_0000002  3 4 \n")
    (tmp_path / "Billiards_test.txt").write_text("video_test_0000001 10 20\n")
    (tmp_path / "Ambiguous_test.txt").write_text("video_test_0000001 30 31\n")
    (tmp_path / "Billiards_val.txt").write_text("video_validation_0000001 0 1\n")  # other subset: ignored
    gt, amb = DIO.read_thumos14(tmp_path)
    assert gt[["video_id", "label", "start", "end", "subset"]].values.tolist() == [
        ["video_test_0000001", "BaseballPitch", 1.0, 2.5, "test"],
        ["video_test_0000002", "BaseballPitch", 3.0, 4.0, "test"],
        ["video_test_0000001", "Billiards", 10.0, 20.0, "test"],
    ]
    assert amb[["video_id", "label", "start", "end"]].values.tolist() == [
        ["video_test_0000001", "Ambiguous", 30.0, 31.0]
    ]
    (tmp_path / "Billiards_test.txt").write_text("video_test_0000001 10 20\nvideo_test_0000003 10\n")
    with pytest.raises(DIO.DetectionFormatError, match=r"Billiards_test\.txt: line 2"):
        DIO.read_thumos14(tmp_path)
    with pytest.raises(DIO.DetectionFormatError, match=r"Ambiguous_val\.txt: missing"):
        DIO.read_thumos14(tmp_path, subset="val")


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"label": "A", "segment": [1, 2]}, "missing key 'score'"),
        ({"label": "A", "score": 0.5, "segment": [1]}, "'segment' must be a \\[start, end\\] pair"),
        ({"label": "A", "score": 0.5, "segment": "1-2"}, "'segment' must be a \\[start, end\\] pair"),
        ({"label": "A", "score": 0.5, "segment": [5, 1]}, "segment \\[5.0, 1.0\\] must have start <= end"),
        ({"label": "A", "score": "high", "segment": [1, 2]}, "'score' must be a number"),
        ({"label": 3, "score": 0.5, "segment": [1, 2]}, "'label' must be a string"),
        ({"label": "Z", "score": 0.5, "segment": [1, 2]}, "label 'Z' is not a ground-truth class"),
    ],
)
def test_malformed_result_entries_name_the_file_and_entry(tmp_path, entry, message):
    good = {"label": "A", "score": 0.9, "segment": [0, 1]}
    path = anet_results(tmp_path, {"vid1": [good, entry]})
    with pytest.raises(DIO.DetectionFormatError, match=rf"pred\.json: results\['vid1'\]\[1\]: {message}"):
        DIO.read_results(path, labels=["A"])


def test_malformed_ground_truth_names_the_file_and_entry(tmp_path):
    path = anet_gt(
        tmp_path, {"v9": {"subset": "validation", "annotations": [{"label": "A", "segment": [0, 1]}, {"label": "A"}]}}
    )
    with pytest.raises(
        DIO.DetectionFormatError, match=r"gt\.json: database\['v9'\]\['annotations'\]\[1\]: missing key 'segment'"
    ):
        DIO.read_activitynet(path)
    path = anet_gt(tmp_path, {"v9": {"annotations": []}})
    with pytest.raises(DIO.DetectionFormatError, match=r"database\['v9'\]: missing key 'subset'"):
        DIO.read_activitynet(path)
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(DIO.DetectionFormatError, match=r"broken\.json: not valid JSON"):
        DIO.read_activitynet(tmp_path / "broken.json")
    (tmp_path / "nodb.json").write_text("{}")
    with pytest.raises(DIO.DetectionFormatError, match=r"nodb\.json: missing key 'database'"):
        DIO.read_activitynet(tmp_path / "nodb.json")


# --------------------------------------------------------------------------- command line


@pytest.fixture
def cli_files(tmp_path):
    """The duplicate case of test_duplicate_detection_is_a_false_positive as files, plus a class B
    nobody predicts: AP(A) = 5/6 at every threshold, AP(B) = 0 -> mAP 5/12."""
    gt = anet_gt(
        tmp_path,
        {
            "v1": {
                "subset": "validation",
                "duration": 40.0,
                "url": "",
                "annotations": [{"label": "A", "segment": [0, 10]}, {"label": "A", "segment": [20, 30]}],
            },
            "v2": {"subset": "validation", "duration": 40.0, "annotations": [{"label": "B", "segment": [0, 10]}]},
            "v3": {"subset": "training", "duration": 40.0, "annotations": [{"label": "A", "segment": [0, 10]}]},
        },
    )
    pred = anet_results(
        tmp_path,
        {
            "v1": [
                {"label": "A", "score": 0.9, "segment": [0, 10]},
                {"label": "A", "score": 0.8, "segment": [1, 10]},
                {"label": "A", "score": 0.7, "segment": [20, 30]},
            ]
        },
    )
    return gt, pred


def test_cli_subprocess_end_to_end(cli_files):
    gt, pred = cli_files
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "slac_utils.engine.detection_eval",
            str(gt),
            str(pred),
            "--subset",
            "validation",
            "--tiou",
            "0.5,0.95",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout)
    assert set(result) == {"tiou_thresholds", "mAP", "average_mAP"}
    assert result["tiou_thresholds"] == [0.5, 0.95]
    assert result["mAP"] == pytest.approx([5 / 12, 5 / 12])
    assert result["average_mAP"] == pytest.approx(5 / 12)


def test_cli_main_defaults_and_protocols(cli_files, capsys):
    gt, pred = cli_files
    assert D.main([str(gt), str(pred), "--subset", "validation"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["tiou_thresholds"] == [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
    assert result["mAP"] == pytest.approx([5 / 12] * 10)
    # THUMOS14: each gt takes its identical detection, ranking TP, FP, TP -> prap (1 + 2/3) / 2 = 5/6 for A, 0 for B -> 5/12 too
    assert (
        D.main([str(gt), str(pred), "--subset", "validation", "--protocol", "thumos14", "--tiou", "0.3:0.7:0.1"]) == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert result["tiou_thresholds"] == [0.3, 0.4, 0.5, 0.6, 0.7]
    assert result["mAP"] == pytest.approx([5 / 12] * 5)


def test_cli_thumos14_ambiguous_rows_of_a_json_ground_truth(tmp_path, capsys):
    gt = anet_gt(
        tmp_path,
        {
            "v1": {
                "subset": "test",
                "annotations": [{"label": "A", "segment": [0, 10]}, {"label": "Ambiguous", "segment": [20, 30]}],
            }
        },
    )
    pred = anet_results(
        tmp_path,
        {"v1": [{"label": "A", "score": 0.9, "segment": [21, 29]}, {"label": "A", "score": 0.8, "segment": [0, 10]}]},
    )
    # the 0.9 detection sits on the ambiguous segment: dropped -> AP 1 (and "Ambiguous" is no class)
    assert D.main([str(gt), str(pred), "--protocol", "thumos14", "--tiou", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["mAP"] == [1.0]
    # ActivityNet has no ambiguous segments: "Ambiguous" is a class with no prediction, and the
    # 0.9 detection a FP: AP(A) = 1/2 (FP, TP), AP(Ambiguous) = 0 -> 1/4
    assert D.main([str(gt), str(pred), "--tiou", "0.5"]) == 0
    assert json.loads(capsys.readouterr().out)["mAP"] == [0.25]


def test_cli_errors_exit_2_and_name_the_entry(cli_files, tmp_path, capsys):
    gt, _ = cli_files
    bad = anet_results(
        tmp_path,
        {"v1": [{"label": "A", "score": 0.9, "segment": [0, 10]}, {"label": "A", "score": 0.8, "segment": [10, 1]}]},
    )
    assert D.main([str(gt), str(bad), "--subset", "validation"]) == 2
    err = capsys.readouterr().err
    assert "pred.json: results['v1'][1]: segment [10.0, 1.0] must have start <= end" in err
    assert "Traceback" not in err
    # a ground truth mixing training and validation needs --subset
    assert D.main([str(gt), str(bad)]) == 2
    assert "mixes the subsets ['training', 'validation']" in capsys.readouterr().err
    assert D.main([str(gt), str(bad), "--subset", "validation", "--tiou", "0.5:0.95:0.1"]) == 2
    assert "bad tIoU thresholds" in capsys.readouterr().err
    assert D.main([str(gt), str(tmp_path / "missing.json"), "--subset", "validation"]) == 2
    assert "missing.json" in capsys.readouterr().err
    out = subprocess.run(
        [sys.executable, "-m", "slac_utils.engine.detection_eval", str(gt), str(bad), "--subset", "validation"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "results['v1'][1]" in out.stderr and "Traceback" not in out.stderr
