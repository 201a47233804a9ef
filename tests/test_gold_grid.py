"""The grid's gold mode: the researcher labels a golden set (checks and guideline examples) in the grid, which then
measures the annotators: examples never reach their pages, checks do, and stage 05's QC tables report golden-set
accuracy on a source without any truth file."""

import pandas as pd

from slac_utils import annotation as A
from slac_utils.annotation.gold import GoldSession, gold_queue
from slac_utils.config import load_params
from slac_utils.gold_grid import GoldGrid
from slac_utils.stages import annotate as annotate_stage

from .clip_fixtures import make_clip_world, write_params


def test_gold_queue_is_a_fixed_sample_of_the_class():
    ids = [f"c{i:03d}" for i in range(100)]
    q = gold_queue(ids, "archery", 0.1, 2, seed=0)
    assert len(q) == 14 and len(set(q)) == 14 and set(q) <= set(ids)
    assert q == gold_queue(reversed(ids), "archery", 0.1, 2, seed=0) != gold_queue(ids, "hula_hoop", 0.1, 2, seed=0)
    assert len(gold_queue(ids[:3], "a", 0.5, 2, 0)) == 3 and len(gold_queue(ids, "a", 0.0, 0, 0)) == 1


def test_the_researcher_labels_checks_and_examples_in_the_grid(tmp_path):
    w = make_clip_world(tmp_path / "w", classes=("archery", "hula_hoop"), videos_per_class=3, clips_per_video=4)
    pf = write_params(tmp_path / "params.yaml", mode="human", store=str(tmp_path / "l.sqlite"), page_size=4)
    P = load_params(pf)
    g = GoldGrid.from_params(P, w["clips_path"], guideline_path=w["world_path"], gold_rate=0.25, examples=1)
    assert "slac-gold-login" in g.login_box._dom_classes and "slac-login" not in g.login_box._dom_classes
    assert g.login("prof", "archery") and isinstance(g.session, GoldSession)
    page = list(g.session.page_clips)
    assert len(page) == 4 and g.store.assignments().empty  # gold labeling claims no class
    g.flip(0)
    g.flip(1)
    assert g.toggle_example(0) == "example" and g.toggle_example(2) == "example"
    assert "★" in g.example_buttons[0].description and "☆" in g.example_buttons[1].description
    g.undo()  # the last edit: clip 2 back to a check
    assert g.submit() == 4
    gold = g.store.gold("archery").set_index("clip_id")
    assert gold.loc[page, "label"].tolist() == [1, 1, -1, -1]
    assert gold.loc[page, "role"].tolist() == ["example", "check", "check", "check"]
    assert set(gold.source) == {"gold:prof"} and "slac-gold-count" in g.gold_text.value
    assert (
        page[0] in g.guideline.value or "data:video" in g.guideline.value
    )  # the example is shown beside the definition
    assert g.session.progress() == dict(done=4, remaining=1, total=5, page=1)

    # an annotator: the example is never on a page; the checks are, and score the annotator
    s = A.AnnotationSession(g.store, w["clips"], "archery", "alice", page_size=12)
    assert page[0] not in s.queue and set(page[1:]) <= set(s.queue) and set(s.gold_check) == set(page[1:])
    for i, c in enumerate(s.page_clips):
        if c == page[1]:
            s.flip(i)  # right on the positive check; the two negative checks are left negative: right too
    s.submit()
    acc = g.store.gold_accuracy("alice").iloc[0]
    assert (acc.gold_n, acc.gold_correct) == (3, 3)


def test_a_golden_set_made_in_the_grid_drives_stage_05_without_truth(tmp_path):
    w = make_clip_world(tmp_path / "w", classes=("archery",), videos_per_class=3, clips_per_video=4)
    db = tmp_path / "labels.sqlite"
    pf = write_params(tmp_path / "params.yaml", mode="human", store=str(db), min_labeled_per_class=1, page_size=12)
    P = load_params(pf, {"data.source": "folder", "data.videos_dir": str(tmp_path / "videos")})  # your own videos
    assert P.data.source == "folder"
    g = GoldGrid.from_params(P, w["clips_path"], guideline_path=w["world_path"], gold_rate=0.25, examples=0)
    assert g.login("prof", "archery")  # the researcher, in the grid's gold mode
    golden = list(g.session.page_clips)
    g.flip(0)
    g.submit()
    g.store.close()
    store = A.LabelStore(db)
    s = A.AnnotationSession(store, w["clips"], "archery", "alice", page_size=12)
    s.submit()  # alice leaves every clip negative: wrong on the one positive check
    store.close()
    out = tmp_path / "o"
    paths = annotate_stage.Paths(
        clips_path=w["clips_path"],
        clips_truth_path=tmp_path / "no_truth.parquet",  # a folder source: no truth anywhere
        guideline_path=w["world_path"],
        labeled_path=out / "labeled_clips.parquet",
        tables_dir=out / "tables",
        figures_dir=out / "figures",
        metrics_path=out / "metrics.json",
    )
    annotate_stage.run(P, paths, progress=False)
    lab = pd.read_parquet(out / "labeled_clips.parquet").set_index("clip_id")
    assert lab.loc[golden, "is_gold"].all() and lab.loc[golden[0], "gold_label"] == 1
    qc = pd.read_csv(out / "tables" / "qc_annotators.csv").set_index("annotator").loc["alice"]
    n = len(golden)  # one positive check, n - 1 negative ones: alice is right on n - 1
    assert (qc.gold_n, qc.gold_correct, qc.flag) == (n, n - 1, "BELOW 90%")
    text = (out / "tables" / "qc_annotators.md").read_text()
    assert f"golden set: {n} clips: 0 guideline examples (never on pages), {n} hidden checks" in text
