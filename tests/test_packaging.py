"""environment.yml, pyproject.toml and requirements.lock agree; no network access in the code paths."""

import re
import tomllib

import yaml

from .conftest import REPO


def _pyproject_pins():
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {d.split("==")[0].lower(): d.split("==")[1] for d in deps}


def test_environment_yml_matches_pyproject():
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert "python=3.11" in env["dependencies"]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert {p.split("==")[0].lower(): p.split("==")[1] for p in pip} == _pyproject_pins()


def test_lock_contains_every_direct_pin():
    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            k, v = line.split("==")
            lock[k.lower().replace("_", "-")] = v.strip()
    for k, v in _pyproject_pins().items():
        assert lock.get(k.replace("_", "-")) == v, f"requirements.lock lacks {k}=={v}"


def test_no_runtime_downloads():
    """Weights are local files named in params; nothing fetches from a hub."""
    bad = re.compile(
        r"(load_state_dict_from_url|hub\.load|weights=\"DEFAULT\"|weights=ResNet50_Weights|urlretrieve|requests\.get)"
    )
    for f in (REPO / "slac_utils").glob("*.py"):
        assert not bad.search(f.read_text()), f"{f.name} downloads at run time"


def test_every_subpackage_is_packaged():
    """pyproject lists packages explicitly: a subpackage missing there is absent from a wheel install."""
    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(REPO).parts)
        for p in (REPO / "slac_utils").rglob("__init__.py")
        if "__pycache__" not in str(p)
    }
    assert found == listed, f"pyproject [tool.setuptools] packages: {sorted(found ^ listed)}"
