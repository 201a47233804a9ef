"""The embedded demo world: a deterministic mini-SLAC corpus with ground truth.

``generate(cfg, out_dir)`` writes real MPEG-4 videos (read back with decord like any
user video) and the truth every stage is measured against::

    out_dir/
      videos/<class>/<video_id>.mp4      candidate videos, as a class-label query returns them
      videos.csv                         video_id,class_label,path,url,title (the csv source format)
      external/<target>/<class>/*.mp4    small external evaluation sets (external de-dup)
      web_images/<class>/*.jpg           'web images' per class; web_images/__background__/*.jpg
      truth/videos.parquet               one row per listed video: duplicate group, transform, broken reason
      truth/shots.parquet                shot boundaries (cut/dissolve), kind, framing, has_person
      truth/segments.parquet             temporal extents of action / no_action / no_context / no_person
      truth/external.parquet             external videos and which candidate video each copies (if any)
      truth/web_images.parquet           image -> class, kind
      world.json                         classes, definitions, external taxonomies, generator params

Segment kinds follow the paper's section 3.3: ``action``; ``no_action`` (person and
context object, action not performed); ``no_context`` (person, no object);
``no_person`` (scenery or animation).  Near-duplicates are planted as transformed
copies (re-encoded, colour/contrast/saturation changed, trimmed, resized) and
"siblings" (different videos sharing actor and scene) are planted as hard
negatives that must *not* be removed.  A few broken files (truncated, zero-length,
not a video, listed but missing) must be quarantined by ingest.
"""

from __future__ import annotations

import argparse
import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from ..config import DemoConfig, load_params
from ..io import PLACEHOLDER, write_json, write_table
from ..video.decode import read_frames
from .footage import _run_job, _write_images
from .motions import CLASSES
from .plan import EXTERNAL_TAXONOMY, VideoPlan, plan_world


# ----------------------------------------------------------------------------- truth tables
def _shot_rows(plan: VideoPlan, offset: int = 0, n_frames: int | None = None) -> tuple[list[dict], list[dict]]:
    """Shot and segment truth of a video, optionally for a trimmed copy (frames [offset, offset+n_frames))."""
    n_frames = plan.n_frames - offset if n_frames is None else n_frames
    shots, segs = [], []
    sid = 0
    for s in plan.shots:
        a, b = max(s.start_frame - offset, 0), min(s.end_frame - offset, n_frames)
        if b <= a:
            continue
        has_person = s.kind != "no_person"
        shots.append(
            dict(
                video_id=plan.video_id,
                shot_id=sid,
                start_frame=a,
                end_frame=b,
                start_s=a / plan.fps,
                end_s=b / plan.fps,
                kind=s.kind,
                framing=s.framing,
                has_person=has_person,
                transition_in=s.transition_in if sid > 0 else "start",
                transition_frames=s.transition_frames if sid > 0 else 0,
            )
        )
        pieces = [(a, b, s.kind)]
        if s.kind == "action":
            aa, ab = s.action_start - offset, s.action_end - offset
            pieces = [(a, max(a, aa), "no_action"), (max(a, aa), min(b, ab), "action"), (min(b, ab), b, "no_action")]
        for x, y, k in pieces:
            if y > x:
                segs.append(
                    dict(
                        video_id=plan.video_id,
                        shot_id=sid,
                        kind=k,
                        start_frame=x,
                        end_frame=y,
                        start_s=x / plan.fps,
                        end_s=y / plan.fps,
                    )
                )
        sid += 1
    return shots, segs


def generate(cfg: DemoConfig, out_dir: str | Path, progress: bool = True) -> dict:
    """Write the whole demo world into out_dir (replacing it). Returns a summary dict.

    Long on purpose: it is the list of the world's files in the order they are written, each a few lines."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    (out_dir / "truth").mkdir(parents=True)
    jobs, vrows, erows, broken, images, plans = plan_world(cfg)

    results: dict[str, dict] = {}
    args = [(j, str(out_dir)) for j in jobs]
    with ProcessPoolExecutor(cfg.workers) as ex:
        for done in tqdm(
            ex.map(_run_job, args, chunksize=1), total=len(args), desc="render videos", disable=not progress
        ):
            for d in done:
                results[d["video_id"]] = d
        chunks = [images[i :: cfg.workers * 4] for i in range(cfg.workers * 4)]
        list(
            tqdm(
                ex.map(_write_images, [(c, cfg, str(out_dir)) for c in chunks]),
                total=len(chunks),
                desc="web images",
                disable=not progress,
            )
        )

    # broken files
    for b in broken:
        p = out_dir / "videos" / b["path"]
        p.parent.mkdir(parents=True, exist_ok=True)
        if b["reason"] == "truncated":
            data = (out_dir / b["source"]).read_bytes()
            p.write_bytes(data[: int(len(data) * 0.4)])
        elif b["reason"] == "zero_length":
            p.write_bytes(b"")
        elif b["reason"] == "not_a_video":
            p.write_text("<html><body>This video is unavailable.</body></html>\n")
        # missing: listed in videos.csv, no file

    # truth: shots and segments for every candidate (copies get their trimmed versions)
    shot_rows, seg_rows = [], []
    for r in vrows:
        if r["broken"]:
            continue
        src = plans[r["copy_of"] or r["video_id"]]
        res = results[r["video_id"]]
        plan = (
            src
            if not r["is_copy"]
            else VideoPlan(
                r["video_id"], src.class_label, src.fps, src.width, src.height, src.n_frames, 0, 0, src.shots
            )
        )
        s, g = _shot_rows(plan, res.get("trim_head", 0), res["n_frames"])
        shot_rows += s
        seg_rows += g
    for r in erows:
        r["n_frames"] = results[r["video_id"]]["n_frames"]

    videos = pd.DataFrame(vrows)
    videos["n_frames"] = [results[v]["n_frames"] if v in results else 0 for v in videos.video_id]
    videos["has_person"] = [
        any(s.kind != "no_person" for s in plans[(c or v)].shots) if not b else False
        for v, c, b in zip(videos.video_id, videos.copy_of, videos.broken)
    ]
    write_table(videos, out_dir / "truth/videos.parquet", sort_by=["class_label", "video_id"])
    write_table(pd.DataFrame(shot_rows), out_dir / "truth/shots.parquet", sort_by=["video_id", "shot_id"])
    write_table(pd.DataFrame(seg_rows), out_dir / "truth/segments.parquet", sort_by=["video_id", "start_frame"])
    write_table(
        pd.DataFrame(
            erows, columns=["target", "target_class", "video_id", "path", "copy_of", "copy_class", "mapped", "n_frames"]
        ),
        out_dir / "truth/external.parquet",
        sort_by=["target", "target_class", "video_id"],
    )
    write_table(
        pd.DataFrame(images, columns=["image_id", "class_label", "source_class", "kind", "seed", "path"]).drop(
            columns=["seed"]
        ),
        out_dir / "truth/web_images.parquet",
        sort_by=["class_label", "image_id"],
    )

    listing = videos[["video_id", "class_label", "path", "title"]].copy()
    listing.insert(3, "url", "https://www.youtube.com/watch?v=" + listing.video_id)
    write_table(listing, out_dir / "videos.csv", sort_by=["class_label", "video_id"])

    world = dict(
        classes={c: CLASSES[c]["definition"] for c in cfg.classes},
        external_taxonomy={
            t: {(k or "__unmapped__"): v for k, v in tax.items() if k is None or k in cfg.classes}
            for t, tax in EXTERNAL_TAXONOMY.items()
        },
        generator=cfg.model_dump(mode="json"),
        counts=dict(
            candidates=int((~videos.is_copy).sum()),
            planted_copies=int(videos.is_copy.sum()),
            broken=len(broken),
            external=len(erows),
            web_images=len(images),
        ),
    )
    write_json(world, out_dir / "world.json")
    return world["counts"]


def write_placeholder(out_dir: str | Path, source: str) -> Path:
    """With a folder or CSV source the demo world is not generated: the stage writes only notes where its outputs
    would be (so the pipeline's graph is the same for every source) and no stage finds demo truth in them."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    note = (
        f"# Not generated\n\ndata.source is `{source}`: the embedded demo world is generated only for data.source: demo.\n"
        "This folder holds notes, no videos and no truth; stages that measure against demo truth say so in their tables.\n"
    )
    for sub in ("", "truth", "external", "web_images", "videos"):
        (out_dir / sub).mkdir(parents=True, exist_ok=True)
        (out_dir / sub / PLACEHOLDER).write_text(note)
    (out_dir / "videos.csv").write_text("video_id,class_label,path,url,title\n")
    return out_dir


def load_truth(demo_dir: str | Path) -> dict[str, pd.DataFrame]:
    """The demo world's ground-truth tables, keyed by name (videos, shots, segments, external, web_images)."""
    d = Path(demo_dir) / "truth"
    return {p.stem: pd.read_parquet(p) for p in sorted(d.glob("*.parquet"))}


def _main():  # pragma: no cover - exercised by the demo_world DVC stage

    ap = argparse.ArgumentParser(description="Generate the embedded demo world.")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", default="data/raw/demo")
    a = ap.parse_args()
    params = load_params(a.params)
    if params.data.source != "demo":
        write_placeholder(a.out, params.data.source)
        print(json.dumps({"generated": False, "data.source": params.data.source}))
        return
    counts = generate(params.demo, a.out)
    print(json.dumps(counts))


if __name__ == "__main__":
    _main()


def contact_sheet_tiles(demo_dir, classes, kinds=("action", "no_action", "no_context", "no_person")):
    """One mid-segment frame per (class, kind) from the truth: tiles for plots.contact_sheet."""

    demo_dir = Path(demo_dir)
    t = load_truth(demo_dir)
    seg = (
        t["segments"]
        .merge(t["videos"][["video_id", "class_label", "path", "is_copy"]], on="video_id")
        .merge(t["shots"][["video_id", "shot_id", "framing"]], on=["video_id", "shot_id"])
    )
    seg = seg[~seg.is_copy]
    tiles = []
    for cls in classes:
        row = []
        for k in kinds:
            s = seg[(seg.class_label == cls) & (seg.kind == k)].sort_values(["framing", "video_id", "start_frame"])
            s = s[s.framing == "full"] if (s.framing == "full").any() and k != "no_person" else s
            if len(s) == 0:
                row.append(None)
                continue
            r = s.iloc[0]
            row.append(read_frames(demo_dir / "videos" / r.path, [(r.start_frame + r.end_frame) // 2])[0])
        tiles.append(row)
    return tiles
