"""The researcher's guideline file, annotation.mode auto, and the one line stage 05 stops with."""

import pandas as pd
import pytest

from slac_utils import annotation as A
from slac_utils.config import annotation_mode, load_params
from slac_utils.guideline import GuidelineError, add_examples, load_guideline

from .clip_fixtures import make_clip_world, write_params


def test_guideline_definitions_and_examples(tmp_path):
    g = tmp_path / "g.yaml"
    g.write_text(
        "classes:\n  archery:\n    definition: ' Shooting arrows. '\n    positive_examples: [c1]\n    negative_examples: [c2, c3]\n"
    )
    gl = load_guideline(g, ["archery", "hula_hoop"])
    assert gl.definitions == {"archery": "Shooting arrows.", "hula_hoop": "hula hoop"}
    assert gl.examples.to_dict("records") == [
        dict(clip_id="c1", class_label="archery", label=1, role="example"),
        dict(clip_id="c2", class_label="archery", label=-1, role="example"),
        dict(clip_id="c3", class_label="archery", label=-1, role="example"),
    ]
    assert load_guideline(tmp_path / "absent.yaml", ["jump_rope"]).definitions == {"jump_rope": "jump rope"}


@pytest.mark.parametrize(
    "text, match",
    [
        ("classes:\n  archery: {}\n", "archery.*definition"),
        ("classes:\n  archery:\n    definition: x\n    examples: [a]\n", "unknown keys"),
        ("classes: [a, b]\n", "expected a mapping"),
        ("classes:\n  archery:\n    definition: x\n    positive_examples: c1\n", "must be a list"),
    ],
)
def test_guideline_errors_name_the_entry(tmp_path, text, match):
    g = tmp_path / "g.yaml"
    g.write_text(text)
    with pytest.raises(GuidelineError, match=match):
        load_guideline(g)


def test_the_shipped_demo_guideline_covers_the_demo_classes():
    P = load_params("params.yaml")
    gl = load_guideline(P.annotation.guideline)
    assert set(P.demo.classes) <= set(gl.definitions) and all(len(d) > 20 for d in gl.definitions.values())


def test_listed_examples_join_the_golden_set(tmp_path):
    w = make_clip_world(tmp_path / "w", files=False)
    ids = sorted(w["clips"][w["clips"].class_label == "archery"].clip_id)
    g = tmp_path / "g.yaml"
    g.write_text(f"classes:\n  archery:\n    definition: x\n    positive_examples: [{ids[0]}, not_a_clip]\n")
    store = A.LabelStore(tmp_path / "s.sqlite")
    assert add_examples(store, load_guideline(g), w["clips"]) == 1
    gold = store.gold()
    assert gold.clip_id.tolist() == [ids[0]] and gold.role.tolist() == ["example"] and int(gold.label.iloc[0]) == 1
    store.close()


def test_auto_mode_follows_the_source(tmp_path):
    P = load_params(write_params(tmp_path / "p.yaml"))
    assert P.annotation.mode == "auto" and annotation_mode(P) == "simulate"
    P.data.source = "folder"
    assert annotation_mode(P) == "human"


def test_stage05_stops_with_one_line_until_labels_exist(tmp_path):
    w = make_clip_world(tmp_path / "w", files=False)  # archery, hula_hoop: 12 clips each
    db = tmp_path / "labels.sqlite"
    P = load_params(write_params(tmp_path / "p.yaml", store=str(db), min_labeled_per_class=3))
    P.data.source = "folder"
    msg = A.labels_missing(P, w["clips_path"])
    assert (
        msg.count("\n") == 0
        and "2 of 2 classes" in msg
        and "archery 0" in msg
        and "notebooks/05_annotate.ipynb" in msg
        and str(db) in msg
    )
    store = A.LabelStore(db)
    for cls in ("archery", "hula_hoop"):
        s = A.AnnotationSession(store, w["clips"], cls, "alice" if cls == "archery" else "bob", page_size=3)
        s.flip(0)
        s.submit()
        if cls == "archery":
            assert "1 of 2 classes" in A.labels_missing(P, w["clips_path"])
    store.close()
    assert A.labels_missing(P, w["clips_path"]) is None
    P.data.source = "demo"  # auto -> simulate: nothing to wait for
    assert A.labels_missing(P, pd.DataFrame()) is None
