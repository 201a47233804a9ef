"""The QC dashboard's tables on hand-made stores: progress, golden-set accuracy over time, the re-annotation queue
and reopening after a clarification, and Cohen's kappa on the overlap sample."""

import numpy as np
import pandas as pd
import pytest

from slac_utils import annotation as A
from slac_utils.annotation import dashboard as D


def _clips(n=8, classes=("archery", "hula_hoop")):
    return pd.DataFrame(
        [
            dict(clip_id=f"{c}_{i}", video_id=f"{c}v{i // 2}", class_label=c, path=f"c/{c}_{i}.mp4")
            for c in classes
            for i in range(n)
        ]
    )


class Tick:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        self.t += 1.0
        return self.t


def _label(store, clips, cls, who, positives, **kw):
    s = A.AnnotationSession(store, clips, cls, who, page_size=100, clock=Tick(), **kw)
    for i, c in enumerate(s.page_clips):
        if c in positives:
            s.flip(i)
    s.submit()
    return s


@pytest.fixture
def store(tmp_path):
    s = A.LabelStore(tmp_path / "l.sqlite", clock=Tick())
    yield s
    s.close()


def test_progress_and_gold_over_time_and_the_reannotation_queue(store):
    clips = _clips()
    gold = pd.DataFrame(
        dict(
            clip_id=["archery_0", "archery_1", "archery_2", "hula_hoop_0"],
            class_label=["archery"] * 3 + ["hula_hoop"],
            label=[1, -1, 1, 1],
            role=["check", "check", "example", "check"],
        )
    )
    store.add_gold(gold)
    _label(store, clips, "archery", "alice", {"archery_0", "archery_1", "archery_5"})  # wrong on archery_1
    p = D.progress(store, clips).set_index("class_label")
    assert p.loc["archery"].tolist() == ["alice", 7, 7, 3, 1.0] and p.loc["hula_hoop", "labeled"] == 0
    assert p.loc["hula_hoop", "annotator"] == "—"
    t = D.gold_over_time(store)
    assert t.annotator.tolist() == ["alice", "alice"] and t.accuracy.tolist() == [1.0, 0.5]
    q = D.reannotation_queue(store, clips, 0.9)
    assert len(q) == 7 and set(q.annotator) == {"alice"} and (q.gold_accuracy == 0.5).all()
    a = D.annotators(store, clips, 0.9).set_index("annotator")
    assert a.loc["alice", "flag"] == "BELOW 90%" and a.loc["alice", "gold_n"] == 2
    # the clarification: alice's labels go back to her pages, nothing is deleted
    assert D.reopen(store, "alice", "archery") == 7
    assert store.current_labels("archery").empty and (store.events().source == "qc").sum() == 7
    s = _label(store, clips, "archery", "alice", {"archery_0", "archery_5"})
    assert len(s.queue) == 7 and D.gold_over_time(store).accuracy.iloc[-1] == 1.0
    assert D.reannotation_queue(store, clips, 0.9).empty


def test_cohen_kappa_hand_cases():
    assert D.cohen_kappa([1, 1, -1, -1], [1, 1, -1, -1]) == 1.0
    assert D.cohen_kappa([1, -1, 1, -1], [-1, 1, -1, 1]) == -1.0
    # po = 0.75, pe = 0.5*0.75 + 0.5*0.25 = 0.5 -> 0.5
    assert D.cohen_kappa([1, 1, -1, -1], [1, 1, 1, -1]) == pytest.approx(0.5)
    assert D.cohen_kappa([1, 1], [1, 1]) == 1.0 and np.isnan(D.cohen_kappa([], []))


def test_an_overlap_sample_is_labeled_again_and_scored_by_kappa(store):
    clips = _clips(n=20)
    _label(store, clips, "archery", "alice", {f"archery_{i}" for i in range(10)})
    with pytest.raises(ValueError, match="own class"):
        A.AnnotationSession(store, clips, "archery", "alice", overlap_rate=0.5)
    s = A.AnnotationSession(store, clips, "archery", "bob", page_size=100, overlap_rate=0.5, clock=Tick())
    assert len(s.queue) == 10 and store.owner("archery") == "alice"  # bob claims nothing
    sample = list(s.page_clips)
    for i, c in enumerate(sample):
        if int(c.split("_")[1]) < 10 and c != sample[0]:
            s.flip(i)  # bob agrees with alice except on the first clip of the sample
    if int(sample[0].split("_")[1]) >= 10:
        s.flip(0)
    s.submit()
    assert s.finished and s.progress()["done"] == 10
    cur = store.current_labels("archery")
    assert set(cur.annotator) == {"alice"} and len(cur) == 20  # overlap labels never replace the owner's
    k = D.overlap_kappa(store).set_index("class_label").loc["archery"]
    assert (k.owner, k.second, k.clips, k.agreement) == ("alice", "bob", 10, 0.9)
    alice = cur.set_index("clip_id").label[sample].to_numpy()
    bob = store.overlap_labels("bob").set_index("clip_id").label[sample].to_numpy()
    assert k.kappa == pytest.approx(D.cohen_kappa(alice, bob)) and k.kappa < 1


def test_the_dashboard_notebook_runs_on_a_live_store(tmp_path):
    import papermill as pm

    from .clip_fixtures import write_params
    from .conftest import REPO

    clips = _clips()
    clips.to_parquet(tmp_path / "clips.parquet")
    store = A.LabelStore(tmp_path / "l.sqlite")
    store.add_gold(pd.DataFrame(dict(clip_id=["archery_1"], class_label=["archery"], label=[1], role=["check"])))
    _label(store, clips, "archery", "alice", set())  # wrong on the golden check: under the line
    store.close()
    pf = write_params(tmp_path / "params.yaml", mode="human", store=str(tmp_path / "l.sqlite"))
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / "qc_dashboard.ipynb"),
        str(out),
        parameters=dict(params_file=str(pf), clips_path=str(tmp_path / "clips.parquet")),
        cwd=str(tmp_path),
        progress_bar=False,
        kernel_name="python3",
    )
    text = out.read_text()
    assert "alice</b> · archery · 8 clips · golden-set accuracy 0%" in text and "image/png" in text
    assert "BELOW 90%" in text and "Error" not in text


def test_the_grid_offers_a_second_opinion_only_on_a_class_someone_else_owns(tmp_path):
    from slac_utils.annotation.team import Member
    from slac_utils.grid import AnnotationGrid

    clips = _clips(n=10)
    store = A.LabelStore(tmp_path / "l.sqlite")
    _label(store, clips, "archery", "alice", {"archery_0"})
    g = AnnotationGrid(store, clips, overlap_rate=0.3, page_size=12)
    assert ("archery — second opinion on alice's labels (overlap sample)", "overlap:archery") in g._class_options("bob")
    assert "overlap:archery" not in dict(g._class_options("alice")).values()  # not on one's own class
    assert g.login("bob", "overlap:archery") and g.session.overlap and len(g.session.page_clips) == 3
    g.submit()
    assert len(store.overlap_labels("bob")) == 3 and store.owner("archery") == "alice"
    # a team member gets it only when the researcher listed overlap:<class> for them
    m = AnnotationGrid(store, clips, overlap_rate=0.3, member=Member("carol", ("hula_hoop",)))
    assert not m.login("carol", "overlap:archery") and m.session is None
    m2 = AnnotationGrid(store, clips, overlap_rate=0.3, member=Member("dan", ("hula_hoop", "overlap:archery")))
    assert m2.login("dan", "overlap:archery") and m2.session.class_label == "archery"
    store.close()
