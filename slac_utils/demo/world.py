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

import json
import math
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..config import DemoConfig
from ..io import PLACEHOLDER, write_json, write_table
from .motions import CLASSES, pose_and_draw
from .render import Pose, draw_person, draw_shape, draw_talking_head, random_background, random_look

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# target evaluation sets and their own names for our classes (+ one class we do not map)
EXTERNAL_TAXONOMY = {
    "demo_kinetics_val": {
        "archery": "archery",
        "juggling_balls": "juggling balls",
        "jump_rope": "skipping rope",
        "basketball_dribbling": "dribbling basketball",
        "hula_hoop": "hula hooping",
        "waving_flag": "waving flag",
        None: "walking the dog",
    },
    "demo_ucf101_test": {
        "archery": "Archery",
        "juggling_balls": "JugglingBalls",
        "jump_rope": "JumpRope",
        "basketball_dribbling": "Basketball",
        "hula_hoop": "HulaHoop",
        "waving_flag": "WavingFlag",
        None: "ApplyEyeMakeup",
    },
}


@dataclass
class ShotPlan:
    shot_id: int
    start_frame: int  # truth boundary (first frame of the shot; mid-point of a dissolve)
    end_frame: int  # exclusive
    kind: str  # action | no_action | no_context | no_person
    framing: str  # full | closeup | scenery | animation
    transition_in: str  # start | cut | dissolve
    transition_frames: int
    scene_seed: int
    action_start: int = -1  # absolute frames of the action extent (action shots)
    action_end: int = -1


@dataclass
class VideoPlan:
    video_id: str
    class_label: str
    fps: float
    width: int
    height: int
    n_frames: int
    look_seed: int
    motion_seed: int
    shots: list[ShotPlan] = field(default_factory=list)
    title: str = ""


@dataclass
class CopySpec:
    video_id: str
    dest: str  # relative to out_dir
    transforms: list[dict]
    role: str  # duplicate | external_overlap


@dataclass
class Job:
    plan: VideoPlan
    dest: str
    copies: list[CopySpec]
    qscale: int


def _vid(rng: np.random.Generator) -> str:
    return "".join(ID_ALPHABET[i] for i in rng.integers(0, 64, 11))


# ----------------------------------------------------------------------------- planning
def plan_video(
    rng: np.random.Generator,
    cfg: DemoConfig,
    video_id: str,
    cls: str,
    *,
    no_person: bool = False,
    n_shots: tuple | None = None,
) -> VideoPlan:
    fps = cfg.fps
    lo, hi = n_shots or cfg.shots_per_video
    k = int(rng.integers(lo, hi + 1))
    kinds, probs = zip(*cfg.kind_probs.items())
    shots, f = [], 0
    for i in range(k):
        n = int(round(rng.uniform(*cfg.shot_seconds) * fps))
        kind = "no_person" if no_person else str(rng.choice(kinds, p=np.array(probs) / sum(probs)))
        if kind == "no_person":
            framing = "scenery" if rng.random() < 0.6 else "animation"
        elif kind != "action" and rng.random() < cfg.closeup_prob:
            framing = "closeup"
        else:
            framing = "full"
        if i == 0:
            trans, tl = "start", 0
        elif rng.random() < cfg.dissolve_prob:
            trans, tl = "dissolve", int(rng.integers(cfg.dissolve_frames[0], cfg.dissolve_frames[1] + 1))
        else:
            trans, tl = "cut", 0
        scene = int(rng.integers(2**31))
        if i > 0 and trans == "cut" and rng.random() < cfg.same_scene_cut_prob and shots[-1].framing == framing:
            scene = shots[-1].scene_seed ^ 1  # same background (seed // 2), new camera position (seed)
        sp = ShotPlan(i, f, f + n, kind, framing, trans, tl, scene)
        if kind == "action":
            min_len = int(2.0 * fps)
            if n <= min_len + fps // 2:
                sp.action_start, sp.action_end = f, f + n
            else:
                a = int(rng.uniform(0, 0.3) * (n - min_len))
                b = int(rng.uniform(0, 0.3) * (n - min_len - a))
                sp.action_start, sp.action_end = f + a, f + n - b
        shots.append(sp)
        f += n
    words = cls.replace("_", " ")
    title = str(
        rng.choice(
            [
                f"{words} tutorial",
                f"best {words} ever",
                f"{words} practice session",
                f"my {words} video",
                f"{words} compilation",
            ]
        )
    )
    return VideoPlan(
        video_id, cls, fps, cfg.width, cfg.height, f, int(rng.integers(2**31)), int(rng.integers(2**31)), shots, title
    )


def _random_transforms(rng: np.random.Generator, base_q: int) -> list[dict]:
    """1-3 post-processing steps as a re-upload would apply them."""
    pool = ["reencode", "color", "trim", "resize"]
    chosen = list(rng.choice(pool, size=int(rng.integers(1, 4)), replace=False))
    out = []
    for t in sorted(chosen, key=pool.index):
        if t == "reencode":
            out.append({"op": "reencode", "qscale": int(min(31, base_q + rng.integers(3, 7)))})
        elif t == "color":
            out.append(
                {
                    "op": "color",
                    "saturation": float(rng.uniform(0.55, 1.6)),
                    "contrast": float(rng.uniform(0.75, 1.3)),
                    "brightness": float(rng.uniform(-25, 25)),
                }
            )
        elif t == "trim":
            out.append({"op": "trim", "head": float(rng.uniform(0.03, 0.15)), "tail": float(rng.uniform(0.03, 0.15))})
        else:
            out.append({"op": "resize", "scale": float(rng.choice([0.75, 0.8, 1.25, 1.5]))})
    return out


def plan_world(cfg: DemoConfig):
    """Plan every file of the world: returns (jobs, truth tables as records, broken specs, web image specs)."""
    rng = np.random.default_rng(cfg.seed)
    used: set[str] = set()

    def new_id():
        while True:
            v = _vid(rng)
            if v not in used:
                used.add(v)
                return v

    jobs: list[Job] = []
    vrows: list[dict] = []
    plans: dict[str, VideoPlan] = {}
    for cls in cfg.classes:
        originals = []
        for i in range(cfg.videos_per_class):
            vid = new_id()
            plan = plan_video(rng, cfg, vid, cls, no_person=rng.random() < cfg.no_person_video_prob)
            originals.append(plan)
        # siblings: same actor and first scene, otherwise different video (hard negatives for de-dup)
        order = rng.permutation(len(originals))
        for p in range(min(cfg.sibling_pairs_per_class, len(originals) // 2)):
            a, b = originals[order[2 * p]], originals[order[2 * p + 1]]
            b.look_seed = a.look_seed
            if a.shots[0].framing == b.shots[0].framing:
                b.shots[0].scene_seed = a.shots[0].scene_seed
            a.title = b.title = a.title + " (channel)"
        sib_of = {
            originals[order[2 * p + 1]].video_id: originals[order[2 * p]].video_id
            for p in range(min(cfg.sibling_pairs_per_class, len(originals) // 2))
        }
        for plan in originals:
            copies = []
            if rng.random() < cfg.duplicate_prob:
                for _ in range(1 if rng.random() < 0.7 else 2):
                    cid = new_id()
                    tr = _random_transforms(rng, cfg.qscale)
                    copies.append(CopySpec(cid, f"videos/{cls}/{cid}.mp4", tr, "duplicate"))
            name = plan.video_id
            jobs.append(Job(plan, f"videos/{cls}/{name}.mp4", copies, cfg.qscale))
            plans[plan.video_id] = plan
            vrows.append(
                dict(
                    video_id=plan.video_id,
                    class_label=cls,
                    path=f"{cls}/{name}.mp4",
                    dup_group=plan.video_id,
                    is_copy=False,
                    copy_of="",
                    transforms="",
                    sibling_of=sib_of.get(plan.video_id, ""),
                    broken="",
                    title=plan.title,
                )
            )
            for c in copies:
                vrows.append(
                    dict(
                        video_id=c.video_id,
                        class_label=cls,
                        path=c.dest.split("/", 1)[1],
                        dup_group=plan.video_id,
                        is_copy=True,
                        copy_of=plan.video_id,
                        transforms=json.dumps(c.transforms),
                        sibling_of="",
                        broken="",
                        title=plan.title + " (reupload)",
                    )
                )

    # one oddly named (but valid) upload: spaces, brackets and non-ASCII in the file name
    odd = jobs[1]
    odd.dest = (
        f"videos/{odd.plan.class_label}/{odd.plan.class_label.replace('_', ' ').title()} – tutorial (part 2) ñ.mp4"
    )
    for r in vrows:
        if r["video_id"] == odd.plan.video_id:
            r["path"] = odd.dest.split("/", 1)[1]

    # external evaluation sets: fresh videos per mapped class + planted overlaps (one in an unmapped class)
    erows = []
    cand = [j for j in jobs if not all(s.kind == "no_person" for s in j.plan.shots)]
    for target, tax in EXTERNAL_TAXONOMY.items():
        for cls in cfg.classes:
            for _ in range(cfg.external_videos_per_class):
                vid = new_id()
                plan = plan_video(rng, cfg, vid, cls, n_shots=(1, 3))
                dest = f"external/{target}/{tax[cls]}/{vid}.mp4"
                jobs.append(Job(plan, dest, [], cfg.qscale))
                erows.append(
                    dict(
                        target=target,
                        target_class=tax[cls],
                        video_id=vid,
                        path=dest,
                        copy_of="",
                        copy_class="",
                        mapped=True,
                    )
                )
        for _ in range(2):  # unrelated class content
            vid = new_id()
            plan = plan_video(rng, cfg, vid, cfg.classes[0], n_shots=(1, 3))
            for s in plan.shots:
                s.kind, s.action_start, s.action_end = ("no_context" if s.kind != "no_person" else "no_person"), -1, -1
            dest = f"external/{target}/{tax[None]}/{vid}.mp4"
            jobs.append(Job(plan, dest, [], cfg.qscale))
            erows.append(
                dict(
                    target=target,
                    target_class=tax[None],
                    video_id=vid,
                    path=dest,
                    copy_of="",
                    copy_class="",
                    mapped=False,
                )
            )
        picks = rng.choice(len(cand), size=min(cfg.external_overlaps, len(cand)), replace=False)
        for n, pi in enumerate(picks):
            src = cand[pi]
            cls = src.plan.class_label
            mapped = n < len(picks) - 1  # the last overlap goes to a class the map does not link (must NOT be removed)
            tclass = tax[cls] if mapped else tax[None]
            vid = new_id()
            dest = f"external/{target}/{tclass}/{vid}.mp4"
            src.copies.append(CopySpec(vid, dest, _random_transforms(rng, cfg.qscale), "external_overlap"))
            erows.append(
                dict(
                    target=target,
                    target_class=tclass,
                    video_id=vid,
                    path=dest,
                    copy_of=src.plan.video_id,
                    copy_class=cls,
                    mapped=mapped,
                )
            )

    # broken files, listed in videos.csv like any other crawl result
    broken = []
    for reason in ("truncated", "zero_length", "not_a_video", "missing"):
        cls = cfg.classes[int(rng.integers(len(cfg.classes)))]
        vid = new_id()
        src = jobs[int(rng.integers(len(cfg.classes) * cfg.videos_per_class))].dest
        broken.append(dict(video_id=vid, class_label=cls, path=f"{cls}/{vid}.mp4", reason=reason, source=src))
        vrows.append(
            dict(
                video_id=vid,
                class_label=cls,
                path=f"{cls}/{vid}.mp4",
                dup_group=vid,
                is_copy=False,
                copy_of="",
                transforms="",
                sibling_of="",
                broken=reason,
                title=f"{cls.replace('_', ' ')} (broken upload)",
            )
        )

    # web images
    images = []
    for cls in [*cfg.classes, "__background__"]:
        n = cfg.background_images if cls == "__background__" else cfg.web_images_per_class
        for i in range(n):
            if cls == "__background__":
                kind = str(rng.choice(["no_person", "no_context", "no_context"]))
                src_cls = cfg.classes[int(rng.integers(len(cfg.classes)))]
            else:
                kind = "action" if rng.random() < 0.85 else "no_context"
                src_cls = cls
            images.append(
                dict(
                    image_id=f"{cls}_{i:04d}",
                    class_label=cls,
                    source_class=src_cls,
                    kind=kind,
                    seed=int(rng.integers(2**31)),
                    path=f"web_images/{cls}/{cls}_{i:04d}.jpg",
                )
            )
    return jobs, vrows, erows, broken, images, plans


# ----------------------------------------------------------------------------- rendering
class _ShotRenderer:
    """Renders frames of one shot as a pure function of the absolute frame index."""

    def __init__(self, plan: VideoPlan, shot: ShotPlan, margin: int = 24):
        self.plan, self.shot = plan, shot
        W, H = plan.width, plan.height
        self.m = margin
        srng = np.random.default_rng(shot.scene_seed // 2 * 2)  # same-scene cuts share the background
        self.bg = random_background(srng, H + 2 * margin, W + 2 * margin)
        crng = np.random.default_rng(shot.scene_seed)  # camera differs between same-scene shots
        self.cam0 = crng.uniform(0, 2 * margin, 2)
        self.drift = crng.uniform(-0.4, 0.4, 2)
        lrng = np.random.default_rng(plan.look_seed)
        self.look = random_look(lrng)
        mrng = np.random.default_rng([plan.motion_seed, shot.shot_id])
        hgt = mrng.uniform(0.58, 0.8) * H
        self.base = Pose(
            x=mrng.uniform(0.3, 0.7) * W + margin,
            y_feet=min(H - 4, hgt + mrng.uniform(8, 0.2 * H)) + margin,
            height=hgt,
        )
        self.var = dict(
            idle_period=mrng.uniform(1.5, 3.0),
            generic_style=int(mrng.integers(3)),
            speed=mrng.uniform(0.85, 1.2),
            phase=mrng.uniform(),
            obj_side=1 if mrng.random() < 0.5 else -1,
        )
        self.face = (
            mrng.uniform(0.35, 0.65) * W + margin,
            mrng.uniform(0.33, 0.45) * H + margin,
            mrng.uniform(0.38, 0.55) * H,
        )
        self.shapes = [
            (
                str(mrng.choice(["circle", "star", "square", "triangle"])),
                mrng.uniform(0, W, 2) + margin,
                mrng.uniform(-3, 3, 2),
                mrng.uniform(10, 35),
                tuple(int(v) for v in mrng.integers(0, 255, 3)),
            )
            for _ in range(int(mrng.integers(3, 7)))
        ]
        if shot.framing == "animation":
            self.bg[:] = np.array(mrng.integers(0, 255, 3), np.uint8)

    def kind_at(self, f: int) -> str:
        s = self.shot
        if s.kind == "action" and not (s.action_start <= f < s.action_end):
            return "no_action"
        return s.kind

    def frame(self, f: int) -> np.ndarray:
        plan, s, m = self.plan, self.shot, self.m
        t = (f - s.start_frame) / plan.fps
        canvas = self.bg.copy()
        kind = self.kind_at(f)
        if s.framing == "full":
            pose, draw_obj = pose_and_draw(plan.class_label, kind, t, self.base, self.var)
            joints = draw_person(canvas, pose, self.look)
            if draw_obj is not None:
                draw_obj(canvas, joints)
        elif s.framing == "closeup":
            cx, cy, fh = self.face
            mouth = 0.5 + 0.5 * math.sin(2 * math.pi * t * 3.1)
            draw_talking_head(
                canvas,
                cx + 3 * math.sin(t),
                cy + 2 * math.sin(1.3 * t),
                fh,
                self.look,
                mouth_open=mouth,
                tilt=0.05 * math.sin(t),
            )
            if kind == "no_action":  # the context object next to the speaker
                col = CLASSES[plan.class_label]["color"]
                cv2.circle(
                    canvas,
                    (int(cx + fh * 0.9 * self.var["obj_side"]), int(cy + fh * 0.9)),
                    int(fh * 0.22),
                    col,
                    -1,
                    cv2.LINE_AA,
                )
        else:
            for kind_s, p0, v, size, col in self.shapes:
                p = p0 + v * t * plan.fps * (1.0 if s.framing == "animation" else 0.15)
                W, H = plan.width + 2 * m, plan.height + 2 * m
                p = np.abs((p + np.array([W, H])) % (2 * np.array([W, H])) - np.array([W, H]))  # bounce
                if s.framing == "scenery":
                    cv2.ellipse(
                        canvas,
                        (int(p[0]), int(p[1] * 0.3)),
                        (int(size * 1.8), int(size * 0.6)),
                        0,
                        0,
                        360,
                        (245, 245, 245),
                        -1,
                        cv2.LINE_AA,
                    )
                else:
                    draw_shape(canvas, kind_s, p, size, col, angle=t)
        ox, oy = self.cam0 + self.drift * (f - s.start_frame)
        ox, oy = int(np.clip(ox, 0, 2 * m)), int(np.clip(oy, 0, 2 * m))
        return canvas[oy : oy + plan.height, ox : ox + plan.width]


def render_video(plan: VideoPlan) -> np.ndarray:
    """All frames (N, H, W, 3) uint8 RGB of a planned video, with dissolves and sensor noise."""
    rends = [_ShotRenderer(plan, s) for s in plan.shots]
    out = np.empty((plan.n_frames, plan.height, plan.width, 3), np.uint8)
    nrng = np.random.default_rng(plan.motion_seed)
    noise = nrng.normal(0, 2.5, (4, plan.height, plan.width, 1)).astype(np.int16)
    for i, (s, r) in enumerate(zip(plan.shots, rends)):
        for f in range(s.start_frame, s.end_frame):
            img = r.frame(f).astype(np.int16)
            nxt = plan.shots[i + 1] if i + 1 < len(plan.shots) else None
            if nxt is not None and nxt.transition_in == "dissolve" and f >= s.end_frame - nxt.transition_frames // 2:
                a = (f - (s.end_frame - nxt.transition_frames // 2) + 1) / (nxt.transition_frames + 1)
                img = ((1 - a) * img + a * rends[i + 1].frame(f)).astype(np.int16)
            if s.transition_in == "dissolve" and f < s.start_frame + (s.transition_frames + 1) // 2:
                a = (f - (s.start_frame - s.transition_frames // 2) + 1) / (s.transition_frames + 1)
                img = ((1 - a) * rends[i - 1].frame(f) + a * img).astype(np.int16)
            out[f] = np.clip(img + noise[f % 4], 0, 255).astype(np.uint8)
    return out


def apply_transforms(frames: np.ndarray, transforms: list[dict], fps: float) -> tuple[np.ndarray, int]:
    """A re-upload of frames: colour/contrast/saturation, trim, resize. Returns (frames, quantiser or None)."""
    q = None
    for t in transforms:
        if t["op"] == "color":
            out = np.empty_like(frames)
            for i, fr in enumerate(frames):
                hsv = cv2.cvtColor(fr, cv2.COLOR_RGB2HSV).astype(np.float32)
                hsv[..., 1] = np.clip(hsv[..., 1] * t["saturation"], 0, 255)
                rgb = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
                out[i] = np.clip((rgb - 128) * t["contrast"] + 128 + t["brightness"], 0, 255).astype(np.uint8)
            frames = out
        elif t["op"] == "trim":
            n = len(frames)
            frames = frames[int(n * t["head"]) : n - int(n * t["tail"])]
        elif t["op"] == "resize":
            h, w = frames.shape[1:3]
            nw, nh = int(round(w * t["scale"] / 2)) * 2, int(round(h * t["scale"] / 2)) * 2
            frames = np.stack([cv2.resize(fr, (nw, nh), interpolation=cv2.INTER_AREA) for fr in frames])
        elif t["op"] == "reencode":
            q = t["qscale"]
    return frames, q


def write_video(path: Path, frames: np.ndarray, fps: float, qscale: int = 4) -> None:
    """Encode RGB frames as MPEG-4 Part 2 (yuv420p) in MP4, byte-deterministic.

    FFmpeg's native MPEG-4 encoder at a fixed quantiser is bit-exact run to run; libx264 through PyAV
    was seen to vary between encodes of identical frames within one process, which would make the
    demo world (a DVC output) unreproducible.  decord and every FFmpeg-based reader decode it.
    """
    from fractions import Fraction

    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format="mp4", container_options={"fflags": "+bitexact"}) as c:
        s = c.add_stream("mpeg4", rate=rate)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        cc = s.codec_context
        cc.thread_count = 1
        cc.qmin = cc.qmax = int(qscale)  # a fixed quantiser
        cc.gop_size = int(round(fps * 2))
        s.options = {"flags": "+bitexact"}
        for i, fr in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(
                cv2.cvtColor(np.ascontiguousarray(fr), cv2.COLOR_RGB2YUV_I420), format="yuv420p"
            )
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def _run_job(args) -> list[dict]:
    job, out_dir = args
    out_dir = Path(out_dir)
    frames = render_video(job.plan)
    write_video(out_dir / job.dest, frames, job.plan.fps, job.qscale)
    done = [dict(video_id=job.plan.video_id, dest=job.dest, n_frames=len(frames))]
    for c in job.copies:
        fr, q = apply_transforms(frames, c.transforms, job.plan.fps)
        write_video(out_dir / c.dest, fr, job.plan.fps, q or job.qscale)
        trim = next((t for t in c.transforms if t["op"] == "trim"), None)
        done.append(
            dict(
                video_id=c.video_id,
                dest=c.dest,
                n_frames=len(fr),
                trim_head=int(len(frames) * trim["head"]) if trim else 0,
            )
        )
    return done


def _render_image(spec: dict, cfg: DemoConfig) -> np.ndarray:
    """A still 'web image': a posed figure mid-action (or a background picture)."""
    rng = np.random.default_rng(spec["seed"])
    H, W = cfg.height, cfg.width
    framing = "full" if spec["kind"] != "no_person" else ("scenery" if rng.random() < 0.6 else "animation")
    plan = VideoPlan("img", spec["source_class"], cfg.fps, W, H, 1, int(rng.integers(2**31)), int(rng.integers(2**31)))
    shot = ShotPlan(0, 0, 1, spec["kind"], framing, "start", 0, int(rng.integers(2**31)), 0, 1)
    r = _ShotRenderer(plan, shot)
    # a random instant of the motion: shift the phase
    r.var["phase"] = rng.uniform()
    return r.frame(0)


def _write_images(args) -> int:
    specs, cfg, out_dir = args
    for spec in specs:
        p = Path(out_dir) / spec["path"]
        p.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(p), cv2.cvtColor(_render_image(spec, cfg), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    return len(specs)


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
    """Write the whole demo world into out_dir (replacing it). Returns a summary dict."""
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
    import argparse

    from ..config import load_params

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
    from ..video import read_frames

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
