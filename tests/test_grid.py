"""The ipywidgets grid driven headlessly: button .click(), hotkeys through handle_key and the hotkey box,
borders, submit, undo, progress, live golden-set accuracy, refusal of a taken class."""

import base64

import pandas as pd
import pytest

from slac_utils import annotation as A
from slac_utils.config import load_params
from slac_utils.grid import GREEN, KEYS, RED, AnnotationGrid, video_html

from .clip_fixtures import make_clip_world, write_params


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return make_clip_world(
        tmp_path_factory.mktemp("clips"),
        classes=("archery", "hula_hoop", "jump_rope"),
        videos_per_class=2,
        clips_per_video=4,
    )


@pytest.fixture
def store(tmp_path):
    s = A.LabelStore(tmp_path / "labels.sqlite")
    yield s
    s.close()


def _grid(store, world, **kw):
    return AnnotationGrid(
        store, world["clips"], {"archery": "Shooting arrows with a bow."}, page_size=kw.pop("page_size", 3), **kw
    )


def _border(grid, i):
    return grid.tiles[i].layout.border


def test_login_shows_a_page_of_red_autoplaying_clips(store, world):
    g = _grid(store, world)
    assert g.work.layout.display == "none"  # nothing but the login row before a name is given
    g.name_box.value = "alice"
    g.class_box.value = "archery"
    g.start_button.click()
    s = g.session
    assert s is not None and s.annotator == "alice" and s.class_label == "archery"
    assert g.work.layout.display == "flex"
    assert "Shooting arrows with a bow." in g.guideline.value and "Action:</b> Archery" in g.guideline.value
    for i, c in enumerate(s.page_clips):
        v = g.videos[i].value
        for attr in ("autoplay", "loop", "muted", "playsinline", "data:video/mp4;base64,"):
            assert attr in v
        assert f'data-clip="{c}"' in v
        assert _border(g, i) == f"5px solid {RED}" and g.buttons[i].description.startswith(f"[{KEYS[i]}] negative")
    assert 'done <b class="slac-done">0</b> / 8' in g.progress_text.value
    assert store.assignments().annotator.tolist() == ["alice"]


def test_click_key_submit_undo_and_store_rows(store, world):
    g = _grid(store, world, annotator="alice", class_label="archery")
    page = list(g.session.page_clips)
    g.buttons[0].click()  # a click on clip 1
    assert _border(g, 0) == f"5px solid {GREEN}" and g.buttons[0].button_style == "success"
    ev = store.events().iloc[-1]
    assert (ev.action, ev.clip_id, ev.label, ev.source) == ("flip", page[0], 1, "click")
    assert g.handle_key("3") == "flip" and _border(g, 2) == f"5px solid {GREEN}"
    assert store.events().iloc[-1].source == "key"
    assert g.handle_key("u") == "undo" and _border(g, 2) == f"5px solid {RED}"
    assert store.events().iloc[-1].action == "undo"
    assert g.handle_key("9") is None  # no clip 9 on a page of 3
    assert g.handle_key("x") is None
    assert g.handle_key("Enter") == "submit"
    cur = store.current_labels().set_index("clip_id").label.to_dict()
    assert cur == {page[0]: 1, page[1]: -1, page[2]: -1}
    assert g.session.page_clips != page and all(_border(g, i) == f"5px solid {RED}" for i in range(3))
    assert "Saved page 1 (3 clips)" in g.message.value and 'class="slac-done">3</b> / 8' in g.progress_text.value
    # undo with a fresh page retracts the submitted page and shows it again, as it was
    g.undo_button.click()
    assert g.session.page_clips == page and _border(g, 0) == f"5px solid {GREEN}"
    assert store.current_labels().empty
    g.submit_button.click()
    assert len(store.current_labels()) == 3


def test_hotkey_box_and_enter_message(store, world):
    g = _grid(store, world, annotator="alice", class_label="archery")
    g.key_box.value = "13"  # typed quickly: both keys handled, box cleared
    assert g.key_box.value == ""
    assert g.session.labels == [1, -1, 1]
    g._on_key_msg(g.key_box, {"event": "submit"}, [])  # what the frontend sends on Enter
    assert store.current_labels().label.tolist().count(1) == 2


def test_second_annotator_is_refused_a_taken_class(store, world):
    _grid(store, world, annotator="alice", class_label="archery")
    g = _grid(store, world)
    assert not g.login("bob", "archery")
    assert "assigned to annotator &#x27;alice&#x27;" in g.message.value and g.session is None
    assert ("archery — taken by alice", "archery") in g.class_box.options
    assert g.login("bob")  # no class given: the first free one
    assert g.session.class_label == "hula_hoop"
    assert not _grid(store, world).login("")


def test_resume_after_restart(store, world):
    g = _grid(store, world, annotator="alice", class_label="archery")
    g.flip(1)
    g.submit()
    seen = set(store.current_labels().clip_id)
    g2 = _grid(store, world, annotator="alice")  # a new kernel: alice's class, first unlabeled clips
    assert g2.session.class_label == "archery" and not set(g2.session.page_clips) & seen
    assert 'class="slac-done">3</b>' in g2.progress_text.value


def test_live_gold_accuracy_and_flag(store, world):
    clips = world["clips"]
    ids = sorted(clips.clip_id[clips.class_label == "jump_rope"])
    store.add_gold(
        pd.DataFrame(dict(clip_id=ids, class_label="jump_rope", label=-1, role="check"))
    )  # every clip is a golden negative
    g = _grid(store, world, annotator="carol", class_label="jump_rope", page_size=4, gold_min_accuracy=0.9)
    assert "no golden clip labeled yet" in g.gold_text.value
    g.submit()  # 4 correct negatives
    assert 'class="slac-gold">100%</b> (4/4)' in g.gold_text.value and "slac-flag" not in g.gold_text.value
    g.flip(0)
    g.submit()  # one wrong: 7/8 = 88% < 90%
    assert "(7/8)" in g.gold_text.value and "below 90%" in g.gold_text.value
    assert g.session.finished and g.submit_button.disabled and "are labeled" in g.message.value


def test_finished_class_and_guideline_examples(store, world):
    clips = world["clips"]
    ids = sorted(clips.clip_id[clips.class_label == "hula_hoop"])
    store.add_gold(pd.DataFrame(dict(clip_id=ids[:2], class_label="hula_hoop", label=[1, -1], role="example")))
    g = _grid(store, world, annotator="dan", class_label="hula_hoop", page_size=12)
    assert g.guideline.value.count("<video") == 2 and GREEN in g.guideline.value and RED in g.guideline.value
    assert len(g.session.page_clips) == 6  # 8 clips minus 2 examples, fewer than a page
    assert [t.layout.display for t in g.tiles].count("none") == 12 - 6
    g.submit()
    assert g.session.finished and 'class="slac-remaining">0</b>' in g.progress_text.value
    html = g.page_html()
    assert html.startswith("<!doctype html>")


def test_video_html(tmp_path, world):
    p = world["clips"].path.iloc[0]
    from pathlib import Path

    v = video_html(Path(p), 160)
    assert base64.b64encode(Path(p).read_bytes()).decode() in v and "onclick=" in v
    assert "clip file missing" in video_html(tmp_path / "nope.mp4", 160)


def test_from_params_preview_in_simulate_mode_writes_no_store(tmp_path, world):
    store = tmp_path / "labels" / "labels.sqlite"
    P = load_params(write_params(tmp_path / "p.yaml", mode="simulate", store=str(store), page_size=5))
    g = AnnotationGrid.from_params(P, world["clips_path"], world["truth_path"], world["world_path"])
    assert g.login("preview")
    assert len(g.session.page_clips) == 5 and "definition of archery" in g.guideline.value
    assert g.store.gold().role.value_counts().to_dict()["example"] >= 3
    assert not store.parent.exists()
    P = load_params(write_params(tmp_path / "p2.yaml", mode="human", store=str(store)))
    g = AnnotationGrid.from_params(P, world["clips_path"], world["truth_path"], world["world_path"])
    assert store.exists() and g.session is None  # human mode: the real store, nothing written before login


def test_submitted_pages_are_in_the_sqlite_file_itself(tmp_path, world):
    """DVC hashes labels.sqlite alone: after a submit the page must not live only in the -wal file."""
    import shutil
    import sqlite3

    s = A.LabelStore(tmp_path / "labels.sqlite")
    g = _grid(s, world, annotator="alice", class_label="archery")
    g.flip(0)
    g.submit()
    shutil.copy(tmp_path / "labels.sqlite", tmp_path / "copy.sqlite")  # the main file only, no -wal / -shm
    con = sqlite3.connect(tmp_path / "copy.sqlite")
    assert con.execute("SELECT COUNT(*), SUM(label) FROM events WHERE action = 'submit'").fetchone() == (3, 1 - 2)
    con.close()
    s.close()
