"""Tables for people and for machines: Markdown beside CSV (``#`` header lines: title, profile, params, sources)
and LaTeX (booktabs ``tabular``), and the readers of the stages' tables."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from .io import round_floats, table_meta_path, write_markdown_table

# ----------------------------------------------------------------------------- writers
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = {
    "—": "---",
    "–": "--",
    "γ": r"$\gamma$",
    "τ": r"$\tau$",
    "≈": r"$\approx$",
    "×": r"$\times$",
    "→": r"$\rightarrow$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "±": r"$\pm$",
    "‖": r"$\|$",
    "’": "'",
    "‘": "`",
    "“": "``",
    "”": "''",
    "…": r"\dots{}",
}


def latex_escape(s) -> str:
    """Escape LaTeX's special characters (and a few Unicode symbols) in a cell or header."""
    s = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(s))
    for u, t in _LATEX_UNICODE.items():
        s = s.replace(u, t)
    return s


def _cell(v, floatfmt: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (float, np.floating)):
        return format(float(v), floatfmt)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


_NUMERIC = re.compile(r"^[~≈]?[-+]?[\d.,]+\s*(K|M|%|K hr|hr|sec|min|s)?$")


def _align(col: pd.Series) -> str:
    vals = [v for v in col if not (v is None or (isinstance(v, float) and math.isnan(v)))]
    if vals and all(
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, (bool, np.bool_))
        or (isinstance(v, str) and (_NUMERIC.match(v) or v in ("—", "N/A")))
        for v in vals
    ):
        return "r"
    return "l"


def write_latex_table(df: pd.DataFrame, path, header: list[str], floatfmt: str = ".3f") -> Path:
    """A booktabs tabular (header lines as % comments above it), escaped, NaN as ---."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"% {h}" for h in header]
    lines += [
        "% needs \\usepackage{booktabs}",
        "\\begin{tabular}{" + "".join(_align(df[c]) for c in df.columns) + "}",
        "\\toprule",
    ]
    lines.append(" & ".join(latex_escape(c) for c in df.columns) + " \\\\")
    lines.append("\\midrule")
    for row in df.itertuples(index=False):
        lines.append(" & ".join(latex_escape(_cell(v, floatfmt)) for v in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))
    return path


def write_csv_with_header(df: pd.DataFrame, path, header: list[str]) -> Path:
    """CSV with '#' comment lines on top; strings quoted (a '#' in a cell survives read_csv(comment='#'))."""

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = round_floats(df.reset_index(drop=True)).to_csv(
        index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC
    )
    path.write_bytes(("".join(f"# {h.replace(chr(10), ' ')}\n" for h in header) + body).encode("utf-8"))
    return path


def read_report_csv(path) -> pd.DataFrame:
    """Read a CSV written by :func:`write_csv_with_header` ('N/A' stays a string, empty cells are NaN)."""
    df = pd.read_csv(path, comment="#", keep_default_na=False, na_values=[""])
    return df.rename(columns={c: "" for c in df.columns if re.fullmatch(r"Unnamed: \d+", str(c))})


def emit_table(
    df: pd.DataFrame,
    out_dir,
    stem: str,
    title: str,
    notes: list[str],
    floatfmt: str = ".3f",
    paper_table: int | None = None,
) -> dict:
    """Write stem.md (and its stem.meta.json), stem.csv and stem.tex; returns the paths of the three tables."""
    out_dir = Path(out_dir)
    shown = df.astype(object).where(df.notna(), None)  # NaN -> None, which the Markdown writer prints as '—'
    md = write_markdown_table(shown, out_dir / f"{stem}.md", title, notes, floatfmt, paper_table)
    header = [title, *notes]
    return dict(
        md=md,
        csv=write_csv_with_header(df, out_dir / f"{stem}.csv", header),
        tex=write_latex_table(df, out_dir / f"{stem}.tex", header, floatfmt),
    )


def read_table_meta(path) -> dict | None:
    """The metadata a stage wrote beside its table (``<stem>.meta.json``, :func:`slac_utils.io.write_markdown_table`):
    title, notes, floatfmt, paper_table, markdown and csv file names; None when the table has none."""
    meta = table_meta_path(path)
    return json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else None


def read_stage_csv(path) -> pd.DataFrame:
    """A stage table's CSV: 'N/A' stays a string, empty cells are NaN, an unnamed first column keeps an empty name."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return df.rename(columns={c: "" for c in df.columns if re.fullmatch(r"Unnamed: \d+", str(c))})
