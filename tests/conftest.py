"""Shared fixtures: a tiny demo world (generated once per test session) and its params."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from slac_utils.config import DemoConfig, Params

REPO = Path(__file__).resolve().parents[1]

TINY_DEMO = dict(
    seed=7,
    videos_per_class=4,
    shots_per_video=(2, 3),
    shot_seconds=(2.0, 3.0),
    duplicate_prob=0.5,
    sibling_pairs_per_class=1,
    web_images_per_class=2,
    background_images=2,
    external_videos_per_class=1,
    external_overlaps=2,
    no_person_video_prob=0.2,
)


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory) -> Path:
    from slac_utils.demo.world import generate

    out = tmp_path_factory.mktemp("world") / "demo"
    generate(DemoConfig(**TINY_DEMO), out, progress=False)
    return out


@pytest.fixture(scope="session")
def tiny_params_file(tmp_path_factory, tiny_world) -> Path:
    """A params file for the tiny world (paths absolute so notebooks can run from the repo root)."""
    d = Params().model_dump(mode="json")
    d["demo"].update({k: list(v) if isinstance(v, tuple) else v for k, v in TINY_DEMO.items()})
    d["data"].update(
        videos_dir=str(tiny_world / "videos"),
        csv_path=str(tiny_world / "videos.csv"),
        external_dir=str(tiny_world / "external"),
    )
    d["persons"]["detector"] = (
        "opencv"  # the notebook test asserts the recall of the detector calibrated on drawn figures
    )
    p = tmp_path_factory.mktemp("params") / "params.yaml"
    p.write_text(yaml.safe_dump(d, sort_keys=False))
    return p
