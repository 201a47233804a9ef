"""Figure 1 (the pipeline with this run's counts) and the label-statistics figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import plots  # noqa: F401  (house style, Agg backend)
from ..paper import PAPER_PIPELINE
from .catalog import GREEN, KIND_COLORS, RED
from .counts import _labeled_only, _n


# ----------------------------------------------------------------------------- figures
def _plt():
    import matplotlib.pyplot as plt  # deferred: matplotlib loads only when a figure is drawn

    return plt


def plot_pipeline(c: dict, profile: dict):
    """Paper Figure 1 with this run's counts: boxes and arrows, ours in black, the paper's in grey.

    Long on purpose: one figure, box after box, in the order of the paper's Figure 1."""
    plt = _plt()
    from matplotlib.patches import (  # deferred: matplotlib loads only when a figure is drawn
        FancyArrowPatch,
        FancyBboxPatch,
    )

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
