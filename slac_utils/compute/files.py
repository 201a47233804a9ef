"""Runner steps whose product is a file per row (a clip, a flow array), kept beside the step's shards.

Such a step writes its file at the row's ``dest`` and returns small columns; the shard row says the file was made.
This room holds what those steps share:

* :func:`stat_key` — what a file is known by before it is hashed: size and modification time;
* :func:`artifact_paths` — ``<home>/files/<d[:2]>/<d><suffix>`` for each row, ``d`` the SHA-256 of its cache key,
  so the same input always maps to the same file;
* :func:`temp_beside` — the temporary name a file is written under before ``os.replace`` puts it in place;
* :func:`ensure_files` — after :func:`~slac_utils.compute.run_step`, remake the file of a row whose shard says ok
  but whose file was removed since, and give each row's error ('' when its file is there).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pandas as pd

from .runner import Step, cache_keys, error_text


def stat_key(path) -> str:
    """A file's size and modification time (``absent`` when it cannot be stat'ed): with its path, what a cache knows
    it by before hashing it. A file edited in place gets a new key; an unchanged one keeps its key."""
    try:
        st = os.stat(path)
        return f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        return "absent"


def artifact_paths(home, rows: pd.DataFrame, suffix: str) -> list[str]:
    """The file of each row (``rows`` as given to run_step, ``key_extra`` included), created folders and all."""
    digests = [hashlib.sha256(k.encode()).hexdigest() for k in cache_keys(rows)]
    paths = [Path(home) / "files" / d[:2] / f"{d}{suffix}" for d in digests]
    for d in {p.parent for p in paths}:
        d.mkdir(parents=True, exist_ok=True)
    return [str(p) for p in paths]


def temp_beside(dest) -> Path:
    """A temporary name beside ``dest``, unique to this process and thread, with dest's suffix (encoders read it)."""
    dest = Path(dest)
    return dest.with_name(f".{dest.stem}.{os.getpid()}.{threading.get_ident()}{dest.suffix}")


def ensure_files(step: Step, rows: pd.DataFrame, table: pd.DataFrame) -> list[str]:
    """Each row's error ('' when its file exists): the runner's error for an error row; an ok row whose file is
    gone is made again with ``step.process`` (its failure becomes the row's error)."""
    errors = []
    for r, status, err in zip(rows.itertuples(index=False), table.status, table.error):
        if status != "ok":
            errors.append(err)
            continue
        if not Path(r.dest).exists():
            try:
                step.process(None, r)
            except Exception as e:
                errors.append(error_text(e))
                continue
        errors.append("")
    return errors
