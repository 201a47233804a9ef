"""dvc.yaml's code deps are each stage's import closure, computed statically (slac_utils.dvc_deps)."""

import json

from slac_utils import dvc_deps


def test_every_stage_lists_exactly_its_import_closure():
    bad = dvc_deps.check()
    assert not bad, "dvc.yaml deps drifted (fix: python -m slac_utils.dvc_deps --fix):\n" + json.dumps(bad, indent=1)


def test_closure_follows_imports_inside_functions_and_relative_ones(tmp_path):
    pkg = tmp_path / "slac_utils"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from .sub.c import x\n")
    (pkg / "sub" / "c.py").write_text("import os\nfrom .. import d\nx = 1\n")
    (pkg / "d.py").write_text("")
    (pkg / "unused.py").write_text("")
    got = {str(p.relative_to(tmp_path)) for p in dvc_deps.closure({"slac_utils.a"}, tmp_path)}
    assert got == {
        "slac_utils/__init__.py",
        "slac_utils/a.py",
        "slac_utils/b.py",
        "slac_utils/sub/__init__.py",
        "slac_utils/sub/c.py",
        "slac_utils/d.py",
    }


def test_stage_modules_come_from_the_command_and_the_notebook(tmp_path):
    nb = tmp_path / "notebooks" / "x.ipynb"
    nb.parent.mkdir()
    nb.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "source": [
                            "%matplotlib inline\n",
                            "from slac_utils import io\n",
                            "import slac_utils.video\n",
                        ],
                    },
                    {"cell_type": "markdown", "source": ["from slac_utils import plots"]},
                ]
            }
        )
    )
    (tmp_path / "slac_utils").mkdir()
    for m in ("__init__", "io", "video", "plots", "annotation"):
        (tmp_path / "slac_utils" / f"{m}.py").write_text("")
    cmd = "python -m slac_utils.annotation check && papermill notebooks/x.ipynb reports/notebooks/x.ipynb -p a b"
    assert dvc_deps.stage_entry_modules(cmd, tmp_path) == {
        "slac_utils",
        "slac_utils.annotation",
        "slac_utils.io",
        "slac_utils.video",
    }
