"""The label store (:class:`LabelStore`): append-only events, assignments and the golden set; schemas in the
package docstring (``slac_utils.annotation``)."""

from __future__ import annotations

import json
import time
from functools import partial
from pathlib import Path
from typing import Callable

import pandas as pd

from .backends import StoreError, StoreUnavailable, _Postgres, _schema, _SQLite, redact

GOLD_ANNOTATOR = "golden_set"
TRUTH_KINDS = ("action", "no_action", "no_context", "no_person")
TRUTH_COLUMNS = ["clip_id", "truth_kind", "truth_label"]


SCHEMA_VERSION = 1  # meta.schema; a later version adds its migration to _create_schema


def _create_schema(dialect: str, ex) -> int:
    """Create the tables where missing (one transaction) and return the store's schema version."""
    for stmt in _schema(dialect):
        ex(stmt)
    ex("INSERT INTO meta (key, value) VALUES ('schema', :v) ON CONFLICT DO NOTHING", dict(v=str(SCHEMA_VERSION)))
    return int(ex("SELECT value FROM meta WHERE key = 'schema'")[0][0])


class AssignmentError(RuntimeError):
    """A class is already assigned to another annotator."""


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
_LIVE = "SELECT * FROM events e WHERE e.action = '{action}' AND NOT EXISTS (SELECT 1 FROM events u WHERE u.action = 'undo' AND u.undoes = e.event_id)"
_LIVE_SUBMITS = _LIVE.format(action="submit")  # the rows labels derive from
_LIVE_OVERLAP = _LIVE.format(action="overlap")  # a second annotator's labels of the overlap sample
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

    ``LabelStore(path)`` opens (or creates) a SQLite file; ``LabelStore(url=...)`` a PostgreSQL server
    (``postgresql://...``) or a SQLite file (``sqlite:///path``).
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
            raise ValueError("LabelStore needs exactly one of path (SQLite file) or url (database URL)")
        self.where = redact(url) if url else str(path)
        if url is not None and url.startswith("sqlite:///"):  # a SQLite file named by URL
            path, url = url[len("sqlite:///") :], None
        if url is None and not create and not Path(path).exists():
            raise StoreError(
                f"no label store at {path}: label clips with the grid in notebooks/05_annotate.ipynb first (annotation.mode: human)"
            )
        if url is not None and not url.startswith(("postgresql://", "postgres://")):
            raise StoreError(
                f"annotation.db_url={self.where!r}: use postgresql://user:password@host:port/db or sqlite:///path"
            )
        self.db = _Postgres(url) if url else _SQLite(Path(path))
        self.clock = clock
        try:
            version = self.db.create(partial(_create_schema, self.db.dialect))
        except StoreUnavailable:
            raise
        except Exception as e:  # noqa: BLE001 - name the file in the message
            raise StoreError(f"{self.where}: not a usable label store ({e})") from e
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.where}: label store schema {version} is newer than this code's ({SCHEMA_VERSION}); update SLAC"
            )

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
        action="submit",
    ) -> list[int]:
        """One page: a submit row per clip, all in one transaction (a page is saved whole or not at all).
        ``action='overlap'``: a second annotator's labels of the overlap sample (never a clip's current label)."""
        if action not in ("submit", "overlap"):
            raise ValueError(f"action must be submit or overlap, got {action!r}")
        n = len(clip_ids)
        if n == 0:
            return []
        bad = [l for l in labels if l not in (1, -1)]
        if bad:
            raise ValueError(f"labels must be +1 or -1, got {bad}")
        per = float(seconds_on_page) / n
        rows = [
            self._row(
                action=action,
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

    def overlap_labels(self, annotator: str | None = None) -> pd.DataFrame:
        """The overlap sample's labels: per (clip, annotator) the latest overlap row no undo retracts:
        clip_id, class_label, annotator, label, event_id."""
        cols = ["clip_id", "class_label", "annotator", "label", "event_id"]
        who = "AND e.annotator = :a" if annotator is not None else ""
        sql = (
            f"WITH live AS ({_LIVE_OVERLAP} {who}), ranked AS (SELECT live.*, ROW_NUMBER() OVER (PARTITION BY clip_id, annotator "
            f"ORDER BY event_id DESC) AS rn FROM live) SELECT {', '.join(cols)} FROM ranked WHERE rn = 1 ORDER BY clip_id, annotator"
        )
        return self._frame(sql, cols, dict(a=annotator)).astype(dict(label="int8", event_id="int64"))

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
