"""Stage 09's data: ground truth (the demo world or ActivityNet / THUMOS14) and the split by video.

``videos``: video_id, class_label, path (file), fps, n_frames, duration, group (near-duplicate group), subset;
``gt``: video_id, label, start, end (seconds), duration, subset (training / validation / held_out), label_index.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.splits import split_groups
from ..engine.detection_io import read_activitynet, read_thumos14
from ..ingest import probe
from ..io import read_table


def demo_ground_truth(demo_dir, manifest_path, truth_dir=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(videos, gt) of the demo world.

    videos: video_id, class_label, path (file), fps, n_frames, duration, group (near-duplicate group);
    gt: video_id, label, start, end (seconds), duration -- the action segments of ingested, not broken
    videos, each labelled with its video's class; videos without an action segment are left out.
    """
    demo_dir = Path(demo_dir)
    truth_dir = Path(truth_dir) if truth_dir else demo_dir / "truth"
    man = read_table(manifest_path)
    tv = read_table(truth_dir / "videos.parquet")
    seg = read_table(truth_dir / "segments.parquet")
    ok = man[man.status == "ok"][["video_id", "fps", "n_frames", "duration_s"]]
    broken = tv.broken.fillna("").astype(str) != "" if "broken" in tv else pd.Series(False, index=tv.index)
    v = tv[~broken].merge(ok, on="video_id", suffixes=("_truth", ""))
    v = v.assign(
        path=[str(demo_dir / "videos" / p) for p in v.path],
        duration=v.duration_s,
        group=v.dup_group.where(v.dup_group.fillna("") != "", v.video_id) if "dup_group" in v else v.video_id,
    )
    act = seg[(seg.kind == "action") & seg.video_id.isin(v.video_id)]
    gt = act.merge(v[["video_id", "class_label", "duration"]], on="video_id")
    gt = gt.rename(columns={"class_label": "label", "start_s": "start", "end_s": "end"})[
        ["video_id", "label", "start", "end", "duration"]
    ]
    gt = gt.sort_values(["video_id", "start"], kind="mergesort").reset_index(drop=True)
    v = v[v.video_id.isin(gt.video_id)].sort_values("video_id", kind="mergesort").reset_index(drop=True)
    return v[["video_id", "class_label", "path", "fps", "n_frames", "duration", "group"]], gt


def split_videos(videos: pd.DataFrame, fraction: float, seed: int, seen_groups: set | None = None) -> dict[str, str]:
    """video_id -> training | validation: round(fraction x videos) held out, whole groups at a time, seeded;
    groups not in ``seen_groups`` (e.g. with no stage-06 training clip) are held out first."""
    seen_groups = seen_groups or set()
    size = videos.groupby("group").size()
    part = split_groups(
        videos.group,
        {"validation": int(round(len(videos) * fraction))},
        seed,
        rest="training",
        weights=size,
        prefer=lambda g: g not in seen_groups,
    )
    return {v: part[g] for v, g in zip(videos.video_id, videos.group)}


def _find_video(videos_dir: Path, vid: str) -> str | None:
    for stem in (vid, f"v_{vid}"):
        hits = sorted(videos_dir.glob(f"{stem}.*"))
        if hits:
            return str(hits[0])
    return None


def external_ground_truth(cfg) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """(videos, gt, ambiguous, quarantined) of ActivityNet-v1.3 / THUMOS14 (slac_utils.engine.detection_eval readers).

    gt carries ``subset`` = training / validation: ``cfg.train_subset`` and ``cfg.test_subset`` mapped.  Videos
    are ``<videos_dir>/<video_id>.<ext>`` (or ``v_<video_id>.<ext>``); an annotated video without a usable file
    (missing, empty, undecodable: :func:`slac_utils.ingest.probe`) is left out and listed in ``quarantined``
    (video_id, path, reason) with its ground truth.
    """
    if cfg.dataset == "activitynet":
        g = read_activitynet(cfg.annotations_path)
        g = g[g.subset.isin([cfg.train_subset, cfg.test_subset])].copy()
        g["subset"] = np.where(g.subset == cfg.test_subset, "validation", "training")
        amb = None
    else:
        thumos = {"validation": "val", "training": "val", "val": "val", "test": "test", "testing": "test"}
        parts, ambs = [], []
        for sub, name in ((cfg.train_subset, "training"), (cfg.test_subset, "validation")):
            gg, aa = read_thumos14(cfg.annotations_path, thumos.get(sub, sub))
            parts.append(gg.assign(subset=name))
            if name == "validation":
                ambs.append(aa)
        g, amb = pd.concat(parts, ignore_index=True), pd.concat(ambs, ignore_index=True)
    vd = Path(cfg.videos_dir)
    rows, bad = [], []
    for vid in sorted(g.video_id.unique()):
        p = _find_video(vd, vid)
        info = (
            probe(p, verify_decode=True, hash_file=False)
            if p is not None
            else dict(error=f"missing: no {vid}.* under {vd}")
        )
        if info["error"]:
            bad.append(dict(video_id=vid, path=p, reason=info["error"]))
            continue
        rows.append(
            dict(
                video_id=vid,
                class_label=None,
                path=p,
                fps=info["fps"],
                n_frames=info["n_frames"],
                duration=info["duration_s"],
                group=vid,
            )
        )
    videos = pd.DataFrame(rows)
    quarantined = pd.DataFrame(bad, columns=["video_id", "path", "reason"])
    if videos.empty:
        raise FileNotFoundError(f"no annotated video found under {vd} (<video_id>.<ext> or v_<video_id>.<ext>)")
    g = g[g.video_id.isin(videos.video_id)].copy()
    g["duration"] = g.video_id.map(dict(zip(videos.video_id, videos.duration)))
    return (
        videos,
        g[["video_id", "label", "start", "end", "duration", "subset"]].reset_index(drop=True),
        amb,
        quarantined,
    )


@dataclass
class LocalizationSplit:
    """The videos and segments of stage 09, split by video (module docstring for the two tables' columns)."""

    videos: pd.DataFrame
    gt: pd.DataFrame
    classes: list[str]  # label index order: the SLAC clips' classes when the demo's classes are among them
    train_v: pd.DataFrame  # the videos the CDC models are fine-tuned on
    test_v: pd.DataFrame  # the held-out videos Tables 8 and 9 are measured on
    tune_v: pd.DataFrame | None  # held-out training videos beta is tuned on (localization.tune_beta), else None
    seen: set  # near-duplicate groups with a clip in the stage-06 training split (demo)
    ambiguous: pd.DataFrame | None  # THUMOS14's ambiguous segments, else None
    quarantined: pd.DataFrame  # annotated videos without a usable file: video_id, path, reason

    @property
    def K(self) -> int:
        return len(self.classes)

    @property
    def gt_train(self) -> pd.DataFrame:
        return self.gt[self.gt.video_id.isin(self.train_v.video_id)].reset_index(drop=True)

    @property
    def gt_test(self) -> pd.DataFrame:
        return self.gt[self.gt.video_id.isin(self.test_v.video_id)].reset_index(drop=True)

    @property
    def held_videos(self) -> list[str]:
        """The videos scored after training: the held-out test videos, then the beta-tuning ones."""
        return self.test_v.video_id.tolist() + ([] if self.tune_v is None else self.tune_v.video_id.tolist())


def make_split(params, demo_dir, manifest_path, splits: pd.DataFrame, slac_classes: list[str]) -> LocalizationSplit:
    """Ground truth and split. demo: ``demo_test_fraction`` of the videos held out by near-duplicate group, groups
    with no stage-06 training clip first (``splits``: the stage-06 clip splits); external datasets: their own
    subsets. With ``tune_beta`` a further seeded share of the training videos is held out for tuning beta."""
    cfg, seed = params.localization, params.seed
    ambiguous, quarantined = None, pd.DataFrame(columns=["video_id", "path", "reason"])
    if cfg.dataset == "demo":
        videos, gt = demo_ground_truth(demo_dir, manifest_path)
        seen = set(videos.group[videos.video_id.isin(set(splits.video_id[splits.split == "train"]))])
        subset = split_videos(videos, cfg.demo_test_fraction, seed, seen)
        gt["subset"] = gt.video_id.map(subset)
    else:
        videos, gt, ambiguous, quarantined = external_ground_truth(cfg)
        subset = dict(gt.groupby("video_id").subset.first())
        seen = set()
    videos = videos.assign(subset=videos.video_id.map(subset))
    classes = sorted(gt.label.unique())
    if cfg.dataset == "demo" and set(classes) <= set(slac_classes):
        classes = list(slac_classes)  # the same label indices as the SLAC clips
    gt["label_index"] = gt.label.map({c: i for i, c in enumerate(classes)}).astype(int)
    train_v = videos[videos.subset == "training"].reset_index(drop=True)
    test_v = videos[videos.subset == "validation"].reset_index(drop=True)
    tune_v = None
    if cfg.tune_beta:  # beta is tuned on held-out training videos, which the models then do not see
        sub = split_videos(train_v, cfg.demo_test_fraction, seed + 1, None)
        tune_ids = {v for v, s in sub.items() if s == "validation"}
        tune_v = train_v[train_v.video_id.isin(tune_ids)].reset_index(drop=True)
        train_v = train_v[~train_v.video_id.isin(tune_ids)].reset_index(drop=True)
        gt.loc[gt.video_id.isin(tune_ids), "subset"] = "held_out"
        videos.loc[videos.video_id.isin(tune_ids), "subset"] = "held_out"
    if len(train_v) == 0 or len(test_v) == 0:
        raise ValueError(
            f"localization needs training and held-out videos; got {len(train_v)} / {len(test_v)} "
            f"(demo_test_fraction={cfg.demo_test_fraction})"
        )
    return LocalizationSplit(videos, gt, classes, train_v, test_v, tune_v, seen, ambiguous, quarantined)


def pretrain_clips(splits: pd.DataFrame, split: LocalizationSplit, dataset: str) -> pd.DataFrame:
    """The SLAC clips of the stage-06 training split for CDC pre-training; demo: none of a held-out video or of its
    near-duplicates."""
    excluded = set(split.videos.group[split.videos.subset != "training"])
    slac_tr = splits[(splits.split == "train")]
    if dataset == "demo":
        grp = dict(zip(split.videos.video_id, split.videos.group))
        slac_tr = slac_tr[~slac_tr.video_id.map(lambda x: grp.get(x, x)).isin(excluded)]
    return slac_tr.reset_index(drop=True)
