"""A small demo *target* dataset in the exact UCF-101 layout, for the fine-tuning stage (paper 4.2).

``write_demo_ucf_layout(out_root, classes_map, n_train, n_test, seed)`` renders trimmed action clips with the
demo world's renderer and writes::

    out_root/
      UCF-101/<Class>/v_<Class>_gXX_cYY.mp4     the clips (MPEG-4 in MP4, byte-deterministic; UCF-101 ships .avi)
      ucfTrainTestlist/classInd.txt              "1 Archery" lines, classes sorted by name (case-insensitively)
      ucfTrainTestlist/trainlist01.txt           "Archery/v_Archery_g03_c01.mp4 1" lines
      ucfTrainTestlist/testlist01.txt            "Archery/v_Archery_g01_c01.mp4" lines
      demo_truth.csv                             one row per clip (below)

The lists name the ``.mp4`` files exactly and use CRLF line endings like the official ones, so
:func:`slac_utils.data.targets.read_ucf101` reads the layout back unchanged.  Only split 1 is written.

Each target class is one demo action class (``classes_map``: target name -> demo class, default
:data:`DEMO_UCF_CLASSES`, the names of the demo world's UCF-like external set).  As in UCF-101, the clips of a
class come in groups (``gXX``): clips of one group share the actor, the background, the frame size and the frame
rate (two camera positions alternate), and a group is wholly in train or wholly in test -- test groups are
numbered first (g01, g02, ...), like split 1 of UCF-101.  Every shot is an ``action`` shot (most clips one shot,
some two, joined by a cut or a dissolve); long shots keep a short idle lead-in/lead-out around the action, so the
clips are "trimmed" like UCF-101's rather than cut to the exact action extent.

``demo_truth.csv`` columns: video_id, label, label_index (0-based, classInd order), demo_class, split, group,
clip, path (relative to out_root), fps, width, height, n_frames, n_shots, action_frames (frames inside the action
extent).  The same seed gives the same bytes in every file; each class draws from its own seeded stream, so a
class's clips do not change when other classes are added.
"""

from __future__ import annotations

import argparse
import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..config import DemoConfig, load_params
from ..io import PLACEHOLDER, write_table
from ..seeding import seed_of
from .footage import render_video, write_video
from .motions import CLASSES
from .plan import EXTERNAL_TAXONOMY, VideoPlan, plan_video

# target class name -> demo action class (the demo world's UCF-like names)
DEMO_UCF_CLASSES: dict[str, str] = {
    ucf: demo for demo, ucf in EXTERNAL_TAXONOMY["demo_ucf101_test"].items() if demo is not None
}
ACTION_ONLY = {"action": 1.0, "no_action": 0.0, "no_context": 0.0, "no_person": 0.0}
TRUTH_COLUMNS = [
    "video_id",
    "label",
    "label_index",
    "demo_class",
    "split",
    "group",
    "clip",
    "path",
    "fps",
    "width",
    "height",
    "n_frames",
    "n_shots",
    "action_frames",
]


@dataclass
class DemoClip:
    """One planned clip of the target dataset."""

    video_id: str
    label: str
    label_index: int
    demo_class: str
    split: str  # train | test
    group: int
    clip: int
    rel_path: str  # relative to out_root
    plan: VideoPlan


def target_order(classes_map: dict[str, str]) -> list[str]:
    """Target class names in classInd order: sorted ignoring case (ties by exact spelling)."""
    return sorted(classes_map, key=lambda s: (s.lower(), s))


def check_classes_map(classes_map: dict[str, str]) -> None:
    """Target names must be usable as folder and file-name parts and distinct ignoring case (the reader
    matches classes case-insensitively); demo classes must exist in slac_utils.motions.CLASSES."""
    if not classes_map:
        raise ValueError("classes_map is empty")
    lower: dict[str, str] = {}
    for name, demo in classes_map.items():
        if not name or any(ch.isspace() for ch in name) or "/" in name or "\\" in name:
            raise ValueError(f"target class name {name!r} must be non-empty, without blanks or slashes")
        if name.lower() in lower:
            raise ValueError(f"target classes {lower[name.lower()]!r} and {name!r} differ only in case")
        lower[name.lower()] = name
        if demo not in CLASSES:
            raise ValueError(f"target class {name!r}: unknown demo class {demo!r}; choose from {sorted(CLASSES)}")


def group_sizes(rng: np.random.Generator, n: int, max_per_group: int) -> list[int]:
    """Split n clips into groups of 1..max_per_group clips (random sizes, in order)."""
    sizes = []
    while n > 0:
        k = min(n, int(rng.integers(1, max_per_group + 1)))
        sizes.append(k)
        n -= k
    return sizes


def plan_class(
    label: str,
    label_index: int,
    demo_class: str,
    n_train: int,
    n_test: int,
    seed: int,
    cfg: DemoConfig,
    *,
    seconds: tuple[float, float],
    sizes: tuple[tuple[int, int], ...],
    fps_choices: tuple[float, ...],
    max_clips_per_group: int,
    two_shot_prob: float,
    ext: str,
) -> list[DemoClip]:
    """The clips of one target class: test groups first (g01...), then train groups; a pure function of its inputs."""
    rng = np.random.default_rng(seed_of(int(seed), label))
    clips: list[DemoClip] = []
    g = 0
    for split, n in (("test", n_test), ("train", n_train)):
        for size in group_sizes(rng, n, max_clips_per_group):
            g += 1
            look = int(rng.integers(2**31))
            scene = int(rng.integers(2**30)) * 2  # even: scene and scene + 1 share the background (demo_world)
            w, h = sizes[int(rng.integers(len(sizes)))]
            fps = float(fps_choices[int(rng.integers(len(fps_choices)))])
            for c in range(1, size + 1):
                k = 2 if rng.random() < two_shot_prob else 1
                vcfg = cfg.model_copy(
                    update=dict(
                        width=w,
                        height=h,
                        fps=fps,
                        kind_probs=ACTION_ONLY,
                        shot_seconds=(seconds[0] / k, seconds[1] / k),
                    )
                )
                vid = f"v_{label}_g{g:02d}_c{c:02d}"
                plan = plan_video(rng, vcfg, vid, demo_class, n_shots=(k, k))
                plan.look_seed = look
                plan.shots[0].scene_seed = scene + (c - 1) % 2
                clips.append(
                    DemoClip(vid, label, label_index, demo_class, split, g, c, f"UCF-101/{label}/{vid}{ext}", plan)
                )
    return clips


def _render(args) -> int:
    plan, dest, qscale = args
    frames = render_video(plan)
    write_video(Path(dest), frames, plan.fps, qscale)
    return len(frames)


def _write_crlf(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes("".join(f"{s}\r\n" for s in lines).encode("ascii"))


def write_demo_ucf_layout(
    out_root,
    classes_map: dict[str, str] | None = None,
    videos_per_class_train: int = 6,
    videos_per_class_test: int = 3,
    seed: int = 0,
    *,
    cfg: DemoConfig | None = None,
    seconds: tuple[float, float] = (4.0, 8.0),
    sizes: tuple[tuple[int, int], ...] = ((320, 240), (256, 192)),
    fps_choices: tuple[float, ...] = (15.0, 25.0),
    max_clips_per_group: int = 4,
    two_shot_prob: float = 0.25,
    workers: int = 1,
) -> pd.DataFrame:
    """Render a demo target dataset in the UCF-101 layout under out_root (see the module docstring).

    ``cfg`` supplies the rest of the look (dissolves, quantiser, ...; default ``DemoConfig()``); ``seconds`` is the
    clip duration range, ``sizes`` the (width, height) choices (even numbers), ``fps_choices`` the frame rates;
    each group draws one size and one rate.  ``UCF-101/`` and ``ucfTrainTestlist/`` under out_root are replaced.
    Returns the truth table (also written to ``out_root/demo_truth.csv``).

    Long on purpose: one seeded stream renders the target's videos and writes its split files in a fixed order."""
    classes_map = dict(DEMO_UCF_CLASSES if classes_map is None else classes_map)
    check_classes_map(classes_map)
    if videos_per_class_train < 1 or videos_per_class_test < 1:
        raise ValueError(
            f"need at least one train and one test video per class, got {videos_per_class_train} and {videos_per_class_test}"
        )
    if not 0 < seconds[0] <= seconds[1]:
        raise ValueError(f"seconds must be a range 0 < lo <= hi, got {seconds}")
    for w, h in sizes:
        if w % 2 or h % 2 or min(w, h) < 32:
            raise ValueError(f"frame size {w}x{h}: width and height must be even and at least 32")
    if max_clips_per_group < 1:
        raise ValueError(f"max_clips_per_group must be >= 1, got {max_clips_per_group}")
    cfg = cfg or DemoConfig()
    out_root = Path(out_root)
    for sub in ("UCF-101", "ucfTrainTestlist"):
        if (out_root / sub).exists():
            shutil.rmtree(out_root / sub)

    order = target_order(classes_map)
    clips = [
        c
        for i, name in enumerate(order)
        for c in plan_class(
            name,
            i,
            classes_map[name],
            videos_per_class_train,
            videos_per_class_test,
            seed,
            cfg,
            seconds=seconds,
            sizes=tuple(sizes),
            fps_choices=tuple(fps_choices),
            max_clips_per_group=max_clips_per_group,
            two_shot_prob=two_shot_prob,
            ext=".mp4",
        )
    ]
    jobs = [(c.plan, str(out_root / c.rel_path), cfg.qscale) for c in clips]
    if workers > 1:
        with ProcessPoolExecutor(workers) as ex:
            n_frames = list(ex.map(_render, jobs, chunksize=1))
    else:
        n_frames = [_render(j) for j in jobs]

    lists = out_root / "ucfTrainTestlist"
    _write_crlf(lists / "classInd.txt", [f"{i + 1} {name}" for i, name in enumerate(order)])
    rel = {c.video_id: c.rel_path.split("/", 1)[1] for c in clips}
    _write_crlf(
        lists / "trainlist01.txt", [f"{rel[c.video_id]} {c.label_index + 1}" for c in clips if c.split == "train"]
    )
    _write_crlf(lists / "testlist01.txt", [rel[c.video_id] for c in clips if c.split == "test"])

    truth = pd.DataFrame(
        [
            dict(
                video_id=c.video_id,
                label=c.label,
                label_index=c.label_index,
                demo_class=c.demo_class,
                split=c.split,
                group=c.group,
                clip=c.clip,
                path=c.rel_path,
                fps=c.plan.fps,
                width=c.plan.width,
                height=c.plan.height,
                n_frames=n,
                n_shots=len(c.plan.shots),
                action_frames=sum(s.action_end - s.action_start for s in c.plan.shots if s.kind == "action"),
            )
            for c, n in zip(clips, n_frames)
        ],
        columns=TRUTH_COLUMNS,
    )
    write_table(truth, out_root / "demo_truth.csv")
    return truth


def _main():  # pragma: no cover - exercised by the demo_target DVC stage

    ap = argparse.ArgumentParser(description="Write the demo transfer target (UCF-101 layout) for stage 08.")
    ap.add_argument("--params", default="params.yaml")
    ap.add_argument("--out", default="data/raw/demo_ucf101")
    a = ap.parse_args()
    p = load_params(a.params)
    if p.data.source != "demo":
        out = Path(a.out)
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        (out / PLACEHOLDER).write_text(
            f"# Not generated\n\ndata.source is `{p.data.source}`: the demo transfer target is generated only for "
            "data.source: demo. Point transfer.targets at UCF-101 / HMDB-51 / Kinetics on disk.\n"
        )
        print(json.dumps({"generated": False, "data.source": p.data.source}))
        return
    truth = write_demo_ucf_layout(
        a.out,
        None,
        p.transfer.demo_train_per_class,
        p.transfer.demo_test_per_class,
        seed=p.demo.seed,
        cfg=p.demo,
        workers=p.demo.workers,
    )
    print(
        json.dumps(
            {
                "videos": len(truth),
                "classes": int(truth.label.nunique()),
                **truth.split.value_counts().sort_index().to_dict(),
            }
        )
    )


if __name__ == "__main__":
    _main()
