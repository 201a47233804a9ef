"""Stage 05: the label store (durable, append-only, derived labels), the session logic, the simulated annotator,
QC and the stage's outputs — hand-computed cases, a SIGKILL between submits, two annotators at once."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from slac_utils import annotation as A
from slac_utils.config import AnnotationConfig, load_params
from slac_utils.stages import annotate as annotate_stage

from .clip_fixtures import make_clip_world, write_params
from .conftest import REPO


def _clips(n_per_class=6, classes=("archery", "hula_hoop")):
    return pd.DataFrame(
        [
            dict(
                clip_id=f"{c[:3]}_{i:02d}",
                video_id=f"{c[:3]}v{i // 3}",
                class_label=c,
                path=f"clips/{c}_{i}.mp4",
                start_s=0.0,
                end_s=2.0,
                kind="hard",
            )
            for c in classes
            for i in range(n_per_class)
        ]
    )


class Tick:
    """A test clock: +1 s per reading."""

    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        self.t += 1.0
        return self.t


@pytest.fixture
def store(tmp_path):
    s = A.LabelStore(tmp_path / "labels.sqlite", clock=Tick())
    yield s
    s.close()


# ----------------------------------------------------------------------------- store
def test_store_is_wal_and_synchronous_full(store, tmp_path):
    assert store.db.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_current_label_is_latest_live_submit(store):
    pe = store.page_view("ann", "archery", 0, ["a", "b"])
    s1 = store.submit("ann", "archery", 0, pe, ["a", "b"], [1, -1], [False, False], seconds_on_page=10.0)
    cur = store.current_labels().set_index("clip_id")
    assert cur.label.to_dict() == {"a": 1, "b": -1}
    assert cur.loc["a", "seconds"] == 5.0 and cur.loc["a", "seconds_on_page"] == 10.0  # page time split evenly
    # relabel 'a' on a later page: the latest submit wins
    pe2 = store.page_view("ann", "archery", 1, ["a"])
    s2 = store.submit("ann", "archery", 1, pe2, ["a"], [-1], [False], 3.0)
    assert store.current_labels().set_index("clip_id").label.to_dict() == {"a": -1, "b": -1}
    # undoing the later submit brings the earlier label back; undoing the first removes 'b'
    store.undo("ann", "archery", [(s2[0], "a", None)])
    assert store.current_labels().set_index("clip_id").label.to_dict() == {"a": 1, "b": -1}
    store.undo("ann", "archery", [(s1[1], "b", None)])
    assert store.current_labels().set_index("clip_id").label.to_dict() == {"a": 1}
    ev = store.events()
    assert list(ev.action) == ["page_view", "submit", "submit", "page_view", "submit", "undo", "undo"]
    assert ev.event_id.is_monotonic_increasing and ev.ts_server.is_monotonic_increasing


def test_submit_rejects_bad_labels(store):
    with pytest.raises(ValueError, match=r"\+1 or -1"):
        store.submit("ann", "archery", 0, 1, ["a"], [0], [False], 1.0)
    assert store.events().empty  # nothing half-written


def test_assignment_one_annotator_per_class(store):
    store.assign("alice", "archery")
    store.assign("alice", "archery")  # idempotent for the owner
    with pytest.raises(A.AssignmentError, match="class 'archery' is assigned to annotator 'alice'"):
        store.assign("bob", "archery")
    store.assign("bob", "hula_hoop")
    assert store.assignments()[["class_label", "annotator"]].values.tolist() == [
        ["archery", "alice"],
        ["hula_hoop", "bob"],
    ]
    with pytest.raises(ValueError, match="annotator name"):
        store.assign("  ", "jump_rope")


def test_missing_store_in_human_mode_is_named(tmp_path):
    with pytest.raises(A.StoreError, match="no label store at .*nope.sqlite"):
        A.LabelStore(tmp_path / "nope.sqlite", create=False)


def test_db_url_names_a_sqlite_file_or_a_postgres_server(tmp_path):
    s = A.LabelStore(url=f"sqlite:///{tmp_path}/x.sqlite", clock=Tick())
    sess = A.AnnotationSession(s, _clips(), "archery", "alice", page_size=4)
    page = list(sess.page_clips)
    sess.flip(1)
    sess.submit()
    assert sess.undo() == "page" and sess.labels == [-1, 1, -1, -1]
    sess.flip(0)
    sess.submit()
    assert s.current_labels().set_index("clip_id").label[page].tolist() == [1, 1, -1, -1]
    assert s.events().action.value_counts()["undo"] == 4
    with pytest.raises(A.AssignmentError):
        s.assign("bob", "archery")
    s.close()
    assert (tmp_path / "x.sqlite").exists()
    with pytest.raises(A.StoreError, match="use postgresql://"):
        A.LabelStore(url="mysql://u@h/db")
    with pytest.raises(A.StoreError, match=r"u:\*\*\*@127.0.0.1:1/db: cannot connect"):
        A.LabelStore(url="postgresql://u:secret@127.0.0.1:1/db")  # nothing listens on port 1; no password shown


def test_a_newer_schema_is_refused(tmp_path):
    A.LabelStore(tmp_path / "s.sqlite").close()
    import sqlite3

    con = sqlite3.connect(tmp_path / "s.sqlite")
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema'")
    con.commit()
    con.close()
    with pytest.raises(A.StoreError, match="schema 99 is newer than this code's"):
        A.LabelStore(tmp_path / "s.sqlite")


# ----------------------------------------------------------------------------- session
def test_session_rows_after_each_action(store):
    clips = _clips(5)
    s = A.AnnotationSession(store, clips, "archery", "alice", page_size=3, seed=0, session="t")
    queue = A.page_queue(clips.clip_id[clips.class_label == "archery"], "archery", 0)
    assert s.page_clips == queue[:3] and s.labels == [-1, -1, -1]  # default negative
    ev = store.events()
    assert list(ev.action) == ["assign", "page_view"] and json.loads(ev.detail.iloc[1]) == queue[:3]

    assert s.flip(1) == 1
    last = store.events().iloc[-1]
    assert (last.action, last.clip_id, last.label, last.page, last.page_event) == (
        "flip",
        queue[1],
        1,
        0,
        ev.event_id.iloc[1],
    )
    s.flip(2)
    assert s.undo() == "flip" and s.labels == [-1, 1, -1]
    last = store.events().iloc[-1]
    assert (last.action, last.clip_id, last.label) == ("undo", queue[2], -1)
    assert store.current_labels().empty  # nothing submitted yet

    assert s.submit() == 3
    cur = store.current_labels().set_index("clip_id")
    assert cur.label.to_dict() == {queue[0]: -1, queue[1]: 1, queue[2]: -1}
    assert s.page_clips == queue[3:5] and s.page_no == 1
    assert s.progress() == dict(done=3, remaining=2, total=5, page=1)

    # undo with no flip on this page: retracts the submitted page and shows it again with its labels
    assert s.undo() == "page"
    assert store.current_labels().empty and s.page_clips == queue[:3] and s.labels == [-1, 1, -1] and s.page_no == 0
    s.flip(0)
    s.submit()
    s.submit()
    assert s.finished and s.progress() == dict(done=5, remaining=0, total=5, page=2)
    assert store.current_labels().label.sum() == 2 - 3  # two positives, three negatives
    assert s.undo() == "page" and not s.finished  # a finished class can still be corrected
    acts = (
        store.events().action.value_counts().to_dict()
    )  # pages viewed: 1st, 2nd, 1st again, 2nd again, 2nd after the undo (finishing opens none)
    assert acts == dict(assign=1, page_view=5, flip=3, undo=1 + 3 + 2, submit=3 + 3 + 2)


def test_resume_shows_first_unlabeled_clips(store):
    clips = _clips(5)
    s = A.AnnotationSession(store, clips, "archery", "alice", page_size=2)
    s.submit()
    s.flip(0)  # clicked, not submitted, then the kernel dies
    again = A.AnnotationSession(store, clips, "archery", "alice", page_size=2)
    assert again.page_clips == s.page_clips and again.labels == [-1, -1] and again.page_no == 1
    with pytest.raises(A.AssignmentError):
        A.AnnotationSession(store, clips, "archery", "bob", page_size=2)


def test_gold_accuracy_hand_case(store):
    clips = _clips(4)
    ids = sorted(clips.clip_id[clips.class_label == "archery"])
    store.add_gold(pd.DataFrame(dict(clip_id=ids[:2], class_label="archery", label=[1, -1], role="check")))
    store.add_gold(pd.DataFrame(dict(clip_id=[ids[2]], class_label="archery", label=[1], role="example")))
    s = A.AnnotationSession(store, clips, "archery", "alice", page_size=10)
    assert ids[2] not in s.page_clips and len(s.page_clips) == 3  # guideline examples never go on pages
    assert s.gold_accuracy() == dict(gold_n=0, gold_correct=0, gold_accuracy=None)
    # alice marks everything positive: gold ids[0] (+1) right, ids[1] (-1) wrong
    for i in range(3):
        s.flip(i)
    assert s.page_rows.is_gold.sum() == 2
    s.submit()
    assert s.gold_accuracy() == dict(gold_n=2, gold_correct=1, gold_accuracy=0.5)
    labeled, _ = A.export_labels(store, clips)
    ex = labeled.set_index("clip_id").loc[ids[2]]
    assert (ex.annotator, ex.annotator_label, ex.label, ex.is_gold, ex.page) == ("golden_set", 0, 1, True, -1)
    g1 = labeled.set_index("clip_id").loc[ids[1]]
    assert (g1.annotator_label, g1.gold_label, g1.label) == (1, -1, -1)  # final label = the golden answer
    qa = A.qc_annotators(labeled, 0.9).iloc[0]
    assert (qa.annotator, qa.gold_n, qa.gold_correct, qa.gold_accuracy, qa.flag) == ("alice", 2, 1, 0.5, "BELOW 90%")


def test_select_gold_counts():
    clips = _clips(20, classes=("archery",))
    truth = pd.DataFrame(
        dict(clip_id=clips.clip_id, truth_kind="action", truth_label=[1 if i % 4 == 0 else -1 for i in range(20)])
    )
    g = A.select_gold(clips, truth, gold_rate=0.1, examples=1, seed=0)
    ex, chk = g[g.role == "example"], g[g.role == "check"]
    assert sorted(ex.label.tolist()) == [-1, 1]
    assert len(chk) == round(0.1 * 18) == 2
    assert g.equals(A.select_gold(clips, truth, 0.1, 1, 0))  # seeded
    assert A.select_gold(clips, truth, 0.0, 0, 0).empty


def test_queue_is_seeded_permutation():
    ids = [f"c{i}" for i in range(30)]
    q = A.page_queue(ids, "archery", 0)
    assert (
        sorted(q) == sorted(ids)
        and q == A.page_queue(reversed(ids), "archery", 0)
        and q != A.page_queue(ids, "archery", 1)
    )


# ----------------------------------------------------------------------------- durability and concurrency
_CHILD = r"""
import sys, time
import pandas as pd
from slac_utils.annotation import LabelStore, AnnotationSession
store_path, clips_path, cls, who, pages, mode = sys.argv[1:7]
clips = pd.read_parquet(clips_path)
if mode == "wait":  # start together with the other writer: say ready, wait for the go
    print("ready", flush=True)
    while not __import__("os").path.exists(store_path + ".go"):
        time.sleep(0.005)
store = LabelStore(store_path)
s = AnnotationSession(store, clips, cls, who, page_size=int(sys.argv[7]))
for k in range(int(pages)):
    s.flip(k % len(s.page_clips))
    s.submit()
    print("submitted", k, flush=True)
if mode == "hang":
    s.flip(0)
    print("flipped", flush=True)
    time.sleep(120)
"""


def _child(tmp_path, *args):
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.Popen(
        [sys.executable, str(script), *map(str, args)], stdout=subprocess.PIPE, text=True, cwd=str(REPO), env=env
    )


def test_sigkill_after_submits_loses_nothing(tmp_path):
    clips = _clips(30)
    clips.to_parquet(tmp_path / "clips.parquet")
    db = tmp_path / "labels.sqlite"
    p = _child(tmp_path, db, tmp_path / "clips.parquet", "archery", "alice", 4, "hang", 3)
    lines = []
    while not lines or lines[-1] != "flipped":
        line = p.stdout.readline().strip()
        assert line, "child died early"
        lines.append(line)
    os.kill(p.pid, signal.SIGKILL)  # the kernel dies mid-page
    p.wait(10)
    assert p.returncode == -signal.SIGKILL
    s = A.LabelStore(db)
    cur = s.current_labels()
    assert len(cur) == 4 * 3 and cur.label.tolist().count(1) == 4  # every submitted label survived
    ev = s.events()
    assert ev.action.iloc[-1] == "flip"  # and so did the click after the last submit
    s.close()


def test_sigkill_during_rapid_submits_keeps_whole_pages(tmp_path):
    clips = _clips(200)
    clips.to_parquet(tmp_path / "clips.parquet")
    db = tmp_path / "labels.sqlite"
    p = _child(tmp_path, db, tmp_path / "clips.parquet", "archery", "alice", 60, "run", 3)
    acked = 0
    while acked < 5:
        assert p.stdout.readline().startswith("submitted")
        acked += 1
    os.kill(p.pid, signal.SIGKILL)
    p.wait(10)
    s = A.LabelStore(db)
    cur = s.current_labels()
    assert len(cur) >= 5 * 3 and len(cur) % 3 == 0  # acknowledged pages kept, no half page
    assert s.submitted_pages("alice", "archery") == len(cur) // 3
    s.close()


def test_two_annotators_at_once_lose_nothing(tmp_path):
    clips = _clips(40)
    clips.to_parquet(tmp_path / "clips.parquet")
    db = tmp_path / "labels.sqlite"
    A.LabelStore(db).close()  # created before both start
    ps = [
        _child(tmp_path, db, tmp_path / "clips.parquet", cls, who, 40, "wait", 1)
        for cls, who in (("archery", "alice"), ("hula_hoop", "bob"))
    ]
    for p in ps:
        assert p.stdout.readline().strip() == "ready"
    Path(str(db) + ".go").touch()
    for p in ps:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.count("submitted") == 40
    s = A.LabelStore(db)
    cur = s.current_labels()
    assert cur.groupby("class_label").size().to_dict() == {"archery": 40, "hula_hoop": 40}
    assert (cur.label == 1).all()  # one flip per single-clip page
    ev = s.events()
    assert ev.groupby(["annotator", "action"]).size().to_dict() == {
        ("alice", "assign"): 1,
        ("alice", "flip"): 40,
        ("alice", "page_view"): 40,
        ("alice", "submit"): 40,
        ("bob", "assign"): 1,
        ("bob", "flip"): 40,
        ("bob", "page_view"): 40,
        ("bob", "submit"): 40,
    }
    # they really overlapped: bob's events are not all after alice's
    a, b = ev.event_id[ev.annotator == "alice"], ev.event_id[ev.annotator == "bob"]
    assert a.max() > b.min() and b.max() > a.min()
    s.close()


# ----------------------------------------------------------------------------- simulation and the stage
def _run(params_file, w, out):
    P = load_params(params_file)
    paths = annotate_stage.Paths(
        clips_path=w["clips_path"],
        clips_truth_path=w["truth_path"],
        guideline_path=w["world_path"],
        labeled_path=out / "labeled_clips.parquet",
        tables_dir=out / "tables",
        figures_dir=out / "figures",
        metrics_path=out / "metrics.json",
    )
    return annotate_stage.run(P, paths, progress=False)


def test_simulate_mode_is_deterministic_and_leaves_store_alone(tmp_path):
    w = make_clip_world(
        tmp_path / "w",
        classes=("archery", "hula_hoop", "jump_rope"),
        videos_per_class=4,
        clips_per_video=5,
        files=False,
    )
    store = tmp_path / "human" / "labels.sqlite"
    pf = write_params(tmp_path / "params.yaml", mode="simulate", store=str(store), page_size=6)
    r1 = _run(pf, w, tmp_path / "o1")
    _run(pf, w, tmp_path / "o2")
    assert not store.exists() and not store.parent.exists()  # the human store is a pure input
    files = sorted(p.relative_to(tmp_path / "o1") for p in (tmp_path / "o1").rglob("*") if p.is_file())
    assert len(files) >= 12
    for f in files:
        assert (tmp_path / "o1" / f).read_bytes() == (tmp_path / "o2" / f).read_bytes(), f"{f} differs between runs"
    lab = pd.read_parquet(tmp_path / "o1" / "labeled_clips.parquet")
    assert len(lab) == 60 and set(lab.label) <= {1, -1} and lab.clip_id.is_unique
    assert {
        "clip_id",
        "video_id",
        "class_label",
        "label",
        "annotator",
        "is_gold",
        "seconds",
        "start_s",
        "end_s",
        "kind",
        "path",
    } <= set(lab.columns)
    # one annotator per class
    assert lab[lab.annotator != "golden_set"].groupby("class_label").annotator.nunique().eq(1).all()
    m = json.loads((tmp_path / "o1" / "metrics.json").read_text())
    assert m["mode"] == "simulate" and m["labeled"] == 60 and m["annotators"] == 3
    assert 3 < m["seconds_per_clip"] < 20
    assert r1["table3"].iloc[0, 2] == "8.8 sec"
    for t in ("qc_annotators.md", "qc_classes.md", "table3_cost.md", "qc_truth.md", "qc_truth_kinds.md"):
        assert (tmp_path / "o1" / "tables" / t).exists()
    assert "Full annotation (paper)" in (tmp_path / "o1" / "tables" / "table3_cost.md").read_text()


def test_simulated_annotator_matches_its_parameters(tmp_path):
    w = make_clip_world(
        tmp_path / "w",
        classes=("archery", "hula_hoop", "jump_rope", "juggling_balls"),
        videos_per_class=25,
        clips_per_video=8,
        files=False,
    )
    pf = write_params(tmp_path / "params.yaml", sim_accuracy=0.9, sim_seconds_per_clip=6.0, gold_rate=0.2)
    r = _run(pf, w, tmp_path / "o")
    m = r["metrics"]
    assert abs(m["annotator_accuracy"] - 0.9) < 0.03  # 800 clips
    assert abs(m["seconds_per_clip"] - 6.0) < 0.3
    assert m["label_accuracy"] > m["annotator_accuracy"]  # golden clips carry their known answer
    kinds = r["qc_truth_kinds"].set_index(["class_label", "label"])
    assert kinds.loc[("all", "positive"), "action"] > 0.8  # positives mostly show the action
    assert m["gold_clips"] >= 4 * 0.2 * 198


def test_simulate_without_truth_is_refused(tmp_path):
    w = make_clip_world(tmp_path / "w", files=False)
    pd.DataFrame(columns=A.TRUTH_COLUMNS).to_parquet(w["truth_path"])
    with pytest.raises(ValueError, match="simulate needs the clips' truth"):
        _run(write_params(tmp_path / "p.yaml"), w, tmp_path / "o")


def test_human_mode_refuses_short_classes_then_exports(tmp_path):
    w = make_clip_world(tmp_path / "w", files=False)  # archery, hula_hoop: 12 clips each
    db = tmp_path / "labels.sqlite"
    pf = write_params(tmp_path / "params.yaml", mode="human", store=str(db), min_labeled_per_class=4)
    with pytest.raises(A.StoreError, match="no label store"):
        _run(pf, w, tmp_path / "o")
    store = A.LabelStore(db)
    s = A.AnnotationSession(store, w["clips"], "archery", "alice", page_size=5)
    s.flip(0)
    s.submit()
    store.close()
    with pytest.raises(ValueError, match=r"min_labeled_per_class=4\): hula_hoop has 0"):
        _run(pf, w, tmp_path / "o")
    assert not (tmp_path / "o" / "labeled_clips.parquet").exists()
    store = A.LabelStore(db)
    s = A.AnnotationSession(store, w["clips"], "hula_hoop", "bob", page_size=4)
    s.submit()
    pe = store.page_view("bob", "hula_hoop", 9, ["gone"])
    store.submit("bob", "hula_hoop", 9, pe, ["gone"], [1], [False], 2.0)  # a clip stage 04 no longer writes
    store.close()
    r = _run(pf, w, tmp_path / "o")
    lab = pd.read_parquet(tmp_path / "o" / "labeled_clips.parquet")
    assert lab.groupby("class_label").size().to_dict() == {"archery": 5, "hula_hoop": 4}
    assert (
        r["metrics"]["orphan_labels"] == 1 and r["metrics"]["mode"] == "human" and r["metrics"]["unlabeled"] == 24 - 9
    )
    assert "measured" in r["table3"].columns[-1]


def test_cost_table_hand_case():
    clips = pd.DataFrame(dict(clip_id=["a", "b", "c", "d"], video_id=["v1", "v1", "v2", "v3"]))
    lab = pd.DataFrame(
        dict(clip_id=["a", "b", "c"], video_id=["v1", "v1", "v2"], annotator="x", seconds=[6.0, 12.0, 9.0])
    )
    t, n = A.cost_table(lab, clips, AnnotationConfig(full_annotation_minutes_per_video=10.0), simulated=False)
    assert n["seconds_per_clip"] == 9.0 and n["seconds_per_video"] == 13.5 and n["clips_per_video"] == 1.5
    assert n["dataset_hours"] == pytest.approx(13.5 * 3 / 3600) and n["saving_vs_full"] == pytest.approx(1 - 13.5 / 600)
    assert t.iloc[0].tolist() == ["Per clip", "N/A", "8.8 sec", "N/A", "9.0 sec"]
    assert t.iloc[1].tolist() == ["Per video", "11.3 min", "30.6 sec", "10.0 min", "13.5 sec"]
    assert t.iloc[2, 1:3].tolist() == ["113.2K hr", "4,390 hr"]


def test_check_min_labeled_names_classes():
    lab = pd.DataFrame(dict(class_label=["a"] * 5 + ["b"] * 2))
    A.check_min_labeled(lab, ["a"], 4)
    with pytest.raises(ValueError, match="b has 2, c has 0"):
        A.check_min_labeled(lab, ["a", "b", "c"], 4)


def test_definitions_fall_back_to_class_name(tmp_path):
    assert A.load_definitions(None, ["jump_rope"]) == {"jump_rope": "jump rope"}
    (tmp_path / "world.json").write_text(json.dumps(dict(classes={"archery": "Shooting arrows."})))
    assert A.load_definitions(tmp_path / "world.json", ["jump_rope"]) == {
        "archery": "Shooting arrows.",
        "jump_rope": "jump rope",
    }


# ----------------------------------------------------------------------------- notebook
def test_notebook_parameters_match_stage_paths():
    from .test_pipeline_contract import _notebook_params

    declared = _notebook_params(REPO / "notebooks" / "05_annotate.ipynb")
    assert declared == {"params_file", *annotate_stage.Paths.names()}


@pytest.mark.slow
def test_notebook_runs_under_papermill_in_simulate_mode(tmp_path):
    import papermill as pm

    w = make_clip_world(tmp_path / "w", files=True)
    store = tmp_path / "human" / "labels.sqlite"
    pf = write_params(tmp_path / "params.yaml", store=str(store), page_size=4)
    out = tmp_path / "o"
    pm.execute_notebook(
        str(REPO / "notebooks" / "05_annotate.ipynb"),
        str(tmp_path / "05.ipynb"),
        cwd=str(REPO),
        kernel_name="python3",
        progress_bar=False,
        parameters=dict(
            params_file=str(pf),
            clips_path=str(w["clips_path"]),
            clips_truth_path=str(w["truth_path"]),
            guideline_path=str(w["world_path"]),
            labeled_path=str(out / "labeled.parquet"),
            tables_dir=str(out / "t"),
            figures_dir=str(out / "f"),
            metrics_path=str(out / "m.json"),
        ),
    )
    assert json.loads((out / "m.json").read_text())["labeled"] == 24
    assert not store.parent.exists()
    nb = json.loads((tmp_path / "05.ipynb").read_text())
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "application/vnd.jupyter.widget-view+json" in outputs  # the grid was displayed, harmlessly
