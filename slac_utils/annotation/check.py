"""Stage 05's first command, ``python -m slac_utils.annotation check``: in human mode, stop with one line saying what
to do while a class has too few labels; and the reader of the clips' planted truth. The stage itself is
:mod:`slac_utils.stages.annotate`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..config import annotation_mode
from .backends import StoreError
from .qc import (
    export_labels,
)
from .store import TRUTH_COLUMNS, open_store


# ----------------------------------------------------------------------------- stage
def read_truth(path) -> pd.DataFrame:
    """clips_truth.parquet, or an empty table with its columns when the file is absent (no truth)."""
    if path is None or not Path(path).exists():
        return pd.DataFrame(columns=TRUTH_COLUMNS)
    t = pd.read_parquet(path)
    missing = set(TRUTH_COLUMNS) - set(t.columns)
    if missing:
        raise ValueError(f"{path}: clips truth lacks columns {sorted(missing)}")
    return t[TRUTH_COLUMNS]


def labels_missing(params, clips_path) -> str | None:
    """None when the label store has enough labels for every class of clips_path (or annotation runs simulated);
    else the one line that says what to do."""
    cfg = params.annotation
    if annotation_mode(params) == "simulate":
        return None
    clips = pd.read_parquet(clips_path, columns=["clip_id", "class_label"])
    where = cfg.db_url or cfg.store
    try:
        store = open_store(cfg, create=False)
        labeled, _ = export_labels(store, clips)
        store.close()
    except StoreError:
        labeled = pd.DataFrame(columns=["clip_id", "class_label"])
    n = labeled.groupby("class_label").size()
    short = {c: int(n.get(c, 0)) for c in sorted(set(clips.class_label)) if n.get(c, 0) < cfg.min_labeled_per_class}
    if not short:
        return None
    listed = ", ".join(f"{c} {k}" for c, k in list(short.items())[:6]) + (", ..." if len(short) > 6 else "")
    return (
        f"stage 05 (annotation.mode: human): {len(short)} of {clips.class_label.nunique()} classes have fewer than "
        f"annotation.min_labeled_per_class = {cfg.min_labeled_per_class} labeled clips ({listed}); label {len(clips)} clips in the grid "
        f"(`make lab`, notebooks/05_annotate.ipynb, section 1; labels go to {where}), then run `dvc repro` again."
    )
