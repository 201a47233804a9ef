"""The label store's two database backends, behind one small interface (``write(fn)`` runs ``fn(ex)`` in one
transaction, ``read(sql, params)``) used by :class:`~.store.LabelStore`: SQLite on the stdlib (a file; the
default) and a PostgreSQL server through psycopg 3 (``annotation.db_url``), for a team of annotators.  Both run
the same SQL (:func:`_schema`, ``:name`` parameters)."""

from __future__ import annotations

import re
import sqlite3
import threading
from pathlib import Path


class StoreError(RuntimeError):
    """The label store is missing, unreadable or not a SLAC label store."""


class StoreUnavailable(StoreError):
    """The label database cannot be reached right now: the action in flight was not saved (the caller keeps it
    and tries again; the connection is reopened on the next call)."""


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

    create = write  # BEGIN IMMEDIATE already serialises schema creation

    def read(self, sql: str, params: dict | None = None) -> list[tuple]:
        with self.lock:
            return self._exec(sql, params)

    def checkpoint(self, mode: str = "PASSIVE"):
        with self.lock:
            self.con.execute(f"PRAGMA wal_checkpoint({mode})")

    def close(self):
        with self.lock:
            self.con.close()


_PARAM = re.compile(r"(?<!:):([A-Za-z_]\w*)")


def redact(url: str) -> str:
    """A database URL without its password (for messages and reports)."""
    return re.sub(r"(//[^:/@]+:)[^@]*@", r"\1***@", url)


class _Postgres:
    """A PostgreSQL server through psycopg 3 (``annotation.db_url: postgresql://user:password@host:port/db``).

    One connection per store, one transaction per :meth:`write` (READ COMMITTED; the schema is created under an
    advisory lock, so annotators opening the store at the same instant do not race).  A connection that breaks
    (the server restarted, the network dropped) raises :class:`StoreUnavailable` for the action that was in
    flight (it was not confirmed) and is opened again on the next call, so the app reconnects by itself."""

    dialect = "postgresql"

    def __init__(self, url: str, connect_timeout_s: int = 5):
        try:
            import psycopg  # deferred: only the PostgreSQL store needs it
        except ImportError:
            raise StoreError(
                f"annotation.db_url={redact(url)!r} needs psycopg (pip install 'psycopg[binary]'), which is not installed; "
                "or unset db_url to use the SQLite file at annotation.store"
            ) from None
        self.psycopg, self.url, self.timeout = psycopg, url, connect_timeout_s
        self.lost = (psycopg.OperationalError, psycopg.InterfaceError)
        self.con = None
        self.lock = threading.Lock()
        self._sql: dict[str, str] = {}
        with self.lock:
            self._connect()

    def _connect(self):
        if self.con is None or self.con.closed:
            try:
                self.con = self.psycopg.connect(self.url, connect_timeout=self.timeout)
            except self.lost as e:
                self.con = None
                raise StoreUnavailable(f"{redact(self.url)}: cannot connect ({_first_line(e)})") from e
        return self.con

    def _text(self, sql: str) -> str:
        if sql not in self._sql:  # the store's :name parameters in psycopg's %(name)s style
            self._sql[sql] = _PARAM.sub(r"%(\1)s", sql)
        return self._sql[sql]

    def _run(self, fn, write: bool, schema: bool = False):
        with self.lock:
            con = self._connect()
            try:
                with con.transaction(), con.cursor() as cur:

                    def ex(sql, params=None):
                        cur.execute(self._text(sql), params or {})
                        return [tuple(r) for r in cur.fetchall()] if cur.description else []

                    if schema:
                        ex("SELECT pg_advisory_xact_lock(7165)")  # one schema creator at a time
                    return fn(ex)
            except self.lost as e:
                con.close()
                what = "this action was not saved" if write else "could not read"
                raise StoreUnavailable(f"{redact(self.url)}: connection lost ({_first_line(e)}); {what}") from e

    def write(self, fn):
        return self._run(fn, True)

    def create(self, fn):
        """``write`` for the schema: annotators opening a new database at once create it one at a time."""
        return self._run(fn, True, schema=True)

    def read(self, sql: str, params: dict | None = None) -> list[tuple]:
        return self._run(lambda ex: ex(sql, params), False)

    def checkpoint(self, mode: str = "PASSIVE"):
        pass

    def close(self):
        with self.lock:
            if self.con is not None:
                self.con.close()


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:200]
