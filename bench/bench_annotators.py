"""A team of simulated annotators at once, against SQLite and PostgreSQL, measured side by side in one run (CPU).

N annotator processes (N = 1, 4, 8), each owning one class, label ``--pages`` pages of 12 clips as fast as the
store takes it: a click on every clip (one durable flip event each), then submit (12 rows, one transaction). Each
process records the latency of every write it made; the run reports

* sustained clicks/s: all flip events of all annotators / wall time from the common start to the last submit;
* p50 / p95 latency of a click and of a page submit, over every write of every annotator;
* labels lost: clips whose submit was confirmed to the annotator but that have no current label in the store
  afterwards (must be 0).

PostgreSQL is a throw-away local server (tests/pg_server.py: Debian's initdb/pg_ctl in a temp dir, default
settings, fsync on). A human annotator clicks about once a second (the paper: 8.8 s a clip), so clicks/s divided
by one is the number of annotators a store keeps up with.

Run: .venv/bin/python bench/bench_annotators.py [--pages 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from slac_utils.annotation import LabelStore  # noqa: E402
from tests.pg_server import PgServer, why_unavailable  # noqa: E402

PAGE = 12
_ANNOTATOR = r"""
import json, sys, time
import pandas as pd
from slac_utils.annotation import LabelStore, AnnotationSession
where, cls, who, pages, go = sys.argv[1:6]
store = LabelStore(url=where) if "://" in where else LabelStore(where)
s = AnnotationSession(store, pd.read_parquet(sys.argv[6]), cls, who, page_size=12)
print("ready", flush=True)
while time.time() < float(go):
    time.sleep(0.0005)
clicks, pages_t, confirmed = [], [], []
for k in range(int(pages)):
    for i in range(len(s.page_clips)):
        t = time.perf_counter(); s.flip(i); clicks.append(time.perf_counter() - t)
    ids = list(s.page_clips)
    t = time.perf_counter(); s.submit(); pages_t.append(time.perf_counter() - t)
    confirmed += ids
print(json.dumps(dict(clicks=clicks, pages=pages_t, confirmed=confirmed, end=time.time())), flush=True)
"""


def clips_table(n_classes: int, per_class: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            dict(clip_id=f"k{k}_{i:04d}", video_id=f"k{k}v{i // 4}", class_label=f"class{k}", path=f"c/{k}_{i}.mp4")
            for k in range(n_classes)
            for i in range(per_class)
        ]
    )


def run_team(where: str, n: int, pages: int, tmp: Path) -> dict:
    clips = clips_table(n, pages * PAGE)
    clips.to_parquet(tmp / "clips.parquet")
    (tmp / "annotator.py").write_text(_ANNOTATOR)
    go = time.time() + 3 + 0.4 * n  # a common start, after every process has imported and opened the store
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(tmp / "annotator.py"),
                where,
                f"class{k}",
                f"ann{k}",
                str(pages),
                str(go),
                str(tmp / "clips.parquet"),
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(n)
    ]
    outs = []
    for p in procs:
        out, _ = p.communicate(timeout=900)
        lines = out.strip().splitlines()
        if p.returncode or lines[0] != "ready" or time.time() < go:
            raise RuntimeError(f"annotator failed ({p.returncode}): {out[-500:]}")
        outs.append(json.loads(lines[-1]))
    store = LabelStore(url=where) if "://" in where else LabelStore(where)
    have = set(store.current_labels().clip_id)
    store.close()
    clicks = np.concatenate([o["clicks"] for o in outs])
    page_t = np.concatenate([o["pages"] for o in outs])
    confirmed = {c for o in outs for c in o["confirmed"]}
    wall = max(o["end"] for o in outs) - go
    return dict(
        clicks_per_s=len(clicks) / wall,
        click_p50=np.percentile(clicks, 50) * 1e3,
        click_p95=np.percentile(clicks, 95) * 1e3,
        page_p50=np.percentile(page_t, 50) * 1e3,
        page_p95=np.percentile(page_t, 95) * 1e3,
        lost=len(confirmed - have),
        confirmed=len(confirmed),
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20, help="pages of 12 clips per annotator")
    ap.add_argument("--team", type=int, nargs="+", default=[1, 4, 8])
    a = ap.parse_args()
    why = why_unavailable()
    server = None
    if why is None:
        server = PgServer()
        server.start()
    print(f"{a.pages} pages x {PAGE} clips per annotator; {os.cpu_count()} CPU cores; one click = one durable write")
    print(
        f"{'store':<12}{'annotators':>11}{'clicks/s':>10}{'click p50':>11}{'p95':>9}{'page p50':>10}{'p95':>9}{'lost':>6}"
    )
    for n in a.team:
        for kind in ("sqlite", "postgresql"):
            if kind == "postgresql" and server is None:
                print(f"{kind:<12}{n:>11}  skipped: {why}")
                continue
            with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
                where = (
                    str(Path(tmp) / "labels.sqlite")
                    if kind == "sqlite"
                    else server.create_db(f"team_{n}_{int(time.time())}")
                )
                r = run_team(where, n, a.pages, Path(tmp))
            print(
                f"{kind:<12}{n:>11}{r['clicks_per_s']:>10.0f}{r['click_p50']:>9.2f}ms{r['click_p95']:>7.2f}ms"
                f"{r['page_p50']:>8.2f}ms{r['page_p95']:>7.2f}ms{r['lost']:>6}"
            )
    if server is not None:
        server.close()


if __name__ == "__main__":
    main()
