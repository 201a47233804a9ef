"""Planning the demo world: which videos, shots, copies, broken files and images it holds (no pixels yet).

:func:`plan_world` turns ``demo.*`` into a list of :class:`Job` (a video plan and its planted copies); :mod:`.world`
renders them and writes the truth tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..config import DemoConfig

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
    """Plan every file of the world: returns (jobs, truth tables as records, broken specs, web image specs).

    One function on purpose: every draw comes from one seeded stream in a fixed order, and that order is the world; split into steps, a reordering would silently change every demo output."""
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
