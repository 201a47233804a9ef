"""Stage 10 — the paper side by side: Tables 1-9, Figures 1-4, a browsable index and the HACS export.

The last stage reads what the earlier stages wrote and writes nothing they read:

* **Tables 1-9** into ``tables_dir`` (``reports/tables/10_report``), each as Markdown, CSV and LaTeX
  (``.tex``: a booktabs ``tabular`` ready to paste; ``%``, ``&``, ``_``, ``#``, ``$``, ``{``, ``}``, ``~``, ``^``
  and ``\\`` are escaped). Every file opens with the table's title, the profile that produced it (demo scale,
  paper scale or custom), the parameters that matter for it and where its rows come from; the paper's values
  stay in their own, labelled columns (or rows marked ``paper``). The CSV files carry that header as ``#``
  comment lines (read them with ``pandas.read_csv(path, comment="#")``; string cells are quoted, so a ``#``
  inside a cell is kept). Table 1 (datasets compared) and Table 2 (de-duplication, our counts beside the
  paper's 171,378 / 4,029 / 1,925 / 660 / 11) are built here; Tables 3-9 are re-emitted from the stage
  tables ``<tables_root>/<NN_stage>/table<N>_*.csv`` (found by pattern; their Markdown twin gives title and
  notes). A table no stage wrote is listed in the index as "not produced by this run".
  ``pipeline_counts`` (the numbers of Figure 1, ours beside the paper's) is written the same way.
* **Figures** into ``figures_dir`` (``reports/figures/10_report``), byte-stable PNGs (``io.save_figure``,
  seeded choices): ``fig1_pipeline.png`` (paper Fig. 1 with this run's counts), ``fig2_negatives.png`` (Fig. 2:
  a positive and the three negative types, real frames; demo: chosen by the demo world's truth kinds, else by
  proxies), ``fig3_guideline.png`` (Fig. 3: definitions and the golden-set guideline examples),
  ``fig4_grid.png`` (Fig. 4: one annotation page with this run's labels as green/red borders),
  ``class_balance.png``, ``clips_per_video.png``, ``r_distribution.png``.
* **The HACS export** (:func:`slac_utils.export.run`) into ``export_dir``.
* **The index** ``index_path`` (``reports/index.md``): profile and key parameters, Tables 1-9 and the figures,
  the export's counts, then every table (md / csv / tex) and figure of every stage, in stage order, with the
  key numbers of ``metrics/<NN_stage>.json``. Links are relative; nothing depends on the clock.

Every input may be missing (a partial pipeline): what cannot be built is reported, not raised.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .backends import resolved_backends
from .io import read_table, save_figure, write_markdown_table
from .seeding import seed_of

STAGE = "10_report"
GREEN, RED, GREY = "#2ca02c", "#d62728", "#7f7f7f"
KIND_COLORS = {"action": "#2ca02c", "no_action": "#ff7f0e", "no_context": "#1f77b4", "no_person": "#7f7f7f"}
NEGATIVE_TYPES = ("no_person", "no_context", "no_action")

# ----------------------------------------------------------------------------- the paper
# Table 1 as printed: dataset, actions, videos, annotations, source, localization.
PAPER_TABLE1 = [
    ("UCF101", "101", "13K", "13K", "YouTube", "No"),
    ("HMDB51", "51", "7K", "7K", "YouTube/Movie", "No"),
    ("Kinetics", "400", "305K", "305K", "YouTube", "No"),
    ("Sports1M", "487", "1.1M", "1.1M", "YouTube", "No"),
    ("THUMOS 15", "101", "24K", "21K", "YouTube", "Yes"),
    ("ActivityNet", "200", "20K", "23K", "YouTube", "Yes"),
    ("Charades", "157", "10K", "67K", "267 Homes", "Yes"),
    ("AVA", "80", "214", "197K", "Movie", "Yes"),
    ("SLAC", "200", "520K", "1.75M", "YouTube", "Yes"),
]
# Table 2 as printed (removed videos, starting from 1.1M candidates), in the paper's order.
PAPER_TABLE2 = [
    ("Internal (within the dataset)", "171,378", None),
    ("Kinetics", "4,029", "kinetics"),
    ("ActivityNet", "1,925", "activitynet"),
    ("UCF-101", "660", "ucf"),
    ("HMDB-51", "11", "hmdb"),
]
# Section 3: the numbers behind Figure 1.
PAPER_PIPELINE = dict(
    candidates="1.1M",
    removed_internal="171K",
    removed_external="6.6K",
    person_share="~49% of shots",
    removed_no_person="193K",
    videos="520K",
    clips="1.75M",
    positives="755K",
    negatives="993K",
    seconds_per_clip="8.8 s",
    frames_model="600K frames",
    web_model="300K images",
)

# Paper tables: caption, the stage folder that writes them (None: built here), the params that matter.
TABLES = {
    1: (
        "Comparisons between SLAC and other video datasets",
        None,
        [
            "data.source",
            "data.videos_dir",
            "demo.classes",
            "demo.videos_per_class",
            "sampling.max_per_video",
            "sampling.easy_positive",
            "annotation.mode",
        ],
    ),
    2: (
        "De-duplication of SLAC within itself and against prior test/validation sets",
        "01_dedup",
        ["dedup.embedder", "dedup.gamma", "dedup.fps", "dedup.min_frames", "dedup.keep", "dedup.external_targets"],
    ),
    3: (
        "Cost comparison for full and sparse annotations",
        "05_annotate",
        [
            "annotation.mode",
            "annotation.page_size",
            "annotation.sim_seconds_per_clip",
            "annotation.sim_accuracy",
            "annotation.full_annotation_minutes_per_video",
        ],
    ),
    4: (
        "Results on SLAC (Clip@1)",
        "07_evaluate",
        [
            "recognition.depth",
            "recognition.width",
            "recognition.frames",
            "recognition.crop",
            "recognition.epochs",
            "recognition.neg_weight",
            "recognition.fusion_weights",
        ],
    ),
    5: (
        "Transfer learning with RGB and flow input",
        "08_transfer",
        [
            "recognition.depth",
            "recognition.width",
            "recognition.frames",
            "transfer.targets",
            "transfer.base_lr",
            "transfer.video_clips",
        ],
    ),
    6: (
        "SLAC compared with other pre-training datasets",
        "08_transfer",
        ["recognition.depth", "recognition.width", "transfer.targets", "transfer.pretrained", "transfer.base_lr"],
    ),
    7: (
        "Res3D pre-trained on SLAC beside the state of the art",
        "08_transfer",
        [
            "recognition.depth",
            "recognition.fusion_weights",
            "transfer.targets",
            "transfer.dense_stride",
            "transfer.dense_crops",
        ],
    ),
    8: (
        "Action localization on THUMOS14 (mAP)",
        "09_localize",
        [
            "localization.dataset",
            "localization.frames",
            "localization.crop",
            "localization.epochs",
            "localization.pretrain_epochs",
            "localization.alpha",
            "localization.beta",
            "localization.table8_tiou",
            "localization.table8_protocol",
        ],
    ),
    9: (
        "Action localization on ActivityNet-v1.3 before and after refinement (mAP)",
        "09_localize",
        [
            "localization.dataset",
            "localization.frames",
            "localization.crop",
            "localization.epochs",
            "localization.pretrain_epochs",
            "localization.alpha",
            "localization.beta",
            "localization.table9_tiou",
            "localization.table9_protocol",
        ],
    ),
}
FLOATFMT = {4: ".1f", 5: ".1f", 6: ".1f", 7: ".1f", 8: ".1f", 9: ".1f"}

STAGES = {
    "00_ingest": "Ingest: probe and list the candidate videos (paper 3.4)",
    "01_dedup": "De-duplication within the dataset and against external test sets (paper 3.4, Table 2)",
    "02_shots_persons": "Shot detection and person detection (paper 3.5)",
    "03_proposals": "Proposal models: video-frame and web-image classifiers (paper 3.6)",
    "04_sampling": "Active frame sampling with R(x) and 2-second clips (paper 3.6)",
    "05_annotate": "Clip annotation: grid, golden set, QC, cost (paper 3.7, Table 3)",
    "06_train": "Res3D training on SLAC (paper 4.1)",
    "07_evaluate": "Evaluation on SLAC (paper 4.1, Table 4)",
    "08_transfer": "Transfer: fine-tuning on smaller benchmarks (paper 4.2, Tables 5-7)",
    "09_localize": "Action localization with CDC (paper 5, Tables 8-9)",
    STAGE: "The paper side by side (this stage)",
}
FIGURES = {
    "demo_world.png": "frames of the demo world's videos, one row per class",
    "videos_per_class.png": "candidate videos per class and their lengths",
    "similarity_hist.png": "cosine similarity of same-class video pairs and the threshold γ",
    "pr_vs_threshold.png": "precision / recall of internal de-dup against the planted duplicates, by threshold",
    "person_scores.png": "person scores of shots (with the threshold)",
    "shot_timeline.png": "shot-boundary dissimilarities of one video with detected and true boundaries",
    "training_curves.png": "training curves (loss, accuracy by epoch)",
    "R_by_truth_kind.png": "consensus, disagreement and R(x) by the true segment kind",
    "sampling_vs_baselines.png": "what R(x), consensus-only and uniform sampling spend the annotation budget on",
    "labels.png": "labels per class and golden-set accuracy per annotator",
    "time_per_clip.png": "annotation seconds per clip (ours beside the paper's 8.8 s)",
    "finetune_curves.png": "fine-tuning curves of every target, initialisation and input",
    "transfer_accuracy.png": "top-1 on each transfer target, from scratch vs pre-trained",
    "frame_scores.png": "per-frame CDC scores on held-out videos with ground truth and detections",
}
KEY_METRICS = {
    "00_ingest": ["listed", "ok", "quarantined", "classes", "hours"],
    "01_dedup": [
        "candidates",
        "kept",
        "removed_internal",
        "removed_external",
        "embedder",
        "gamma",
        "internal_precision",
        "internal_recall",
    ],
    "02_shots_persons": [
        "shots",
        "person_shots",
        "share_person_shots",
        "videos_kept",
        "shot_f1",
        "person_precision",
        "person_recall",
    ],
    "03_proposals": ["X_frames", "frames_model_heldout_accuracy", "web_model_heldout_accuracy", "agreement_on_X"],
    "04_sampling": ["clips", "hard", "easy", "videos", "clips_per_video", "clip_truth_positive_share"],
    "05_annotate": [
        "labeled",
        "positives",
        "negatives",
        "seconds_per_clip",
        "seconds_per_video",
        "saving_vs_full",
        "gold_accuracy_mean",
        "label_accuracy",
    ],
    "06_train": ["train_clips", "val_clips", "test_clips", "train_accuracy_rgb", "train_accuracy_flow"],
}
OWN_FIGURES = {
    "fig1_pipeline.png": "Figure 1 — the data-collection pipeline with this run's counts at every step (paper's in grey)",
    "fig2_negatives.png": "Figure 2 — a positive clip and the three negative types (no person / no context / no action), frames of this run",
    "fig3_guideline.png": "Figure 3 — the annotation guideline: class definitions with the golden-set positive (green) and negative (red) examples",
    "fig4_grid.png": "Figure 4 — one page of the annotation grid, borders show this run's labels (green positive, red negative)",
    "class_balance.png": "labeled clips per class (positive / negative) and the positive share of hard vs easy clips",
    "clips_per_video.png": "labeled clips per video (ours beside the paper's 1.75M / 520K)",
    "r_distribution.png": "R(x) of the labeled clips by sampling kind, by label and (demo) by true segment kind",
}


# ----------------------------------------------------------------------------- profile and params
def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def profile_of(params, paper_profile_path=None) -> dict:
    """name: demo (data.source demo) or custom; scale: 'demo scale', 'paper scale' (every setting of
    configs/paper.yaml applied; data paths, weight files and worker counts aside) or 'custom scale'; text: one line."""
    if params.data.source == "demo":
        return dict(
            name="demo",
            scale="demo scale",
            text="demo (DEMO SCALE: the embedded synthetic demo world and the CPU settings of params.yaml; numbers are not comparable in scale to the paper's)",
        )
    differ = None
    if paper_profile_path is not None and Path(paper_profile_path).is_file():
        import yaml

        from .config import validate

        raw = yaml.safe_load(Path(paper_profile_path).read_text()) or {}
        paper = _flatten(
            validate(raw, source=str(paper_profile_path)).model_dump(mode="json")
        )  # defaults filled in, as applied
        ours = _flatten(params.model_dump(mode="json"))
        location = ("_weights", "workers", "_path", "_dir", "transfer.targets")  # where the data lie, not the scale
        keys = [
            k
            for k in _flatten(raw)
            if not k.startswith("data.") and not k.endswith(location) and k != "transfer.targets"
        ]
        differ = sorted(k for k in keys if not _same(ours.get(k), paper[k]))
    if differ == []:
        return dict(
            name="custom",
            scale="paper scale",
            text=f"custom data ({params.data.source}: {params.data.videos_dir}) at PAPER SCALE (every setting of {paper_profile_path})",
        )
    extra = (
        f"; differs from {paper_profile_path} in {', '.join(differ[:6])}{' ...' if len(differ) > 6 else ''}"
        if differ
        else ""
    )
    return dict(
        name="custom",
        scale="custom scale",
        text=f"custom data ({params.data.source}: {params.data.videos_dir}), custom scale{extra}",
    )


def _fmt_value(v) -> str:
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return "[" + ", ".join(str(x.get("name", x)) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return str(v)


def param_items(params, keys) -> list[str]:
    """'key=value' for each key (a dotted key or a section prefix) that the schema has; an ``auto`` backend is
    shown with what it resolves to on this machine (``auto -> signature``)."""
    flat = _flatten(params.model_dump(mode="json"))
    resolved = resolved_backends(params)
    out = []
    for k in keys:
        hits = [f for f in flat if f == k or f.startswith(k + ".")]
        if k == "dedup.gamma":  # only the threshold actually used
            hits = [f"dedup.gamma.{resolved['dedup.embedder']}"]
        if k == "dedup.external_targets":
            out.append("dedup.external_targets=[" + ", ".join(t.name for t in params.dedup.external_targets) + "]")
            continue
        for f in hits:
            if f in flat:
                ran = resolved.get(f, flat[f])
                out.append(f"{f}={_fmt_value(flat[f])}" + (f" -> {ran}" if ran != flat[f] else ""))
    return out


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
    from .io import round_floats

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


def emit_table(df: pd.DataFrame, out_dir, stem: str, title: str, notes: list[str], floatfmt: str = ".3f") -> dict:
    """Write stem.md, stem.csv and stem.tex; returns their paths."""
    out_dir = Path(out_dir)
    shown = df.astype(object).where(df.notna(), None)  # NaN -> None, which the Markdown writer prints as '—'
    md = write_markdown_table(shown, out_dir / f"{stem}.md", title, notes, floatfmt)
    header = [title, *notes]
    return dict(
        md=md,
        csv=write_csv_with_header(df, out_dir / f"{stem}.csv", header),
        tex=write_latex_table(df, out_dir / f"{stem}.tex", header, floatfmt),
    )


def read_stage_markdown(path) -> tuple[str | None, list[str]]:
    """(title, notes) of a table written by io.write_markdown_table; (None, []) when absent."""
    path = Path(path)
    if not path.is_file():
        return None, []
    title, notes = None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# ") and title is None:
            title = line[2:].strip()
        elif line.startswith("> "):
            notes.append(line[2:].strip())
        elif line.startswith("|"):
            break
    return title, notes


def read_stage_csv(path) -> pd.DataFrame:
    """A stage table's CSV: 'N/A' stays a string, empty cells are NaN, an unnamed first column keeps an empty name."""
    df = pd.read_csv(path, keep_default_na=False, na_values=[""])
    return df.rename(columns={c: "" for c in df.columns if re.fullmatch(r"Unnamed: \d+", str(c))})


# ----------------------------------------------------------------------------- inputs
def _maybe(path):
    """read_table, or None when the path is None or missing."""
    if path is None or not Path(path).exists():
        return None
    return read_table(path)


def read_metrics(metrics_dir) -> dict[str, dict]:
    """stage name (file stem) -> its metrics JSON, for every metrics/*.json."""
    d = Path(metrics_dir)
    if not d.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(d.glob("*.json"))}


def find_stage_tables(tables_root, exclude=()) -> dict[int, list[Path]]:
    """N -> the table<N>_*.csv files (N in 1..9) under tables_root, excluding folders in exclude and any folder
    named like this stage (a report's own tables are never read back as stage tables); sorted."""
    root = Path(tables_root)
    excl = {os.path.abspath(e) for e in exclude}
    found: dict[int, list[Path]] = {}
    if not root.is_dir():
        return found
    for p in sorted(root.rglob("table*_*.csv")):
        if any(os.path.abspath(p).startswith(e + os.sep) for e in excl) or STAGE in p.relative_to(root).parts[:-1]:
            continue
        m = re.fullmatch(r"table([1-9])_.+\.csv", p.name)
        if m:
            found.setdefault(int(m.group(1)), []).append(p)
    return found


def _labeled_only(labeled: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if labeled is None else labeled[labeled.label.isin([1, -1])].reset_index(drop=True)


# ----------------------------------------------------------------------------- tables 1 and 2
def table1(profile: dict, params, labeled, dedup, manifest) -> tuple[pd.DataFrame, list[str]]:
    """The paper's rows and one row for the dataset this run built."""
    lab = _labeled_only(labeled)
    if lab is not None:
        videos = set(lab.video_id)
        if dedup is not None:
            videos &= set(dedup.video_id[dedup.kept.astype(bool)])
        actions, n_videos, n_ann = int(lab.class_label.nunique()), len(videos), int(len(lab))
        pos, neg = int((lab.label == 1).sum()), int((lab.label == -1).sum())
    else:
        actions = n_videos = n_ann = None
        pos = neg = None
    cand = None
    if manifest is not None:
        cand = int((manifest.status == "ok").sum()) if "status" in manifest else int(len(manifest))
        if actions is None:
            actions = int(manifest.class_label.nunique())
    elif dedup is not None:
        cand = int(len(dedup))
    source = (
        "demo world (synthetic)" if params.data.source == "demo" else f"{params.data.source}: {params.data.videos_dir}"
    )
    cols = ["Dataset", "Actions", "Videos", "Annotations", "Source", "Localization", "Candidate videos", "values from"]
    rows = [(*r, "1.1M" if r[0] == "SLAC" else "—", "paper (Table 1)") for r in PAPER_TABLE1]
    rows.append(
        (
            "SLAC, this run",
            "—" if actions is None else str(actions),
            "—" if n_videos is None else str(n_videos),
            "—" if n_ann is None else str(n_ann),
            source,
            "Yes (sparse 2-s clips)",
            "—" if cand is None else str(cand),
            f"ours ({profile['scale']})",
        )
    )
    df = pd.DataFrame(rows, columns=cols)
    notes = [
        "ours: Actions = classes with labeled clips; Videos = videos kept by de-duplication that have labeled clips; "
        "Annotations = labeled clips (label +1 or -1, golden-set guideline examples included); Candidate videos = decodable candidate videos before de-duplication"
    ]
    if pos is not None:
        notes.append(f"ours: {pos} positive and {neg} negative clips (paper: 755K positive, 993K negative of 1.75M)")
    if lab is None:
        notes.append("ours: no labeled clips (stage 05 has not run): counts not produced by this run")
    return df, notes


def _int(v):
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v)


def table2(stage: pd.DataFrame, candidates: int | None) -> tuple[pd.DataFrame, list[str]]:
    """Long form: each de-dup step with the paper's removed videos beside ours (our external target mapped by name)."""
    stage_cols = [c for c in stage.columns if c not in ("Internal", "Kept")]
    row = stage.iloc[0] if len(stage) else pd.Series(dtype=object)
    used, rows = set(), []
    rows.append(("Candidate videos (start)", "1.1M", "all candidates", candidates))
    for step, paper, key in PAPER_TABLE2:
        if key is None:
            rows.append((step, paper, "within each class", _int(row.get("Internal"))))
            continue
        hit = [c for c in stage_cols if key in c.lower().replace("-", "").replace("_", "")]
        used |= set(hit)
        if hit:
            rows.append((step, paper, ", ".join(hit), sum(_int(row.get(c)) or 0 for c in hit)))
        else:
            rows.append((step, paper, "not in this run", None))
    for c in stage_cols:
        if c not in used:
            rows.append((f"{c} (ours only)", "—", c, _int(row.get(c))))
    rows.append(("Kept after de-duplication", "—", "", _int(row.get("Kept"))))
    df = pd.DataFrame(rows, columns=["step", "removed (paper)", "target set (ours)", "removed (ours)"])
    df["removed (ours)"] = pd.Series([None if pd.isna(v) else int(v) for v in df["removed (ours)"]], dtype=object)
    notes = [
        "paper: starting with 1.1M candidate videos, duplicates removed within SLAC, then against Kinetics, ActivityNet, UCF-101 and HMDB-51 in turn; "
        "the paper does not print the number kept (1.1M minus the removals is about 922K)",
        "ours: our external targets are matched to the paper's datasets by name; the row 'Kept' is ours only",
    ]
    return df, notes


# ----------------------------------------------------------------------------- counts (Figure 1)
def pipeline_counts(metrics: dict, manifest, dedup, candidates, clips, labeled) -> dict:
    """This run's count at each step of Figure 1: from the data tables where given, else from metrics; None: unknown."""
    m = lambda stage, key: metrics.get(stage, {}).get(key)  # noqa: E731
    c = {}
    if manifest is not None and "status" in manifest:
        c["listed"], c["ok"] = int(len(manifest)), int((manifest.status == "ok").sum())
    else:
        c["listed"], c["ok"] = m("00_ingest", "listed"), m("00_ingest", "ok")
    if dedup is not None and "removed_by" in dedup:
        kept, rb = dedup.kept.astype(bool), dedup.removed_by.fillna("").astype(str)
        c["dedup_in"], c["kept"] = int(len(dedup)), int(kept.sum())
        c["removed_internal"] = int((~kept & (rb == "internal")).sum())
        c["removed_external"] = int((~kept & (rb != "internal")).sum())
    else:
        c["dedup_in"], c["kept"] = m("01_dedup", "candidates"), m("01_dedup", "kept")
        ext = m("01_dedup", "removed_external")
        c["removed_internal"], c["removed_external"] = (
            m("01_dedup", "removed_internal"),
            sum(ext.values()) if isinstance(ext, dict) else ext,
        )
    c["shots"] = m("02_shots_persons", "shots")
    if candidates is not None:
        c["person_shots"], c["person_videos"] = int(len(candidates)), int(candidates.video_id.nunique())
    else:
        c["person_shots"], c["person_videos"] = (
            m("02_shots_persons", "person_shots"),
            m("02_shots_persons", "videos_kept"),
        )
    c["X_frames"] = m("03_proposals", "X_frames") or m("04_sampling", "X_frames")
    c["frames_acc"], c["web_acc"] = (
        m("03_proposals", "frames_model_heldout_accuracy"),
        m("03_proposals", "web_model_heldout_accuracy"),
    )
    if clips is not None:
        c["clips"], c["clip_videos"] = int(len(clips)), int(clips.video_id.nunique())
        c["hard"], c["easy"] = (
            (int((clips.kind == "hard").sum()), int((clips.kind == "easy").sum())) if "kind" in clips else (None, None)
        )
    else:
        c["clips"], c["clip_videos"], c["hard"], c["easy"] = (
            m("04_sampling", "clips"),
            m("04_sampling", "videos"),
            m("04_sampling", "hard"),
            m("04_sampling", "easy"),
        )
    lab = _labeled_only(labeled)
    if lab is not None:
        c["labeled"], c["positives"], c["negatives"] = (
            int(len(lab)),
            int((lab.label == 1).sum()),
            int((lab.label == -1).sum()),
        )
        a = lab[lab.annotator != "golden_set"] if "annotator" in lab else lab
        c["seconds_per_clip"] = float(a.seconds.mean()) if "seconds" in a and len(a) else None
    else:
        c["labeled"], c["positives"], c["negatives"] = (
            m("05_annotate", "labeled"),
            m("05_annotate", "positives"),
            m("05_annotate", "negatives"),
        )
        c["seconds_per_clip"] = m("05_annotate", "seconds_per_clip")
    return c


def _n(v, fmt="{:,}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return fmt.format(v)


def counts_table(c: dict) -> pd.DataFrame:
    P = PAPER_PIPELINE
    rows = [
        ("candidate videos (decodable / listed)", f"{_n(c['ok'])} / {_n(c['listed'])}", P["candidates"]),
        ("removed as internal duplicates", _n(c["removed_internal"]), P["removed_internal"]),
        ("removed as duplicates of external test sets", _n(c["removed_external"]), P["removed_external"]),
        ("videos kept after de-duplication", _n(c["kept"]), "—"),
        ("shots in kept videos", _n(c["shots"]), "—"),
        ("person shots (proposals X)", _n(c["person_shots"]), P["person_share"]),
        ("videos with a person shot", _n(c["person_videos"]), f"{P['removed_no_person']} videos removed"),
        ("sampled 2-s clips (hard / easy)", f"{_n(c['clips'])} ({_n(c['hard'])} / {_n(c['easy'])})", P["clips"]),
        ("videos with sampled clips", _n(c["clip_videos"]), P["videos"]),
        (
            "labeled clips (positive / negative)",
            f"{_n(c['labeled'])} ({_n(c['positives'])} / {_n(c['negatives'])})",
            f"{P['clips']} ({P['positives']} / {P['negatives']})",
        ),
        ("annotation seconds per clip", _n(c["seconds_per_clip"], "{:.1f} s"), P["seconds_per_clip"]),
    ]
    return pd.DataFrame(rows, columns=["step", "ours", "paper"])


# ----------------------------------------------------------------------------- frames
def read_middle_frame(path, frame: int | None = None) -> np.ndarray | None:
    """The middle frame of a clip file (or frame `frame` of a video) as RGB uint8; None when unreadable."""
    if path is None or not Path(path).is_file():
        return None
    try:
        from .video import open_reader

        vr = open_reader(path)
        n = len(vr)
        i = n // 2 if frame is None else min(max(int(frame), 0), n - 1)
        return vr[i].asnumpy()
    except Exception:  # noqa: BLE001 - a broken file becomes a placeholder tile
        return None


def bordered(
    img: np.ndarray | None, color: str | None, width: int = 6, size: tuple[int, int] = (120, 160)
) -> np.ndarray:
    """img with a solid border of color (hex); a grey placeholder of size (h, w) for None."""
    if img is None:
        img = np.full((*size, 3), 90, np.uint8)
    if color is None:
        return img
    rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)], np.uint8)
    h, w = img.shape[:2]
    out = np.empty((h + 2 * width, w + 2 * width, 3), np.uint8)
    out[:] = rgb
    out[width : width + h, width : width + w] = img[..., :3]
    return out


def _tile(ax, img, color, caption=None, missing_text="clip file missing"):
    ax.imshow(bordered(img, color))
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    if img is None:
        ax.text(0.5, 0.5, missing_text, ha="center", va="center", color="white", fontsize=7, transform=ax.transAxes)
    if caption:
        ax.set_xlabel(caption, fontsize=7)


# ----------------------------------------------------------------------------- figures
def _plt():
    import matplotlib.pyplot as plt

    from . import plots  # noqa: F401  (house style, Agg backend)

    return plt


def plot_pipeline(c: dict, profile: dict):
    """Paper Figure 1 with this run's counts: boxes and arrows, ours in black, the paper's in grey."""
    plt = _plt()
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    fig, ax = plt.subplots(figsize=(14, 5.4))
    ax.set_xlim(0, 14)
    ax.set_ylim(0, 5.4)
    ax.axis("off")
    P = PAPER_PIPELINE

    def box(x, y, w, h, title, ours, paper, color):
        ax.add_patch(
            FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.05,rounding_size=0.12", fc=color, ec="#333333", lw=1.2)
        )
        ax.text(x + w / 2, y + h - 0.2, title, ha="center", va="top", fontsize=9.5, weight="bold", wrap=True)
        ax.text(x + w / 2, y + h / 2 - 0.15, ours, ha="center", va="center", fontsize=9)
        ax.text(x + w / 2, y + 0.12, paper, ha="center", va="bottom", fontsize=7.5, color="#666666", style="italic")

    def arrow(x0, y0, x1, y1, text=None):
        ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, lw=1.4, color="#333333"))
        if text:
            ax.text((x0 + x1) / 2 + 0.08, (y0 + y1) / 2, text, fontsize=7.5, ha="left", va="center", color="#333333")

    w, h, y = 2.05, 1.75, 3.2
    xs = [0.15 + i * 2.3 for i in range(6)]
    box(
        xs[0],
        y,
        w,
        h,
        "Video crawling",
        f"{_n(c['ok'])} candidate videos\n({_n(c['listed'])} listed)",
        f"paper: {P['candidates']} videos",
        "#e8f0fb",
    )
    box(
        xs[1],
        y,
        w,
        h,
        "De-duplication",
        f"{_n(c['kept'])} videos kept\n−{_n(c['removed_internal'])} internal, −{_n(c['removed_external'])} external",
        f"paper: −{P['removed_internal']}, −{P['removed_external']}",
        "#e8f0fb",
    )
    box(xs[2], y, w, h, "Shot detection", f"{_n(c['shots'])} shots", "paper: colour-histogram cuts", "#eef7ea")
    gone = None if c["kept"] is None or c["person_videos"] is None else c["kept"] - c["person_videos"]
    box(
        xs[3],
        y,
        w,
        h,
        "Person detection",
        f"{_n(c['person_shots'])} person shots\nin {_n(c['person_videos'])} videos\n(−{_n(gone)} without a person)",
        f"paper: {P['person_share']}, −{P['removed_no_person']} videos",
        "#eef7ea",
    )
    box(
        xs[4],
        y,
        w,
        h,
        "Active sampling R(x)",
        f"{_n(c['clips'])} 2-s clips\n{_n(c['hard'])} hard + {_n(c['easy'])} easy\nfrom {_n(c['clip_videos'])} videos",
        f"paper: {P['clips']} clips, {P['videos']} videos",
        "#fdf1e2",
    )
    box(
        xs[5],
        y,
        w,
        h,
        "Annotation: is this\naction happening?",
        f"{_n(c['labeled'])} labeled\n{_n(c['positives'])} pos / {_n(c['negatives'])} neg\n"
        f"{_n(c['seconds_per_clip'], '{:.1f}')} s per clip",
        f"paper: {P['positives']} / {P['negatives']}, {P['seconds_per_clip']}",
        "#fbe9e9",
    )
    for i in range(5):
        arrow(xs[i] + w + 0.02, y + h / 2, xs[i + 1] - 0.02, y + h / 2)
    # the two proposal models feed the sampler with their consensus and disagreement
    bw, bh, by = 2.3, 1.35, 0.35
    fx, gx = xs[3] - 0.25, xs[5] + w - bw + 0.1
    acc = lambda a: "n/a" if a is None else f"{a:.0%}"  # noqa: E731
    box(
        fx,
        by,
        bw,
        bh,
        "Video-frame classifier Y",
        f"held-out accuracy {acc(c['frames_acc'])}\non {_n(c['X_frames'])} person-shot frames X",
        f"paper: ResNet-50, {P['frames_model']}",
        "#f3eefb",
    )
    box(
        gx,
        by,
        bw,
        bh,
        "Web-image classifier G",
        f"held-out accuracy {acc(c['web_acc'])}",
        f"paper: ResNet-50, {P['web_model']}",
        "#f3eefb",
    )
    sx = xs[4] + w / 2
    arrow(fx + bw, by + bh / 2 + 0.15, sx - 0.15, y - 0.05, "$P^Y$")
    arrow(gx, by + bh / 2 + 0.15, sx + 0.15, y - 0.05, "$P^G$")
    ax.text(
        sx,
        by + bh / 2 - 0.25,
        "consensus + disagreement\n+ representativeness",
        ha="center",
        va="center",
        fontsize=7.5,
        color="#333333",
    )
    ax.set_title(f"Figure 1 — data collection with this run's counts ({profile['scale']}; paper in grey)", fontsize=11)
    fig.tight_layout()
    return fig


def _kind_of_clips(clips: pd.DataFrame, truth: pd.DataFrame | None):
    return (
        clips.merge(truth[["clip_id", "truth_kind"]], on="clip_id", how="left")
        if truth is not None
        else clips.assign(truth_kind=np.nan)
    )


def negatives_choice(
    params, clips, truth, labeled, candidates, segments, manifest
) -> tuple[str | None, list[dict], str]:
    """One class and, for each of action / no person / no context / no action, the clip (or video frame) shown.
    Returns (class, [dict(kind, path, frame, clip_id, note)], caption)."""
    seed = params.seed
    demo = params.data.source == "demo" and truth is not None and len(truth)
    if demo and clips is not None:
        d = _kind_of_clips(clips, truth)
        kinds = ("action", *NEGATIVE_TYPES)
        have = d.groupby("class_label").truth_kind.agg(lambda s: sum(k in set(s) for k in kinds))
        cls = sorted(have.index, key=lambda k: (-have[k], k))[0] if len(have) else None
        picks = []
        for kind in kinds:
            g = d[(d.class_label == cls) & (d.truth_kind == kind)].sort_values("clip_id")
            if len(g):
                r = g.iloc[int(np.random.default_rng(seed_of(int(seed), "fig2", kind)).integers(len(g)))]
                picks.append(dict(kind=kind, path=r.path, frame=None, clip_id=r.clip_id, note=r.clip_id))
                continue
            # no sampled clip of this kind (R(x) avoids them): a frame of a true segment of that kind in a video of the class
            hit = None
            if segments is not None and manifest is not None:
                vids = manifest[manifest.class_label == cls][["video_id", "path", "fps"]]
                s = segments[segments.kind == kind].merge(vids, on="video_id").sort_values(["video_id", "start_s"])
                if len(s):
                    r = s.iloc[int(np.random.default_rng(seed_of(int(seed), "fig2seg", kind)).integers(len(s)))]
                    hit = dict(
                        kind=kind,
                        path=r.path,
                        frame=int((r.start_s + r.end_s) / 2 * r.fps),
                        clip_id=None,
                        note=f"{r.video_id} @ {(r.start_s + r.end_s) / 2:.1f} s (truth segment)",
                    )
            picks.append(hit or dict(kind=kind, path=None, frame=None, clip_id=None, note="none in this run"))
        return (
            cls,
            picks,
            "kinds from the demo world's truth (clips_truth.parquet; a truth segment where no clip has the kind)",
        )
    lab = _labeled_only(labeled)
    if lab is None or lab.empty:
        return None, [], "no labeled clips"
    if candidates is not None and "person_score" in candidates:
        lab = lab.merge(candidates[["video_id", "shot_id", "person_score"]], on=["video_id", "shot_id"], how="left")
    else:
        lab = lab.assign(person_score=np.nan)
    counts = lab.groupby("class_label").label.agg(lambda s: ((s == 1).sum() > 0) + min(3, (s == -1).sum()))
    cls = sorted(counts.index, key=lambda k: (-counts[k], k))[0]
    g = lab[lab.class_label == cls].sort_values("clip_id")
    pos, neg = g[g.label == 1], g[g.label == -1]
    picks, used = [], set()
    if len(pos):
        r = pos.sort_values(["consensus", "clip_id"], ascending=[False, True], kind="mergesort").iloc[0]
        picks.append(
            dict(kind="action", path=r.path, frame=None, clip_id=r.clip_id, note=f"{r.clip_id} (labeled positive)")
        )
    orders = dict(
        no_person=(["person_score", "clip_id"], [True, True]),
        no_context=(["consensus", "clip_id"], [True, True]),
        no_action=(["consensus", "clip_id"], [False, True]),
    )
    for kind in NEGATIVE_TYPES:
        by, asc = orders[kind]
        n = neg[~neg.clip_id.isin(used)].sort_values(by, ascending=asc, kind="mergesort", na_position="last")
        if len(n):
            r = n.iloc[0]
            used.add(r.clip_id)
            picks.append(dict(kind=kind, path=r.path, frame=None, clip_id=r.clip_id, note=r.clip_id))
        else:
            picks.append(dict(kind=kind, path=None, frame=None, clip_id=None, note="none in this run"))
    return (
        cls,
        picks,
        (
            "no truth kinds outside the demo: labeled negatives chosen by proxy — no person: lowest person score of the shot; "
            "no context: lowest consensus P^Y_c + P^G_c; no action: highest consensus"
        ),
    )


def plot_negatives(cls, picks, caption: str):
    plt = _plt()
    titles = dict(
        action=f"Positive — action: {str(cls).replace('_', ' ')}",
        no_person="No person",
        no_context="No context",
        no_action="No action",
    )
    fig, axes = plt.subplots(1, 4, figsize=(11, 3.3))
    by_kind = {p["kind"]: p for p in picks}
    for ax, kind in zip(axes, ("action", *NEGATIVE_TYPES)):
        p = by_kind.get(kind, dict(path=None, frame=None, note="none in this run"))
        img = read_middle_frame(p["path"], p["frame"])
        _tile(
            ax, img, GREEN if kind == "action" else RED, textwrap.shorten(str(p["note"]), 48), "no example in this run"
        )
        ax.set_title(titles[kind], fontsize=9, color=GREEN if kind == "action" else RED, weight="bold")
    fig.suptitle("Figure 2 — positives and the three types of negatives (this run)", fontsize=11)
    fig.text(0.5, 0.01, "\n".join(textwrap.wrap(caption, 150)), ha="center", va="bottom", fontsize=7, color="#444444")
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    return fig


def guideline_examples(labeled: pd.DataFrame | None, max_classes: int = 5) -> tuple[pd.DataFrame, str]:
    """Per class the guideline examples of stage 05 (golden-set clips with role 'example': annotator golden_set);
    classes without them fall back to golden check clips, then to labeled clips (stated in the source note)."""
    from .annotation import GOLD_ANNOTATOR

    lab = _labeled_only(labeled)
    cols = ["class_label", "clip_id", "path", "label", "source"]
    if lab is None or lab.empty:
        return pd.DataFrame(columns=cols), "no labeled clips"
    out = []
    for cls in sorted(lab.class_label.unique())[:max_classes]:
        g = lab[lab.class_label == cls].sort_values("clip_id")
        for lab_value in (1, -1):
            none = pd.Series(False, index=g.index)
            for name, sel in (
                ("guideline example", (g.annotator == GOLD_ANNOTATOR) if "annotator" in g else none),
                ("golden check clip", g.is_gold.astype(bool) if "is_gold" in g else none),
                ("labeled clip", ~none),
            ):
                hit = g[sel & (g.label == lab_value)]
                if len(hit):
                    r = hit.iloc[0]
                    out.append(dict(class_label=cls, clip_id=r.clip_id, path=r.path, label=lab_value, source=name))
                    break
    df = pd.DataFrame(out, columns=cols)
    names = {
        "guideline example": "stage 05's golden-set guideline examples (role 'example', annotation.guideline_examples per class and polarity)",
        "golden check clip": "golden-set check clips (no guideline example)",
        "labeled clip": "labeled clips (no golden clip)",
    }
    kinds = [names[k] for k in names if k in set(df.source)]
    return df, "examples: " + ("; ".join(kinds) if kinds else "none")


def plot_guideline(examples: pd.DataFrame, definitions: dict, note: str):
    plt = _plt()
    classes = list(dict.fromkeys(examples.class_label)) or ["(no labeled clips)"]
    n_pos = max([int((examples[examples.class_label == c].label == 1).sum()) for c in classes] + [1])
    n_neg = max([int((examples[examples.class_label == c].label == -1).sum()) for c in classes] + [1])
    ncol = n_pos + n_neg
    fig = plt.figure(figsize=(3.6 + 2.0 * ncol, 1.75 * len(classes) + 0.9))
    gs = fig.add_gridspec(len(classes), ncol + 1, width_ratios=[1.9] + [1] * ncol)
    for i, cls in enumerate(classes):
        tx = fig.add_subplot(gs[i, 0])
        tx.axis("off")
        definition = definitions.get(cls, str(cls).replace("_", " "))
        tx.text(
            0,
            0.95,
            f"Action: {str(cls).replace('_', ' ').capitalize()}",
            fontsize=9.5,
            weight="bold",
            va="top",
            transform=tx.transAxes,
        )
        tx.text(
            0,
            0.72,
            "Definition: " + "\n".join(textwrap.wrap(definition, 44)),
            fontsize=7.5,
            va="top",
            transform=tx.transAxes,
        )
        e = examples[examples.class_label == cls]
        for j, (lab_value, k_max) in enumerate(((1, n_pos), (-1, n_neg))):
            rows = e[e.label == lab_value]
            for k in range(k_max):
                ax = fig.add_subplot(gs[i, 1 + k + (n_pos if lab_value == -1 else 0)])
                if k < len(rows):
                    r = rows.iloc[k]
                    _tile(
                        ax,
                        read_middle_frame(r.path),
                        GREEN if lab_value == 1 else RED,
                        textwrap.shorten(str(r.clip_id), 30),
                    )
                else:
                    ax.axis("off")
                if i == 0 and k == 0:
                    ax.set_title(
                        "Positive" if lab_value == 1 else "Negative",
                        color=GREEN if lab_value == 1 else RED,
                        weight="bold",
                        fontsize=10,
                    )
    fig.suptitle("Figure 3 — annotation guideline: definition, positive and negative examples (this run)", fontsize=11)
    fig.text(
        0.5, 0.005, note + "; frame: the middle of each 2-s clip", ha="center", va="bottom", fontsize=7, color="#444444"
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.96), w_pad=1.5)
    return fig


def grid_page(labeled: pd.DataFrame | None, page_size: int, seed: int) -> tuple[pd.DataFrame, dict]:
    """The clips of one annotation page in the grid's order (first class, first page): stage 05's page queue."""
    from .annotation import GOLD_ANNOTATOR, page_queue

    lab = _labeled_only(labeled)
    if lab is None or lab.empty:
        return pd.DataFrame(), {}
    ann = lab[lab.annotator != GOLD_ANNOTATOR] if "annotator" in lab else lab
    if ann.empty:
        return pd.DataFrame(), {}
    cls = sorted(ann.class_label.unique())[0]
    g = ann[ann.class_label == cls]
    order = {c: i for i, c in enumerate(page_queue(g.clip_id, cls, seed))}
    g = g.assign(_pos=g.clip_id.map(order)).sort_values("_pos", kind="mergesort")
    if "page" in g and (g.page >= 0).any():
        first = int(g.page[g.page >= 0].min())
        page = g[g.page == first]
        n_pages = int(g.page[g.page >= 0].nunique())
    else:
        first, page, n_pages = 0, g.head(page_size), int(math.ceil(len(g) / page_size))
    page = page.head(page_size).drop(columns="_pos").reset_index(drop=True)
    who = ", ".join(sorted(set(page.annotator))) if "annotator" in page else ""
    return page, dict(class_label=cls, page=first, pages=n_pages, annotator=who)


def plot_grid(page: pd.DataFrame, info: dict, definitions: dict, columns: int = 4):
    from .grid import KEYS

    plt = _plt()
    n = max(1, len(page))
    rows = int(math.ceil(n / columns))
    height = 2.0 * rows + 1.3
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= len(page):
            ax.axis("off")
            continue
        r = page.iloc[i]
        lab_value = (
            int(r.annotator_label) if "annotator_label" in page and int(r.annotator_label) != 0 else int(r.label)
        )
        key = KEYS[i] if i < len(KEYS) else ""
        _tile(
            ax,
            read_middle_frame(r.path),
            GREEN if lab_value == 1 else RED,
            f"[{key}] {'positive' if lab_value == 1 else 'negative'}",
        )
    cls = info.get("class_label", "")
    definition = definitions.get(cls, str(cls).replace("_", " "))
    fig.suptitle(
        f"Figure 4 — annotation grid, action: {str(cls).replace('_', ' ').capitalize()} — is this action happening?\n"
        f"page {info.get('page', 0) + 1} of {info.get('pages', 1)}, annotator {info.get('annotator', '')}; border = this run's label (click flips it)",
        fontsize=10,
    )
    fig.text(
        0.5,
        0.01,
        "\n".join(textwrap.wrap("Definition: " + definition, 120)),
        ha="center",
        va="bottom",
        fontsize=7.5,
        color="#444444",
    )
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - 0.85 / height, bottom=0.55 / height, hspace=0.28, wspace=0.06)
    return fig


def plot_class_balance(labeled: pd.DataFrame):
    plt = _plt()
    lab = _labeled_only(labeled)
    per = (
        lab.groupby("class_label")
        .label.agg(pos=lambda s: int((s == 1).sum()), neg=lambda s: int((s == -1).sum()))
        .sort_index()
    )
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(per) + 1.8))
    y = np.arange(len(per))
    axes[0].barh(y, per.pos, color=GREEN, label="positive")
    axes[0].barh(y, per.neg, left=per.pos, color=RED, label="negative")
    axes[0].set_yticks(y, per.index)
    axes[0].invert_yaxis()
    axes[0].set_xlabel("labeled clips")
    axes[0].set_title(
        f"Labeled clips per class ({int(per.pos.sum())} positive / {int(per.neg.sum())} negative)", fontsize=9
    )
    axes[0].legend(
        fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14 - 0.4 / max(1, len(per))), ncol=2, frameon=False
    )
    if "kind" in lab:
        share = (
            lab.assign(pos=(lab.label == 1).astype(float))
            .pivot_table(index="class_label", columns="kind", values="pos", aggfunc="mean")
            .reindex(per.index)
        )
        kinds = [k for k in ("hard", "easy") if k in share] + [k for k in share.columns if k not in ("hard", "easy")]
        wbar = 0.8 / max(1, len(kinds))
        for j, k in enumerate(kinds):
            axes[1].barh(
                y + (j - (len(kinds) - 1) / 2) * wbar,
                share[k].fillna(0),
                height=wbar,
                label=f"{k} clips",
                color=("#ff7f0e", "#1f77b4", "#9467bd")[j % 3],
            )
        axes[1].set_yticks(y, per.index)
        axes[1].invert_yaxis()
        axes[1].set_xlim(0, 1)
        axes[1].axvline(755 / (755 + 993), color="k", ls=":", lw=1, label="paper overall (755K / 1.75M)")
        axes[1].set_xlabel("share labeled positive")
        axes[1].set_title("Positive share of hard (R(x)) vs easy (top consensus) clips", fontsize=9)
        axes[1].legend(
            fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14 - 0.4 / max(1, len(per))), ncol=3, frameon=False
        )
    else:
        axes[1].axis("off")
    fig.tight_layout()
    return fig


def plot_clips_per_video(labeled: pd.DataFrame):
    plt = _plt()
    lab = _labeled_only(labeled)
    per = lab.groupby("video_id").agg(clips=("label", "size"), pos=("label", lambda s: int((s == 1).sum())))
    fig, ax = plt.subplots(figsize=(6.5, 3))
    top = int(max(per.clips.max(), 4))
    x = np.arange(top + 1)
    n_all = np.bincount(per.clips, minlength=top + 1)[: top + 1]
    n_pos = np.bincount(per.pos, minlength=top + 1)[: top + 1]
    ax.bar(x - 0.2, n_all, width=0.4, color="#1f77b4", label=f"labeled clips (mean {per.clips.mean():.2f})")
    ax.bar(x + 0.2, n_pos, width=0.4, color=GREEN, label=f"of them positive (mean {per.pos.mean():.2f})")
    ax.axvline(1.75 / 0.52, color="k", ls=":", lw=1.2, label="paper mean 3.37 (1.75M / 520K)")
    ax.set_xticks(x)
    ax.set_xlabel("clips per video")
    ax.set_ylabel("videos")
    ax.set_title(f"Clips per video ({len(per)} videos with labeled clips)", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def plot_r_distribution(labeled: pd.DataFrame, truth: pd.DataFrame | None):
    plt = _plt()
    lab = _labeled_only(labeled)
    if truth is not None and len(truth):
        lab = lab.merge(truth[["clip_id", "truth_kind"]], on="clip_id", how="left")
    panels = [("kind", "by sampling kind", None), ("label", "by label", {1: GREEN, -1: RED})]
    if "truth_kind" in lab and lab.truth_kind.notna().any():
        panels.append(("truth_kind", "by true segment kind (demo)", KIND_COLORS))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.8 * len(panels), 3), squeeze=False)
    bins = np.linspace(0, max(float(lab.R.max()), 1e-6), 21)
    for ax, (col, title, colors) in zip(axes[0], panels):
        if col not in lab:
            ax.axis("off")
            continue
        groups = sorted(lab[col].dropna().unique(), key=str)
        if col == "truth_kind":
            groups = [k for k in KIND_COLORS if k in set(groups)]
        for i, gval in enumerate(groups):
            vals = lab.R[lab[col] == gval]
            color = (colors or {}).get(gval, ("#ff7f0e", "#1f77b4", "#9467bd", "#8c564b")[i % 4])
            name = {1: "positive", -1: "negative"}.get(gval, gval) if col == "label" else gval
            ax.hist(
                vals,
                bins=bins,
                histtype="step",
                lw=1.6,
                color=color,
                label=f"{name} (n={len(vals)}, mean {vals.mean():.2f})",
            )
        ax.set_title(f"R(x) {title}", fontsize=9)
        ax.set_xlabel("R(x), normalised within the video")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("labeled clips")
    fig.tight_layout()
    return fig


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
        title = read_stage_markdown(md)[0] if md else None
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
    index_path = Path(index_path)
    base = index_path.parent
    L = [
        "# SLAC reproduction — report",
        "",
        "Written by stage 10 (`slac_utils/report.py`, `notebooks/10_report.ipynb`) from the outputs of this run; every link is relative "
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

    # every stage, in stage order
    troot, froot = Path(tables_root), Path(figures_root)
    own = {os.path.abspath(own_tables_dir), os.path.abspath(own_figures_dir)}
    mine = lambda p, r: (
        any(os.path.abspath(p).startswith(o + os.sep) for o in own) or STAGE in p.relative_to(r).parts[:-1]
    )  # noqa: E731
    tfiles = [p for p in sorted(troot.rglob("*")) if p.is_file() and not mine(p, troot)] if troot.is_dir() else []
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
    index_path.parent.mkdir(parents=True, exist_ok=True)
    index_path.write_bytes(("\n".join(L).rstrip() + "\n").encode("utf-8"))
    return index_path


# ----------------------------------------------------------------------------- stage
def run(
    params,
    tables_root,
    figures_root,
    metrics_dir,
    manifest_path,
    dedup_path,
    candidates_path,
    clips_path,
    clips_truth_path,
    labeled_path,
    truth_dir,
    guideline_path,
    export_dir,
    tables_dir,
    figures_dir,
    index_path,
    paper_profile_path=None,
    progress: bool = True,
) -> dict:
    """Stage 10: Tables 1-9 (md / csv / tex), Figures 1-4 and the researcher's figures, the HACS export and the index.

    Every input may be missing: the index then lists what this run did not produce. truth_dir (the demo world,
    truth/segments.parquet) and clips_truth_path are used only when data.source is demo."""
    from . import export
    from .guideline import load_definitions

    t0 = time.perf_counter()
    secs: dict[str, float] = {}
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    profile = profile_of(params, paper_profile_path)
    demo = params.data.source == "demo"
    say = print if progress else (lambda *a, **k: None)

    manifest, dedup, candidates = _maybe(manifest_path), _maybe(dedup_path), _maybe(candidates_path)
    clips, labeled = _maybe(clips_path), _maybe(labeled_path)
    truth = _maybe(clips_truth_path) if demo else None
    seg_path = Path(truth_dir) / "truth" / "segments.parquet" if (demo and truth_dir is not None) else None
    segments = _maybe(seg_path)
    metrics = read_metrics(metrics_dir)
    definitions = load_definitions(guideline_path, [] if labeled is None else labeled.class_label.unique())
    secs["read"] = time.perf_counter() - t0

    # ---- tables
    t = time.perf_counter()
    head = lambda n: [f"profile: {profile['text']}", "params: " + "; ".join(param_items(params, TABLES[n][2]))]  # noqa: E731
    tables: dict[int, list[dict]] = {}
    stage_tables = find_stage_tables(tables_root, exclude=[tables_dir])
    df1, notes1 = table1(profile, params, labeled, dedup, manifest)
    tables[1] = [
        dict(
            files=emit_table(
                df1,
                tables_dir,
                "table1_datasets",
                f"Table 1 — {TABLES[1][0]} ({profile['scale']} beside the paper)",
                [*head(1), "paper rows: Table 1 as printed; 'values from' says which row is whose", *notes1],
            ),
            source=None,
        )
    ]
    for n in range(2, 10):
        for src in stage_tables.get(n, []):
            title, notes = read_stage_markdown(src.with_suffix(".md"))
            title = title or f"Table {n} — {TABLES[n][0]}"
            df = read_stage_csv(src)
            extra = [f"from the stage table {src.parent.name}/{src.name}"]
            if n == 2:
                c01 = metrics.get("01_dedup", {}).get("candidates")
                df, n2 = table2(df, c01 if c01 is not None else (None if dedup is None else len(dedup)))
                extra += n2
            else:
                extra.append("paper values: the columns or rows marked 'paper'")
            files = emit_table(
                df,
                tables_dir,
                src.stem,
                f"{title} [{profile['scale']}]",
                [*head(n), *extra, *notes],
                FLOATFMT.get(n, ".3f"),
            )
            tables.setdefault(n, []).append(dict(files=files, source=src))
    counts = pipeline_counts(metrics, manifest, dedup, candidates, clips, labeled)
    extra_tables = {
        "pipeline_counts": dict(
            title=f"the numbers of Figure 1, ours ({profile['scale']}) beside the paper's",
            files=emit_table(
                counts_table(counts),
                tables_dir,
                "pipeline_counts",
                f"Pipeline counts — Figure 1's numbers ({profile['scale']} beside the paper)",
                [
                    f"profile: {profile['text']}",
                    "ours: from the data tables of stages 00-05 where present, else metrics/*.json; n/a: not produced by this run",
                    "paper: section 3 (1.1M candidates, 171K + 6.6K duplicates, 193K videos without people, 520K videos, 1.75M clips: 755K positive, 993K negative; 8.8 s per clip)",
                ],
            ),
        )
    }
    secs["tables"] = time.perf_counter() - t

    # ---- figures
    t = time.perf_counter()
    figures: dict[str, Path] = {}
    notes: dict[str, str] = {}
    figures["fig1_pipeline.png"] = save_figure(plot_pipeline(counts, profile), figures_dir / "fig1_pipeline.png")
    cls, picks, cap = negatives_choice(params, clips, truth, labeled, candidates, segments, manifest)
    if picks:
        figures["fig2_negatives.png"] = save_figure(
            plot_negatives(cls, picks, f"class {cls}; {cap}"), figures_dir / "fig2_negatives.png"
        )
    notes["fig2_negatives.png"] = f"class `{cls}`; {cap}" if picks else "no clips"
    ex, ex_note = guideline_examples(labeled)
    if len(ex):
        figures["fig3_guideline.png"] = save_figure(
            plot_guideline(ex, definitions, ex_note), figures_dir / "fig3_guideline.png"
        )
    notes["fig3_guideline.png"] = ex_note
    page, info = grid_page(labeled, params.annotation.page_size, params.seed)
    if len(page):
        figures["fig4_grid.png"] = save_figure(plot_grid(page, info, definitions), figures_dir / "fig4_grid.png")
        notes["fig4_grid.png"] = (
            f"class `{info['class_label']}`, page {info['page'] + 1} of {info['pages']} in stage 05's page order"
        )
    else:
        notes["fig4_grid.png"] = "no clips labeled by an annotator"
    lab = _labeled_only(labeled)
    if lab is not None and len(lab):
        figures["class_balance.png"] = save_figure(plot_class_balance(labeled), figures_dir / "class_balance.png")
        figures["clips_per_video.png"] = save_figure(plot_clips_per_video(labeled), figures_dir / "clips_per_video.png")
        if "R" in lab:
            figures["r_distribution.png"] = save_figure(
                plot_r_distribution(labeled, truth), figures_dir / "r_distribution.png"
            )
    else:
        for k in ("class_balance.png", "clips_per_video.png", "r_distribution.png"):
            notes[k] = f"no labeled clips ({labeled_path})"
    secs["figures"] = time.perf_counter() - t

    # ---- HACS export
    t = time.perf_counter()
    export_info: dict = dict(dir=Path(export_dir))
    if labeled is None or manifest is None:
        export_info["reason"] = f"needs {labeled_path} and {manifest_path}"
    else:
        export_info["counts"] = export.run(
            params,
            labeled_path,
            manifest_path,
            export_dir,
            segments_truth_path=seg_path if segments is not None else None,
        )
        export_info["segments"] = (
            "the demo world's planted action segments"
            if segments is not None
            else "positive clips merged per video, class and shot"
        )
    secs["export"] = time.perf_counter() - t

    # ---- index
    t = time.perf_counter()
    write_index(
        index_path,
        profile,
        params,
        tables,
        figures,
        notes,
        counts,
        export_info,
        tables_root,
        figures_root,
        metrics,
        metrics_dir,
        tables_dir,
        figures_dir,
        extra_tables,
    )
    secs["index"] = time.perf_counter() - t
    secs["total"] = time.perf_counter() - t0
    missing = [n for n in range(1, 10) if not tables.get(n)]
    say(
        f"stage 10: tables {sorted(tables)} (missing {missing}), {len(figures)} figures, export {'written' if 'counts' in export_info else 'skipped'}, "
        f"{secs['total']:.1f} s"
    )
    return dict(
        profile=profile,
        tables=tables,
        missing_tables=missing,
        figures=figures,
        figure_notes=notes,
        counts=counts,
        export=export_info.get("counts"),
        index=Path(index_path),
        seconds=secs,
    )
