"""Each stage notebook runs under papermill on tiny params and writes what dvc.yaml says it writes."""

import json

import pandas as pd
import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow


def _run(nb, out_dir, **params):
    import papermill as pm

    from .test_pipeline_contract import _notebook_params

    unknown = set(params) - _notebook_params(REPO / "notebooks" / nb)
    assert not unknown, f"{nb} has no parameter {sorted(unknown)} (papermill would only warn and use its default)"
    pm.execute_notebook(
        str(REPO / "notebooks" / nb),
        str(out_dir / nb),
        parameters=params,
        cwd=str(REPO),
        kernel_name="python3",
        progress_bar=False,
    )


def test_stage_notebooks_chain(tmp_path, tiny_world, tiny_params_file):
    d = tmp_path
    common = dict(params_file=str(tiny_params_file))
    _run(
        "00_ingest.ipynb",
        d,
        **common,
        demo_dir=str(tiny_world),
        manifest_path=str(d / "manifest.parquet"),
        external_manifest_path=str(d / "ext.parquet"),
        tables_dir=str(d / "t0"),
        figures_dir=str(d / "f0"),
        metrics_path=str(d / "m0.json"),
    )
    m0 = json.loads((d / "m0.json").read_text())
    assert m0["quarantined"] == 4 and m0["ok"] == m0["listed"] - 4
    assert (d / "f0" / "demo_world.png").exists() and (d / "t0" / "quarantine.md").exists()

    _run(
        "01_dedup.ipynb",
        d,
        **common,
        manifest_path=str(d / "manifest.parquet"),
        external_manifest_path=str(d / "ext.parquet"),
        demo_dir=str(tiny_world),
        dedup_path=str(d / "dedup.parquet"),
        tables_dir=str(d / "t1"),
        figures_dir=str(d / "f1"),
        metrics_path=str(d / "m1.json"),
    )
    m1 = json.loads((d / "m1.json").read_text())
    assert m1["embedder"] == "signature" and m1["internal_precision"] == 1.0
    assert (d / "t1" / "table2_dedup.md").read_text().count("|") > 4
    dd = pd.read_parquet(d / "dedup.parquet")
    assert {"video_id", "class_label", "component_id", "kept", "duplicate_of", "max_similarity"} <= set(dd.columns)

    _run(
        "02_shots_persons.ipynb",
        d,
        **common,
        manifest_path=str(d / "manifest.parquet"),
        dedup_path=str(d / "dedup.parquet"),
        demo_dir=str(tiny_world),
        shots_path=str(d / "shots.parquet"),
        persons_path=str(d / "persons.parquet"),
        candidates_path=str(d / "cand.parquet"),
        tables_dir=str(d / "t2"),
        figures_dir=str(d / "f2"),
        metrics_path=str(d / "m2.json"),
    )
    m2 = json.loads((d / "m2.json").read_text())
    assert m2["shot_f1"] > 0.8 and m2["person_recall"] > 0.8
    cand = pd.read_parquet(d / "cand.parquet")
    assert set(cand.video_id) <= set(dd.video_id[dd.kept])
    for f in ("shot_timeline.png", "person_scores.png"):
        assert (d / "f2" / f).exists()
