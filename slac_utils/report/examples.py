"""Figures of real frames: Fig. 2 (a positive and the three negative types), Fig. 3 (guideline examples), Fig. 4
(an annotation page)."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ..annotation import GOLD_ANNOTATOR, page_queue
from ..grid import KEYS
from ..seeding import seed_of
from ..video.decode import open_reader
from .catalog import GREEN, NEGATIVE_TYPES, RED
from .counts import _labeled_only
from .figures import _plt


# ----------------------------------------------------------------------------- frames
def read_middle_frame(path, frame: int | None = None) -> np.ndarray | None:
    """The middle frame of a clip file (or frame `frame` of a video) as RGB uint8; None when unreadable."""
    if path is None or not Path(path).is_file():
        return None
    try:
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
