"""Deterministic table, JSON and figure writers shared by every stage.

Re-running an unchanged stage must change no output byte: parquet is written
without the pandas index and with a fixed row order, JSON with sorted keys,
floats rounded where they come from floating-point reductions whose last bits
can depend on the CPU, and PNGs without the 'Software'/time metadata.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

FLOAT_DECIMALS = 6


def _prep(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def round_floats(df: pd.DataFrame, decimals: int = FLOAT_DECIMALS) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].round(decimals)
    return out


def write_table(df: pd.DataFrame, path, sort_by: list[str] | None = None) -> Path:
    """Write a parquet (or .csv) table deterministically: fixed order, rounded floats, no index."""
    path = _prep(path)
    if sort_by:
        df = df.sort_values(sort_by, kind="mergesort")
    df = round_floats(df.reset_index(drop=True))
    if path.suffix == ".csv":
        df.to_csv(path, index=False, lineterminator="\n")
    else:
        df.to_parquet(path, index=False, engine="pyarrow", compression="zstd")
    return path


def read_table(path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"table not found: {path} (has the stage that writes it run?)")
    return pd.read_csv(path) if path.suffix == ".csv" else pd.read_parquet(path)


# the note a generator stage leaves where its outputs would be when the data source does not use it (demo world / target)
PLACEHOLDER = "NOT_GENERATED.md"


def write_json(obj, path) -> Path:
    path = _prep(path)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")
    return path


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


META_SUFFIX = ".meta.json"


def table_meta_path(path) -> Path:
    """``<stem>.meta.json`` beside a table's ``<stem>.md`` / ``<stem>.csv``."""
    path = Path(path)
    return path.with_name(path.with_suffix("").name + META_SUFFIX)


def write_markdown_table(
    df: pd.DataFrame,
    path,
    title: str | None = None,
    notes: list[str] | None = None,
    floatfmt: str = ".3f",
    paper_table: int | None = None,
) -> Path:
    """A Markdown table, its CSV twin and its metadata (``<stem>.meta.json``: title, notes, floatfmt, the paper's
    table it reproduces or None, the file names), which is how the report finds and reads a stage's tables."""
    path = _prep(path)
    meta = dict(
        title=title,
        notes=list(notes or []),
        floatfmt=floatfmt,
        paper_table=paper_table,
        markdown=path.name,
        csv=path.with_suffix(".csv").name,
    )
    write_json(meta, table_meta_path(path))
    lines = []
    if title:
        lines += [f"# {title}", ""]
    for n in notes or []:
        lines.append(f"> {n}")
    if notes:
        lines.append("")
    cells = df.astype(object)
    lines.append(
        cells.where(cells.notna(), None).to_markdown(index=False, floatfmt=floatfmt, missingval="—")
    )  # NaN and None: "—"
    path.write_text("\n".join(lines) + "\n")
    write_table(df, path.with_suffix(".csv"))
    return path


def write_no_truth_table(path, title: str, source: str, what: str = "the demo world's planted truth") -> Path:
    """The table a truth-based report writes when the data source has no ground truth: it says so instead of vanishing."""
    df = pd.DataFrame([dict(status=f"no ground truth for this source (data.source: {source})")])
    return write_markdown_table(
        df, path, title, [f"this table is measured against {what}, which only the demo source has"]
    )


def write_skipped(tables_dir, figures_dir, metrics_path, tables: dict[str, tuple], reason: str) -> dict:
    """A stage that has nothing to run on (no target dataset for this source): every table it declares says why,
    one figure says it too, and the metrics carry the reason. ``tables``: {file name: (title, paper table or None)}."""
    import matplotlib  # deferred: matplotlib loads only when a figure is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # deferred: matplotlib loads only when a figure is drawn

    for name, (title, paper_table) in tables.items():
        status = pd.DataFrame([dict(status=f"skipped: {reason}")])
        write_markdown_table(status, Path(tables_dir) / name, title, paper_table=paper_table)
    fig, ax = plt.subplots(figsize=(7, 1.2))
    ax.axis("off")
    ax.text(0.5, 0.5, "skipped: " + reason, ha="center", va="center", wrap=True, fontsize=9)
    save_figure(fig, Path(figures_dir) / "skipped.png")
    metrics = dict(skipped=reason)
    write_json(metrics, metrics_path)
    return metrics


def save_figure(fig, path, dpi: int = 110) -> Path:
    """Save a matplotlib figure as a byte-stable PNG (no software/date metadata)."""
    import matplotlib.pyplot as plt  # deferred: matplotlib loads only when a figure is drawn

    path = _prep(path)
    fig.savefig(path, dpi=dpi, metadata={"Software": None}, bbox_inches="tight")
    plt.close(fig)
    return path


def sha256_file(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()
