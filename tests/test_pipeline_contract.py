"""DVC + papermill contract: -p names match parameters cells, notebooks stored clean, params listed exist."""

import ast
import dataclasses
import importlib
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


def _parameters_cell_values(path):
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    tree = ast.parse("".join(cell["source"]))
    return {n.targets[0].id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign)}


def test_stage_paths_match_dvc_and_notebook():
    """Each papermill stage's module in slac_utils/stages/ (named as the DVC stage) has a Paths dataclass whose fields
    are the stage's -p names (params_file aside) and whose defaults are the values dvc.yaml passes and the notebook's
    parameters cell holds; a value dvc.yaml takes from params (${...}) has the default None (run reads params)."""
    modules = {p.stem for p in (REPO / "slac_utils" / "stages").glob("*.py")} - {"__init__", "base"}
    stages = set()
    for name, st, argv in _papermill_stages():
        stages.add(name)
        mod = importlib.import_module(f"slac_utils.stages.{name}")
        fields = {f.name: f.default for f in dataclasses.fields(mod.Paths)}
        given = {argv[i + 1]: argv[i + 2] for i, a in enumerate(argv) if a == "-p" and argv[i + 1] != "params_file"}
        assert set(given) == set(fields), f"stage {name}: -p {sorted(set(given) ^ set(fields))} vs Paths"
        nb_values = _parameters_cell_values(REPO / next(a for a in argv if a.startswith("notebooks/")))
        for key, value in given.items():
            if "${" in value:
                assert fields[key] is None, f"stage {name}: Paths.{key} comes from params, its default must be None"
            else:
                assert fields[key] == value, f"stage {name}: Paths.{key} = {fields[key]!r}, dvc.yaml passes {value!r}"
                assert nb_values[key] == value, f"stage {name}: the notebook's {key} = {nb_values[key]!r}"
        assert callable(mod.run) and callable(mod.main)
    assert modules == stages, f"stage modules without a DVC stage or the reverse: {sorted(modules ^ stages)}"


def test_stage_paths_helpers(tmp_path):
    from slac_utils.stages import dedup

    p = dedup.Paths.from_mapping({"manifest_path": "m.parquet", "unrelated": 1})
    assert p.manifest_path == "m.parquet" and p.dedup_path == dedup.Paths().dedup_path
    folder = Params.model_validate({"data": {"source": "folder", "videos_dir": str(tmp_path)}})
    assert p.for_source(folder).demo_dir is None and p.for_source(Params()).demo_dir == "data/raw/demo"
