"""Stage 09's figure of per-frame scores against the ground truth."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .. import plots  # noqa: F401  (Agg backend, shared style)
from .tables import MODELS


def scores_figure(videos, scores, fps, gt, dets_before, dets_after, classes, title):
    """Per-frame score of the video's class (solid) and background (dotted) for each model, ground truth shaded,
    the top detections before (thin bars) and after refinement (thick bars) of the true class above."""

    fig, axes = plt.subplots(len(videos), 1, figsize=(9, 2.4 * len(videos)), squeeze=False)
    colors = {"scratch": "#1f77b4", "slac": "#d62728"}
    for ax, vid in zip(axes[:, 0], videos):
        g = gt[gt.video_id == vid]
        label = g.label.iloc[0]
        k = classes.index(label)
        for _, r in g.iterrows():
            ax.axvspan(r.start, r.end, color="#2ca02c", alpha=0.18, lw=0)
        for m, col in colors.items():
            s = scores[m][vid]
            t = (np.arange(len(s)) + 0.5) / fps[vid]
            ax.plot(t, s[:, k], color=col, lw=1.2, label=f"{MODELS[m]}: P({label})")
            ax.plot(t, s[:, -1], color=col, lw=0.8, ls=":", label=f"{MODELS[m]}: P(background)")
        for j, (m, col) in enumerate(colors.items()):
            for dets, y, lw in ((dets_before, 1.06 + 0.08 * j, 2), (dets_after, 1.26 + 0.08 * j, 4)):
                d = dets[m]
                d = (
                    d[(d.video_id == vid) & (d.label == label)]
                    .sort_values("score", ascending=False, kind="mergesort")
                    .head(3)
                )
                for _, r in d.iterrows():
                    ax.plot([r.start, r.end], [y, y], color=col, lw=lw, solid_capstyle="butt")
        ax.set_ylim(0, 1.45)
        ax.set_yticks([0, 0.5, 1.0, 1.1, 1.3])
        ax.set_yticklabels(["0", "0.5", "1", "before", "after"])
        ax.set_title(f"{vid} ({label}); green: ground truth; bars: top-3 detections", fontsize=8)
        ax.set_xlabel("seconds")
    axes[0, 0].legend(fontsize=6, ncol=2, loc="lower right")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
