"""The researcher's golden set, labeled in the grid's gold mode (paper 3.7: the authors labeled a golden set that
measures every annotator; :class:`slac_utils.gold_grid.GoldGrid` is its widget).

Per class the researcher is shown a fixed, seeded sample of the class's clips (:func:`gold_queue`: ``gold_rate``
of them plus two guideline examples per label), a page at a time, every clip negative until clicked, exactly as an
annotator sees them. On each tile the researcher can also mark the clip as a guideline *example* (shown beside the
class definition, paper Fig. 3, and never put on pages); every other clip becomes a hidden *check*, mixed into
the annotators' pages.  A submitted page is written to the store's ``gold`` table (``source = gold:<researcher>``)
in one transaction; gold labeling claims no class, so it can run while the team labels.

:class:`GoldSession` offers what the grid reads of an :class:`~.session.AnnotationSession` (``page_clips``,
``labels``, ``flip``, ``submit``, ``undo``, ``progress`` ...), plus ``roles`` and :meth:`GoldSession.toggle_example`.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import pandas as pd

from ..seeding import seed_of
from .store import LabelStore, check_name


def gold_queue(clip_ids, class_label: str, gold_rate: float, examples: int, seed: int) -> list[str]:
    """The clips the researcher labels for a class: a seeded sample of round(gold_rate x n) + 2 x examples of them
    (at least one), in a fixed order."""
    ids = sorted(clip_ids)
    n = min(len(ids), max(1, int(round(gold_rate * len(ids))) + 2 * examples))
    rng = np.random.default_rng(seed_of(seed, "gold_queue", class_label))
    return [ids[i] for i in rng.permutation(len(ids))[:n]]


class GoldSession:
    """The researcher labeling the golden set of one class, page by page (see the module docstring)."""

    def __init__(
        self,
        store: LabelStore,
        clips: pd.DataFrame,
        class_label: str,
        researcher: str,
        gold_rate: float = 0.1,
        examples: int = 2,
        page_size: int = 12,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
    ):
        self.store, self.class_label, self.annotator = store, class_label, check_name(researcher)
        mine = clips[clips.class_label == class_label]
        if mine.empty:
            raise ValueError(f"no clips of class '{class_label}'")
        self.clips = mine.set_index("clip_id", drop=False)
        self.queue = gold_queue(mine.clip_id, class_label, gold_rate, examples, seed)
        self.page_size, self.clock = int(page_size), clock
        self.default_label, self.gold_check, self.unsaved = -1, {}, []
        self.store_error, self.page_missing, self.page_no = None, False, 0
        self.next_page()

    @property
    def examples(self) -> pd.DataFrame:
        g = self.store.gold(self.class_label)
        return g[g.role == "example"].reset_index(drop=True)

    @property
    def finished(self) -> bool:
        return not self.page_clips

    def next_page(self):
        have = set(self.store.gold(self.class_label).clip_id)
        todo = [c for c in self.queue if c not in have][: self.page_size]
        self.page_clips, self.labels, self.roles = todo, [-1] * len(todo), ["check"] * len(todo)
        self._edits: list[tuple[str, int]] = []
        self.page_t0 = self.clock()

    def flip(self, i: int, source: str = "click") -> int:
        if not 0 <= i < len(self.page_clips):
            raise IndexError(f"clip {i} is not on this page ({len(self.page_clips)} clips)")
        self.labels[i] = -self.labels[i]
        self._edits.append(("flip", i))
        return self.labels[i]

    def toggle_example(self, i: int) -> str:
        """Mark clip i as a guideline example (or back to a hidden check); returns its role."""
        self.roles[i] = "check" if self.roles[i] == "example" else "example"
        self._edits.append(("role", i))
        return self.roles[i]

    def submit(self, source: str = "button") -> int:
        """Write the page to the golden set (one transaction), then open the next; returns the clips written."""
        if self.finished:
            return 0
        rows = pd.DataFrame(
            dict(clip_id=self.page_clips, class_label=self.class_label, label=self.labels, role=self.roles)
        )
        self.store.add_gold(rows, source=f"gold:{self.annotator}")
        n = len(rows)
        self.page_no += 1
        self.next_page()
        return n

    def undo(self, source: str = "button") -> str | None:
        """Revert the last click or example mark of this page (a written page is kept)."""
        if not self._edits:
            return None
        what, i = self._edits.pop()
        if what == "flip":
            self.labels[i] = -self.labels[i]
        else:
            self.roles[i] = "check" if self.roles[i] == "example" else "example"
        return "flip"

    def progress(self) -> dict:
        done = len(set(self.store.gold(self.class_label).clip_id) & set(self.queue))
        return dict(done=done, remaining=len(self.queue) - done, total=len(self.queue), page=self.page_no)

    def gold_accuracy(self) -> dict:
        return dict(gold_n=0, gold_correct=0, gold_accuracy=None)

    def summary(self) -> dict:
        """The class's golden set so far: checks and examples, positives and negatives."""
        g = self.store.gold(self.class_label)
        return dict(
            checks=int((g.role == "check").sum()),
            examples=int((g.role == "example").sum()),
            positives=int((g.label == 1).sum()),
            negatives=int((g.label == -1).sum()),
        )
