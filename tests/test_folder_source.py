"""The whole pipeline on a user's folder of videos, without any demo truth (issue: bring your own videos).

A small demo world is rendered into a hidden folder; only its videos are copied into ``<videos_dir>/<class>/``
(the folder layout a user has). A copy of the repository runs ``dvc repro`` with ``data.source: folder``
and nothing else about the data: stages 00-04 run, stage 05 (human mode) stops with its one line, a
"person" labels the clips through the label store's API (clicks and page submits, deciding from the hidden
truth), and a second ``dvc repro`` runs stages 05-10. Every declared output exists, and the truth-based
tables say that this source has no ground truth.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.slow


def _copy_repo(dst: Path) -> None:
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for f in files:
        if f.startswith(("data/", "reports/notebooks/")) or not (REPO / f).is_file():
            continue
        (dst / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / f, dst / f)
    (dst / "reports/notebooks").mkdir(parents=True, exist_ok=True)
    for d in ("metrics", "reports/tables", "reports/figures"):  # the committed demo outputs are not this run's
        shutil.rmtree(dst / d, ignore_errors=True)
    shutil.rmtree(dst / "labels", ignore_errors=True)
    (dst / "labels").mkdir()
    (dst / "labels/.gitkeep").write_text("")
    (dst / "dvc.lock").unlink(missing_ok=True)
    subprocess.run(["git", "init", "-q"], cwd=dst, check=True)


def _params(repo: Path, videos_dir: Path) -> None:
    p = yaml.safe_load((repo / "params.yaml").read_text())
    p["data"]["source"] = "folder"
    p["data"]["videos_dir"] = str(videos_dir)
    p["recognition"]["epochs"] = 1
    p["sampling"]["max_per_video"] = 3
    (repo / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))


def _dvc(repo: Path, *targets: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    cmd = [str(BIN / "dvc"), "repro", *targets]
    return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=1800)


def _label_like_a_person(repo: Path, hidden_world: Path) -> int:
    from slac_utils.annotation import AnnotationSession, LabelStore
    from slac_utils.sampling import clip_truth

    clips = pd.read_parquet(repo / "data/interim/clips.parquet")
    fps = dict(zip(*(pd.read_parquet(repo / "data/interim/manifest.parquet")[c] for c in ("video_id", "fps"))))
    answer = dict(zip(*(clip_truth(clips, hidden_world, fps)[c] for c in ("clip_id", "truth_label"))))
    store = LabelStore(repo / "labels/labels.sqlite")
    n = 0
    for k, cls in enumerate(sorted(clips.class_label.unique())):
        s = AnnotationSession(store, clips, cls, f"annotator-{k % 2 + 1}", page_size=12, source="click")
        while not s.finished:
            for i, c in enumerate(s.page_clips):
                if answer.get(c, -1) != s.labels[i]:  # a sanitised file name has no truth id: negative
                    s.flip(i)
            n += s.submit()
    store.close()
    return n


def test_whole_pipeline_on_a_folder_source_without_truth(tmp_path):
    from slac_utils.config import DemoConfig
    from slac_utils.demo.world import generate

    hidden = tmp_path / "hidden_world"
    generate(
        DemoConfig(
            videos_per_class=6,
            web_images_per_class=0,
            background_images=0,
            external_videos_per_class=0,
            external_overlaps=0,
        ),
        hidden,
        progress=False,
    )
    videos = tmp_path / "my_videos"
    shutil.copytree(hidden / "videos", videos)
    repo = tmp_path / "repo"
    _copy_repo(repo)
    _params(repo, videos)

    first = _dvc(repo)
    assert first.returncode != 0, first.stdout[-3000:]
    line = [ln for ln in first.stderr.splitlines() if ln.startswith("stage 05")]
    assert (
        line and "fewer than annotation.min_labeled_per_class" in line[0] and "notebooks/05_annotate.ipynb" in line[0]
    ), first.stderr[-3000:]
    for out in (
        "data/interim/clips.parquet",
        "reports/figures/02_shots_persons/person_scores.png",
        "reports/figures/04_sampling/R_by_selection.png",
        "reports/figures/01_dedup/similarity_hist.png",
        "reports/figures/03_proposals/training_curves.png",
    ):
        assert (repo / out).exists(), out
    assert not list((repo / "data/raw/demo").rglob("*.mp4")), "a folder source must not generate the demo world"
    assert "no ground truth for this source" in (repo / "reports/tables/02_shots_persons/shot_eval.md").read_text()
    assert "no web images" in (repo / "reports/tables/03_proposals/proposal_models.md").read_text()

    assert _label_like_a_person(repo, hidden) > 0
    second = _dvc(repo)
    assert second.returncode == 0, (second.stdout[-4000:], second.stderr[-4000:])
    labeled = pd.read_parquet(repo / "data/processed/labeled_clips.parquet")
    assert set(labeled.annotator) <= {"annotator-1", "annotator-2", "golden_set"} and (labeled.label == 1).any()
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for name, st in stages.items():
        for out in st.get("outs", []) + st.get("metrics", []):
            path = out if isinstance(out, str) else next(iter(out))
            assert (repo / path).exists(), f"stage {name} did not create {path}"
    assert "skipped" in (repo / "reports/tables/09_localize/table9_localization.md").read_text()
    assert "skipped" in (repo / "reports/tables/08_transfer/table5_transfer.md").read_text()
    assert (repo / "reports/tables/07_evaluate/table4_slac.md").exists()
    assert (repo / "reports/index.md").exists()
