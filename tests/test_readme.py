"""Every command in the README's ```bash blocks is exercised here (or by CI), so the user's guide cannot rot.

Cheap read-only commands run for real (``python -m slac_utils.config ...``, ``slac-eval-detection`` on small
files, ``dvc dag``); the rest are checked against what they name: make targets exist in the Makefile, ``dvc
repro`` stages exist in dvc.yaml, every ``-S key=value`` of ``dvc exp run`` validates against the params schema
(including the flags ``paper-flags`` prints), every ``--flag`` given to a ``python -m`` / ``torchrun -m`` entry
point is in that entry point's ``--help``.  ``make repro`` is the pipeline itself and ``make test`` is CI.
A README command that none of these rules recognises fails the test: add a rule with it.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from slac_utils.config import load_params

from .conftest import REPO

README = (REPO / "README.md").read_text()
BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def readme_commands() -> list[str]:
    """The commands of the ```bash blocks: comments dropped, continuation lines joined."""
    cmds = []
    for block in re.findall(r"```bash\n(.*?)```", README, re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                cmds.append(line)
    return cmds


def _run(args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO, env=ENV, capture_output=True, text=True, timeout=300, **kw)


def _help(module: str) -> str:
    r = _run([sys.executable, "-m", module, "--help"])
    assert r.returncode == 0, f"python -m {module} --help failed: {r.stderr[-500:]}"
    return r.stdout


def check_flags(module: str, args: list[str]) -> None:
    text = _help(module)
    for a in args:
        if a.startswith("--"):
            flag = a.split("=")[0]
            assert flag in text, f"README passes {flag} to {module}, which does not accept it"


def check_set_flags(args: list[str]) -> None:
    """-S key=value flags (as in `dvc exp run`) parse in DVC's (Hydra's) grammar and validate against the schema."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    parser = OverridesParser.create()
    overrides = {}
    for i, a in enumerate(args):
        if a == "-S":
            o = parser.parse_overrides([args[i + 1]])[0]
            v = o.value()
            overrides[o.key_or_group] = OmegaConf.to_container(v) if hasattr(v, "_metadata") else v
    load_params(REPO / "params.yaml", overrides)


def expand_substitutions(cmd: str) -> str:
    """Replace $(...) by its output (only slac_utils commands are allowed inside)."""

    def sub(m):
        inner = m.group(1)
        assert inner.startswith("python -m slac_utils."), f"unexpected substitution $({inner})"
        r = _run([sys.executable, *shlex.split(inner)[1:]])
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    return re.sub(r"\$\(([^)]*)\)", sub, cmd)


@pytest.fixture(scope="module")
def detection_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("det")
    gt = {
        "database": {
            "v1": {
                "subset": "validation",
                "duration": 10.0,
                "annotations": [{"label": "archery", "segment": [1.0, 4.0]}],
            }
        }
    }
    pred = {"results": {"v1": [{"label": "archery", "score": 0.9, "segment": [1.2, 4.1]}]}}
    (d / "gt.json").write_text(json.dumps(gt))
    (d / "pred.json").write_text(json.dumps(pred))
    return d / "gt.json", d / "pred.json"


def test_readme_has_the_two_commands():
    cmds = readme_commands()
    assert "make repro" in cmds and "make test" in cmds
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci


def test_every_readme_command_is_exercised(detection_files):
    makefile = (REPO / "Makefile").read_text()
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    unknown = []
    for cmd in readme_commands():
        argv = shlex.split(expand_substitutions(cmd).replace("$HOST0", "host0"))
        head = argv[0]
        if head == "make":
            for target in [a for a in argv[1:] if "=" not in a]:  # VAR=value sets a make variable
                assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"README: make {target}: no such target"
        elif head == "source":
            assert argv[1] == ".venv/bin/activate"
            assert (REPO / "Makefile").read_text().count("$(VENV)") > 0  # make creates .venv
        elif head == "dvc":
            sub = argv[1]
            if sub == "repro":
                for st in [a for a in argv[2:] if not a.startswith("-")]:
                    assert st in stages, f"README: dvc repro {st}: no such stage"
            elif sub == "exp" and argv[2] == "run":
                check_set_flags(argv[3:])
            elif sub in ("dag", "metrics"):
                r = _run(argv)
                assert r.returncode == 0, f"README: {cmd}: {r.stderr[-500:]}"
            elif sub == "plots":
                assert (REPO / "dvc.yaml").read_text().count("plots:") == 1
            else:
                unknown.append(cmd)
        elif head in ("python", ".venv/bin/python") and argv[1] == "-m":
            module, args = argv[2], argv[3:]
            if module == "slac_utils.config":
                r = _run([sys.executable, "-m", module, *args])
                assert r.returncode == 0, f"README: {cmd}: {r.stderr[-500:]}"
            elif module.startswith("slac_utils."):
                check_flags(module, args)
            else:
                unknown.append(cmd)
        elif head == "torchrun":
            module = argv[argv.index("-m") + 1]
            check_flags(module, argv[argv.index("-m") + 2 :])
            torchrun_help = _run([str(BIN / "torchrun"), "--help"]).stdout
            for a in argv[1 : argv.index("-m")]:
                if a.startswith("--"):
                    assert a.split("=")[0] in torchrun_help, f"torchrun has no {a}"
        elif head == "slac-eval-detection":
            gt, pred = detection_files
            flags = [a for a in argv[1:] if a.startswith("--") or not a.upper().endswith(".JSON")]
            r = _run([str(BIN / "slac-eval-detection"), str(gt), str(pred), *flags])
            assert r.returncode == 0, f"README: {cmd}: {r.stderr[-500:]}"
            out = json.loads(r.stdout)
            assert set(out) == {"tiou_thresholds", "mAP", "average_mAP"}
        elif head == "ray":  # starting or joining a Ray cluster: the flags must be ray start's
            assert argv[1] == "start", cmd
            ray_help = _run([str(BIN / "ray"), "start", "--help"]).stdout
            for a in argv[2:]:
                if a.startswith("--"):
                    assert a.split("=")[0] in ray_help, f"ray start has no {a}"
        elif head in ("jupyter", "conda", "pip"):
            pass  # jupyter lab / conda env create / pip install of optional drivers: documented, not run here
        else:
            unknown.append(cmd)
    assert not unknown, f"README commands no rule exercises (add one to this test): {unknown}"


def test_readme_names_every_stage():
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    for name in stages:
        assert f"`{name}`" in README, f"the README's stage table lacks {name}"
