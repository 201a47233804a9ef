"""Res3D evaluation helpers: Clip@1 (class-agnostic / class-aware), Video@1, late fusion, clip and crop
sampling, Farneback flow and its uint8 storage -- on hand-made cases with the expected numbers written out."""

import cv2
import numpy as np
import pandas as pd
import pytest

from slac_utils.engine import metrics as M
from slac_utils.video import clip_sampling as SC
from slac_utils.video import flow as FL


def one_hot_scores(pred, n_classes):
    """Scores whose top-1 is ``pred`` (0.7 on the predicted class, the rest spread evenly)."""
    s = np.full((len(pred), n_classes), 0.3 / (n_classes - 1))
    s[np.arange(len(pred)), pred] = 0.7
    return s


# --------------------------------------------------------------------------- Clip@1


def test_class_aware_differs_from_class_agnostic_when_imbalanced():
    # 6 background clips (class 0, all right), 2 of class 1 (one right), 2 of class 2 (both called background)
    labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 2, 2])
    pred = np.array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0])
    s = one_hot_scores(pred, 3)
    assert M.clip_accuracy(s, labels) == pytest.approx(7 / 10)  # 0.7
    assert M.class_aware_accuracy(s, labels) == pytest.approx((1 + 0.5 + 0) / 3)  # 0.5
    table = M.per_class_accuracy(s, labels, class_names=["background", "archery", "juggling"])
    assert table["class"].tolist() == ["background", "archery", "juggling"]
    assert table["n"].tolist() == [6, 2, 2]
    assert table["correct"].tolist() == [6, 1, 0]
    assert table["accuracy"].tolist() == pytest.approx([1.0, 0.5, 0.0])


def test_classes_only_predicted_do_not_count():
    # 4 classes; class 3 never occurs in the labels but is predicted for one clip of class 2
    labels = np.array([0, 0, 0, 1, 1, 2, 2])
    pred = np.array([0, 0, 1, 1, 1, 3, 2])
    s = one_hot_scores(pred, 4)
    # present classes 0, 1, 2: accuracies 2/3, 1, 1/2 -> mean 13/18; over the union {0,1,2,3} it would be 13/24
    assert M.class_aware_accuracy(s, labels) == pytest.approx((2 / 3 + 1 + 0.5) / 3)
    assert M.clip_accuracy(s, labels) == pytest.approx(5 / 7)
    assert M.per_class_accuracy(s, labels)["class"].tolist() == [0, 1, 2]


def test_ties_go_to_the_lowest_class_index():
    s = np.array([[0.4, 0.4, 0.2], [0.1, 0.45, 0.45]])
    assert M.top1(s).tolist() == [0, 1]
    assert M.clip_accuracy(s, [0, 2]) == pytest.approx(0.5)


def test_softmax_and_bad_inputs():
    p = M.softmax(np.array([[1000.0, 1000.0], [0.0, np.log(3.0)]]))
    assert p == pytest.approx(np.array([[0.5, 0.5], [0.25, 0.75]]))
    with pytest.raises(ValueError, match="labels must lie"):
        M.clip_accuracy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ValueError, match="shape"):
        M.clip_accuracy(np.zeros((2, 3)), [0, 1, 2])
    with pytest.raises(ValueError, match="2-D"):
        M.clip_accuracy(np.zeros(3), [0])


# --------------------------------------------------------------------------- Video@1


def test_video_accuracy_averages_probabilities_not_votes():
    scores = np.array(
        [
            # video "a", label 0: only 1 of 3 clips right, the average [0.6, 0.4] is right
            [0.40, 0.60],
            [0.45, 0.55],
            [0.95, 0.05],
            # video "b", label 1: 1 of 2 clips right, the average [0.375, 0.625] is right
            [0.55, 0.45],
            [0.20, 0.80],
            # video "c", label 0: 2 of 3 clips right (a majority vote would say 0), the average [0.367, 0.633] is wrong
            [0.55, 0.45],
            [0.55, 0.45],
            [0.00, 1.00],
        ]
    )
    vids = np.array(["a", "a", "a", "b", "b", "c", "c", "c"])
    labels = {"a": 0, "b": 1, "c": 0}
    per_clip = np.array([labels[v] for v in vids])
    assert M.clip_accuracy(scores, per_clip) == pytest.approx(4 / 8)
    assert M.video_accuracy(scores, vids, labels) == pytest.approx(2 / 3)
    assert M.video_accuracy(scores, vids, pd.Series(labels)) == pytest.approx(2 / 3)
    assert M.video_accuracy(scores, vids, per_clip) == pytest.approx(2 / 3)  # per-row labels
    uniq, mean = M.average_by_group(scores, vids)
    assert uniq.tolist() == ["a", "b", "c"]
    assert mean == pytest.approx(np.array([[0.6, 0.4], [0.375, 0.625], [1.1 / 3, 1.9 / 3]]))


def test_video_accuracy_from_logits_and_label_checks():
    # logits: softmax first, then average; averaging raw logits would pick class 1 here
    logits = np.array(
        [[0.0, 10.0], [3.0, 0.0], [3.0, 0.0]]
    )  # softmax ~[0, 1], [0.953, 0.047] x2 -> mean [0.635, 0.365]
    vids = np.array([7, 7, 7])
    assert M.video_accuracy(logits, vids, {7: 0}, from_logits=True) == 1.0
    assert M.video_accuracy(logits, vids, {7: 0}) == 0.0  # logits.mean = [2, 3.33]
    with pytest.raises(ValueError, match="different labels"):
        M.video_accuracy(M.softmax(logits), vids, np.array([0, 0, 1]))
    with pytest.raises(KeyError):
        M.video_accuracy(M.softmax(logits), vids, {8: 0})


def test_dense_multicrop_is_video_average_over_clips_and_crops():
    rng = np.random.default_rng(0)
    p = M.softmax(rng.normal(size=(3 * 10, 4)))  # 3 clips x 10 crops of one video
    assert M.video_accuracy(p, np.zeros(30, int), {0: int(np.argmax(p.mean(0)))}) == 1.0


# --------------------------------------------------------------------------- late fusion


def test_late_fusion_weights_and_checks():
    p_rgb = np.array([[0.5, 0.3, 0.2], [0.1, 0.6, 0.3]])
    p_flow = np.array([[0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    fused = M.late_fusion(p_rgb, p_flow)
    assert fused == pytest.approx(np.array([[0.34, 0.50, 0.16], [0.14, 0.44, 0.42]]))
    assert fused.sum(axis=1) == pytest.approx([1.0, 1.0])
    # clip 0 flips from RGB's class 0 to class 1; clip 1 keeps RGB's class 1
    assert M.top1(p_rgb).tolist() == [0, 1] and M.top1(fused).tolist() == [1, 1]
    assert M.late_fusion(p_rgb, p_flow, 1.0, 0.0) == pytest.approx(p_rgb)
    with pytest.raises(ValueError, match="differ in shape"):
        M.late_fusion(p_rgb, p_flow[:, :2] / p_flow[:, :2].sum(1, keepdims=True))
    with pytest.raises(ValueError, match="softmax"):
        M.late_fusion(np.log(p_rgb), p_flow)
    with pytest.raises(ValueError, match="weights"):
        M.late_fusion(p_rgb, p_flow, -0.1, 1.1)


# --------------------------------------------------------------------------- temporal sampling


def test_start_and_random_clip_indices():
    assert SC.start_clip_indices(40, 32).tolist() == list(range(32))
    assert SC.start_clip_indices(3, 5).tolist() == [0, 1, 2, 2, 2]  # padded with the last frame
    assert SC.start_clip_indices(30, 32).tolist() == list(range(30)) + [29, 29]
    a = SC.random_clip_indices(100, 32, np.random.default_rng(3))
    b = SC.random_clip_indices(100, 32, 3)
    assert a.tolist() == b.tolist()  # seeded
    assert np.all(np.diff(a) == 1) and 0 <= a[0] <= 68
    starts = {int(SC.random_clip_indices(40, 32, s)[0]) for s in range(200)}
    assert starts == set(range(9))  # every window, nothing else
    assert SC.random_clip_indices(10, 16, 0).tolist() == list(range(10)) + [9] * 6
    with pytest.raises(ValueError):
        SC.start_clip_indices(0, 32)


def test_even_and_dense_clip_starts():
    # round(linspace(0, 100 - 32, 10))
    assert SC.even_clip_starts(100, 32).tolist() == [0, 8, 15, 23, 30, 38, 45, 53, 60, 68]
    assert SC.even_clip_starts(36, 32).tolist() == [0, 1, 2, 3, 4]  # only 5 distinct windows
    assert SC.even_clip_starts(30, 32).tolist() == [0]  # shorter than T
    assert SC.dense_clip_starts(45, 32).tolist() == [0, 4, 8, 12]
    assert SC.dense_clip_starts(36, 32).tolist() == [0, 4]
    assert SC.dense_clip_starts(32, 32).tolist() == [0]
    assert SC.dense_clip_starts(20, 32).tolist() == [0]
    assert SC.dense_clip_starts(45, 32, stride=8).tolist() == [0, 8]
    idx = SC.clips_from_starts([0, 4], 4, 6)
    assert idx.tolist() == [[0, 1, 2, 3], [4, 5, 5, 5]]


# --------------------------------------------------------------------------- crops


def coord_clip(T=2, h=6, w=8):
    """frames[t, y, x] = (y, x, t): every pixel says where it came from."""
    t, y, x = np.meshgrid(np.arange(T), np.arange(h), np.arange(w), indexing="ij")
    return np.stack([y, x, t], axis=-1).astype(np.uint8)


def test_multi_crop_boxes_geometry():
    boxes = SC.multi_crop_boxes(6, 8, 4)
    assert boxes.tolist() == [[0, 0, 4, 4], [0, 4, 4, 8], [2, 0, 6, 4], [2, 4, 6, 8], [1, 2, 5, 6]]
    # rectangular crop (height, width) and the paper's 112 x 144 inside 128 x 171
    assert SC.multi_crop_boxes(128, 171, (112, 144))[4].tolist() == [8, 13, 120, 157]
    with pytest.raises(ValueError, match="larger"):
        SC.multi_crop_boxes(6, 8, 7)


def test_ten_crop_corners_centre_and_mirrors():
    clip = coord_clip()
    views = SC.ten_crop(clip, 4)
    assert views.shape == (10, 2, 4, 4, 3)
    top_left = [(0, 0), (0, 4), (2, 0), (2, 4), (1, 2)]
    for i, (y0, x0) in enumerate(top_left):
        assert views[i, 1, 0, 0].tolist() == [y0, x0, 1]  # top-left pixel of crop i, frame 1
        assert views[i, 0, 3, 3].tolist() == [y0 + 3, x0 + 3, 0]
        np.testing.assert_array_equal(views[5 + i], views[i][:, :, ::-1])  # mirror of crop i
        assert views[5 + i, 0, 0, 0].tolist() == [y0, x0 + 3, 0]
    np.testing.assert_array_equal(views[4], clip[:, 1:5, 2:6])


def test_mirroring_flow_negates_dx():
    flow = np.zeros((1, 4, 4, 2), np.float32)
    flow[..., 0], flow[..., 1] = 2.5, -1.0
    views = SC.ten_crop(flow, 2, flow=True)
    assert np.all(views[:5, ..., 0] == 2.5) and np.all(views[5:, ..., 0] == -2.5)
    assert np.all(views[..., 1] == -1.0)
    u = FL.flow_to_uint8(flow)
    mirrored = SC.ten_crop(u, 2, flow=True)[5]
    assert FL.uint8_to_flow(mirrored)[..., 0] == pytest.approx(-FL.uint8_to_flow(u)[:, :2, :2, 0], abs=1e-5)


def test_random_crop_flip_is_seeded_and_valid():
    clip = coord_clip(T=3, h=10, w=12)
    out = [SC.random_crop_flip(clip, 4, s) for s in range(40)]
    assert all(o.shape == (3, 4, 4, 3) for o in out)
    np.testing.assert_array_equal(SC.random_crop_flip(clip, 4, 5), out[5])
    flipped = 0
    for o in out:
        y0 = int(o[0, 0, 0, 0])
        xs = o[0, 0, :, 1].astype(int)
        step = int(np.sign(xs[1] - xs[0]))
        flipped += step < 0
        x0 = int(xs.min())
        assert 0 <= y0 <= 6 and 0 <= x0 <= 8
        want = clip[:, y0 : y0 + 4, x0 : x0 + 4]
        np.testing.assert_array_equal(o, want[:, :, ::-1] if step < 0 else want)
    assert 5 < flipped < 35


# --------------------------------------------------------------------------- Farneback flow


def translated_clip(dx, dy, T=4, h=96, w=112, seed=0):
    """A smooth random texture moved by (dx, dy) pixels per frame, as RGB uint8 (T, h, w, 3)."""
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.random((h + 100, w + 120)).astype(np.float32), (0, 0), 2.0)
    big = (big - big.min()) / (big.max() - big.min()) * 255
    frames = []
    for t in range(T):
        m = np.float32([[1, 0, dx * t], [0, 1, dy * t]])
        moved = cv2.warpAffine(big, m, (big.shape[1], big.shape[0]), flags=cv2.INTER_CUBIC)
        frames.append(np.clip(moved[50 : 50 + h, 60 : 60 + w], 0, 255).round().astype(np.uint8))
    return np.repeat(np.stack(frames)[..., None], 3, axis=-1)


@pytest.mark.parametrize("dx,dy", [(2, -1), (1.5, -0.75), (-3, 2), (0, 0)])
def test_farneback_recovers_a_known_translation(dx, dy):
    clip = translated_clip(dx, dy)
    flow = FL.farneback_clip(clip)
    assert flow.shape == (4, 96, 112, 2) and flow.dtype == np.float32
    interior = flow[:, 16:-16, 16:-16]
    assert np.abs(interior[..., 0] - dx).max() < 0.5
    assert np.abs(interior[..., 1] - dy).max() < 0.5
    np.testing.assert_array_equal(flow[-1], flow[-2])  # the T-th field repeats the last pair
    np.testing.assert_array_equal(FL.farneback_clip(clip), flow)  # deterministic


def test_farneback_clip_edge_cases_and_params():
    clip = translated_clip(2, 0, T=3, h=32, w=40)
    padded = clip[SC.start_clip_indices(3, 5)]  # 3 frames padded to 5
    flow = FL.farneback_clip(padded)
    assert flow.shape == (5, 32, 40, 2)
    assert np.all(flow[2:] == 0)  # still frames: exactly no motion
    assert np.abs(flow[:2, 8:-8, 8:-8, 0] - 2).max() < 0.5
    assert FL.pairwise_flow(clip).shape == (2, 32, 40, 2)
    assert np.all(FL.farneback_clip(clip[:1]) == 0) and FL.farneback_clip(clip[:1]).shape == (1, 32, 40, 2)
    assert FL.farneback_clip(clip, winsize=9, levels=2).shape == (3, 32, 40, 2)
    with pytest.raises(TypeError, match="unknown Farneback"):
        FL.farneback_clip(clip, window=9)


def test_uint8_round_trip_within_quantisation():
    rng = np.random.default_rng(1)
    f = rng.uniform(-20, 20, size=(3, 8, 8, 2)).astype(np.float32)
    u = FL.flow_to_uint8(f)
    assert u.dtype == np.uint8
    assert np.abs(FL.uint8_to_flow(u) - f).max() <= 20 / 255 + 1e-5  # half a step of 40/255
    assert FL.flow_to_uint8(np.array([-20.0, 0.0, 20.0, -35.0, 35.0])).tolist() == [0, 128, 255, 0, 255]
    assert FL.uint8_to_flow(np.array([0, 255], np.uint8)).tolist() == pytest.approx([-20.0, 20.0])
    assert np.abs(FL.uint8_to_flow(FL.flow_to_uint8(f, 5.0), 5.0) - np.clip(f, -5, 5)).max() <= 5 / 255 + 1e-5


def test_flow_model_input_tensor():
    clip = translated_clip(2, -1, T=4, h=32, w=40)
    x = FL.flow_clip_tensor(clip)
    assert x.shape == (2, 4, 32, 40) and x.dtype == np.float32 and x.flags["C_CONTIGUOUS"]
    assert np.abs(x).max() <= 1.0
    assert np.median(x[0]) == pytest.approx(2 / 20, abs=0.01) and np.median(x[1]) == pytest.approx(-1 / 20, abs=0.01)
    f = FL.farneback_clip(clip)
    stored = FL.flow_tensor(FL.flow_to_uint8(f))  # stored uint8 -> same tensor
    assert np.abs(stored - x).max() <= (20 / 255) / 20 + 1e-6
