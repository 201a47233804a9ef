"""Stage 08: target readers, initialisations, the three transfer metrics and Tables 5-7, end to end on a tiny
UCF-101-layout target and tiny stand-in SLAC checkpoints."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from slac_utils import transfer
from slac_utils.config import Params
from slac_utils.models.res3d import Res3D
from slac_utils.stages import transfer as transfer_stage


def test_paper_names_and_slugs():
    assert transfer.paper_name("UCF-101 (demo)") == "UCF-101"
    assert transfer.paper_name("hmdb51") == "HMDB-51"
    assert transfer.paper_name("Kinetics-400 val") == "Kinetics"
    assert transfer.paper_name("Something-Something") is None
    assert transfer.slug("UCF-101 (demo)") == "ucf-101_demo"
    assert transfer.slug("SLAC") == "slac"


def test_thin_keeps_ends_and_cap():
    s = np.arange(0, 100, 4)
    assert transfer.thin(s, None) is s
    t = transfer.thin(s, 5)
    assert len(t) == 5 and t[0] == 0 and t[-1] == 96 and np.all(np.diff(t) > 0)


def test_init_model_loads_trunk_and_new_head(tmp_path):
    rec = Params().recognition.model_copy(update=dict(depth=10, width=4))
    src = Res3D(7, depth=10, width=4)
    torch.save({"model": src.state_dict()}, tmp_path / "last.pt")
    m = transfer.init_model(rec, 3, "rgb", tmp_path / "last.pt")
    assert m.fc.out_features == 3
    for k, v in src.trunk.state_dict().items():
        assert torch.equal(m.trunk.state_dict()[k], v)
    scratch = transfer.init_model(rec, 3, "rgb", None)
    assert not all(torch.equal(scratch.trunk.state_dict()[k], v) for k, v in src.trunk.state_dict().items())
    with pytest.raises(ValueError, match="does not match"):
        transfer.init_model(rec, 3, "flow", tmp_path / "last.pt")  # a flow model has 2 input channels


def test_tables_put_paper_values_beside_ours():
    acc = pd.DataFrame(
        [
            dict(target="UCF-101 (demo)", init=i, modality=m, metric=k, accuracy=a)
            for (i, m, a) in [
                ("scratch", "rgb", 40.0),
                ("SLAC", "rgb", 60.0),
                ("scratch", "flow", 30.0),
                ("SLAC", "flow", 50.0),
                ("SLAC", "two-stream", 70.0),
            ]
            for k in transfer.METRICS
        ]
    )
    t5 = transfer.table5(acc, ["UCF-101 (demo)"])
    row = t5[(t5.input == "RGB") & (t5.training == "w/ pre-training")].iloc[0]
    assert (
        row["UCF-101 (demo) Video@1 (ours)"] == 60.0
        and row["UCF-101 Video@1 (paper)"] == 95.7
        and row["Kinetics Clip@1 (paper)"] == 58.5
    )
    t6 = transfer.table6(acc, ["UCF-101 (demo)"], ["scratch", "SLAC"])
    assert list(t6["pre-training"]) == ["w/o pre-training", "Kinetics", "Sports1M", "SLAC"]
    assert np.isnan(t6.set_index("pre-training").loc["Kinetics", "UCF-101 (demo) Clip@1 (ours)"])
    assert t6.set_index("pre-training").loc["Sports1M", "HMDB-51 Video@1 (paper)"] == 65.9
    t7 = transfer.table7(acc, ["UCF-101 (demo)"], 18)
    ours = t7[t7.source != "paper"]
    assert len(ours) == 2 and (ours["UCF-101 (demo) (ours)"] == 70.0).all()
    assert t7.set_index("method").loc["Two-Stream I3D, Kinetics pre-training", "Kinetics (paper)"] == 75.7


@pytest.fixture(scope="module")
def tiny_target(tmp_path_factory):
    from slac_utils.demo.target import write_demo_ucf_layout

    root = tmp_path_factory.mktemp("ucf")
    truth = write_demo_ucf_layout(
        root,
        {"Archery": "archery", "HulaHoop": "hula_hoop"},
        2,
        1,
        seed=0,
        seconds=(1.5, 2.0),
        sizes=((96, 72),),
        fps_choices=(15.0,),
    )
    return root, truth


def test_read_target_matches_demo_truth(tiny_target):
    root, truth = tiny_target
    t = Params().transfer.targets[0].model_copy(update=dict(root=str(root)))
    df = transfer.read_target(t)
    assert sorted(df.video_id) == sorted(truth.video_id)
    assert dict(zip(df.video_id, df.split)) == dict(zip(truth.video_id, truth.split))
    assert dict(zip(df.video_id, df.label_index)) == dict(zip(truth.video_id, truth.label_index))
    with pytest.raises(ValueError, match="Kinetics needs csv_paths"):
        transfer.read_target(t.model_copy(update=dict(format="kinetics")))


def test_quarantine_lists_missing_and_broken_videos(tmp_path, tiny_target):
    import shutil

    src, truth = tiny_target
    root = tmp_path / "ucf"
    shutil.copytree(src, root)
    t = Params().transfer.targets[0].model_copy(update=dict(root=str(root)))
    df = transfer.read_target(t)
    broken, gone = df.path[0], df.path[len(df) - 1]
    with open(broken, "r+b") as f:
        f.truncate(200)
    Path(gone).unlink()
    ok, bad = transfer.quarantine(transfer.read_target(t), progress=False)
    assert len(ok) == len(df) - 2 and sorted(bad.path) == sorted([broken, gone])
    reasons = dict(zip(bad.path, bad.reason))
    assert reasons[gone].startswith("missing") and reasons[broken].startswith("unreadable")


def test_run_end_to_end(tmp_path, tiny_target):
    import shutil

    src, truth = tiny_target
    root = tmp_path / "ucf"
    shutil.copytree(src, root)
    (root / truth.path[truth.split == "train"].iloc[0]).write_bytes(b"not a video")  # quarantined, the stage goes on
    truth = truth[truth.path != truth.path[truth.split == "train"].iloc[0]]
    p = Params().model_copy(deep=True)
    p.recognition = p.recognition.model_copy(
        update=dict(depth=10, width=4, frames=4, resize_short=32, crop=(24, 24), batch_size=4, cache_clips=True)
    )
    p.transfer = p.transfer.model_copy(
        update=dict(
            targets=[p.transfer.targets[0].model_copy(update=dict(root=str(root), epochs=1))], max_dense_clips=2
        )
    )
    models = tmp_path / "slac"
    for modality, ch in (("rgb", 3), ("flow", 2)):
        (models / modality).mkdir(parents=True)
        torch.save({"model": Res3D(3, depth=10, width=4, in_channels=ch).state_dict()}, models / modality / "last.pt")
    paths = transfer_stage.Paths(
        models_dir=models,
        out_models_dir=tmp_path / "ft",
        tables_dir=tmp_path / "t",
        figures_dir=tmp_path / "f",
        metrics_path=tmp_path / "m.json",
    )
    out = transfer_stage.run(p, paths, progress=False)
    acc = out["accuracy"]
    n_test = int((truth.split == "test").sum())
    assert set(acc.init) == {"scratch", "SLAC"} and set(acc.modality) == {"rgb", "flow", "two-stream"}
    assert len(acc) == 2 * 3 * 3 and acc.accuracy.between(0, 100).all() and (acc.videos == n_test).all()
    scores = pd.read_parquet(tmp_path / "ft" / "scores.parquet")
    assert len(scores) == 2 * 2 * 3 * n_test
    assert np.allclose([sum(s) for s in scores.scores], 1, atol=1e-4)
    for f in (
        "table5_transfer.md",
        "table6_pretraining.md",
        "table7_state_of_the_art.md",
        "table5_transfer.csv",
        "accuracy.csv",
    ):
        assert (tmp_path / "t" / f).exists(), f
    assert "DEMO SCALE" in (tmp_path / "t" / "table5_transfer.md").read_text()
    assert (tmp_path / "f" / "transfer_accuracy.png").exists()
    m = json.loads((tmp_path / "m.json").read_text())
    assert "UCF-101 (demo) SLAC two-stream Dense@1" in m
    assert (tmp_path / "ft" / "ucf-101_demo" / "slac" / "flow" / "last.pt").exists()
    q = pd.read_csv(tmp_path / "t" / "quarantine.csv")
    assert len(q) == 1 and q.reason.iloc[0].startswith("unreadable") and q.split.iloc[0] == "train"
    assert "1 quarantined" in (tmp_path / "t" / "table5_transfer.md").read_text()


def test_markdown_tables_show_missing_values_as_dash(tmp_path):
    from slac_utils.io import write_markdown_table

    write_markdown_table(pd.DataFrame({"ours": [1.0, np.nan], "paper": [None, 2.0]}), tmp_path / "t.md", floatfmt=".1f")
    text = (tmp_path / "t.md").read_text()
    assert "nan" not in text and text.count("—") == 2
