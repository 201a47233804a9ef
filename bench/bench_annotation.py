"""Annotation benchmarks, measured side by side in one run (CPU):

1. Time to render a page of 12 clips in the grid: read the 12 clip files, inline them as data URLs, set the
   tiles' videos, borders and buttons, progress and golden-set accuracy (AnnotationGrid.next_page).
   Goal <= 300 ms. Clips as stage 04 writes them: 2 s, 15 fps, 160 px wide H.264; the store already holds
   20,000 labels of other classes (a team's store), since progress and accuracy are read from it per page.
2. Latency of a durable label write: one click (a flip event) committed with WAL + synchronous=FULL, and a
   whole page of 12 submit rows in one transaction. Goal <= 10 ms per click.

Run: make bench   (or: .venv/bin/python bench/bench_annotation.py)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils.annotation import AnnotationSession, LabelStore  # noqa: E402
from slac_utils.grid import AnnotationGrid  # noqa: E402
from slac_utils.video.encode import write_h264  # noqa: E402

PAGE = 12


def make_clips(root: Path, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        f = np.empty((30, 120, 160, 3), np.uint8)
        f[:] = rng.integers(0, 255, 3)
        for t in range(30):  # a moving figure-sized block with texture
            f[t, 30:100, 4 * t : 4 * t + 30] = rng.integers(0, 255, (70, 30, 3))
        p = write_h264(root / f"c{i:03d}.mp4", f, 15.0, crf=26)
        rows.append(dict(clip_id=f"c{i:03d}", video_id=f"v{i // 4}", class_label="archery", path=str(p)))
    return pd.DataFrame(rows)


def pct(a, q):
    return float(np.percentile(np.asarray(a) * 1000, q))


def busy_store(path: Path, n_labels: int) -> LabelStore:
    """A store that already holds n_labels submitted labels of other classes and annotators (a team's store)."""
    store = LabelStore(path)
    rows = [
        store._row(
            action="submit",
            annotator=f"ann{k % 20}",
            class_label=f"class{k % 50}",
            clip_id=f"x{k}",
            label=1 - 2 * (k % 3 == 0),
            is_gold=k % 10 == 0,
            page=k // 12,
            page_event=k // 12,
            seconds=8.8,
            seconds_on_page=105.6,
        )
        for k in range(n_labels)
    ]
    store._append(rows)
    store.add_gold(
        pd.DataFrame(
            dict(clip_id=[f"x{k}" for k in range(0, n_labels, 10)], class_label="class0", label=1, role="check")
        )
    )
    return store


def bench_render(root: Path, clips: pd.DataFrame, repeats: int = 20, existing: int = 20_000) -> dict:
    store = busy_store(root / "render.sqlite", existing)
    grid = AnnotationGrid(store, clips, page_size=PAGE, annotator="bench", class_label="archery")
    times = []
    for _ in range(repeats):  # re-render the first page: reads the files and rebuilds every tile each time
        t = time.perf_counter()
        grid.next_page()
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    AnnotationGrid(LabelStore(root / "build.sqlite"), clips, page_size=PAGE, annotator="bench", class_label="archery")
    build = time.perf_counter() - t
    kb = sum(len(v.value) for v in grid.videos) / 1024
    store.close()
    return dict(median_ms=pct(times, 50), p95_ms=pct(times, 95), build_ms=build * 1000, page_kb=kb, existing=existing)


def bench_writes(root: Path, clips: pd.DataFrame, n: int = 300, existing: int = 20_000) -> dict:
    store = busy_store(root / "writes.sqlite", existing)
    s = AnnotationSession(store, clips, "archery", "bench", page_size=PAGE)
    flips, pages = [], []
    for k in range(n):
        t = time.perf_counter()
        s.store.flip(
            s.annotator, s.class_label, s.page_clips[k % PAGE], 1, False, s.page_no, s.page_event
        )  # one durable click
        flips.append(time.perf_counter() - t)
    for _ in range(50):
        t = time.perf_counter()
        s.store.submit(
            s.annotator, s.class_label, s.page_no, s.page_event, s.page_clips, s.labels, [False] * PAGE, 60.0
        )  # one durable page
        pages.append(time.perf_counter() - t)
    mode = (
        store.db.con.execute("PRAGMA journal_mode").fetchone()[0],
        store.db.con.execute("PRAGMA synchronous").fetchone()[0],
    )
    store.close()
    return dict(
        flip_median_ms=pct(flips, 50),
        flip_p95_ms=pct(flips, 95),
        page_median_ms=pct(pages, 50),
        page_p95_ms=pct(pages, 95),
        mode=mode,
    )


def main():
    root = Path(tempfile.mkdtemp(prefix="bench-annotation-"))
    clips = make_clips(root / "clips", 24)
    r = bench_render(root, clips)
    w = bench_writes(root, clips)
    print(
        f"clips: 2 s, 15 fps, 160x120 H.264, {r['page_kb']:.0f} KB of data URLs per page of {PAGE}; store: journal_mode={w['mode'][0]}, synchronous={w['mode'][1]} (2 = FULL)"
    )
    print(f"{'measure':<44}{'median':>10}{'p95':>10}{'goal':>10}")
    print(f"(the store already holds {r['existing']:,} labels of other classes and annotators)")
    print(f"{'render a page of 12 clips (next_page)':<44}{r['median_ms']:>8.1f}ms{r['p95_ms']:>8.1f}ms{'<= 300ms':>10}")
    print(f"{'  build grid + login + first page':<44}{r['build_ms']:>8.1f}ms{'':>10}{'':>10}")
    print(
        f"{'durable write: one click (flip event)':<44}{w['flip_median_ms']:>8.2f}ms{w['flip_p95_ms']:>8.2f}ms{'<= 10ms':>10}"
    )
    print(
        f"{'durable write: one page (12 submit rows)':<44}{w['page_median_ms']:>8.2f}ms{w['page_p95_ms']:>8.2f}ms{'':>10}"
    )
    ok = r["median_ms"] <= 300 and w["flip_median_ms"] <= 10
    print("goals met" if ok else "GOAL MISSED")


if __name__ == "__main__":
    main()
