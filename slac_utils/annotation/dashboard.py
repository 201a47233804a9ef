"""The researcher's QC dashboard while the team labels (paper 3.7: accuracy on the golden set watched, clarifications
given and clips re-annotated until every annotator is above 90%).  Pure functions over the label store's tables;
``notebooks/qc_dashboard.ipynb`` shows them (served with Voilà by ``make dashboard``; reload to refresh).

* :func:`progress` — per class: owner, clips labeled / total, positives, share done;
* :func:`annotators` — per annotator: clips, pages, seconds per clip (mean, median), golden-set accuracy and flag
  (stage 05's :func:`~.qc.qc_annotators` on the live store);
* :func:`gold_over_time` — each annotator's cumulative golden-set accuracy after each golden clip they submitted,
  in submit order (the figure draws the ``gold_min_accuracy`` line);
* :func:`reannotation_queue` / :func:`reopen` — the labels of an annotator under the line, and the action that
  sends them back to that annotator's pages after a clarification (undo rows, source ``qc``: nothing is deleted);
* :func:`overlap_kappa` — beyond the paper: Cohen's kappa per class between the owner's labels and a second
  annotator's on the overlap sample (``annotation.overlap_rate``; :class:`~.session.AnnotationSession` with
  ``overlap=True``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .qc import export_labels, qc_annotators
from .store import GOLD_ANNOTATOR, LabelStore


def progress(store: LabelStore, clips: pd.DataFrame) -> pd.DataFrame:
    """class_label, annotator (owner), labeled, total, positives, share_done (golden examples excluded)."""
    gold = store.gold()
    examples = set(gold.clip_id[gold.role == "example"])
    todo = clips[~clips.clip_id.isin(examples)]
    cur = store.current_labels()
    cur = cur[cur.clip_id.isin(set(todo.clip_id))]
    owners = store.assignments().set_index("class_label").annotator
    out = todo.groupby("class_label").size().rename("total").to_frame()
    out["labeled"] = cur.groupby("class_label").size()
    out["positives"] = cur[cur.label == 1].groupby("class_label").size()
    out = out.fillna(0).astype("int64").reset_index()
    out.insert(1, "annotator", [owners.get(c, "—") for c in out.class_label])
    out["share_done"] = out.labeled / out.total.clip(lower=1)
    return out[["class_label", "annotator", "labeled", "total", "positives", "share_done"]]


def annotators(store: LabelStore, clips: pd.DataFrame, min_accuracy: float) -> pd.DataFrame:
    """Stage 05's per-annotator QC table on the store as it is now."""
    labeled, _ = export_labels(store, clips)
    return qc_annotators(labeled[labeled.annotator != GOLD_ANNOTATOR], min_accuracy)


def gold_over_time(store: LabelStore) -> pd.DataFrame:
    """annotator, n (golden clips submitted so far), correct, accuracy, ts_server: after each live golden submit."""
    cur = store.current_labels()
    gold = store.gold()
    checks = gold[gold.role == "check"][["clip_id", "label"]].rename(columns=dict(label="gold_label"))
    g = cur.merge(checks, on="clip_id").sort_values("event_id", kind="mergesort")
    g = g[g.annotator != GOLD_ANNOTATOR]
    if g.empty:
        return pd.DataFrame(columns=["annotator", "n", "correct", "accuracy", "ts_server"])
    g["ok"] = (g.label == g.gold_label).astype(int)
    g["n"] = g.groupby("annotator").cumcount() + 1
    g["correct"] = g.groupby("annotator").ok.cumsum()
    g["accuracy"] = g.correct / g.n
    return g[["annotator", "n", "correct", "accuracy", "ts_server"]].reset_index(drop=True)


def reannotation_queue(store: LabelStore, clips: pd.DataFrame, min_accuracy: float) -> pd.DataFrame:
    """The live labels of every annotator whose golden-set accuracy is under ``min_accuracy``: annotator,
    class_label, clip_id, label, gold_accuracy (what a clarification would send back to them)."""
    acc = store.gold_accuracy()
    low = acc[acc.gold_accuracy < min_accuracy].set_index("annotator").gold_accuracy
    cur = store.current_labels()
    q = cur[cur.annotator.isin(set(low.index))][["annotator", "class_label", "clip_id", "label"]]
    return q.assign(gold_accuracy=q.annotator.map(low)).sort_values(["annotator", "clip_id"]).reset_index(drop=True)


def reopen(store: LabelStore, annotator: str, class_label: str) -> int:
    """After a clarification: retract the annotator's live labels of the class (undo rows, source ``qc``), so
    their next session shows those clips again; returns the clips reopened. Golden checks are reopened too."""
    cur = store.current_labels(class_label)
    mine = cur[cur.annotator == annotator]
    if mine.empty:
        return 0
    store.undo(annotator, class_label, [(int(e), c, None) for e, c in zip(mine.event_id, mine.clip_id)], source="qc")
    return len(mine)


def cohen_kappa(a, b) -> float:
    """Cohen's kappa of two raters' labels of the same items (NaN with no items; 1.0 when both agree on one label)."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0:
        return float("nan")
    po = float((a == b).mean())
    cats = np.union1d(a, b)
    pe = float(sum((a == c).mean() * (b == c).mean() for c in cats))
    return 1.0 if pe == 1.0 else (po - pe) / (1 - pe)


def overlap_kappa(store: LabelStore) -> pd.DataFrame:
    """Per class: clips labeled by the owner and by a second annotator (overlap sample), their agreement and
    Cohen's kappa; ``second`` names the overlap annotators."""
    cols = ["class_label", "owner", "second", "clips", "agreement", "kappa"]
    ov = store.overlap_labels()
    if ov.empty:
        return pd.DataFrame(columns=cols)
    cur = store.current_labels()[["clip_id", "annotator", "label"]].rename(
        columns=dict(annotator="owner", label="owner_label")
    )
    m = ov.merge(cur, on="clip_id")
    m = m[m.owner != m.annotator]
    rows = []
    for cls, g in m.groupby("class_label", sort=True):
        rows.append(
            dict(
                class_label=cls,
                owner=", ".join(sorted(set(g.owner))),
                second=", ".join(sorted(set(g.annotator))),
                clips=len(g),
                agreement=float((g.label == g.owner_label).mean()),
                kappa=cohen_kappa(g.owner_label, g.label),
            )
        )
    return pd.DataFrame(rows, columns=cols)


def plot_gold_over_time(curve: pd.DataFrame, min_accuracy: float):
    """Each annotator's cumulative golden-set accuracy against the golden clips they have submitted, with the line
    every annotator must stay above (paper: 90%)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    for who, g in curve.groupby("annotator", sort=True):
        ax.plot(g.n, g.accuracy, marker="o", ms=3, label=who)
    ax.axhline(min_accuracy, color="#c00", ls="--", lw=1, label=f"{min_accuracy:.0%} line")
    ax.set(xlabel="golden clips submitted", ylabel="golden-set accuracy so far", ylim=(0, 1.02))
    ax.set_title("Golden-set accuracy over time")
    if len(curve):
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


def png(fig) -> bytes:
    """The figure as PNG bytes (closed after), for display in any kernel backend."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()
