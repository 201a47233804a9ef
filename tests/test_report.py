"""slac_utils.report (stage 10) on a small hand-made pipeline: stage tables, metrics, labeled clips with real clip files."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from slac_utils import report
from slac_utils.annotation import page_queue
from slac_utils.config import Params, validate
from slac_utils.io import save_figure, write_json, write_markdown_table
from slac_utils.stages import report as report_stage

from .clip_fixtures import make_clip_world
from .conftest import REPO

CLASSES = ("archery", "hula_hoop")
PAGE = 4


def _labeled(clips: pd.DataFrame, truth: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """labeled_clips in stage 05's layout: per class one positive and one negative guideline example (golden_set),
    one golden check clip, the rest labeled by one annotator page by page (one wrong answer per class)."""
    d = clips.merge(truth, on="clip_id").assign(
        frame=lambda f: (f.start_s * 8 + 8).astype("int64"), time_s=lambda f: f.start_s + 1.0
    )
    rows = []
    for k, (cls, g) in enumerate(d.groupby("class_label", sort=True)):
        g = g.sort_values("clip_id")
        examples = [g[g.truth_label == 1].clip_id.iloc[0], g[g.truth_label == -1].clip_id.iloc[0]]
        queue = page_queue([c for c in g.clip_id if c not in examples], cls, seed)
        for r in g.itertuples():
            base = dict(r._asdict())
            base.pop("Index")
            base.pop("truth_kind")
            lab = int(r.truth_label)
            if r.clip_id in examples:
                base.update(
                    label=lab,
                    annotator_label=0,
                    annotator="golden_set",
                    is_gold=True,
                    gold_label=lab,
                    seconds=np.nan,
                    page=-1,
                    ts_server=np.nan,
                )
            else:
                pos = queue.index(r.clip_id)
                says = -lab if pos == 1 else lab
                gold = pos == 2
                base.update(
                    label=lab if gold else says,
                    annotator_label=says,
                    annotator=f"sim-{k + 1:02d}",
                    is_gold=gold,
                    gold_label=lab if gold else 0,
                    seconds=8.0 + pos,
                    page=pos // PAGE,
                    ts_server=1.0e9 + pos,
                )
            base.pop("truth_label")
            rows.append(base)
    out = pd.DataFrame(rows).astype(dict(label="int8", annotator_label="int8", gold_label="int8"))
    return out.sort_values(["class_label", "clip_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict:
    """A pipeline's outputs of stages 00-07 (no 08/09) under one root, laid out like the repo."""
    root = tmp_path_factory.mktemp("report")
    w = make_clip_world(
        root / "data" / "interim", classes=CLASSES, videos_per_class=3, clips_per_video=4, files=True, seed=3
    )
    clips, truth = w["clips"], w["truth"]
    vids = sorted(clips.video_id.unique())
    labeled = _labeled(clips, truth)
    labeled.to_parquet(root / "labeled.parquet", index=False)
    # candidates 00-01: 6 videos with clips + 1 kept without clips + 1 internal and 1 external duplicate + 1 quarantined
    extra = ["arc90", "hul90", "hul91", "arc91"]
    cls_of = clips.drop_duplicates("video_id").set_index("video_id").class_label
    man = pd.DataFrame(
        dict(
            video_id=vids + extra,
            class_label=[cls_of[v] for v in vids] + ["archery", "hula_hoop", "hula_hoop", "archery"],
        )
    )
    man = man.assign(
        path=[f"videos/{v}.mp4" for v in man.video_id],
        n_frames=80,
        fps=8.0,
        duration_s=10.0,
        sha256=[hashlib.sha256(v.encode()).hexdigest() for v in man.video_id],
        status=["ok"] * 9 + ["quarantined"],
    )
    man.to_parquet(root / "manifest.parquet", index=False)
    dd = man[man.status == "ok"][["video_id", "class_label"]].assign(
        kept=lambda f: ~f.video_id.isin(["hul90", "hul91"]),
        removed_by=lambda f: f.video_id.map({"hul90": "internal", "hul91": "demo_kinetics_val"}).fillna(""),
    )
    dd.to_parquet(root / "dedup.parquet", index=False)
    cand = (
        clips[["video_id", "class_label", "shot_id"]]
        .drop_duplicates()
        .assign(person_score=np.linspace(0.55, 0.99, len(vids)))
    )
    cand.to_parquet(root / "candidates.parquet", index=False)
    segs = pd.DataFrame(
        [
            dict(
                video_id=v,
                shot_id=0,
                kind=k,
                start_frame=16 * i,
                end_frame=16 * i + 16,
                start_s=2.0 * i,
                end_s=2.0 * i + 2,
            )
            for v in vids
            for i, k in enumerate(["action", "no_action", "no_context", "no_person"])
        ]
    )
    (root / "demo" / "truth").mkdir(parents=True)
    segs.to_parquet(root / "demo" / "truth" / "segments.parquet", index=False)

    t = root / "reports" / "tables"
    write_markdown_table(
        pd.DataFrame([dict(Internal=1, demo_kinetics_val=1, demo_ucf101_test=0, Kept=7)]),
        t / "01_dedup" / "table2_dedup.md",
        "Table 2 — videos removed by de-duplication",
        ["embedder: signature"],
        paper_table=2,
    )
    write_markdown_table(
        pd.DataFrame(
            [("Per clip", "N/A", "8.8 sec", "9.5 sec"), ("Saving vs full", "—", "96.1%", "97.0%")],
            columns=["", "Sparse annotation (paper)", "x", "Sparse annotation (ours: simulated)"],
        ),
        t / "05_annotate" / "table3_cost.md",
        "Table 3 — cost of full versus sparse annotation",
        ["paper columns: Table 3 as printed"],
        paper_table=3,
    )
    write_markdown_table(
        pd.DataFrame(
            [
                dict(input="RGB & Flow 50%", **{"val_agnostic (ours)": 12.345, "val agnostic (paper)": 54.3}),
                dict(input="Flow #2", **{"val_agnostic (ours)": np.nan, "val agnostic (paper)": 47.3}),
            ]
        ),
        t / "07_evaluate" / "table4_slac.md",
        "Table 4 — Clip@1 on SLAC",
        ["ours: demo"],
        floatfmt=".1f",
        paper_table=4,
    )
    write_markdown_table(
        pd.DataFrame(dict(epoch=[1, 2])), t / "06_train" / "splits.md", "Stage 06 — SLAC splits by video"
    )
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [1, 0])
    save_figure(fig, root / "reports" / "figures" / "01_dedup" / "pr_vs_threshold.png")
    m = root / "metrics"
    write_json(dict(listed=10, ok=9, quarantined=1), m / "00_ingest.json")
    write_json(
        dict(
            candidates=9, kept=7, removed_internal=1, removed_external={"demo_kinetics_val": 1, "demo_ucf101_test": 0}
        ),
        m / "01_dedup.json",
    )
    write_json(dict(shots=30, person_shots=len(cand), videos_kept=6), m / "02_shots_persons.json")
    write_json(
        dict(X_frames=20, frames_model_heldout_accuracy=0.5, web_model_heldout_accuracy=0.625), m / "03_proposals.json"
    )
    write_json(dict(labeled=int(len(labeled)), seconds_per_clip=9.5), m / "05_annotate.json")
    return dict(root=root, labeled=labeled, clips=clips, truth=truth, vids=vids, world=w)


def _params(source: str = "demo") -> Params:
    p = Params()
    p.annotation.page_size = PAGE
    p.data.source = source
    return p


def _run(world, params=None, out=None):
    r = world["root"]
    o = Path(out or r)
    paths = report_stage.Paths(
        tables_root=r / "reports" / "tables",
        figures_root=r / "reports" / "figures",
        metrics_dir=r / "metrics",
        manifest_path=r / "manifest.parquet",
        dedup_path=r / "dedup.parquet",
        candidates_path=r / "candidates.parquet",
        clips_path=world["world"]["clips_path"],
        clips_truth_path=world["world"]["truth_path"],
        labeled_path=r / "labeled.parquet",
        demo_dir=r / "demo",
        guideline_path=world["world"]["world_path"],
        export_dir=o / "data" / "export" / "hacs",
        tables_dir=o / "reports" / "tables" / "10_report",
        figures_dir=o / "reports" / "figures" / "10_report",
        index_path=o / "reports" / "index.md",
        paper_profile_path=REPO / "configs" / "paper.yaml",
    )
    return report_stage.run(params or _params(), paths, progress=False)


@pytest.fixture(scope="module")
def result(world):
    return _run(world)


def _hashes(*dirs) -> dict:
    out = {}
    for d in dirs:
        d = Path(d)
        files = [d] if d.is_file() else sorted(p for p in d.rglob("*") if p.is_file())
        out.update({str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    return out


# ----------------------------------------------------------------------------- tables
def test_table1_paper_rows_and_ours(world, result):
    t1 = report.read_report_csv(world["root"] / "reports" / "tables" / "10_report" / "table1_datasets.csv")
    paper = t1[t1["values from"] == "paper (Table 1)"].set_index("Dataset")
    assert list(paper.index) == [
        "UCF101",
        "HMDB51",
        "Kinetics",
        "Sports1M",
        "THUMOS 15",
        "ActivityNet",
        "Charades",
        "AVA",
        "SLAC",
    ]
    assert paper.loc["UCF101", ["Actions", "Videos", "Annotations", "Source", "Localization"]].astype(str).tolist() == [
        "101",
        "13K",
        "13K",
        "YouTube",
        "No",
    ]
    assert paper.loc["HMDB51", "Source"] == "YouTube/Movie"
    assert paper.loc["Charades", ["Actions", "Videos", "Annotations", "Source", "Localization"]].astype(
        str
    ).tolist() == ["157", "10K", "67K", "267 Homes", "Yes"]
    assert paper.loc["AVA", ["Videos", "Annotations", "Source"]].astype(str).tolist() == ["214", "197K", "Movie"]
    assert paper.loc["SLAC", ["Actions", "Videos", "Annotations", "Localization"]].astype(str).tolist() == [
        "200",
        "520K",
        "1.75M",
        "Yes",
    ]
    ours = t1[t1["values from"].str.startswith("ours")].iloc[0]
    lab = world["labeled"]
    # 6 videos with clips, all kept by de-dup (the kept video without clips does not count); every labeled clip; 9 decodable candidates
    assert (str(ours.Actions), str(ours.Videos), str(ours.Annotations), str(ours["Candidate videos"])) == (
        "2",
        "6",
        str(len(lab)),
        "9",
    )
    assert ours["values from"] == "ours (demo scale)"
    md = (world["root"] / "reports" / "tables" / "10_report" / "table1_datasets.md").read_text()
    assert "profile: demo (DEMO SCALE" in md and "params: data.source=demo" in md
    assert f"{int((lab.label == 1).sum())} positive and {int((lab.label == -1).sum())} negative" in md


def test_table2_beside_the_paper(world, result):
    t2 = report.read_report_csv(world["root"] / "reports" / "tables" / "10_report" / "table2_dedup.csv").set_index(
        "step"
    )
    assert t2["removed (paper)"].tolist()[1:6] == ["171,378", "4,029", "1,925", "660", "11"]
    assert t2.loc["Internal (within the dataset)", "removed (ours)"] == 1
    assert t2.loc["Kinetics", "target set (ours)"] == "demo_kinetics_val" and t2.loc["Kinetics", "removed (ours)"] == 1
    assert t2.loc["UCF-101", "target set (ours)"] == "demo_ucf101_test" and t2.loc["UCF-101", "removed (ours)"] == 0
    assert t2.loc["ActivityNet", "target set (ours)"] == "not in this run" and pd.isna(
        t2.loc["ActivityNet", "removed (ours)"]
    )
    assert (
        t2.loc["Kept after de-duplication", "removed (ours)"] == 7
        and t2.loc["Candidate videos (start)", "removed (ours)"] == 9
    )


def test_every_table_in_three_formats_with_profile(world, result):
    d = world["root"] / "reports" / "tables" / "10_report"
    for n, stem in ((1, "table1_datasets"), (2, "table2_dedup"), (3, "table3_cost"), (4, "table4_slac")):
        assert [Path(e["files"]["md"]).stem for e in result["tables"][n]] == [stem]
        for ext in ("md", "csv", "tex"):
            text = (d / f"{stem}.{ext}").read_text()
            assert "profile: demo (DEMO SCALE" in text, (stem, ext)
            assert "params: " in text
    t3 = report.read_report_csv(d / "table3_cost.csv")
    assert t3.columns[0] == "" and t3.iloc[0].tolist() == [
        "Per clip",
        "N/A",
        "8.8 sec",
        "9.5 sec",
    ]  # 'N/A' kept, unnamed column kept
    t4 = report.read_report_csv(d / "table4_slac.csv")
    assert t4.input.tolist() == ["RGB & Flow 50%", "Flow #2"]  # a '#' inside a cell survives the comment header
    assert t4["val_agnostic (ours)"].iloc[0] == pytest.approx(12.345) and pd.isna(t4["val_agnostic (ours)"].iloc[1])
    assert "Table 4 — Clip@1 on SLAC [demo scale]" in (d / "table4_slac.md").read_text()


def test_latex_escaping(world, result):
    assert (
        report.latex_escape("a_b & 5% #1 $x {y} ~ ^ \\")
        == r"a\_b \& 5\% \#1 \$x \{y\} \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert report.latex_escape("γ = 0.82 — ok") == r"$\gamma$ = 0.82 --- ok"
    tex = (world["root"] / "reports" / "tables" / "10_report" / "table4_slac.tex").read_text()
    body = [ln for ln in tex.splitlines() if not ln.startswith("%")]
    assert (
        body[0].startswith("\\begin{tabular}{")
        and "\\toprule" in body
        and "\\midrule" in body
        and body[-2:] == ["\\bottomrule", "\\end{tabular}"]
    )
    assert "input & val\\_agnostic (ours) & val agnostic (paper) \\\\" in body
    assert "RGB \\& Flow 50\\% & 12.3 & 54.3 \\\\" in body
    assert "Flow \\#2 & --- & 47.3 \\\\" in body
    for path in (world["root"] / "reports" / "tables" / "10_report").glob("*.tex"):
        for ln in path.read_text().splitlines():
            if ln.startswith("%"):
                continue
            assert not re.search(r"(?<!\\)[%_#$]", ln), (path.name, ln)
            cells = ln.rstrip("\\ ").split(" & ")
            assert all(not re.search(r"(?<!\\)&", c) for c in cells), (path.name, ln)


def test_missing_tables_are_reported(world, result):
    assert result["missing_tables"] == [5, 6, 7, 8, 9]
    index = (world["root"] / "reports" / "index.md").read_text()
    for n in (5, 6, 7, 8, 9):
        assert re.search(rf"\*\*Table {n}\*\* — .*: \*not produced by this run\*", index), n
    assert "reports/tables/08_transfer/table5_*.csv" in index or "08_transfer/table5_*.csv" in index


def test_partial_pipeline_does_not_crash(tmp_path):
    """Nothing but params: every table but Table 1 and every data figure are reported missing."""
    e = tmp_path / "empty"
    paths = report_stage.Paths(
        tables_root=e / "reports" / "tables",
        figures_root=e / "reports" / "figures",
        metrics_dir=e / "metrics",
        manifest_path=e / "m.parquet",
        dedup_path=e / "d.parquet",
        candidates_path=e / "c.parquet",
        clips_path=e / "clips.parquet",
        clips_truth_path=e / "t.parquet",
        labeled_path=e / "l.parquet",
        demo_dir=e / "demo",
        guideline_path=e / "world.json",
        export_dir=e / "export",
        tables_dir=e / "reports" / "tables" / "10_report",
        figures_dir=e / "reports" / "figures" / "10_report",
        index_path=e / "reports" / "index.md",
        paper_profile_path=None,
    )
    r = report_stage.run(
        _params(),
        paths,
        progress=False,
    )
    assert r["missing_tables"] == [2, 3, 4, 5, 6, 7, 8, 9] and r["export"] is None
    assert set(r["figures"]) == {"fig1_pipeline.png"}
    index = (e / "reports" / "index.md").read_text()
    assert "*Not produced by this run*" in index and "fig4_grid" not in index.split("## HACS export")[1]
    t1 = report.read_report_csv(e / "reports" / "tables" / "10_report" / "table1_datasets.csv")
    assert t1.iloc[-1].Videos == "—"


# ----------------------------------------------------------------------------- index, figures, export
def test_index_links_point_to_files(world, result):
    index_path = world["root"] / "reports" / "index.md"
    text = index_path.read_text()
    links = re.findall(r"\]\(([^)]+)\)", text)
    assert len(links) > 20
    for link in links:
        assert not link.startswith("/") and "://" not in link, link
        assert (index_path.parent / link).is_file(), link
    # every stage table (each format) and figure is linked, grouped by stage in order
    for p in [
        "tables/01_dedup/table2_dedup.md",
        "tables/01_dedup/table2_dedup.csv",
        "tables/06_train/splits.md",
        "figures/01_dedup/pr_vs_threshold.png",
        "tables/10_report/table1_datasets.tex",
        "figures/10_report/fig1_pipeline.png",
        "../data/export/hacs/HACS_clips_v1.1.csv",
        "../metrics/01_dedup.json",
    ]:
        assert f"]({p})" in text, p
    heads = re.findall(r"^### (\d\d_\w+)", text, re.M)
    assert heads == sorted(heads) and heads[:2] == ["00_ingest", "01_dedup"] and "10_report" not in heads
    assert "removed_internal = 1" in text and "**Profile:** demo" in text
    assert "| all | 6 | " in text  # HACS export counts: 6 videos


def test_figures_written(world, result):
    names = {
        "fig1_pipeline.png",
        "fig2_negatives.png",
        "fig3_guideline.png",
        "fig4_grid.png",
        "class_balance.png",
        "clips_per_video.png",
        "r_distribution.png",
    }
    assert set(result["figures"]) == names
    for name in names:
        p = world["root"] / "reports" / "figures" / "10_report" / name
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000, name
    assert "demo world's truth" in result["figure_notes"]["fig2_negatives.png"]
    assert "guideline examples" in result["figure_notes"]["fig3_guideline.png"]
    assert (
        result["counts"]["labeled"] == len(world["labeled"])
        and result["counts"]["kept"] == 7
        and result["counts"]["removed_external"] == 1
    )


def test_grid_page_follows_stage05_order(world):
    page, info = report.grid_page(world["labeled"], PAGE, 0)
    assert info["class_label"] == "archery" and info["page"] == 0 and len(page) == PAGE
    g = world["labeled"][(world["labeled"].class_label == "archery") & (world["labeled"].annotator != "golden_set")]
    assert page.clip_id.tolist() == page_queue(g.clip_id, "archery", 0)[:PAGE]


def test_export_written(world, result):
    out = world["root"] / "data" / "export" / "hacs"
    assert (out / "HACS_clips_v1.1.csv").is_file() and (out / "HACS_segments_v1.1.json").is_file()
    assert result["export"]["all_clips"] == len(world["labeled"]) and result["export"]["all_videos"] == 6
    db = json.loads((out / "HACS_segments_v1.1.json").read_text())["database"]
    assert sum(len(v["annotations"]) for v in db.values()) == 6  # the planted action segment of each video (demo truth)


def test_same_inputs_same_bytes(world, result, tmp_path):
    r = world["root"]
    outs = [
        r / "reports" / "tables" / "10_report",
        r / "reports" / "figures" / "10_report",
        r / "reports" / "index.md",
        r / "data" / "export" / "hacs",
    ]
    first = _hashes(*outs)
    _run(world)  # its own outputs now lie under the tables root: they must not be read back
    assert _hashes(*outs) == first
    assert len(first) >= 7 * 1 + 5 * 3 + 1


# ----------------------------------------------------------------------------- profiles
def test_non_demo_falls_back_to_proxies(world, tmp_path):
    res = _run(world, _params("csv"), out=tmp_path)
    assert res["profile"]["name"] == "custom" and res["profile"]["scale"] == "custom scale"
    assert "proxy" in res["figure_notes"]["fig2_negatives.png"]
    assert (tmp_path / "reports" / "figures" / "10_report" / "fig2_negatives.png").is_file()
    t1 = report.read_report_csv(tmp_path / "reports" / "tables" / "10_report" / "table1_datasets.csv")
    assert t1.iloc[-1]["values from"] == "ours (custom scale)"
    db = json.loads((tmp_path / "data" / "export" / "hacs" / "HACS_segments_v1.1.json").read_text())["database"]
    assert sum(len(v["annotations"]) for v in db.values()) == int(
        (world["labeled"].label == 1).sum()
    )  # positive clips, no demo truth


def test_paper_scale_profile_detected():
    raw = Params().model_dump(mode="json")
    paper = yaml.safe_load((REPO / "configs" / "paper.yaml").read_text())
    for section, values in paper.items():
        raw[section].update(values)
    p = validate(raw)
    assert report.profile_of(p, REPO / "configs" / "paper.yaml")["scale"] == "paper scale"
    p.recognition.epochs = 3
    prof = report.profile_of(p, REPO / "configs" / "paper.yaml")
    assert prof["scale"] == "custom scale" and "recognition.epochs" in prof["text"]
    assert report.profile_of(Params())["scale"] == "demo scale"


def test_stage_tables_are_found_by_their_metadata(tmp_path):
    """The report takes a stage table for the paper's Table N because its metadata says so, not because of its
    file name: a table5_*.md without that metadata is not Table 5; a table of any name that declares it is."""
    t = tmp_path / "tables"
    write_markdown_table(pd.DataFrame(dict(a=[1])), t / "08_transfer" / "table5_lookalike.md", "not Table 5")
    write_markdown_table(
        pd.DataFrame(dict(a=[2])), t / "08_transfer" / "transfer_summary.md", "T5", ["n"], paper_table=5
    )
    found = report.find_stage_tables(t)
    assert list(found) == [5] and [p.name for p, _ in found[5]] == ["transfer_summary.csv"]
    assert found[5][0][1]["title"] == "T5" and found[5][0][1]["notes"] == ["n"]
    assert report.read_table_meta(t / "08_transfer" / "transfer_summary.md")["paper_table"] == 5
