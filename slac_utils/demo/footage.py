"""Rendering the demo world's footage: shots drawn frame by frame, the planted copies' transforms, MPEG-4 files."""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..config import DemoConfig
from .motions import CLASSES, pose_and_draw
from .plan import ShotPlan, VideoPlan
from .render import Pose, draw_person, draw_shape, draw_talking_head, random_background, random_look


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
