"""The simulated annotator of demo runs: labels with ``annotation.sim_accuracy`` through the session and the
store API, on a deterministic clock."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..seeding import seed_of
from .session import AnnotationSession
from .store import LabelStore

SIM_START = 1514764800.0  # 2018-01-01T00:00:00Z: the simulated clock's first tick (deterministic timestamps)


# ----------------------------------------------------------------------------- simulated annotator
class SimClock:
    """A deterministic clock: starts at SIM_START and moves only when told."""

    def __init__(self, start: float = SIM_START):
        self.t = float(start)

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t = round(self.t + float(seconds), 6)
        return self.t


def simulate(
    store: LabelStore, clips: pd.DataFrame, truth: pd.DataFrame, cfg, seed: int, progress: bool = True
) -> pd.DataFrame:
    """Label every clip through AnnotationSession, as ``cfg.sim_annotators`` simulated annotators would.

    Class k (sorted) goes to annotator ``sim-NN`` = k mod n_annotators. The answer to a clip is its truth_label,
    flipped with probability 1 - sim_accuracy; the time on a clip is gamma-distributed with mean
    sim_seconds_per_clip and coefficient of variation sim_seconds_cv, spent before the clip's click. Each
    annotator has their own simulated clock (they work side by side from SIM_START); nothing reads the wall
    clock, so the store's rows are the same on every run. Returns the assignments (class_label, annotator).
    """
    answer = dict(zip(truth.clip_id, truth.truth_label.astype(int)))
    classes = sorted(clips.class_label.unique())
    missing = sorted(set(clips.clip_id) - set(answer))
    if missing:
        raise ValueError(
            f"annotation.mode=simulate needs a truth label for every clip; {len(missing)} clips have none "
            f"(e.g. {missing[:3]}); use annotation.mode: human for data without truth"
        )
    n_ann = max(1, min(cfg.sim_annotators, len(classes)))
    clocks = {f"sim-{a + 1:02d}": SimClock() for a in range(n_ann)}
    shape = 1.0 / cfg.sim_seconds_cv**2 if cfg.sim_seconds_cv > 0 else None
    plan = []
    for k, cls in enumerate(tqdm(classes, desc="simulated annotation", disable=not progress)):
        who = f"sim-{k % n_ann + 1:02d}"
        clk = clocks[who]
        store.clock = clk
        rng = np.random.default_rng(seed_of(seed, "sim", cls))
        s = AnnotationSession(
            store,
            clips,
            cls,
            who,
            cfg.page_size,
            cfg.default_label,
            seed,
            clock=clk,
            source="sim",
            session=f"sim:{who}",
        )
        while not s.finished:
            for i, c in enumerate(s.page_clips):
                clk.advance(rng.gamma(shape, cfg.sim_seconds_per_clip / shape) if shape else cfg.sim_seconds_per_clip)
                says = answer[c] if rng.random() < cfg.sim_accuracy else -answer[c]
                if says != s.labels[i]:
                    s.flip(i, source="sim")
            s.submit(source="sim")
        plan.append((cls, who))
    return pd.DataFrame(plan, columns=["class_label", "annotator"])
