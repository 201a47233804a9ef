"""The one typed schema: defaults, the shipped files, and errors that name the bad key."""

import subprocess
import sys

import pytest
import yaml

from slac_utils.config import ConfigError, Params, load_params, paper_flags, render_defaults, validate

from .conftest import REPO


def test_shipped_params_validate():
    p = load_params(REPO / "params.yaml")
    assert p.data.source == "demo"
    # the paper constants are parameters with the paper's value where it applies
    assert p.dedup.gamma["resnet50"] == 0.935
    assert p.persons.threshold == 0.5 and p.persons.frames_per_shot == 2
    assert p.dedup.short_edge == 256 and p.dedup.crop == 224


def test_rendered_defaults_roundtrip():
    assert validate(yaml.safe_load(render_defaults())) == Params()


def test_unknown_key_is_named_with_suggestion(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("dedup:\n  gama: 0.9\n")
    with pytest.raises(ConfigError) as e:
        load_params(f)
    msg = str(e.value)
    assert "dedup.gama" in msg and "did you mean 'gamma'" in msg


def test_bad_value_is_named(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("persons:\n  threshold: 1.5\nshots:\n  bins: many\n")
    with pytest.raises(ConfigError) as e:
        load_params(f)
    assert "persons.threshold" in str(e.value) and "shots.bins" in str(e.value)


def test_unknown_top_level_section(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("dedupe: {}\n")
    with pytest.raises(ConfigError, match="unknown key 'dedupe'.*did you mean 'dedup'"):
        load_params(f)


def test_weights_required_for_paper_backends():
    with pytest.raises(ConfigError, match="resnet50_weights"):
        validate({"dedup": {"embedder": "resnet50"}})
    with pytest.raises(ConfigError, match="faster_rcnn_weights"):
        validate({"persons": {"detector": "faster_rcnn"}})


def test_demo_classes_checked():
    with pytest.raises(ConfigError, match="unknown demo classes"):
        validate({"demo": {"classes": ["archery", "juggling_balls", "jump_rope", "hula_hoop", "surfing"]}})


def parse_set_flags(flags: list[str]) -> dict:
    """What DVC does with -S key=value: Hydra's override grammar."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    out = {}
    for f in flags:
        o = parser.parse_overrides([f.split(" ", 1)[1]])[0]
        out[o.key_or_group] = o.value()
    return out


def _plain(v):
    """Hydra's ListConfig/DictConfig values as plain lists/dicts."""
    from omegaconf import OmegaConf

    return OmegaConf.to_container(v) if hasattr(v, "_metadata") else v


def test_paper_profile_flags_parse_as_dvc_parses_them():
    flags = paper_flags(REPO / "configs/paper.yaml")
    assert "-S dedup.fps=0.2" in flags and "-S dedup.embedder='resnet50'" in flags
    assert "-S recognition.crop=[112,144]" in flags
    assert all(" " not in f.split(" ", 1)[1] for f in flags)  # each flag survives shell word splitting of $(...)
    values = {k: _plain(v) for k, v in parse_set_flags(flags).items()}
    assert values["transfer.targets"][1] == {
        "name": "HMDB-51",
        "format": "hmdb51",
        "root": "data/raw/hmdb51/videos",
        "lists_dir": "data/raw/hmdb51/testTrainMulti_7030_splits",
        "epochs": 50,
    }
    p = load_params(REPO / "params.yaml", values)  # the profile applied through -S is a valid config
    assert p.recognition.depth == 34 and p.transfer.targets[2].csv_paths[1].endswith("kinetics_val.csv")


def test_hydra_values_are_quoted_and_checked():
    from slac_utils.config import hydra_value

    assert hydra_value({"a": [1, None, True], "b": "x/{y}"}) == "{a:[1,null,true],b:'x/{y}'}"
    assert _plain(parse_set_flags(["-S k=" + hydra_value("it's")])["k"]) == "it's"
    with pytest.raises(ConfigError, match="white space"):
        hydra_value("two words")


def test_cli_check_fails_with_message(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("ingest:\n  wokers: 3\n")
    r = subprocess.run([sys.executable, "-m", "slac_utils.config", "check", str(f)], capture_output=True, text=True)
    assert r.returncode == 1 and "ingest.wokers" in r.stderr and "workers" in r.stderr


def test_auto_backends_are_reported_with_what_they_resolve_to():
    import torch

    from slac_utils.backends import resolved_backends
    from slac_utils.report import param_items

    demo = Params()
    r = resolved_backends(demo)
    assert r == {
        "dedup.embedder": "signature",
        "shots.detector": "transnetv2" if torch.cuda.is_available() else "histogram",
        "persons.detector": "opencv",
        "proposals.backbone": "features",
        "annotation.mode": "simulate",
    }
    items = param_items(demo, ["dedup.embedder", "dedup.gamma", "annotation.mode"])
    assert items == [
        "dedup.embedder=auto -> signature",
        f"dedup.gamma.signature={demo.dedup.gamma['signature']}",
        "annotation.mode=auto -> simulate",
    ]
    folder = validate({"data": {"source": "folder"}})
    assert resolved_backends(folder)["annotation.mode"] == "human"
    explicit = validate(
        {"data": {"source": "folder"}, "dedup": {"embedder": "signature"}, "persons": {"detector": "opencv"}}
    )
    assert param_items(explicit, ["dedup.embedder", "persons.detector"]) == [
        "dedup.embedder=signature",
        "persons.detector=opencv",
    ]
