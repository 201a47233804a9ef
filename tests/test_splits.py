"""The one seeded split by group (slac_utils.data.splits)."""

import numpy as np

from slac_utils.data.splits import split_groups


def test_quotas_whole_groups_rest_and_input_order():
    groups = [f"v{i % 10}" for i in range(37)]
    a = split_groups(groups, {"val": 2, "test": 3}, seed=4, rest="train")
    assert sorted(a) == sorted(set(groups))
    assert [list(a.values()).count(k) for k in ("val", "test", "train")] == [2, 3, 5]
    assert split_groups(list(reversed(groups)), {"val": 2, "test": 3}, seed=4, rest="train") == a
    assert split_groups(groups, {"val": 2, "test": 3}, seed=5, rest="train") != a  # the seed matters


def test_the_permutation_is_of_the_sorted_groups():
    """Hand-made: the parts are consecutive blocks of default_rng(seed).permutation of the sorted unique groups."""
    uniq = ["a", "b", "c", "d", "e"]
    perm = [uniq[i] for i in np.random.default_rng(7).permutation(5)]
    got = split_groups(["e", "a", "c", "b", "d", "a"], {"x": 1, "y": 2}, seed=7, rest="z")
    assert got == {perm[0]: "x", perm[1]: "y", perm[2]: "y", perm[3]: "z", perm[4]: "z"}


def test_weights_count_rows_and_prefer_goes_first():
    size = {"g1": 5, "g2": 1, "g3": 1, "g4": 1}
    got = split_groups(size, {"held": 2}, seed=0, rest="train", weights=size, prefer=lambda g: g != "g1")
    held = [g for g, p in got.items() if p == "held"]
    assert "g1" not in held and len(held) == 2  # two one-video groups reach the quota of 2 videos
    only_big = split_groups({"g1": 5}, {"held": 2}, seed=0, rest="train", weights={"g1": 5})
    assert only_big == {"g1": "held"}  # a quota is reached with whole groups, so it may be exceeded
    assert split_groups(["a", "b"], {"held": 0}, seed=0, rest="train") == {"a": "train", "b": "train"}
