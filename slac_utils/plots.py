"""Figures of the curation stages. Each function returns a matplotlib Figure; save with io.save_figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

KIND_COLORS = {"action": "#2ca02c", "no_action": "#ff7f0e", "no_context": "#1f77b4", "no_person": "#7f7f7f"}
plt.rcParams.update({"figure.dpi": 110, "font.size": 9, "svg.hashsalt": "slac"})


def contact_sheet(tiles: list[list[np.ndarray]], row_labels: list[str], col_labels: list[str], title: str = ""):
    """A grid of frames with row/column labels."""
    nr, nc = len(tiles), max(len(r) for r in tiles)
    fig, axes = plt.subplots(nr, nc, figsize=(1.9 * nc, 1.5 * nr), squeeze=False)
    for i in range(nr):
        for j in range(nc):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            if j < len(tiles[i]) and tiles[i][j] is not None:
                ax.imshow(tiles[i][j])
            else:
                ax.axis("off")
            if i == 0 and j < len(col_labels):
                ax.set_title(col_labels[j], fontsize=8)
            if j == 0:
                ax.set_ylabel(row_labels[i], fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def duration_hist(manifest: pd.DataFrame):
    ok = manifest[manifest.status == "ok"]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    sns.histplot(ok, x="duration_s", hue="class_label", multiple="stack", bins=20, ax=axes[0])
    axes[0].set_title("Video length by class (ok videos)")
    counts = manifest.groupby(["class_label", "status"]).size().unstack(fill_value=0)
    counts.plot.barh(stacked=True, ax=axes[1], color={"ok": "#2ca02c", "quarantined": "#d62728"})
    axes[1].set_title("Videos per class")
    fig.tight_layout()
    return fig


def similarity_hist(sims: pd.DataFrame, gamma: float, embedder: str):
    """Cosine of same-class pairs, split by planted truth when available (column 'pair')."""
    fig, ax = plt.subplots(figsize=(7, 3))
    hue = "pair" if "pair" in sims else None
    sns.histplot(sims, x="cosine", hue=hue, bins=60, stat="density", common_norm=False, element="step", ax=ax)
    ax.axvline(gamma, color="k", ls="--")
    ax.text(gamma, ax.get_ylim()[1] * 0.9, f" γ={gamma}", va="top")
    ax.set_title(f"Same-class pair similarity ({embedder} embedder)")
    fig.tight_layout()
    return fig


def pr_curve(pr: pd.DataFrame, gamma: float):
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(pr.threshold, pr.precision, "o-", label="precision")
    ax.plot(pr.threshold, pr.recall, "s-", label="recall")
    ax.axvline(gamma, color="k", ls="--", lw=1)
    ax.set_xlabel("cosine threshold γ")
    ax.set_ylim(-0.02, 1.02)
    ax.legend()
    ax.set_title("Internal de-dup vs planted duplicates")
    fig.tight_layout()
    return fig


def shot_timeline(
    d: np.ndarray, dl: np.ndarray | None, pred: np.ndarray, truth: pd.DataFrame, cfg, fps: float, title: str
):
    """Dissimilarity curves of one video with detected and true boundaries."""
    fig, ax = plt.subplots(figsize=(9, 2.6))
    t = np.arange(len(d)) / fps
    ax.plot(t, d, lw=1, label="d (consecutive)")
    if dl is not None:
        ax.plot(t, dl, lw=1, alpha=0.7, label=f"d (lag {cfg.gradual_lag})")
    ax.axhline(cfg.score_threshold, color="C0", ls=":", lw=1)
    for k, r in enumerate(truth.itertuples()):
        ax.axvspan(
            (r.frame - r.span / 2) / fps,
            (r.frame + r.span / 2 + 1) / fps,
            color="#2ca02c" if r.transition == "cut" else "#9467bd",
            alpha=0.35,
            label=("true " + r.transition) if k < 2 else None,
        )
    for k, b in enumerate(pred):
        ax.axvline(b / fps, color="r", ls="--", lw=1, label="detected" if k == 0 else None)
    ax.set_xlabel("time (s)")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    h, lab = ax.get_legend_handles_labels()
    uniq = dict(zip(lab, h))
    ax.legend(uniq.values(), uniq.keys(), fontsize=7, loc="upper right", ncol=3)
    fig.tight_layout()
    return fig


def person_scores(df: pd.DataFrame, threshold: float):
    """Person score distribution by truth, and a reliability diagram (is 0.5 meaningful?)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    sns.histplot(df, x="person_score", hue="truth_label", bins=25, element="step", ax=axes[0])
    axes[0].axvline(threshold, color="k", ls="--")
    axes[0].set_title("Shot person score by ground truth")
    bins = np.linspace(0, 1, 11)
    idx = np.clip(np.digitize(df.person_score, bins) - 1, 0, 9)
    rel = (
        pd.DataFrame({"bin": idx, "y": df.truth.astype(float), "p": df.person_score})
        .groupby("bin")
        .agg(p=("p", "mean"), y=("y", "mean"), n=("y", "size"))
    )
    axes[1].plot([0, 1], [0, 1], "k:", lw=1)
    axes[1].scatter(rel.p, rel.y, s=10 + rel.n, label="shots (size = count)")
    axes[1].set_xlabel("mean predicted score")
    axes[1].set_ylabel("fraction with a person")
    axes[1].set_title("Reliability of the person score")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    return fig


def person_score_hist(df: pd.DataFrame, threshold: float):
    """Without ground truth: the shots' person scores and, per video, the share of shots that pass the threshold."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    axes[0].hist(df.person_score, bins=np.linspace(0, 1, 26), color="#1f77b4", alpha=0.85)
    axes[0].axvline(threshold, color="k", ls="--", lw=1, label=f"threshold {threshold}")
    axes[0].set_xlabel("shot person score")
    axes[0].set_ylabel("shots")
    axes[0].legend(fontsize=7)
    axes[0].set_title("Person score per shot (no ground truth)")
    share = df.groupby("video_id").has_person.mean() if len(df) else pd.Series(dtype=float)
    axes[1].hist(share, bins=np.linspace(0, 1, 11), color="#2ca02c", alpha=0.85)
    axes[1].set_xlabel("share of a video's shots with a person")
    axes[1].set_ylabel("videos")
    axes[1].set_title(f"{int((share == 0).sum())} of {len(share)} videos have no person shot")
    fig.tight_layout()
    return fig


def training_curves(
    logs: dict[str, list[dict]],
    accuracy_key: str = "train_accuracy",
    titles: tuple[str, str] = ("training loss", "training accuracy"),
):
    """Loss and training accuracy (column ``accuracy_key``) per epoch for each model."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3))
    for name, log in logs.items():
        df = pd.DataFrame(log)
        axes[0].plot(df.epoch, df.loss, "o-", label=name)
        axes[1].plot(df.epoch, df[accuracy_key], "o-", label=name)
    axes[0].set_title(titles[0])
    axes[1].set_title(titles[1])
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def strategy_shares(comp: pd.DataFrame, kinds: list[str]):
    """Stacked bars: share of the annotation budget spent on each true segment kind, per strategy."""
    fig, ax = plt.subplots(figsize=(7, 3))
    left = np.zeros(len(comp))
    for k in kinds:
        v = comp[k].to_numpy()
        ax.barh(comp.strategy, v, left=left, color=KIND_COLORS[k], label=k.replace("_", " "))
        for y, (l, w) in enumerate(zip(left, v)):
            if w > 0.06:
                ax.text(l + w / 2, y, f"{w:.0%}", ha="center", va="center", fontsize=8, color="white")
        left += v
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of sampled frames (same budget per video)")
    ax.legend(ncol=4, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.set_title("What each sampling strategy asks annotators to look at")
    fig.tight_layout()
    return fig


def r_distribution(df: pd.DataFrame):
    """Distribution of the consensus, disagreement and normalised R by true segment kind."""
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    d = df[df.truth_kind != ""]
    order = [k for k in KIND_COLORS if k in set(d.truth_kind)]
    pal = {k: KIND_COLORS[k] for k in order}
    for ax, col, title in zip(
        axes,
        ["consensus", "kl", "R"],
        ["consensus P^Y_c + P^G_c", "disagreement KL(P^Y‖P^G)", "R(x), normalised per video"],
    ):
        sns.boxplot(
            d, x="truth_kind", y=col, hue="truth_kind", order=order, palette=pal, ax=ax, fliersize=2, legend=False
        )
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=20)
    fig.tight_layout()
    return fig


def r_by_selection(df: pd.DataFrame):
    """Without ground truth: consensus, disagreement and R of the frames R(x) sampled (hard, easy) versus the rest."""
    d = df.assign(selection=df.kind.replace({"": "not sampled"}))
    order = [k for k in ("hard", "easy", "not sampled") if k in set(d.selection)]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3))
    for ax, col, title in zip(
        axes,
        ["consensus", "kl", "R"],
        ["consensus P^Y_c + P^G_c", "disagreement KL(P^Y‖P^G)", "R(x), normalised per video"],
    ):
        sns.boxplot(d, x="selection", y=col, order=order, color="#1f77b4", ax=ax, fliersize=2)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("")
    fig.suptitle(f"{len(d)} frames of X: what R(x) picked (no ground truth)", fontsize=9)
    fig.tight_layout()
    return fig


def transfer_bars(acc: pd.DataFrame):
    """Top-1 on each transfer target: grouped bars per input (RGB, flow, two-stream) and metric, one colour per
    initialisation (scratch vs SLAC pre-training, and any other checkpoint)."""
    targets = list(dict.fromkeys(acc.target))
    fig, axes = plt.subplots(len(targets), 1, figsize=(9, 3 * len(targets)), squeeze=False)
    for ax, t in zip(axes[:, 0], targets):
        d = acc[acc.target == t].assign(
            x=lambda f: f.modality.str.upper().str.replace("TWO-STREAM", "2-stream") + "\n" + f.metric
        )
        sns.barplot(data=d, x="x", y="accuracy", hue="init", ax=ax, palette="deep")
        ax.set_title(f"{t}: fine-tuned from scratch vs pre-trained")
        ax.set_xlabel("")
        ax.set_ylabel("top-1 (%)")
        ax.set_ylim(0, 100)
        ax.legend(fontsize=8, title=None)
    fig.tight_layout()
    return fig
