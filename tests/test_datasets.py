"""Transfer-learning dataset readers on hand-written files in the official formats, and the demo UCF-101 writer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from slac_utils.data.kinetics import read_kinetics
from slac_utils.data.targets import (
    DatasetFormatError,
    class_table,
    read_hmdb51,
    read_ucf101,
    read_ucf101_classes,
    validate_table,
)
from slac_utils.demo.target import DEMO_UCF_CLASSES, write_demo_ucf_layout
from slac_utils.io import sha256_file


def _write(path: Path, text: str, crlf: bool = True) -> Path:
    """Write text with CRLF line endings (as the official UCF-101/HMDB-51 lists are) unless told otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((text.replace("\n", "\r\n") if crlf else text).encode())
    return path


def _touch(root: Path, *rels: str) -> None:
    for rel in rels:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"")


def _table(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    ints = [c for c in ("label_index", "split_id", "group", "clip", "time_start", "time_end") if c in columns]
    df[ints] = df[ints].astype("int64")
    return df


# ----------------------------------------------------------------------------- UCF-101
UCF_COLUMNS = ["video_id", "path", "label", "label_index", "split", "exists", "split_id", "group", "clip"]


@pytest.fixture
def ucf(tmp_path) -> Path:
    """The official layout with its quirks: CRLF, trailing blanks, blank lines, class-name case mismatches."""
    lists = tmp_path / "ucfTrainTestlist"
    # classInd spells "HandStandPushups"; folders and lists say "HandstandPushups" (and one list line "HANDSTANDPUSHUPS")
    _write(lists / "classInd.txt", "1 ApplyEyeMakeup \n2 HandStandPushups\n3 YoYo\n\n")
    _write(
        lists / "trainlist01.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\n"
        "HandstandPushups/v_HandStandPushups_g08_c01.avi 2 \n"
        "YoYo/v_YoYo_g09_c02.avi 3\n",
    )
    _write(
        lists / "testlist01.txt",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi\n"
        "HANDSTANDPUSHUPS/v_HandStandPushups_g01_c01.avi   \n"
        "YoYo/v_YoYo_g01_c01.avi\n\n",
    )
    _write(lists / "trainlist02.txt", "YoYo/v_YoYo_g01_c01.avi 3\n")
    _write(lists / "testlist02.txt", "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi\n")
    _touch(
        tmp_path / "UCF-101",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi",
        "HandstandPushups/v_HandStandPushups_g08_c01.avi",
        "HandstandPushups/v_HandStandPushups_g01_c01.avi",
        "yoyo/v_YoYo_g09_c02.avi",
    )  # folder case differs from the list; v_YoYo_g01_c01.avi is missing
    return tmp_path


def test_ucf101_split1_exact(ucf):
    v = ucf / "UCF-101"
    want = _table(
        [
            (
                "v_ApplyEyeMakeup_g08_c01",
                str(v / "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi"),
                "ApplyEyeMakeup",
                0,
                "train",
                True,
                1,
                8,
                1,
            ),
            (
                "v_HandStandPushups_g08_c01",
                str(v / "HandstandPushups/v_HandStandPushups_g08_c01.avi"),
                "HandStandPushups",
                1,
                "train",
                True,
                1,
                8,
                1,
            ),
            ("v_YoYo_g09_c02", str(v / "yoyo/v_YoYo_g09_c02.avi"), "YoYo", 2, "train", True, 1, 9, 2),
            (
                "v_ApplyEyeMakeup_g01_c01",
                str(v / "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi"),
                "ApplyEyeMakeup",
                0,
                "test",
                True,
                1,
                1,
                1,
            ),
            (
                "v_HandStandPushups_g01_c01",
                str(v / "HandstandPushups/v_HandStandPushups_g01_c01.avi"),
                "HandStandPushups",
                1,
                "test",
                True,
                1,
                1,
                1,
            ),
            ("v_YoYo_g01_c01", str(v / "YoYo/v_YoYo_g01_c01.avi"), "YoYo", 2, "test", False, 1, 1, 1),
        ],
        UCF_COLUMNS,
    )
    got = read_ucf101(ucf)
    pd.testing.assert_frame_equal(got, want)
    validate_table(got)
    assert class_table(got).label.tolist() == ["ApplyEyeMakeup", "HandStandPushups", "YoYo"]


def test_ucf101_other_split_and_dirs(ucf, tmp_path):
    got = read_ucf101(ucf, split_id=2)
    assert got[["video_id", "split", "split_id", "exists"]].values.tolist() == [
        ["v_YoYo_g01_c01", "train", 2, False],
        ["v_ApplyEyeMakeup_g08_c01", "test", 2, True],
    ]
    moved = read_ucf101(tmp_path / "elsewhere", lists_dir=ucf / "ucfTrainTestlist", videos_dir=ucf / "UCF-101")
    pd.testing.assert_frame_equal(moved, read_ucf101(ucf))
    with pytest.raises(FileNotFoundError, match="trainlist03.txt"):
        read_ucf101(ucf, split_id=3)


def test_ucf101_classind_parsing(tmp_path):
    assert read_ucf101_classes(_write(tmp_path / "c.txt", "\ufeff2 B\n1 A\n")) == ["A", "B"]  # BOM, any line order
    with pytest.raises(DatasetFormatError, match=r"c2\.txt:2: expected '<index> <ClassName>', got 'x Foo'"):
        read_ucf101_classes(_write(tmp_path / "c2.txt", "1 A\nx Foo\n"))
    with pytest.raises(DatasetFormatError, match=r"c3\.txt:2: class 'a' given twice"):
        read_ucf101_classes(_write(tmp_path / "c3.txt", "1 A\n2 a\n"))
    with pytest.raises(DatasetFormatError, match=r"without gaps"):
        read_ucf101_classes(_write(tmp_path / "c4.txt", "1 A\n3 B\n"))


@pytest.mark.parametrize(
    "name,text,pattern",
    [
        (
            "trainlist01.txt",
            "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nYoYo/v_YoYo_g09_c02.avi\n",
            r"trainlist01\.txt:2: expected '<Class>/<file> <label 1\.\.3>', got 'YoYo/v_YoYo_g09_c02.avi'",
        ),
        (
            "trainlist01.txt",
            "YoYo/v_YoYo_g09_c02.avi 1\n",
            r"trainlist01\.txt:1: label 1 \(ApplyEyeMakeup\) disagrees with the folder",
        ),
        ("trainlist01.txt", "YoYo/v_YoYo_g09_c02.avi 7\n", r"trainlist01\.txt:1: label 7 outside 1\.\.3"),
        (
            "testlist01.txt",
            "YoYo/v_YoYo_g01_c01.avi\n\nFoo/v_Foo_g01_c01.avi\n",
            r"testlist01\.txt:3: unknown class 'Foo' \(not in classInd",
        ),
        ("testlist01.txt", "YoYo/v_YoYo_g01_c01.avi 3\n", r"testlist01\.txt:1: expected '<Class>/<file>' \(no label"),
        (
            "testlist01.txt",
            "v_YoYo_g01_c01.avi\n",
            r"testlist01\.txt:1: expected '<Class>/<file>', got 'v_YoYo_g01_c01.avi'",
        ),
        (
            "testlist01.txt",
            "yoyo/V_YOYO_G09_C02.AVI\n",
            r"testlist01\.txt:1: 'yoyo/V_YOYO_G09_C02.AVI' listed twice \(first in trainlist01\.txt:3\)",
        ),
    ],
)
def test_ucf101_malformed_lines_name_file_and_line(ucf, name, text, pattern):
    _write(ucf / "ucfTrainTestlist" / name, text)
    with pytest.raises(DatasetFormatError, match=pattern):
        read_ucf101(ucf)


# ----------------------------------------------------------------------------- HMDB-51
HMDB_COLUMNS = ["video_id", "path", "label", "label_index", "split", "exists", "split_id"]


@pytest.fixture
def hmdb(tmp_path) -> Path:
    s = tmp_path / "testTrainMulti_7030_splits"
    # the real files end every line with a blank; CRLF here too
    _write(
        s / "sword_exercise_test_split1.txt",
        "Blade_Of_Fury_-_Scene_1_sword_exercise_f_cm_np1_ri_med_3.avi 1 \n"
        "Sword_Exercise_sword_exercise_f_cm_np1_fr_med_0.avi 2 \n"
        "Sword_Exercise_sword_exercise_f_cm_np1_fr_med_1.avi 0 \n\n",
    )
    _write(
        s / "brush_hair_test_split1.txt",
        "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 2 \nApril_09_brush_hair_u_nm_np1_ba_goo_1.avi 1 \n",
    )
    _write(s / "brush_hair_test_split2.txt", "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 \n")
    _write(s / "sword_exercise_test_split2.txt", "Sword_Exercise_sword_exercise_f_cm_np1_fr_med_0.avi 0 \n")
    _touch(
        tmp_path,
        "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi",
        "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi",
        "sword_exercise/Blade_Of_Fury_-_Scene_1_sword_exercise_f_cm_np1_ri_med_3.avi",
    )  # one test video missing
    return tmp_path


def test_hmdb51_split1_exact(hmdb):
    want = _table(
        [
            (
                "April_09_brush_hair_u_nm_np1_ba_goo_1",
                str(hmdb / "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi"),
                "brush_hair",
                0,
                "train",
                True,
                1,
            ),
            (
                "Blade_Of_Fury_-_Scene_1_sword_exercise_f_cm_np1_ri_med_3",
                str(hmdb / "sword_exercise/Blade_Of_Fury_-_Scene_1_sword_exercise_f_cm_np1_ri_med_3.avi"),
                "sword_exercise",
                1,
                "train",
                True,
                1,
            ),
            (
                "April_09_brush_hair_u_nm_np1_ba_goo_0",
                str(hmdb / "brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi"),
                "brush_hair",
                0,
                "test",
                True,
                1,
            ),
            (
                "Sword_Exercise_sword_exercise_f_cm_np1_fr_med_0",
                str(hmdb / "sword_exercise/Sword_Exercise_sword_exercise_f_cm_np1_fr_med_0.avi"),
                "sword_exercise",
                1,
                "test",
                False,
                1,
            ),
        ],
        HMDB_COLUMNS,
    )
    got = read_hmdb51(hmdb)
    pd.testing.assert_frame_equal(got, want)
    validate_table(got)
    assert read_hmdb51(hmdb, split_id=2)[["video_id", "split"]].values.tolist() == [
        ["April_09_brush_hair_u_nm_np1_ba_goo_0", "train"]
    ]


def test_hmdb51_classes_and_errors(hmdb):
    fixed = read_hmdb51(hmdb, classes=["sword_exercise", "brush_hair"])  # the index is the sorted list either way
    assert class_table(fixed).label.tolist() == ["brush_hair", "sword_exercise"]
    with pytest.raises(DatasetFormatError, match=r"sword_exercise_test_split1\.txt: unknown class 'sword_exercise'"):
        read_hmdb51(hmdb, classes=["brush_hair"])
    with pytest.raises(FileNotFoundError, match=r"for classes \['ride_bike'\]"):
        read_hmdb51(hmdb, classes=["brush_hair", "ride_bike", "sword_exercise"])
    with pytest.raises(FileNotFoundError, match=r"_test_split3\.txt"):
        read_hmdb51(hmdb, split_id=3)
    _write(hmdb / "testTrainMulti_7030_splits/brush_hair_test_split1.txt", "a.avi 1\nb.avi 3\n")
    with pytest.raises(
        DatasetFormatError, match=r"brush_hair_test_split1\.txt:2: expected '<video>\.avi <0\|1\|2>', got 'b.avi 3'"
    ):
        read_hmdb51(hmdb)
    _write(
        hmdb / "testTrainMulti_7030_splits/brush_hair_test_split1.txt",
        "Sword_Exercise_sword_exercise_f_cm_np1_fr_med_0.avi 1\n",
    )
    with pytest.raises(
        DatasetFormatError,
        match=r"sword_exercise_test_split1\.txt:2: video .* listed twice \(first in brush_hair_test_split1\.txt:1\)",
    ):
        read_hmdb51(hmdb)


# ----------------------------------------------------------------------------- Kinetics
K_COLUMNS = ["video_id", "path", "label", "label_index", "split", "exists", "youtube_id", "time_start", "time_end"]


@pytest.fixture
def kinetics(tmp_path) -> tuple[Path, Path, Path]:
    root = tmp_path / "videos"
    # Kinetics-400 style: label first, is_cc, quoted labels; Kinetics-700 style: no is_cc, another column order
    train = _write(
        tmp_path / "train.csv",
        "label,youtube_id,time_start,time_end,split,is_cc\n"
        '"abseiling",--07WQ2iBlw,1,11,train,0\n'
        '"passing American football (in game)",-0aYw4ddPOU,23,33,train,0\n'
        "abseiling,0347ZoDXyP0,18,28,train,1\n",
        crlf=False,
    )
    val = _write(
        tmp_path / "validate.csv",
        "youtube_id,time_start,time_end,label,split\n"
        "--33Lscn6sk,4,14,passing American football (in game),validate\n"
        "-4wsuPCjDBc,5,15,abseiling,validate\n\n",
        crlf=True,
    )
    _touch(
        root,
        "train/abseiling/--07WQ2iBlw_000001_000011.mp4",  # <split>/<label>/
        "train/passing_American_football_(in_game)/-0aYw4ddPOU_000023_000033.mp4",  # label with underscores
        "val/--33Lscn6sk_000004_000014.mp4",
    )  # flat split folder
    _touch(tmp_path, "videos/-4wsuPCjDBc_000005_000015.mp4")  # flat root; 0347ZoDXyP0 missing
    return root, train, val


def test_kinetics_exact(kinetics):
    root, train, val = kinetics
    football = "passing American football (in game)"
    want = _table(
        [
            (
                "--07WQ2iBlw_000001_000011",
                str(root / "train/abseiling/--07WQ2iBlw_000001_000011.mp4"),
                "abseiling",
                0,
                "train",
                True,
                "--07WQ2iBlw",
                1,
                11,
            ),
            (
                "-0aYw4ddPOU_000023_000033",
                str(root / "train/passing_American_football_(in_game)/-0aYw4ddPOU_000023_000033.mp4"),
                football,
                1,
                "train",
                True,
                "-0aYw4ddPOU",
                23,
                33,
            ),
            (
                "0347ZoDXyP0_000018_000028",
                str(root / "train/abseiling/0347ZoDXyP0_000018_000028.mp4"),
                "abseiling",
                0,
                "train",
                False,
                "0347ZoDXyP0",
                18,
                28,
            ),
            (
                "--33Lscn6sk_000004_000014",
                str(root / "val/--33Lscn6sk_000004_000014.mp4"),
                football,
                1,
                "val",
                True,
                "--33Lscn6sk",
                4,
                14,
            ),
            (
                "-4wsuPCjDBc_000005_000015",
                str(root / "-4wsuPCjDBc_000005_000015.mp4"),
                "abseiling",
                0,
                "val",
                True,
                "-4wsuPCjDBc",
                5,
                15,
            ),
        ],
        K_COLUMNS,
    )
    got = read_kinetics([train, val], root)
    pd.testing.assert_frame_equal(got, want)
    validate_table(got)
    # val alone with the train classes: the same index, even for a class order that is not sorted
    alone = read_kinetics(val, root, classes=[football, "abseiling"])
    assert alone.label_index.tolist() == [0, 1]


def test_kinetics_unlabeled_test_set(tmp_path):
    csv = _write(tmp_path / "test.csv", "youtube_id,time_start,time_end,split\nabcdefghijk,0,10,test\n", crlf=False)
    got = read_kinetics(csv, tmp_path)
    assert got[["label", "label_index", "split", "exists", "path"]].values.tolist() == [
        ["", -1, "test", False, str(tmp_path / "test/abcdefghijk_000000_000010.mp4")]
    ]


@pytest.mark.parametrize(
    "text,pattern",
    [
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,x1,abc,10,train\n",
            r"k\.csv:2: time_start 'abc' is not a number",
        ),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,x1,0,10,train\nabseiling,x2,0,10,train,extra\n",
            r"k\.csv:3: expected 5 fields",
        ),
        ("label,youtube_id,time_start,time_end,split\nabseiling,x1,0,10\n", r"k\.csv:2: expected 5 fields"),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,x1,10,10,train\n",
            r"k\.csv:2: time_end 10 is not after time_start 10",
        ),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,x1,0,10,holdout\n",
            r"k\.csv:2: unknown split 'holdout'",
        ),
        (
            "label,youtube_id,start,end,split\nabseiling,x1,0,10,train\n",
            r"k\.csv:1: missing columns \['time_start', 'time_end'\]",
        ),
        (
            "label,youtube_id,time_start,time_end,split\nabseiling,x1,0,10,train\nbungee jumping,x2,0,10,train\n",
            r"k\.csv:3: unknown class 'bungee jumping'",
        ),
    ],
)
def test_kinetics_malformed(tmp_path, text, pattern):
    csv = _write(tmp_path / "k.csv", text, crlf=False)
    with pytest.raises(DatasetFormatError, match=pattern):
        read_kinetics(csv, tmp_path, classes=["abseiling"])


# ----------------------------------------------------------------------------- demo target dataset
TINY_TARGET = dict(
    classes_map={"Archery": "archery", "JugglingBalls": "juggling_balls", "HulaHoop": "hula_hoop"},
    videos_per_class_train=2,
    videos_per_class_test=1,
    seconds=(1.0, 1.6),
    sizes=((128, 96), (96, 96)),
    fps_choices=(10.0, 12.0),
)


@pytest.fixture(scope="module")
def demo_target(tmp_path_factory):
    out = tmp_path_factory.mktemp("target") / "ucf"
    return out, write_demo_ucf_layout(out, seed=3, **TINY_TARGET)


def test_demo_target_round_trips_through_the_ucf_reader(demo_target):
    from slac_utils.video.decode import open_reader

    out, truth = demo_target
    got = read_ucf101(out)
    validate_table(got)
    assert got.exists.all() and len(got) == 9
    assert class_table(got).label.tolist() == ["Archery", "HulaHoop", "JugglingBalls"]
    t = truth.set_index("video_id").loc[got.video_id]
    for col in ("label", "label_index", "split", "group", "clip"):
        assert got[col].tolist() == t[col].tolist(), col
    assert got.path.tolist() == [str(out / p) for p in t.path]
    assert got.groupby(["label", "split"]).size().to_dict() == {
        (c, s): n for c in ("Archery", "HulaHoop", "JugglingBalls") for s, n in (("test", 1), ("train", 2))
    }
    # UCF-101's protocol: no group straddles train and test
    assert got.groupby(["label", "group"]).split.nunique().max() == 1
    assert (truth.action_frames > 0).all() and (truth.action_frames <= truth.n_frames).all()
    for r in truth.itertuples():  # real, decodable videos of the planned size and length
        vr = open_reader(out / r.path)
        assert (len(vr), *vr[0].shape) == (r.n_frames, r.height, r.width, 3)
    assert (out / "ucfTrainTestlist/classInd.txt").read_bytes() == b"1 Archery\r\n2 HulaHoop\r\n3 JugglingBalls\r\n"


def test_demo_target_is_deterministic(demo_target, tmp_path):
    out, _ = demo_target
    again = tmp_path / "again"
    write_demo_ucf_layout(again, seed=3, **TINY_TARGET)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert [sha256_file(out / f) for f in files] == [sha256_file(again / f) for f in files]
    other = write_demo_ucf_layout(tmp_path / "other", seed=4, **TINY_TARGET)
    assert sha256_file(tmp_path / "other" / other.path[0]) != sha256_file(out / other.path[0])


def test_demo_target_checks_its_inputs(tmp_path):
    assert DEMO_UCF_CLASSES["Basketball"] == "basketball_dribbling"
    with pytest.raises(ValueError, match="unknown demo class 'surfing'"):
        write_demo_ucf_layout(tmp_path, {"Surfing": "surfing"}, 1, 1, 0)
    with pytest.raises(ValueError, match="differ only in case"):
        write_demo_ucf_layout(tmp_path, {"JumpRope": "jump_rope", "Jumprope": "jump_rope"}, 1, 1, 0)
    with pytest.raises(ValueError, match="must be even"):
        write_demo_ucf_layout(tmp_path, {"Archery": "archery"}, 1, 1, 0, sizes=((99, 96),))
