"""Stage 05 — clip annotation (paper section 3.7): label store, annotation session, simulated annotator, QC, export.

Clips (2 s, from stage 04) are labeled one class at a time, a page of ``page_size`` clips at a time: every
clip starts as ``default_label`` (-1, negative, red border) and a click flips it (+1, positive, green). All
clips of a class go to one annotator. Golden-set clips (known answers) are mixed into the pages at about
``gold_rate`` and measure each annotator's accuracy (flagged below ``gold_min_accuracy``, paper: 90%).

Rooms: ``backends`` (SQLite / PostgreSQL), ``store`` (:class:`LabelStore`), ``session`` (golden set, page order,
:class:`AnnotationSession`), ``simulate`` (the simulated annotator), ``qc`` (export to labeled_clips, QC, Table 3,
figures), ``check`` (the ``check`` command stage 05 runs first; the stage is :mod:`slac_utils.stages.annotate`). The page logic lives in
:class:`AnnotationSession` (plain Python, no widgets): the ipywidgets grid (``slac_utils/grid.py``) and the
simulated annotator (:func:`simulate`) both drive it, so both write through the same store API.

Label store (:class:`LabelStore`; SQLite on the stdlib ``sqlite3`` at ``annotation.store``, WAL journal,
``synchronous=FULL``, one transaction per event, so a killed kernel loses no click and no submitted page;
``annotation.db_url`` selects a PostgreSQL server instead, through psycopg 3, for a team: the same tables and
SQL, schema created on first use and versioned in ``meta``). Tables:

``events`` — append-only; the current label of a clip is derived from it (:meth:`LabelStore.current_labels`:
the latest ``submit`` row of the clip that no ``undo`` row retracts):

    event_id         INTEGER  increasing id, the order of events
    action           TEXT     assign (a session starts) | page_view | flip | submit | overlap (a second annotator's
                              label of the overlap sample, never a current label) | undo
    annotator        TEXT     the annotator's name
    class_label      TEXT     the class being labeled
    clip_id          TEXT     NULL for assign / page_view
    label            INTEGER  flip: the clip's new state; submit: the submitted label; undo of a flip: the
                              restored state (+1 positive, -1 negative); NULL otherwise
    is_gold          INTEGER  1 for golden-set clips
    page             INTEGER  0-based page number of this annotator in this class
    page_event       INTEGER  event_id of the page_view this row belongs to
    undoes           INTEGER  undo rows: the event_id they retract (a flip, or each submit row of a page)
    seconds          REAL     submit rows: seconds on the page / clips on the page (time per clip)
    seconds_on_page  REAL     submit rows: from the page_view to the submit
    ts_client        REAL     unix time by the client's clock (the simulated clock in simulate mode)
    ts_server        REAL     unix time the store wrote the row (the simulated clock in simulate mode)
    source           TEXT     click | key | button | api | sim — how the action was entered
    session          TEXT     id of the grid session that wrote the row
    detail           TEXT     JSON: page_view -> the page's clip ids

``assignments`` (class_label PRIMARY KEY, annotator, ts_server): which annotator owns a class.
``gold`` (clip_id PRIMARY KEY, class_label, label, role, source): the golden set; role ``check`` clips are
mixed into pages, role ``example`` clips are shown in the guideline (paper Fig. 3) and never on pages.

Output ``labeled_clips.parquet``: one row per labeled clip, every column of ``clips.parquet`` (clip_id,
video_id, class_label, shot_id, start_s, end_s, kind, R, consensus, kl, representativeness, path) plus

    label            int8     final label: the golden answer for golden clips, the annotator's otherwise
    annotator_label  int8     the annotator's label (0: not labeled by an annotator: guideline examples)
    annotator        str      who labeled it ("golden_set" for guideline examples)
    is_gold          bool     a golden-set clip
    gold_label       int8     its golden answer (0 when not golden)
    seconds          float    annotator time for this clip (NaN for guideline examples)
    page             int      page number (-1 for guideline examples)
    ts_server        float    when the label was submitted (NaN for guideline examples)

QC tables (``tables_dir``): ``qc_annotators.md`` (golden-set accuracy with the flag, time per clip),
``qc_classes.md`` (positives/negatives per class), ``table3_cost.md`` (paper Table 3 beside ours), and in the
demo world ``qc_truth.md`` (label accuracy against the truth) and ``qc_truth_kinds.md`` (share of each truth
kind — action / no_action / no_context / no_person — among positives and negatives).
"""

from ..guideline import load_definitions
from .backends import StoreError
from .check import labels_missing, read_truth
from .qc import (
    PAPER,
    check_min_labeled,
    cost_table,
    export_labels,
    plot_labels,
    plot_time_per_clip,
    qc_annotators,
    qc_classes,
    qc_truth,
)
from .session import AnnotationSession, ensure_gold, overlap_sample, page_queue, select_gold
from .simulate import SIM_START, SimClock, simulate
from .store import (
    GOLD_ANNOTATOR,
    LABEL_COLUMNS,
    TRUTH_COLUMNS,
    TRUTH_KINDS,
    AssignmentError,
    LabelStore,
    check_name,
    gold_accuracy_table,
    open_store,
)

__all__ = [
    "PAPER",
    "SIM_START",
    "GOLD_ANNOTATOR",
    "LABEL_COLUMNS",
    "TRUTH_COLUMNS",
    "TRUTH_KINDS",
    "AnnotationSession",
    "AssignmentError",
    "LabelStore",
    "SimClock",
    "StoreError",
    "check_min_labeled",
    "check_name",
    "cost_table",
    "ensure_gold",
    "export_labels",
    "gold_accuracy_table",
    "labels_missing",
    "load_definitions",
    "open_store",
    "overlap_sample",
    "page_queue",
    "plot_labels",
    "plot_time_per_clip",
    "qc_annotators",
    "qc_classes",
    "qc_truth",
    "read_truth",
    "select_gold",
    "simulate",
]
