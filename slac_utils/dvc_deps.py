"""dvc.yaml must tell the truth: each stage's code deps are the import closure of what its command runs.

A stage's command runs either ``python -m slac_utils.<module>`` or a notebook; the modules a notebook imports
are read from its code cells. The closure follows every ``import`` of a ``slac_utils`` module found anywhere
in a module's source (top level or inside a function: both run), statically, with :mod:`ast`.

``python -m slac_utils.dvc_deps [--fix]`` (``--fix`` first rewrites the deps lists in place) prints, per stage, the modules missing from its deps and the listed ones it
never imports; ``tests/test_dvc_deps.py`` fails on either.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
PKG = "slac_utils"


def _module_path(name: str, root: Path = REPO) -> Path | None:
    """File of a dotted slac_utils module name (package -> its __init__.py), or None."""
    base = root.joinpath(*name.split("."))
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _imports_of(source: str, current: str, root: Path = REPO) -> set[str]:
    """slac_utils modules a source imports (absolute and relative), as dotted names."""
    out: set[str] = set()
    pkg_parts = current.split(".")[:-1] if not current.endswith("__init__") else current.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == PKG}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg_parts[: len(pkg_parts) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != PKG:
                continue
            out.add(mod)
            out |= {f"{mod}.{a.name}" for a in node.names if _module_path(f"{mod}.{a.name}", root)}
    return {m for m in out if _module_path(m, root)}


def _name_of(path: Path, root: Path = REPO) -> str:
    rel = path.relative_to(root).with_suffix("")
    return ".".join(rel.parts)


def closure(modules: set[str], root: Path = REPO) -> set[Path]:
    """Files of the modules and everything they import, transitively (parent packages' __init__ included)."""
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        parts = name.split(".")
        todo += [
            ".".join(parts[:k]) for k in range(1, len(parts)) if _module_path(".".join(parts[:k]), root) not in seen
        ]
        p = _module_path(name, root)
        if p is None or p in seen:
            continue
        seen.add(p)
        todo += sorted(_imports_of(p.read_text(), _name_of(p, root), root))
    return seen


def notebook_imports(nb_path: Path, root: Path = REPO) -> set[str]:
    src = "\n".join("".join(c["source"]) for c in json.loads(nb_path.read_text())["cells"] if c["cell_type"] == "code")
    src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
    return _imports_of(src, f"{PKG}.__notebook__", root)


def stage_entry_modules(cmd: str, root: Path = REPO) -> set[str]:
    mods = set(re.findall(r"python -m (slac_utils(?:\.\w+)+)", cmd))
    # `python -m <package>` runs the package's __main__.py
    mods |= {f"{m}.__main__" for m in mods if (root.joinpath(*m.split(".")) / "__main__.py").is_file()}
    for nb in re.findall(r"(notebooks/\S+\.ipynb)\s+reports/", cmd):
        mods |= notebook_imports(root / nb, root)
    return mods


def check(dvc_yaml: Path = REPO / "dvc.yaml", root: Path = REPO) -> dict[str, dict[str, list[str]]]:
    """{stage: {missing: [...], stale: [...]}} for stages whose code deps differ from the import closure."""
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    problems = {}
    for name, st in stages.items():
        cmd = st["cmd"] if isinstance(st["cmd"], str) else " ".join(st["cmd"])
        need = {str(p.relative_to(root)) for p in closure(stage_entry_modules(cmd, root), root)}
        have = {d for d in st.get("deps", []) if isinstance(d, str) and d.startswith(f"{PKG}/") and d.endswith(".py")}
        missing, stale = sorted(need - have), sorted(have - need)
        if missing or stale:
            problems[name] = dict(missing=missing, stale=stale)
    return problems


def fix(dvc_yaml: Path = REPO / "dvc.yaml", root: Path = REPO) -> list[str]:
    """Rewrite each stage's slac_utils/*.py deps in place (text edit: comments and order of other deps kept)."""
    stages = yaml.safe_load(dvc_yaml.read_text())["stages"]
    lines = dvc_yaml.read_text().splitlines()
    out, stage, in_deps, changed = [], None, False, []
    for line in lines:
        m = re.match(r"^  (\w[\w-]*):\s*$", line)
        if m:
            stage, in_deps = m.group(1), False
        if stage in stages and re.match(r"^    deps:\s*$", line):
            in_deps = True
            out.append(line)
            st = stages[stage]
            cmd = st["cmd"] if isinstance(st["cmd"], str) else " ".join(st["cmd"])
            need = sorted(str(p.relative_to(root)) for p in closure(stage_entry_modules(cmd, root), root))
            nbs = [d for d in st.get("deps", []) if isinstance(d, str) and d.endswith(".ipynb")]
            out += [f"      - {d}" for d in nbs] + [f"      - {d}" for d in need]
            changed.append(stage)
            continue
        if in_deps:
            if re.match(r"^      - ", line):
                dep = line.split("- ", 1)[1].strip()
                if dep.endswith(".ipynb") or (dep.startswith(f"{PKG}/") and dep.endswith(".py")):
                    continue
            elif not line.startswith("      "):
                in_deps = False
        out.append(line)
    dvc_yaml.write_text("\n".join(out) + "\n")
    return changed


if __name__ == "__main__":  # pragma: no cover
    if "--fix" in sys.argv:
        fix()
    bad = check()
    for stage, p in bad.items():
        print(f"{stage}:\n  missing: {p['missing']}\n  stale:   {p['stale']}")
    sys.exit(1 if bad else 0)
