"""``reports/index.md``: profile, key parameters, Tables 1-9, the figures, then every stage's tables and figures."""

from __future__ import annotations

import os
from pathlib import Path

from ..io import META_SUFFIX
from ..tables import read_table_meta
from .catalog import FIGURES, KEY_METRICS, OWN_FIGURES, STAGE, STAGES, TABLES
from .profile import param_items


# ----------------------------------------------------------------------------- index
def _rel(path, start) -> str:
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(start))).as_posix()


def _fmt_metric(v) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_fmt_metric(x)}" for k, x in sorted(v.items())) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt_metric(x) for x in v) + "]"
    return str(v)


def _stage_of(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).parts[0]


def _table_lines(files: list[Path], base) -> list[str]:
    """One line per table stem: title (from its .md) and links to each format it has."""
    stems: dict[str, list[Path]] = {}
    for f in files:
        stems.setdefault(f.with_suffix("").name, []).append(f)
    lines = []
    order = {".md": 0, ".csv": 1, ".tex": 2}
    for stem in sorted(stems):
        fs = sorted(stems[stem], key=lambda p: (order.get(p.suffix, 9), p.name))
        md = next((f for f in fs if f.suffix == ".md"), None)
        meta = read_table_meta(md) if md else None
        title = meta.get("title") if meta else None
        desc = title or ("training log" if stem.startswith("log_") else stem.replace("_", " "))
        links = " · ".join(f"[{f.suffix.lstrip('.') or f.name}]({_rel(f, base)})" for f in fs)
        lines.append(f"- `{stem}` — {desc}: {links}")
    return lines


def write_index(
    index_path,
    profile: dict,
    params,
    tables: dict,
    figures: dict,
    figure_notes: dict,
    counts: dict,
    export_info: dict,
    tables_root,
    figures_root,
    metrics: dict,
    metrics_dir,
    own_tables_dir,
    own_figures_dir,
    extra_tables: dict,
) -> Path:
    """``reports/index.md``: profile and key parameters, the paper side by side (Tables 1-9, extra tables, Figures),
    the HACS export, then every stage's key metrics, tables and figures."""
    index_path = Path(index_path)
    base = index_path.parent
    L = _head_lines(profile, params)
    L += _paper_lines(tables, extra_tables, figures, figure_notes, tables_root, base)
    L += _export_lines(export_info, base)
    L += _stage_lines(tables_root, figures_root, metrics, metrics_dir, own_tables_dir, own_figures_dir, base)
    index_path.parent.mkdir(parents=True, exist_ok=True)
    index_path.write_bytes(("\n".join(L).rstrip() + "\n").encode("utf-8"))
    return index_path


def _head_lines(profile: dict, params) -> list[str]:
    L = [
        "# SLAC reproduction — report",
        "",
        "Written by stage 10 (`slac_utils/stages/report.py`, `slac_utils/report/`, `notebooks/10_report.ipynb`) from the outputs of this run; every link is relative "
        "to this file. The paper's numbers are always in their own, labelled columns or rows.",
        "",
        f"**Profile:** {profile['text']}.",
        "",
        "## Key parameters",
        "",
    ]
    key_params = [
        "seed",
        "data.source",
        "data.videos_dir",
        "demo.classes",
        "demo.videos_per_class",
        "dedup.embedder",
        "dedup.gamma",
        "shots.detector",
        "persons.detector",
        "persons.threshold",
        "proposals.backbone",
        "sampling.max_per_video",
        "sampling.tau",
        "sampling.clip_seconds",
        "annotation.mode",
        "annotation.page_size",
        "recognition.depth",
        "recognition.width",
        "recognition.frames",
        "recognition.crop",
        "recognition.epochs",
        "transfer.targets",
        "localization.dataset",
        "localization.epochs",
        "export.split_fractions",
    ]
    if params.data.source != "demo":
        key_params = [k for k in key_params if not k.startswith("demo.")]
    L += [f"- `{item.split('=', 1)[0]}` = {item.split('=', 1)[1]}" for item in param_items(params, key_params)]
    return L


def _paper_lines(tables, extra_tables, figures, figure_notes, tables_root, base) -> list[str]:
    L = []
    L += [
        "",
        "## The paper side by side",
        "",
        "### Tables",
        "",
        "Each table in Markdown, CSV (`#` header lines: `pandas.read_csv(path, comment='#')`) and LaTeX (booktabs tabular).",
        "",
    ]
    for n in range(1, 10):
        cap, stage, _ = TABLES[n]
        t = tables.get(n)
        if not t:
            where = f"`{Path(tables_root).as_posix()}/{stage}/table{n}_*.csv`" if stage else "its inputs"
            L.append(f"- **Table {n}** — {cap}: *not produced by this run* (expected from {where})")
            continue
        for entry in t:
            links = " · ".join(f"[{k}]({_rel(entry['files'][k], base)})" for k in ("md", "csv", "tex"))
            src = f" (from `{_rel(entry['source'], base)}`)" if entry.get("source") else ""
            L.append(f"- **Table {n}** — {cap}: {links}{src}")
    for stem, entry in sorted(extra_tables.items()):
        links = " · ".join(f"[{k}]({_rel(entry['files'][k], base)})" for k in ("md", "csv", "tex"))
        L.append(f"- `{stem}` — {entry['title']}: {links}")
    L += ["", "### Figures", ""]
    for name, desc in OWN_FIGURES.items():
        p = figures.get(name)
        if p is None:
            L.append(f"- **{desc}**: *not produced by this run* ({figure_notes.get(name, 'inputs missing')})")
        else:
            note = f" — {figure_notes[name]}" if figure_notes.get(name) else ""
            L += [f"- **{desc}**{note}", "", f"  ![{name}]({_rel(p, base)})", ""]
    return L


def _export_lines(export_info: dict, base) -> list[str]:
    L = []
    L += ["## HACS export", ""]
    if export_info.get("counts"):
        ec = export_info["counts"]
        L += [
            f"Written by `slac_utils.export.run` into `{_rel(export_info['dir'], base)}` (layout of the HACS release):",
            "",
        ]
        for f in sorted(Path(export_info["dir"]).iterdir()):
            if f.is_file():
                L.append(f"- [{f.name}]({_rel(f, base)})")
        L += ["", "| subset | videos | clips | positive | negative | segments |", "|:--|--:|--:|--:|--:|--:|"]
        for s in ("training", "validation", "testing", "all"):
            L.append(
                f"| {s} | "
                + " | ".join(
                    str(ec.get(f"{s}_{k}", "")) for k in ("videos", "clips", "positive", "negative", "segments")
                )
                + " |"
            )
        L += [
            "",
            f"Unlabeled clips left out: {ec.get('unlabeled_skipped', 0)}. Segments: {export_info.get('segments', '')}.",
            "The paper's split: 502K / 6K / 12K videos (training / validation / testing).",
            "",
        ]
    else:
        L += [f"*Not produced by this run* ({export_info.get('reason', 'inputs missing')}).", ""]

    return L


def _stage_lines(tables_root, figures_root, metrics, metrics_dir, own_tables_dir, own_figures_dir, base) -> list[str]:
    L = []
    # every stage, in stage order
    troot, froot = Path(tables_root), Path(figures_root)
    own = {os.path.abspath(own_tables_dir), os.path.abspath(own_figures_dir)}
    mine = lambda p, r: (
        any(os.path.abspath(p).startswith(o + os.sep) for o in own) or STAGE in p.relative_to(r).parts[:-1]
    )  # noqa: E731
    tfiles = (
        [p for p in sorted(troot.rglob("*")) if p.is_file() and not mine(p, troot) and not p.name.endswith(META_SUFFIX)]
        if troot.is_dir()
        else []
    )  # a table's .meta.json is for machines: the index links its md / csv / tex
    ffiles = [p for p in sorted(froot.rglob("*.png")) if not mine(p, froot)] if froot.is_dir() else []
    stages = sorted(
        {_stage_of(p, troot) for p in tfiles}
        | {_stage_of(p, froot) for p in ffiles}
        | {k for k in metrics if k != STAGE}
    )
    L += ["## Stages", ""]
    for st in stages:
        L += [f"### {st} — {STAGES.get(st, st.split('_', 1)[-1].replace('_', ' '))}", ""]
        m = metrics.get(st)
        if m:
            mpath = Path(metrics_dir) / f"{st}.json"
            flat = {k: v for k, v in sorted(m.items())}
            keys = [k for k in KEY_METRICS.get(st, []) if k in flat] or list(flat)[:12]
            L.append(
                f"Key numbers ([{mpath.name}]({_rel(mpath, base)})): "
                + "; ".join(f"{k} = {_fmt_metric(flat[k])}" for k in keys)
            )
            rest = [k for k in flat if k not in keys]
            if rest:
                L += [
                    "",
                    "<details><summary>all metrics</summary>",
                    "",
                    *[f"- {k} = {_fmt_metric(flat[k])}" for k in rest],
                    "",
                    "</details>",
                ]
            L.append("")
        st_t = [p for p in tfiles if _stage_of(p, troot) == st]
        if st_t:
            L += ["Tables:", "", *_table_lines(st_t, base), ""]
        st_f = [p for p in ffiles if _stage_of(p, froot) == st]
        if st_f:
            L += ["Figures:", ""]
            L += [f"- [{p.name}]({_rel(p, base)}) — {FIGURES.get(p.name, p.stem.replace('_', ' '))}" for p in st_f]
            L.append("")
        if not (m or st_t or st_f):
            L += ["*nothing written by this stage yet*", ""]
    return L
