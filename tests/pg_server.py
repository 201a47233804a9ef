"""A throw-away PostgreSQL server for tests and benchmarks: Debian's ``initdb`` and ``pg_ctl`` in a temp directory,
listening on 127.0.0.1 at a free port (``make test`` installs the server package; see the Makefile's ``postgres``).

The server refuses to run as root, so as root the directory is given to the ``postgres`` system user (created by
the Debian package) and the binaries run as that user through ``runuser``."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def pg_bin() -> Path | None:
    """The directory of initdb/pg_ctl: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin; None if absent."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(dirs[-1]).parent if dirs else None


def why_unavailable() -> str | None:
    """None when a server can be started here, else the reason (for pytest.skip)."""
    if pg_bin() is None:
        return "PostgreSQL server binaries not installed (make test installs Debian's postgresql; no root/apt here?)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a 'postgres' user to run the server as"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """``start()``, ``stop()``, ``url(db)``, ``create_db(name)``; the data directory is removed by ``close()``."""

    def __init__(self):
        self.bin = pg_bin()
        self.root = Path(tempfile.mkdtemp(prefix="slac-pg-"))  # under /tmp: reachable by the postgres user
        self.data, self.port, self.user = self.root / "data", _free_port(), "slac"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", self.data, "-U", self.user, "-A", "trust", "-E", "UTF8", "--no-sync")

    def _run(self, tool: str, *args, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / tool), *map(str, args)]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=120)
        if check and out.returncode:
            raise RuntimeError(f"{tool} failed ({out.returncode}): {out.stderr[-2000:]}")
        return out

    def start(self):
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._run("pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-w", "-t", "60", "-o", opts, "start")

    def stop(self, mode: str = "fast"):
        self._run("pg_ctl", "-D", self.data, "-w", "-m", mode, "stop", check=False)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{db}"

    def create_db(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self):
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
