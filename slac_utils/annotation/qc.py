"""From the store to ``labeled_clips.parquet``, and the pure functions over it: annotator and class QC, label
accuracy against truth, the paper's Table 3 cost, and their figures."""

from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from .. import plots  # noqa: F401  (house style, Agg backend)
from ..paper import PAPER_TABLE3 as PAPER
from .store import GOLD_ANNOTATOR, TRUTH_KINDS, LabelStore, gold_accuracy_table


# ----------------------------------------------------------------------------- export
def export_labels(store: LabelStore, clips: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """labeled_clips rows (see the module docstring) from the store's current labels and golden set.
    Returns (table, number of stored labels whose clip is not in clips)."""
    cur = store.current_labels()
    gold = store.gold()
    orphans = int((~cur.clip_id.isin(set(clips.clip_id))).sum())
    lab = cur[["clip_id", "annotator", "label", "seconds", "page", "ts_server"]].rename(
        columns=dict(label="annotator_label")
    )
    ex = gold[(gold.role == "example") & ~gold.clip_id.isin(set(lab.clip_id))]
    lab = pd.concat(
        [
            lab,
            pd.DataFrame(
                dict(
                    clip_id=ex.clip_id,
                    annotator=GOLD_ANNOTATOR,
                    annotator_label=0,
                    seconds=np.nan,
                    page=-1,
                    ts_server=np.nan,
                )
            ),
        ],
        ignore_index=True,
    )
    out = clips.merge(lab, on="clip_id", how="inner").merge(
        gold[["clip_id", "label"]].rename(columns=dict(label="gold_label")), on="clip_id", how="left"
    )
    out["is_gold"] = out.gold_label.notna()
    out["gold_label"] = out.gold_label.fillna(0).astype("int8")
    out["annotator_label"] = out.annotator_label.astype("int8")
    out["label"] = np.where(out.is_gold, out.gold_label, out.annotator_label).astype("int8")
    out = out.astype(dict(seconds="float64", ts_server="float64", page="int64", annotator=str))
    front = list(clips.columns) + [
        "label",
        "annotator_label",
        "annotator",
        "is_gold",
        "gold_label",
        "seconds",
        "page",
        "ts_server",
    ]
    return out[front].sort_values(["class_label", "clip_id"], kind="mergesort").reset_index(drop=True), orphans


def check_min_labeled(labeled: pd.DataFrame, classes: Iterable[str], minimum: int) -> None:
    """Refuse (ValueError naming the classes) when a class has fewer than `minimum` labeled clips."""
    n = labeled.groupby("class_label").size()
    short = {c: int(n.get(c, 0)) for c in sorted(set(classes)) if n.get(c, 0) < minimum}
    if short:
        raise ValueError(
            "annotation: too few labeled clips for later stages (annotation.min_labeled_per_class="
            f"{minimum}): "
            + ", ".join(f"{c} has {k}" for c, k in short.items())
            + ". Label them with the grid in notebooks/05_annotate.ipynb, then re-run."
        )


# ----------------------------------------------------------------------------- QC (pure functions over labeled_clips)
def qc_annotators(labeled: pd.DataFrame, min_accuracy: float) -> pd.DataFrame:
    """Per annotator: classes, clips, pages, golden-set accuracy (+ flag), time per clip."""
    a = labeled[labeled.annotator != GOLD_ANNOTATOR]
    cols = [
        "annotator",
        "classes",
        "clips",
        "pages",
        "gold_n",
        "gold_correct",
        "gold_accuracy",
        "flag",
        "seconds_per_clip",
        "median_seconds_per_clip",
        "hours",
    ]
    if a.empty:
        return pd.DataFrame(columns=cols)
    base = (
        a.groupby("annotator")
        .agg(
            classes=("class_label", lambda s: ", ".join(sorted(set(s)))),
            clips=("clip_id", "size"),
            seconds_per_clip=("seconds", "mean"),
            median_seconds_per_clip=("seconds", "median"),
            hours=("seconds", lambda s: s.sum() / 3600),
        )
        .reset_index()
    )
    pages = a.drop_duplicates(["annotator", "class_label", "page"]).groupby("annotator").size().rename("pages")
    base = base.merge(pages, left_on="annotator", right_index=True)
    g = a[a.is_gold]
    acc = gold_accuracy_table(
        pd.DataFrame(dict(annotator=g.annotator, label=g.annotator_label, gold_label=g.gold_label))
    )
    out = base.merge(acc, on="annotator", how="left").fillna(dict(gold_n=0, gold_correct=0))
    out["flag"] = np.where(
        out.gold_accuracy.isna(),
        "no golden clips",
        np.where(out.gold_accuracy < min_accuracy, f"BELOW {min_accuracy:.0%}", "ok"),
    )
    return out.astype(dict(gold_n="int64", gold_correct="int64"))[cols].sort_values("annotator").reset_index(drop=True)


def qc_classes(labeled: pd.DataFrame) -> pd.DataFrame:
    """Per class: annotator, clips, positives, negatives, share positive, golden clips, time per clip."""
    g = labeled.groupby("class_label")
    out = pd.DataFrame(
        dict(
            annotator=g.annotator.agg(lambda s: ", ".join(sorted(set(s) - {GOLD_ANNOTATOR})) or GOLD_ANNOTATOR),
            clips=g.size(),
            positives=g.label.agg(lambda s: int((s == 1).sum())),
            negatives=g.label.agg(lambda s: int((s == -1).sum())),
            gold_clips=g.is_gold.sum().astype(int),
            seconds_per_clip=g.seconds.mean(),
        )
    ).reset_index()
    out = out.astype(dict(clips="int64", positives="int64", negatives="int64", gold_clips="int64"))
    out.insert(5, "share_positive", out.positives / out.clips)
    return out


def qc_truth(labeled: pd.DataFrame, truth: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Against the demo world's truth: (accuracy per class + all, share of each truth kind among positives / negatives)."""
    d = labeled.merge(truth, on="clip_id", how="inner")
    by_ann = d[d.annotator_label != 0]
    rows = []
    for cls, g in [*d.groupby("class_label"), ("all", d)]:
        a = by_ann[by_ann.class_label == cls] if cls != "all" else by_ann
        rows.append(
            dict(
                class_label=cls,
                clips=len(g),
                label_accuracy=float((g.label == g.truth_label).mean()) if len(g) else np.nan,
                annotator_accuracy=float((a.annotator_label == a.truth_label).mean()) if len(a) else np.nan,
                true_positives_found=float(
                    ((g.label == 1) & (g.truth_label == 1)).sum() / max(1, (g.truth_label == 1).sum())
                ),
            )
        )
    acc = pd.DataFrame(rows)
    kinds = []
    for cls, g in [*d.groupby("class_label"), ("all", d)]:
        for lab, name in ((1, "positive"), (-1, "negative")):
            s = g[g.label == lab]
            kinds.append(
                dict(
                    class_label=cls,
                    label=name,
                    clips=len(s),
                    **{k: float((s.truth_kind == k).mean()) if len(s) else np.nan for k in TRUTH_KINDS},
                )
            )
    return acc, pd.DataFrame(kinds)


def cost_table(labeled: pd.DataFrame, clips: pd.DataFrame, cfg, simulated: bool) -> tuple[pd.DataFrame, dict]:
    """Paper Table 3 beside ours: per clip, per video, dataset estimate at the paper's scale and for this dataset."""
    a = labeled[labeled.annotator != GOLD_ANNOTATOR]
    per_clip = float(a.seconds.mean()) if len(a) else float("nan")
    videos = a.video_id.nunique()
    per_video = float(a.seconds.sum() / videos) if videos else float("nan")
    full_min = cfg.full_annotation_minutes_per_video
    n_videos = clips.video_id.nunique()
    ours = "simulated" if simulated else "measured"
    hr = lambda x: f"{x / 1000:,.1f}K hr" if x >= 10_000 else f"{x:,.1f} hr"  # noqa: E731
    rows = [
        ("Per clip", "N/A", f"{PAPER['per_clip_s']} sec", "N/A", f"{per_clip:.1f} sec"),
        (
            "Per video",
            f"{PAPER['per_video_full_min']} min",
            f"{PAPER['per_video_sparse_s']} sec",
            f"{full_min} min",
            f"{per_video:.1f} sec",
        ),
        (
            f"Dataset est. ({PAPER['videos'] // 1000}K videos)",
            f"{PAPER['dataset_full_hr'] / 1000:.1f}K hr",
            f"{PAPER['dataset_sparse_hr']:,} hr",
            hr(full_min * 60 * PAPER["videos"] / 3600),
            hr(per_video * PAPER["videos"] / 3600),
        ),
        (
            f"This dataset ({n_videos} videos, {len(clips)} clips)",
            "—",
            "—",
            hr(full_min * 60 * n_videos / 3600),
            hr(per_video * n_videos / 3600),
        ),
        (
            "Saving vs full",
            "—",
            f"{1 - PAPER['dataset_sparse_hr'] / PAPER['dataset_full_hr']:.1%}",
            "—",
            f"{1 - per_video / (full_min * 60):.1%}",
        ),
    ]
    df = pd.DataFrame(
        rows,
        columns=[
            "",
            "Full annotation (paper)",
            "Sparse annotation (paper)",
            "Full annotation (ours: param)",
            f"Sparse annotation (ours: {ours})",
        ],
    )
    nums = dict(
        seconds_per_clip=per_clip,
        seconds_per_video=per_video,
        clips_per_video=float(len(a) / videos) if videos else float("nan"),
        dataset_hours_paper_scale=per_video * PAPER["videos"] / 3600,
        dataset_hours=per_video * n_videos / 3600,
        saving_vs_full=1 - per_video / (full_min * 60),
    )
    return df, nums


# ----------------------------------------------------------------------------- figures
def plot_time_per_clip(labeled: pd.DataFrame, ours: str):
    import matplotlib.pyplot as plt  # deferred: matplotlib loads only when a figure is drawn

    a = labeled[labeled.annotator != GOLD_ANNOTATOR]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(a.seconds, bins=30, color="#1f77b4", alpha=0.8)
    ax.axvline(a.seconds.mean(), color="k", ls="--", lw=1, label=f"ours ({ours}) {a.seconds.mean():.1f} s")
    ax.axvline(PAPER["per_clip_s"], color="#d62728", ls=":", lw=1.5, label=f"paper {PAPER['per_clip_s']} s")
    ax.set_xlabel("seconds per clip (page time / clips on the page)")
    ax.set_ylabel("clips")
    ax.legend()
    ax.set_title("Annotation time per clip")
    fig.tight_layout()
    return fig


def plot_labels(per_class: pd.DataFrame, per_annotator: pd.DataFrame, min_accuracy: float):
    import matplotlib.pyplot as plt  # deferred: matplotlib loads only when a figure is drawn

    fig, axes = plt.subplots(1, 2, figsize=(9, 0.4 * max(len(per_class), len(per_annotator)) + 1.5))
    y = np.arange(len(per_class))
    axes[0].barh(y, per_class.positives, color="#2ca02c", label="positive")
    axes[0].barh(y, per_class.negatives, left=per_class.positives, color="#d62728", label="negative")
    axes[0].set_yticks(y, per_class.class_label)
    axes[0].set_xlabel("labeled clips")
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    axes[0].set_title("Labels per class")
    acc = per_annotator.dropna(subset=["gold_accuracy"])
    y = np.arange(len(acc))
    axes[1].barh(y, acc.gold_accuracy, color=np.where(acc.gold_accuracy < min_accuracy, "#d62728", "#1f77b4"))
    axes[1].axvline(min_accuracy, color="k", ls="--", lw=1)
    for yi, r in zip(y, acc.itertuples()):
        axes[1].text(0.02, yi, f"{r.gold_correct}/{r.gold_n}", va="center", color="white", fontsize=8)
    axes[1].set_yticks(y, acc.annotator)
    axes[1].set_xlim(0, 1)
    axes[1].set_xlabel("golden-set accuracy")
    axes[1].set_title(f"Annotators (flag below {min_accuracy:.0%})")
    fig.tight_layout()
    return fig
