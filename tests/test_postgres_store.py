"""The label store on a real PostgreSQL server (tests/pg_server.py): the same derived labels as SQLite, 8 annotator
processes x 200 clicks at once losing nothing, two annotators claiming one class at the same instant (exactly one
wins), kill -9 of an annotator mid-page keeping every confirmed label, and a database restart mid-session (the
session reconnects and tells the annotator which click was not saved, then sends it)."""

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import uuid

import pandas as pd
import pytest

from slac_utils import annotation as A
from slac_utils.annotation.backends import StoreUnavailable

from .conftest import REPO
from .pg_server import PgServer, why_unavailable

pytestmark = pytest.mark.skipif(why_unavailable() is not None, reason=str(why_unavailable()))


@pytest.fixture(scope="module")
def server():
    s = PgServer()
    s.start()
    yield s
    s.close()


@pytest.fixture
def url(server):
    return server.create_db(f"t_{uuid.uuid4().hex[:12]}")


def _clips(n, classes=("archery",)):
    return pd.DataFrame(
        [
            dict(clip_id=f"{c}_{i:03d}", video_id=f"{c}v{i // 3}", class_label=c, path=f"clips/{c}_{i}.mp4")
            for c in classes
            for i in range(n)
        ]
    )


class Tick:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        self.t += 1.0
        return self.t


def _script(store):
    s = A.AnnotationSession(store, _clips(8), "archery", "alice", page_size=4, clock=Tick())
    s.flip(1)
    s.flip(2)
    s.undo()
    s.submit()
    s.flip(0)
    s.submit()
    assert s.undo() == "page"
    s.flip(3)
    s.submit()
    store.add_gold(pd.DataFrame(dict(clip_id=["archery_001"], class_label=["archery"], label=[1], role=["check"])))
    return store


def test_postgres_derives_the_labels_sqlite_derives(url, tmp_path):
    pg = _script(A.LabelStore(url=url, clock=Tick()))
    lite = _script(A.LabelStore(tmp_path / "l.sqlite", clock=Tick()))
    for a, b in ((pg.current_labels(), lite.current_labels()), (pg.gold_accuracy(), lite.gold_accuracy())):
        pd.testing.assert_frame_equal(
            a.drop(columns="ts_server", errors="ignore"), b.drop(columns="ts_server", errors="ignore")
        )
    drop = ["ts_server", "session"]
    pd.testing.assert_frame_equal(pg.events().drop(columns=drop), lite.events().drop(columns=drop))
    assert pg.db.read("SELECT value FROM meta WHERE key = 'schema'") == [("1",)]
    pg.close()
    lite.close()


_ANNOTATOR = r"""
import sys
import pandas as pd
from slac_utils.annotation import LabelStore, AnnotationSession
url, cls, who, pages, page_size = sys.argv[1:6]
clips = pd.read_parquet(sys.argv[6])
s = AnnotationSession(LabelStore(url=url), clips, cls, who, page_size=int(page_size))
print("ready", flush=True)
sys.stdin.readline()  # the go: every annotator starts clicking at once
for k in range(int(pages)):
    for i in range(len(s.page_clips)):
        s.flip(i)
    assert not s.unsaved
    s.submit()
    print("confirmed", k, flush=True)
"""


def _annotators(tmp_path, url, who_cls, pages, page_size, clips):
    (tmp_path / "annotator.py").write_text(_ANNOTATOR)
    clips.to_parquet(tmp_path / "clips.parquet")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(tmp_path / "annotator.py"),
                url,
                c,
                w,
                str(pages),
                str(page_size),
                str(tmp_path / "clips.parquet"),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w, c in who_cls
    ]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    return procs


def test_eight_annotators_clicking_at_once_lose_nothing(url, tmp_path):
    classes = [f"class_{k}" for k in range(8)]
    procs = _annotators(tmp_path, url, [(f"ann{k}", c) for k, c in enumerate(classes)], 20, 10, _clips(200, classes))
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0 and out.count("confirmed") == 20
    s = A.LabelStore(url=url)
    counts = s.events().groupby(["annotator", "action"]).size().unstack()
    assert (counts["flip"] == 200).all() and (counts["submit"] == 200).all() and len(counts) == 8
    cur = s.current_labels()
    assert len(cur) == 1600 and (cur.label == 1).all()
    assert s.assignments().set_index("class_label").annotator.to_dict() == {c: f"ann{k}" for k, c in enumerate(classes)}
    s.close()


def _claim(url, who, classes, barrier, out):
    store = A.LabelStore(url=url)
    won = []
    for c in classes:
        barrier.wait()
        try:
            store.assign(who, c)
            won.append(c)
        except A.AssignmentError:
            pass
    out.put((who, won))
    store.close()


def test_two_annotators_claiming_one_class_at_once_exactly_one_wins(url):
    classes = [f"c{k:02d}" for k in range(25)]
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_claim, args=(url, w, classes, barrier, out)) for w in ("alice", "bob")]
    for p in procs:
        p.start()
    won = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    assert sorted(won["alice"] + won["bob"]) == classes  # every class to exactly one of them
    owners = A.LabelStore(url=url).assignments().set_index("class_label").annotator
    assert all(owners[c] == w for w, cs in won.items() for c in cs)


def test_kill_9_of_an_annotator_mid_page_keeps_every_confirmed_label(url, tmp_path):
    (p,) = _annotators(tmp_path, url, [("alice", "archery")], 1000, 5, _clips(3000))
    confirmed = 0
    while confirmed < 6:
        assert p.stdout.readline().startswith("confirmed")
        confirmed += 1
    os.kill(p.pid, signal.SIGKILL)  # somewhere in the middle of a page's clicks or its submit
    p.wait(10)
    s = A.LabelStore(url=url)
    cur = s.current_labels()
    assert len(cur) >= confirmed * 5 and len(cur) % 5 == 0  # every confirmed page, and no half page
    assert (cur.label == 1).all() and s.submitted_pages("alice", "archery") == len(cur) // 5
    s.close()


def test_a_database_restart_mid_session_loses_no_click_silently(server, url):
    store = A.LabelStore(url=url)
    s = A.AnnotationSession(store, _clips(8), "archery", "alice", page_size=4)
    s.flip(0)
    server.stop()  # the server restarts under the annotator
    s.flip(1)  # the click counts on the page and is kept: the annotator is told it is not saved
    assert s.labels[:2] == [1, 1] and len(s.unsaved) == 1 and "connection lost" in s.store_error
    with pytest.raises(StoreUnavailable, match="not saved|cannot connect"):
        s.submit()  # the page stays as it was
    assert s.labels[:2] == [1, 1] and len(s.unsaved) == 1 and not s.finished
    server.start()
    assert s.submit() == 4  # reconnects by itself, sends the kept click first, then the page
    assert not s.unsaved and s.store_error is None
    ev = store.events()
    assert ev[ev.action == "flip"].clip_id.tolist() == [s.queue[0], s.queue[1]]
    cur = store.current_labels().set_index("clip_id").label
    assert cur[s.queue[:4]].tolist() == [1, 1, -1, -1]
    store.close()
