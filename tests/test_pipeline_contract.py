"""DVC + papermill contract: -p names match parameters cells, notebooks stored clean, params listed exist."""

import json
import re
import shlex

import yaml

from slac_utils.config import Params

from .conftest import REPO

DVC = yaml.safe_load((REPO / "dvc.yaml").read_text())
STAGES = DVC["stages"]


def _notebook_params(path):
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{path}: exactly one cell tagged 'parameters'"
    src = "".join(cells[0]["source"])
    return set(re.findall(r"^(\w+)\s*=", src, re.M))


def _papermill_stages():
    for name, st in STAGES.items():
        cmd = st["cmd"].replace("${nb}", DVC["vars"][0]["nb"])
        if "papermill" in cmd:
            yield name, st, shlex.split(cmd)


def test_p_names_match_parameters_cell():
    seen = 0
    for name, st, argv in _papermill_stages():
        nb_in = next(a for a in argv if a.startswith("notebooks/"))
        names = {argv[i + 1] for i, a in enumerate(argv) if a in ("-p", "-y", "--parameters", "--parameters_yaml")}
        declared = _notebook_params(REPO / nb_in)
        assert names <= declared, f"stage {name}: -p {sorted(names - declared)} not in {nb_in}'s parameters cell"
        assert declared <= names, f"stage {name}: parameters {sorted(declared - names)} of {nb_in} not set by dvc.yaml"
        assert nb_in in st["deps"], f"stage {name}: its notebook must be a dependency"
        out = next(a for a in argv if a.startswith("reports/notebooks/"))
        assert not any(out == (o if isinstance(o, str) else next(iter(o))) for o in st.get("outs", [])), (
            "executed notebooks are not DVC outputs"
        )
        seen += 1
    assert seen >= 3


def test_no_boolean_passed_with_dash_p():
    for name, st, argv in _papermill_stages():
        for i, a in enumerate(argv):
            if a == "-p":
                assert argv[i + 2].lower() not in ("true", "false", "${", ""), f"stage {name}: pass booleans with -y"


def test_stored_notebooks_have_no_outputs():
    for nb_path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = json.loads(nb_path.read_text())
        for c in nb["cells"]:
            if c["cell_type"] == "code":
                assert c.get("outputs") == [] and c.get("execution_count") is None, (
                    f"{nb_path.name}: strip outputs before committing"
                )


def test_stage_params_exist_in_schema():
    fields = Params.model_fields
    for name, st in STAGES.items():
        for p in st.get("params", []):
            key = p if isinstance(p, str) else next(iter(p))
            top, *rest = key.split(".")
            assert top in fields, f"stage {name}: params '{key}' not in the schema"
            if rest:
                assert rest[0] in fields[top].annotation.model_fields, f"stage {name}: params '{key}' not in the schema"


def test_each_stage_has_its_own_outputs():
    owners = {}
    for name, st in STAGES.items():
        for o in st.get("outs", []) + st.get("metrics", []):
            path = o if isinstance(o, str) else next(iter(o))
            assert path not in owners, f"{path} written by {owners.get(path)} and {name}"
            owners[path] = name
