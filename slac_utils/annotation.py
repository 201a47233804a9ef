"""Stage 05 — clip annotation (paper section 3.7): label store, annotation session, simulated annotator, QC, export.

Clips (2 s, from stage 04) are labeled one class at a time, a page of ``page_size`` clips at a time: every
clip starts as ``default_label`` (-1, negative, red border) and a click flips it (+1, positive, green). All
clips of a class go to one annotator. Golden-set clips (known answers) are mixed into the pages at about
``gold_rate`` and measure each annotator's accuracy (flagged below ``gold_min_accuracy``, paper: 90%).

The page logic lives in :class:`AnnotationSession` (plain Python, no widgets): the ipywidgets grid
(``slac_utils/grid.py``) and the simulated annotator (:func:`simulate`) both drive it, so both write
through the same store API.

Label store (:class:`LabelStore`; SQLite on the stdlib ``sqlite3`` at ``annotation.store``, WAL journal,
``synchronous=FULL``, one transaction per event, so a killed kernel loses no click and no submitted page;
``annotation.db_url`` selects a SQLAlchemy URL instead — sqlite or postgresql — used only when SQLAlchemy
is importable). Tables:

``events`` — append-only; the current label of a clip is derived from it (:meth:`LabelStore.current_labels`:
the latest ``submit`` row of the clip that no ``undo`` row retracts):

    event_id         INTEGER  increasing id, the order of events
    action           TEXT     assign (a session starts) | page_view | flip | submit | undo
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

from __future__ import annotations

import json
import os
import socket
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .config import annotation_mode
from .guideline import add_examples, load_definitions, load_guideline  # noqa: F401  (load_definitions: re-exported for the grid)
from .seeding import seed_of

GOLD_ANNOTATOR = "golden_set"
TRUTH_KINDS = ("action", "no_action", "no_context", "no_person")
TRUTH_COLUMNS = ["clip_id", "truth_kind", "truth_label"]
SIM_START = 1514764800.0  # 2018-01-01T00:00:00Z: the simulated clock's first tick (deterministic timestamps)
# Paper Table 3 (section 3.7), as printed, and the scale behind it.
PAPER = dict(
    videos=520_000,
    clips=1_750_000,
    per_clip_s=8.8,
    per_video_sparse_s=30.6,
    per_video_full_min=11.3,
    dataset_full_hr=113_200,
    dataset_sparse_hr=4_390,
    annotators=70,
    mean_gold_accuracy=0.94,
)


class AssignmentError(RuntimeError):
    """A class is already assigned to another annotator."""


class StoreError(RuntimeError):
    """The label store is missing, unreadable or not a SLAC label store."""


# ----------------------------------------------------------------------------- store backends
_DDL = {
    "sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT",
    "postgresql": "BIGSERIAL PRIMARY KEY",
}


def _schema(dialect: str) -> list[str]:
    pk = _DDL[dialect]
    return [
        f"""CREATE TABLE IF NOT EXISTS events (
            event_id {pk}, action TEXT NOT NULL, annotator TEXT NOT NULL, class_label TEXT NOT NULL, clip_id TEXT,
            label INTEGER, is_gold INTEGER NOT NULL DEFAULT 0, page INTEGER, page_event BIGINT, undoes BIGINT,
            seconds REAL, seconds_on_page REAL, ts_client REAL, ts_server REAL NOT NULL, source TEXT, session TEXT, detail TEXT)""",
        "CREATE INDEX IF NOT EXISTS events_clip ON events (clip_id, action)",
        "CREATE INDEX IF NOT EXISTS events_undoes ON events (undoes)",
        "CREATE INDEX IF NOT EXISTS events_who ON events (annotator, class_label, action)",
        "CREATE TABLE IF NOT EXISTS assignments (class_label TEXT PRIMARY KEY, annotator TEXT NOT NULL, ts_server REAL NOT NULL)",
        "CREATE TABLE IF NOT EXISTS gold (clip_id TEXT PRIMARY KEY, class_label TEXT NOT NULL, label INTEGER NOT NULL, role TEXT NOT NULL, source TEXT)",
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    ]


class _SQLite:
    """stdlib sqlite3: WAL, synchronous=FULL, BEGIN IMMEDIATE per event (writers queue on busy_timeout)."""

    dialect = "sqlite"

    def __init__(self, path: Path, timeout_s: float = 30.0):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False)
        self.con.execute(f"PRAGMA busy_timeout={int(timeout_s * 1000)}")
        mode = self.con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{path}: could not switch the label store to WAL (journal_mode={mode})")
        self.con.execute("PRAGMA synchronous=FULL")
        self.lock = threading.Lock()

    def write(self, fn):
        with self.lock:
            self.con.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self._exec)
                self.con.execute("COMMIT")
                return out
            except BaseException:
                self.con.execute("ROLLBACK")
                raise

    def _exec(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self.con.execute(sql, params or {}).fetchall()

    def read(self, sql: str, params: dict | None = None) -> list[tuple]:
        with self.lock:
            return self._exec(sql, params)

    def checkpoint(self, mode: str = "PASSIVE"):
        with self.lock:
            self.con.execute(f"PRAGMA wal_checkpoint({mode})")

    def close(self):
        with self.lock:
            self.con.close()


class _SQLAlchemy:
    """A shared server database through a SQLAlchemy URL (sqlite:// or postgresql://); SQLAlchemy is optional."""

    def __init__(self, url: str):
        try:
            import sqlalchemy as sa
        except ImportError:
            raise StoreError(
                f"annotation.db_url={url!r} needs SQLAlchemy (and the database's driver), which is not installed; "
                "pip install sqlalchemy, or unset db_url to use the SQLite file at annotation.store"
            ) from None
        self.sa = sa
        self.engine = sa.create_engine(url)
        self.dialect = self.engine.dialect.name
        if self.dialect not in _DDL:
            raise StoreError(f"annotation.db_url: dialect {self.dialect!r} is not supported (use sqlite or postgresql)")
        if self.dialect == "sqlite":  # SQLAlchemy's recipe: let the "begin" event issue BEGIN (IMMEDIATE, like _SQLite)

            @sa.event.listens_for(self.engine, "connect")
            def _pragmas(con, _):
                con.isolation_level = None
                con.execute("PRAGMA journal_mode=WAL")
                con.execute("PRAGMA synchronous=FULL")
                con.execute("PRAGMA busy_timeout=30000")

            @sa.event.listens_for(self.engine, "begin")
            def _immediate(conn):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

    def write(self, fn):
        with self.engine.begin() as conn:

            def ex(sql, params=None):
                r = conn.execute(self.sa.text(sql), params or {})
                return [tuple(x) for x in r.fetchall()] if r.returns_rows else []

            return fn(ex)

    def read(self, sql: str, params: dict | None = None) -> list[tuple]:
        with self.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(self.sa.text(sql), params or {}).fetchall()]

    def checkpoint(self, mode: str = "PASSIVE"):
        pass

    def close(self):
        self.engine.dispose()


# ----------------------------------------------------------------------------- the store
_EVENT_COLS = (
    "action",
    "annotator",
    "class_label",
    "clip_id",
    "label",
    "is_gold",
    "page",
    "page_event",
    "undoes",
    "seconds",
    "seconds_on_page",
    "ts_client",
    "ts_server",
    "source",
    "session",
    "detail",
)
_INSERT = f"INSERT INTO events ({', '.join(_EVENT_COLS)}) VALUES ({', '.join(':' + c for c in _EVENT_COLS)}) RETURNING event_id"
_LIVE_SUBMITS = "SELECT * FROM events e WHERE e.action = 'submit' AND NOT EXISTS (SELECT 1 FROM events u WHERE u.action = 'undo' AND u.undoes = e.event_id)"
LABEL_COLUMNS = [
    "clip_id",
    "class_label",
    "annotator",
    "label",
    "is_gold",
    "page",
    "page_event",
    "seconds",
    "seconds_on_page",
    "ts_server",
    "event_id",
]


class LabelStore:
    """Durable, append-only label store. Every method that records something is one transaction.

    ``LabelStore(path)`` opens (or creates) a SQLite file; ``LabelStore(url=...)`` a SQLAlchemy URL.
    ``clock`` stamps ``ts_server`` (a simulated clock in simulate mode, so rows are deterministic).
    """

    def __init__(
        self,
        path: str | Path | None = None,
        url: str | None = None,
        clock: Callable[[], float] = time.time,
        create: bool = True,
    ):
        if (path is None) == (url is None):
            raise ValueError("LabelStore needs exactly one of path (SQLite file) or url (SQLAlchemy URL)")
        self.where = url or str(path)
        if url is None and not create and not Path(path).exists():
            raise StoreError(
                f"no label store at {path}: label clips with the grid in notebooks/05_annotate.ipynb first (annotation.mode: human)"
            )
        self.db = _SQLAlchemy(url) if url else _SQLite(Path(path))
        self.clock = clock

        def init(ex):
            for stmt in _schema(self.db.dialect):
                ex(stmt)
            ex("INSERT INTO meta (key, value) VALUES ('schema', '1') ON CONFLICT DO NOTHING")

        try:
            self.db.write(init)
        except Exception as e:  # noqa: BLE001 - name the file in the message
            raise StoreError(f"{self.where}: not a usable label store ({e})") from e

    # -- writing
    def _row(self, **kw) -> dict:
        row = {c: None for c in _EVENT_COLS}
        row.update(kw)
        row["ts_server"] = float(self.clock())
        row["is_gold"] = int(bool(row["is_gold"]))
        return row

    def _append(self, rows: list[dict]) -> list[int]:
        """Append event rows in ONE transaction; returns their event ids."""
        return self.db.write(lambda ex: [ex(_INSERT, r)[0][0] for r in rows])

    def assign(
        self, annotator: str, class_label: str, ts_client: float | None = None, session: str | None = None
    ) -> None:
        """Give class_label to annotator, or raise AssignmentError when another annotator owns it (atomic)."""
        annotator = check_name(annotator)

        def tx(ex):
            ex(
                "INSERT INTO assignments (class_label, annotator, ts_server) VALUES (:c, :a, :t) ON CONFLICT DO NOTHING",
                dict(c=class_label, a=annotator, t=float(self.clock())),
            )
            owner = ex("SELECT annotator FROM assignments WHERE class_label = :c", dict(c=class_label))[0][0]
            if owner == annotator:
                ex(
                    _INSERT,
                    self._row(
                        action="assign",
                        annotator=annotator,
                        class_label=class_label,
                        ts_client=ts_client,
                        source="api",
                        session=session,
                    ),
                )
            return owner

        owner = self.db.write(tx)
        if owner != annotator:
            raise AssignmentError(
                f"class '{class_label}' is assigned to annotator '{owner}' (all clips of a class go to one annotator); "
                f"'{annotator}' must pick another class"
            )

    def page_view(self, annotator, class_label, page, clip_ids, ts_client=None, source="api", session=None) -> int:
        return self._append(
            [
                self._row(
                    action="page_view",
                    annotator=annotator,
                    class_label=class_label,
                    page=page,
                    ts_client=ts_client,
                    source=source,
                    session=session,
                    detail=json.dumps(list(clip_ids)),
                )
            ]
        )[0]

    def flip(
        self,
        annotator,
        class_label,
        clip_id,
        new_label,
        is_gold,
        page,
        page_event,
        ts_client=None,
        source="click",
        session=None,
    ) -> int:
        return self._append(
            [
                self._row(
                    action="flip",
                    annotator=annotator,
                    class_label=class_label,
                    clip_id=clip_id,
                    label=int(new_label),
                    is_gold=is_gold,
                    page=page,
                    page_event=page_event,
                    ts_client=ts_client,
                    source=source,
                    session=session,
                )
            ]
        )[0]

    def submit(
        self,
        annotator,
        class_label,
        page,
        page_event,
        clip_ids,
        labels,
        is_gold,
        seconds_on_page,
        ts_client=None,
        source="button",
        session=None,
    ) -> list[int]:
        """One page: a submit row per clip, all in one transaction (a page is saved whole or not at all)."""
        n = len(clip_ids)
        if n == 0:
            return []
        bad = [l for l in labels if l not in (1, -1)]
        if bad:
            raise ValueError(f"labels must be +1 or -1, got {bad}")
        per = float(seconds_on_page) / n
        rows = [
            self._row(
                action="submit",
                annotator=annotator,
                class_label=class_label,
                clip_id=c,
                label=int(l),
                is_gold=g,
                page=page,
                page_event=page_event,
                seconds=per,
                seconds_on_page=float(seconds_on_page),
                ts_client=ts_client,
                source=source,
                session=session,
            )
            for c, l, g in zip(clip_ids, labels, is_gold)
        ]
        return self._append(rows)

    def undo(
        self,
        annotator,
        class_label,
        targets: list[tuple[int, str | None, int | None]],
        page=None,
        page_event=None,
        ts_client=None,
        source="button",
        session=None,
    ) -> list[int]:
        """Retract events: targets are (event_id, clip_id, restored label); one transaction."""
        rows = [
            self._row(
                action="undo",
                annotator=annotator,
                class_label=class_label,
                clip_id=c,
                label=l,
                undoes=int(e),
                page=page,
                page_event=page_event,
                ts_client=ts_client,
                source=source,
                session=session,
            )
            for e, c, l in targets
        ]
        return self._append(rows)

    def add_gold(self, gold: pd.DataFrame, source: str = "golden_set") -> int:
        """Add golden-set rows (clip_id, class_label, label, role); existing clip ids are kept as they are."""
        need = {"clip_id", "class_label", "label", "role"}
        if not need <= set(gold.columns):
            raise ValueError(f"golden set needs columns {sorted(need)}, got {sorted(gold.columns)}")
        rows = [
            dict(c=str(r.clip_id), k=str(r.class_label), l=int(r.label), r=str(r.role), s=source)
            for r in gold.itertuples()
        ]
        bad = [r["c"] for r in rows if r["l"] not in (1, -1) or r["r"] not in ("check", "example")]
        if bad:
            raise ValueError(f"golden set rows need label +1/-1 and role check/example: {bad[:5]}")
        self.db.write(
            lambda ex: [
                ex(
                    "INSERT INTO gold (clip_id, class_label, label, role, source) VALUES (:c, :k, :l, :r, :s) ON CONFLICT DO NOTHING",
                    r,
                )
                for r in rows
            ]
        )
        return len(rows)

    # -- reading
    def _frame(self, sql: str, columns: list[str], params: dict | None = None) -> pd.DataFrame:
        return pd.DataFrame(self.db.read(sql, params), columns=columns)

    def events(self) -> pd.DataFrame:
        """Every event, in order."""
        cols = ["event_id", *_EVENT_COLS]
        return self._frame(f"SELECT {', '.join(cols)} FROM events ORDER BY event_id", cols)

    def current_labels(self, class_label: str | None = None) -> pd.DataFrame:
        """The current label of every labeled clip: its latest submit row that no undo retracts (LABEL_COLUMNS)."""
        where = "WHERE class_label = :c" if class_label is not None else ""
        sql = (
            f"WITH live AS ({_LIVE_SUBMITS}), ranked AS (SELECT live.*, ROW_NUMBER() OVER (PARTITION BY clip_id ORDER BY event_id DESC) AS rn FROM live {where}) "
            f"SELECT {', '.join(LABEL_COLUMNS)} FROM ranked WHERE rn = 1 ORDER BY clip_id"
        )
        df = self._frame(sql, LABEL_COLUMNS, dict(c=class_label))
        return df.astype(dict(label="int8", is_gold=bool, page="int64", page_event="int64", event_id="int64"))

    def last_submitted_page(self, annotator: str, class_label: str) -> pd.DataFrame:
        """The live submit rows of the annotator's latest submitted page in this class (empty when none)."""
        cols = ["event_id", "clip_id", "label", "page", "page_event"]
        sql = (
            f"WITH live AS ({_LIVE_SUBMITS}) SELECT {', '.join(cols)} FROM live WHERE annotator = :a AND class_label = :c "
            "AND page_event = (SELECT MAX(page_event) FROM live WHERE annotator = :a AND class_label = :c) ORDER BY event_id"
        )
        return self._frame(sql, cols, dict(a=annotator, c=class_label))

    def submitted_pages(self, annotator: str, class_label: str) -> int:
        sql = f"WITH live AS ({_LIVE_SUBMITS}) SELECT COUNT(DISTINCT page_event) FROM live WHERE annotator = :a AND class_label = :c"
        return int(self.db.read(sql, dict(a=annotator, c=class_label))[0][0])

    def assignments(self) -> pd.DataFrame:
        return self._frame(
            "SELECT class_label, annotator, ts_server FROM assignments ORDER BY class_label",
            ["class_label", "annotator", "ts_server"],
        )

    def owner(self, class_label: str) -> str | None:
        r = self.db.read("SELECT annotator FROM assignments WHERE class_label = :c", dict(c=class_label))
        return r[0][0] if r else None

    def gold(self, class_label: str | None = None) -> pd.DataFrame:
        where = "WHERE class_label = :c" if class_label is not None else ""
        cols = ["clip_id", "class_label", "label", "role", "source"]
        return self._frame(
            f"SELECT {', '.join(cols)} FROM gold {where} ORDER BY clip_id", cols, dict(c=class_label)
        ).astype(dict(label="int8"))

    def gold_accuracy(self, annotator: str | None = None) -> pd.DataFrame:
        """Golden-set accuracy per annotator over the current labels of golden check clips: annotator, gold_n, gold_correct, gold_accuracy."""
        who = "AND r.annotator = :a" if annotator is not None else ""
        sql = (
            f"WITH live AS ({_LIVE_SUBMITS} AND e.clip_id IN (SELECT clip_id FROM gold WHERE role = 'check')), "
            "ranked AS (SELECT live.*, ROW_NUMBER() OVER (PARTITION BY clip_id ORDER BY event_id DESC) AS rn FROM live) "
            "SELECT r.annotator, COUNT(*), SUM(CASE WHEN r.label = g.label THEN 1 ELSE 0 END) FROM ranked r JOIN gold g ON g.clip_id = r.clip_id "
            f"WHERE r.rn = 1 {who} GROUP BY r.annotator ORDER BY r.annotator"
        )
        out = self._frame(sql, ["annotator", "gold_n", "gold_correct"], dict(a=annotator)).astype(
            dict(gold_n="int64", gold_correct="int64")
        )
        out["gold_accuracy"] = out.gold_correct / out.gold_n
        return out

    def checkpoint(self, mode: str = "PASSIVE"):
        """Fold the WAL into the main file, so the .sqlite file alone (what DVC hashes) holds every committed row.
        PASSIVE never waits for other annotators' readers; TRUNCATE (export) also empties the WAL file."""
        if mode not in ("PASSIVE", "FULL", "RESTART", "TRUNCATE"):
            raise ValueError(f"checkpoint mode {mode!r}")
        self.db.checkpoint(mode)

    def close(self):
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_store(cfg, clock: Callable[[], float] = time.time, create: bool = True) -> LabelStore:
    """The label store named by an AnnotationConfig: db_url when set, else the SQLite file at store."""
    return LabelStore(url=cfg.db_url, clock=clock) if cfg.db_url else LabelStore(cfg.store, clock=clock, create=create)


def check_name(name) -> str:
    name = str(name or "").strip()
    if not name or len(name) > 64 or name == GOLD_ANNOTATOR:
        raise ValueError(f"annotator name must be 1-64 characters and not '{GOLD_ANNOTATOR}' (got {name!r})")
    return name


def gold_accuracy_table(rows: pd.DataFrame, annotator: str | None = None) -> pd.DataFrame:
    """rows: annotator, label, gold_label (golden check clips labeled by annotators) -> per-annotator accuracy."""
    if annotator is not None:
        rows = rows[rows.annotator == annotator]
    out = (
        rows.assign(correct=(rows.label == rows.gold_label).astype(int))
        .groupby("annotator")
        .agg(gold_n=("correct", "size"), gold_correct=("correct", "sum"))
        .reset_index()
    )
    out["gold_accuracy"] = out.gold_correct / out.gold_n
    return out.astype(dict(gold_n="int64", gold_correct="int64", gold_accuracy="float64"))


# ----------------------------------------------------------------------------- golden set and page order
def select_gold(clips: pd.DataFrame, truth: pd.DataFrame, gold_rate: float, examples: int, seed: int) -> pd.DataFrame:
    """A golden set from known answers: per class ``examples`` positive and negative guideline examples, then
    round(gold_rate * remaining clips) (at least 1 when gold_rate > 0) check clips mixed into the pages.

    Returns clip_id, class_label, label, role (example | check)."""
    known = clips[["clip_id", "class_label"]].merge(truth[["clip_id", "truth_label"]], on="clip_id")
    out = []
    for cls, g in known.sort_values("clip_id").groupby("class_label", sort=True):
        rng = np.random.default_rng(seed_of(seed, "gold", cls))
        g = g.iloc[rng.permutation(len(g))]
        ex = pd.concat([g[g.truth_label == lab].head(examples) for lab in (1, -1)])
        rest = g[~g.clip_id.isin(set(ex.clip_id))]
        n_check = min(
            len(rest),
            max(1 if gold_rate > 0 else 0, int(round(gold_rate * (len(clips[clips.class_label == cls]) - len(ex))))),
        )
        out += [ex.assign(role="example"), rest.head(n_check).assign(role="check")]
    cols = ["clip_id", "class_label", "label", "role"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out).rename(columns=dict(truth_label="label"))[cols].sort_values("clip_id").reset_index(drop=True)


def ensure_gold(
    store: LabelStore, clips: pd.DataFrame, truth: pd.DataFrame, gold_rate: float, examples: int, seed: int
) -> int:
    """Seed the store's golden set from known answers (demo world) for classes that have none yet; returns rows added.
    With your own data, add your golden set with ``store.add_gold(table)`` (clip_id, class_label, label, role)."""
    if truth.empty:
        return 0
    have = set(store.gold().class_label)
    g = select_gold(clips[~clips.class_label.isin(have)], truth, gold_rate, examples, seed)
    return store.add_gold(g) if len(g) else 0


def page_queue(clip_ids: Iterable[str], class_label: str, seed: int) -> list[str]:
    """The fixed order in which a class's clips are shown: a seeded permutation (golden clips land anywhere)."""
    ids = sorted(clip_ids)
    rng = np.random.default_rng(seed_of(seed, "queue", class_label))
    return [ids[i] for i in rng.permutation(len(ids))]


# ----------------------------------------------------------------------------- the session (the grid's logic)
class AnnotationSession:
    """One annotator labeling one class, page by page; every action goes to the store at once.

    ``flip(i)`` toggles clip i of the page, ``submit()`` saves the page and opens the next, ``undo()`` reverts
    the last flip of this page or, with none, retracts the last submitted page and shows it again.
    Resuming (a new session for the same annotator and class) shows the first clips not labeled yet.
    """

    def __init__(
        self,
        store: LabelStore,
        clips: pd.DataFrame,
        class_label: str,
        annotator: str,
        page_size: int = 12,
        default_label: int = -1,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        source: str = "api",
        session: str | None = None,
    ):
        if default_label not in (1, -1):
            raise ValueError(f"default_label must be +1 or -1, got {default_label}")
        self.store, self.class_label, self.annotator = store, class_label, check_name(annotator)
        self.page_size, self.default_label, self.clock, self.source = int(page_size), int(default_label), clock, source
        self.session = session or f"{self.annotator}@{socket.gethostname()}:{os.getpid()}:{int(clock())}"
        mine = clips[clips.class_label == class_label]
        if mine.empty:
            raise ValueError(f"no clips of class '{class_label}' (classes: {sorted(clips.class_label.unique())})")
        self.clips = mine.set_index("clip_id", drop=False)
        store.assign(self.annotator, class_label, ts_client=clock(), session=self.session)
        gold = store.gold(class_label)
        self.gold_check = dict(zip(gold.clip_id[gold.role == "check"], gold.label[gold.role == "check"]))
        self.examples = gold[gold.role == "example"].reset_index(drop=True)
        example_ids = set(self.examples.clip_id)
        self.queue = page_queue([c for c in self.clips.clip_id if c not in example_ids], class_label, seed)
        self.page_clips: list[str] = []
        self.labels: list[int] = []
        self.next_page()

    # -- page state
    @property
    def finished(self) -> bool:
        return not self.page_clips

    @property
    def page_rows(self) -> pd.DataFrame:
        """The clips on the page (clips.parquet rows) with their current label and golden flag."""
        rows = self.clips.loc[self.page_clips].reset_index(drop=True)
        return rows.assign(label=self.labels, is_gold=[c in self.gold_check for c in self.page_clips])

    def _open(self, clip_ids: list[str], labels: list[int]):
        self.page_clips, self.labels, self._flips = list(clip_ids), list(labels), []
        self.page_no = self.store.submitted_pages(self.annotator, self.class_label)
        self.page_t0 = self.clock()
        self.page_event = (
            self.store.page_view(
                self.annotator, self.class_label, self.page_no, self.page_clips, self.page_t0, self.source, self.session
            )
            if clip_ids
            else None
        )

    def next_page(self):
        """Open the next page: the first page_size clips of the queue without a current label."""
        done = set(self.store.current_labels(self.class_label).clip_id)
        todo = [c for c in self.queue if c not in done][: self.page_size]
        self._open(todo, [self.default_label] * len(todo))

    # -- actions
    def flip(self, i: int, source: str = "click") -> int:
        """Toggle clip i of the page between positive (+1) and negative (-1); returns its new label."""
        if not 0 <= i < len(self.page_clips):
            raise IndexError(f"clip {i} is not on this page ({len(self.page_clips)} clips)")
        prev = self.labels[i]
        self.labels[i] = -prev
        c = self.page_clips[i]
        eid = self.store.flip(
            self.annotator,
            self.class_label,
            c,
            self.labels[i],
            c in self.gold_check,
            self.page_no,
            self.page_event,
            self.clock(),
            source,
            self.session,
        )
        self._flips.append((eid, i, prev))
        return self.labels[i]

    def submit(self, source: str = "button") -> int:
        """Save the page (one transaction), then open the next; returns the number of clips saved."""
        if self.finished:
            return 0
        now = self.clock()
        self.store.submit(
            self.annotator,
            self.class_label,
            self.page_no,
            self.page_event,
            self.page_clips,
            self.labels,
            [c in self.gold_check for c in self.page_clips],
            max(0.0, now - self.page_t0),
            now,
            source,
            self.session,
        )
        n = len(self.page_clips)
        self.next_page()
        return n

    def undo(self, source: str = "button") -> str | None:
        """Revert the last flip on this page; with none, retract the last submitted page and show it again.
        Returns 'flip', 'page' or None (nothing to undo)."""
        if self._flips:
            eid, i, prev = self._flips.pop()
            self.labels[i] = prev
            self.store.undo(
                self.annotator,
                self.class_label,
                [(eid, self.page_clips[i], prev)],
                self.page_no,
                self.page_event,
                self.clock(),
                source,
                self.session,
            )
            return "flip"
        last = self.store.last_submitted_page(self.annotator, self.class_label)
        if last.empty:
            return None
        self.store.undo(
            self.annotator,
            self.class_label,
            [(int(e), c, None) for e, c in zip(last.event_id, last.clip_id)],
            self.page_no,
            self.page_event,
            self.clock(),
            source,
            self.session,
        )
        self._open(list(last.clip_id), [int(v) for v in last.label])
        return "page"

    # -- live numbers
    def progress(self) -> dict:
        """done / remaining / total clips of this class (golden examples excluded), and the page number."""
        done = len(set(self.store.current_labels(self.class_label).clip_id) & set(self.queue))
        return dict(done=done, remaining=len(self.queue) - done, total=len(self.queue), page=self.page_no)

    def gold_accuracy(self) -> dict:
        """This annotator's golden-set accuracy so far (over every class they labeled)."""
        t = self.store.gold_accuracy(self.annotator)
        if t.empty:
            return dict(gold_n=0, gold_correct=0, gold_accuracy=None)
        r = t.iloc[0]
        return dict(gold_n=int(r.gold_n), gold_correct=int(r.gold_correct), gold_accuracy=float(r.gold_accuracy))


# ----------------------------------------------------------------------------- simulated annotator
class SimClock:
    """A deterministic clock: starts at SIM_START and moves only when told."""

    def __init__(self, start: float = SIM_START):
        self.t = float(start)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t = round(self.t + float(seconds), 6)
        return self.t


def simulate(
    store: LabelStore, clips: pd.DataFrame, truth: pd.DataFrame, cfg, seed: int, progress: bool = True
) -> pd.DataFrame:
    """Label every clip through AnnotationSession, as ``cfg.sim_annotators`` simulated annotators would.

    Class k (sorted) goes to annotator ``sim-NN`` = k mod n_annotators. The answer to a clip is its truth_label,
    flipped with probability 1 - sim_accuracy; the time on a clip is gamma-distributed with mean
    sim_seconds_per_clip and coefficient of variation sim_seconds_cv, spent before the clip's click. Each
    annotator has their own simulated clock (they work side by side from SIM_START); nothing reads the wall
    clock, so the store's rows are the same on every run. Returns the assignments (class_label, annotator).
    """
    answer = dict(zip(truth.clip_id, truth.truth_label.astype(int)))
    classes = sorted(clips.class_label.unique())
    missing = sorted(set(clips.clip_id) - set(answer))
    if missing:
        raise ValueError(
            f"annotation.mode=simulate needs a truth label for every clip; {len(missing)} clips have none "
            f"(e.g. {missing[:3]}); use annotation.mode: human for data without truth"
        )
    n_ann = max(1, min(cfg.sim_annotators, len(classes)))
    clocks = {f"sim-{a + 1:02d}": SimClock() for a in range(n_ann)}
    shape = 1.0 / cfg.sim_seconds_cv**2 if cfg.sim_seconds_cv > 0 else None
    plan = []
    for k, cls in enumerate(tqdm(classes, desc="simulated annotation", disable=not progress)):
        who = f"sim-{k % n_ann + 1:02d}"
        clk = clocks[who]
        store.clock = clk
        rng = np.random.default_rng(seed_of(seed, "sim", cls))
        s = AnnotationSession(
            store,
            clips,
            cls,
            who,
            cfg.page_size,
            cfg.default_label,
            seed,
            clock=clk,
            source="sim",
            session=f"sim:{who}",
        )
        while not s.finished:
            for i, c in enumerate(s.page_clips):
                clk.advance(rng.gamma(shape, cfg.sim_seconds_per_clip / shape) if shape else cfg.sim_seconds_per_clip)
                says = answer[c] if rng.random() < cfg.sim_accuracy else -answer[c]
                if says != s.labels[i]:
                    s.flip(i, source="sim")
            s.submit(source="sim")
        plan.append((cls, who))
    return pd.DataFrame(plan, columns=["class_label", "annotator"])


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
    import matplotlib.pyplot as plt

    from . import plots  # noqa: F401  (house style, Agg backend)

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
    import matplotlib.pyplot as plt

    from . import plots  # noqa: F401

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


def run(
    params,
    clips_path,
    clips_truth_path,
    guideline_path,
    labeled_path,
    tables_dir,
    figures_dir,
    metrics_path,
    progress: bool = True,
) -> dict:
    """Stage 05: simulate the annotators (simulate mode) or export the human label store (human mode), then QC.
    guideline_path: the researcher's guideline (annotation.guideline); its listed example clips join the golden set."""
    from .io import read_table, save_figure, write_json, write_markdown_table, write_table

    cfg = params.annotation
    mode = annotation_mode(params)
    clips = read_table(clips_path)
    need = {"clip_id", "video_id", "class_label", "path"}
    if not need <= set(clips.columns):
        raise ValueError(f"{clips_path}: clips table lacks columns {sorted(need - set(clips.columns))}")
    truth = read_truth(clips_truth_path)
    guideline = load_guideline(guideline_path, clips.class_label.unique())
    simulated = mode == "simulate"
    if simulated:
        if truth.empty:
            raise ValueError(
                f"annotation.mode=simulate needs the clips' truth ({clips_truth_path} is missing or empty); set annotation.mode: human (or auto)"
            )
        # a throw-away store: the human store (annotation.store) stays a pure input of the pipeline
        with tempfile.TemporaryDirectory(prefix="slac-sim-") as tmp:
            clock = SimClock()
            store = LabelStore(Path(tmp) / "labels.sqlite", clock=clock)
            add_examples(store, guideline, clips)
            ensure_gold(store, clips, truth, cfg.gold_rate, cfg.guideline_examples, params.seed)
            simulate(store, clips, truth, cfg, params.seed, progress)
            labeled, orphans = export_labels(store, clips)
            store.close()
        where = "simulated (temporary store)"
    else:
        store = open_store(cfg, create=False)
        store.checkpoint("TRUNCATE")  # the labels' content is unchanged; the .sqlite file now holds all of them
        labeled, orphans = export_labels(store, clips)
        store.close()
        where = cfg.db_url or cfg.store
    check_min_labeled(labeled, clips.class_label.unique(), cfg.min_labeled_per_class)
    write_table(labeled, labeled_path, sort_by=["class_label", "clip_id"])

    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    ours = "simulated" if simulated else "measured"
    prov = [
        f"mode: {mode}"
        + (" (annotation.mode: auto)" if cfg.mode == "auto" else "")
        + f"; labels from {where}; page size {cfg.page_size}, default label {cfg.default_label:+d} "
        f"({'negative, red' if cfg.default_label < 0 else 'positive, green'}) until clicked",
        f"golden set: {int(labeled.is_gold.sum())} clips: per class {cfg.guideline_examples} positive and {cfg.guideline_examples} negative guideline example(s), "
        f"the rest mixed into the pages (annotation.gold_rate = {cfg.gold_rate})",
    ]
    if simulated:
        prov.append(
            f"simulated annotator: accuracy {cfg.sim_accuracy}, gamma time per clip mean {cfg.sim_seconds_per_clip} s (cv {cfg.sim_seconds_cv}), simulated clock, seed {params.seed}"
        )
    per_ann = qc_annotators(labeled, cfg.gold_min_accuracy)
    write_markdown_table(
        per_ann,
        tables_dir / "qc_annotators.md",
        "Stage 05 — annotators: golden-set accuracy and time per clip",
        prov
        + [
            f"flag: golden-set accuracy below annotation.gold_min_accuracy = {cfg.gold_min_accuracy} (paper: all annotators > 90%, mean 94%)"
        ],
    )
    per_class = qc_classes(labeled)
    write_markdown_table(
        per_class,
        tables_dir / "qc_classes.md",
        "Stage 05 — labels per class",
        prov + ["label: the golden answer for golden clips, the annotator's otherwise"],
    )
    t3, cost = cost_table(labeled, clips, cfg, simulated)
    write_markdown_table(
        t3,
        tables_dir / "table3_cost.md",
        "Table 3 — cost of full versus sparse annotation",
        [
            f"paper columns: Table 3 as printed (70 annotators; {PAPER['clips']:,} clips of {PAPER['videos']:,} videos)",
            f"ours, sparse: the {ours} seconds per clip of this run (page time / clips on the page); per video = annotation time / videos with clips",
            f"ours, full: annotation.full_annotation_minutes_per_video = {cfg.full_annotation_minutes_per_video} min (the paper's measurement; nothing here trims videos by hand)",
            "the paper's 113.2K hr for full annotation implies ~601K videos at 11.3 min; at 520K videos it would be ~97.9K hr",
        ],
    )
    save_figure(plot_time_per_clip(labeled, ours), figures_dir / "time_per_clip.png")
    save_figure(plot_labels(per_class, per_ann, cfg.gold_min_accuracy), figures_dir / "labels.png")

    ann = labeled[labeled.annotator != GOLD_ANNOTATOR]
    metrics = dict(
        mode=mode,
        clips=int(len(clips)),
        labeled=int(len(labeled)),
        unlabeled=int(len(clips) - len(labeled)),
        orphan_labels=orphans,
        positives=int((labeled.label == 1).sum()),
        negatives=int((labeled.label == -1).sum()),
        share_positive=round(float((labeled.label == 1).mean()), 6) if len(labeled) else None,
        annotators=int(ann.annotator.nunique()),
        gold_clips=int(labeled.is_gold.sum()),
        gold_accuracy_mean=round(float(per_ann.gold_accuracy.mean()), 6)
        if per_ann.gold_accuracy.notna().any()
        else None,
        annotators_flagged=sorted(per_ann.annotator[per_ann.flag.str.startswith("BELOW")].tolist()),
        annotation_hours=round(float(ann.seconds.sum() / 3600), 6),
        **{k: round(v, 6) for k, v in cost.items()},
    )
    out = dict(labeled=labeled, qc_annotators=per_ann, qc_classes=per_class, table3=t3)
    if not truth.empty:
        acc, kinds = qc_truth(labeled, truth)
        write_markdown_table(
            acc,
            tables_dir / "qc_truth.md",
            "Stage 05 — labels against the demo world's truth",
            prov
            + [
                "label_accuracy: final labels; annotator_accuracy: the annotators' own labels; true_positives_found: share of truly positive clips labeled positive"
            ],
        )
        write_markdown_table(
            kinds,
            tables_dir / "qc_truth_kinds.md",
            "Stage 05 — what positives and negatives really show",
            prov
            + [
                "share of each truth kind (paper 3.3) among the clips labeled positive / negative; positives should be 'action'"
            ],
        )
        allrow = acc[acc.class_label == "all"].iloc[0]
        metrics.update(
            label_accuracy=round(float(allrow.label_accuracy), 6),
            annotator_accuracy=round(float(allrow.annotator_accuracy), 6),
        )
        out.update(qc_truth=acc, qc_truth_kinds=kinds)
    write_json(metrics, metrics_path)
    out["metrics"] = metrics
    return out


def _main():  # pragma: no cover - exercised by the annotate DVC stage
    """`python -m slac_utils.annotation check --params P --clips C`: exit 1 with one line while labels are missing."""
    import argparse
    import sys

    from .config import load_params

    ap = argparse.ArgumentParser(description="Stage 05 helpers.")
    ap.add_argument("command", choices=["check"])
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--clips", default="data/interim/clips.parquet")
    a = ap.parse_args()
    msg = labels_missing(load_params(a.params), a.clips)
    if msg:
        print(msg, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    _main()
