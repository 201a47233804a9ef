"""The label store's two database backends: SQLite on the stdlib (the default) and SQLAlchemy (sqlite or
postgresql URLs, when SQLAlchemy is importable), behind one small interface used by :class:`~.store.LabelStore`."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


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
            import sqlalchemy as sa  # deferred: only the PostgreSQL store needs it
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
