"""The golden set, the page order and :class:`AnnotationSession` -- the grid's logic in plain Python: the
ipywidgets grid (``slac_utils/grid.py``) and the simulated annotator both drive it."""

from __future__ import annotations

import os
import socket
import time
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..seeding import seed_of
from .backends import StoreUnavailable
from .store import LabelStore, check_name


# ----------------------------------------------------------------------------- golden set and page order
def select_gold(clips: pd.DataFrame, truth: pd.DataFrame, gold_rate: float, examples: int, seed: int) -> pd.DataFrame:
    """A golden set from known answers: per class ``examples`` positive and negative guideline examples, then
    round(gold_rate * remaining clips) (at least 1 when gold_rate > 0) check clips mixed into the pages.

    Returns clip_id, class_label, label, role (example | check)."""
    known = clips[["clip_id", "class_label"]].merge(truth[["clip_id", "truth_label"]], on="clip_id")
    out = []
    for cls, g in known.sort_values("clip_id").groupby("class_label", sort=True):
        rng = np.random.default_rng(seed_of(seed, "gold", cls))
        g = g.iloc[rng.permutation(len(g))]
        ex = pd.concat([g[g.truth_label == lab].head(examples) for lab in (1, -1)])
        rest = g[~g.clip_id.isin(set(ex.clip_id))]
        n_check = min(
            len(rest),
            max(1 if gold_rate > 0 else 0, int(round(gold_rate * (len(clips[clips.class_label == cls]) - len(ex))))),
        )
        out += [ex.assign(role="example"), rest.head(n_check).assign(role="check")]
    cols = ["clip_id", "class_label", "label", "role"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out).rename(columns=dict(truth_label="label"))[cols].sort_values("clip_id").reset_index(drop=True)


def ensure_gold(
    store: LabelStore, clips: pd.DataFrame, truth: pd.DataFrame, gold_rate: float, examples: int, seed: int
) -> int:
    """Seed the store's golden set from known answers (demo world) for classes that have none yet; returns rows added.
    With your own data, add your golden set with ``store.add_gold(table)`` (clip_id, class_label, label, role)."""
    if truth.empty:
        return 0
    have = set(store.gold().class_label)
    g = select_gold(clips[~clips.class_label.isin(have)], truth, gold_rate, examples, seed)
    return store.add_gold(g) if len(g) else 0


def overlap_sample(queue: list[str], class_label: str, rate: float, seed: int) -> list[str]:
    """The overlap sample of a class (labeled again by a second annotator, for Cohen's kappa): a seeded
    round(rate x n) of its queue (at least one when rate > 0), in queue order."""
    n = min(len(queue), max(1 if rate > 0 else 0, int(round(rate * len(queue)))))
    rng = np.random.default_rng(seed_of(seed, "overlap", class_label))
    keep = set(rng.permutation(len(queue))[:n].tolist())
    return [c for i, c in enumerate(queue) if i in keep]


def page_queue(clip_ids: Iterable[str], class_label: str, seed: int) -> list[str]:
    """The fixed order in which a class's clips are shown: a seeded permutation (golden clips land anywhere)."""
    ids = sorted(clip_ids)
    rng = np.random.default_rng(seed_of(seed, "queue", class_label))
    return [ids[i] for i in rng.permutation(len(ids))]


# ----------------------------------------------------------------------------- the session (the grid's logic)
class AnnotationSession:
    """One annotator labeling one class, page by page; every action goes to the store at once.

    ``flip(i)`` toggles clip i of the page, ``submit()`` saves the page and opens the next, ``undo()`` reverts
    the last flip of this page or, with none, retracts the last submitted page and shows it again.
    Resuming (a new session for the same annotator and class) shows the first clips not labeled yet.
    """

    def __init__(
        self,
        store: LabelStore,
        clips: pd.DataFrame,
        class_label: str,
        annotator: str,
        page_size: int = 12,
        default_label: int = -1,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        source: str = "api",
        session: str | None = None,
        overlap_rate: float | None = None,
    ):
        if default_label not in (1, -1):
            raise ValueError(f"default_label must be +1 or -1, got {default_label}")
        self.store, self.class_label, self.annotator = store, class_label, check_name(annotator)
        self.page_size, self.default_label, self.clock, self.source = int(page_size), int(default_label), clock, source
        self.session = session or f"{self.annotator}@{socket.gethostname()}:{os.getpid()}:{int(clock())}"
        mine = clips[clips.class_label == class_label]
        if mine.empty:
            raise ValueError(f"no clips of class '{class_label}' (classes: {sorted(clips.class_label.unique())})")
        self.clips = mine.set_index("clip_id", drop=False)
        self.overlap = overlap_rate is not None
        if not self.overlap:
            store.assign(self.annotator, class_label, ts_client=clock(), session=self.session)
        elif store.owner(class_label) == self.annotator:
            raise ValueError(
                f"'{class_label}' is {self.annotator}'s own class: the overlap sample needs a second annotator"
            )
        gold = store.gold(class_label)
        self.gold_check = dict(zip(gold.clip_id[gold.role == "check"], gold.label[gold.role == "check"]))
        self.examples = gold[gold.role == "example"].reset_index(drop=True)
        example_ids = set(self.examples.clip_id)
        self.queue = page_queue([c for c in self.clips.clip_id if c not in example_ids], class_label, seed)
        if self.overlap:  # a seeded share of the class, the same clips for every second annotator
            self.queue = overlap_sample(self.queue, class_label, overlap_rate, seed)
        self.page_clips: list[str] = []
        self.labels: list[int] = []
        self.unsaved: list[dict] = []  # clicks not confirmed by the store yet (database unreachable), oldest first
        self.store_error: str | None = None
        self.page_missing = False
        self.next_page()

    # -- page state
    @property
    def finished(self) -> bool:
        """No clip of the class is left to label (False while a page could not be opened: see page_missing)."""
        return not self.page_clips and not self.page_missing

    @property
    def page_rows(self) -> pd.DataFrame:
        """The clips on the page (clips.parquet rows) with their current label and golden flag."""
        rows = self.clips.loc[self.page_clips].reset_index(drop=True)
        return rows.assign(label=self.labels, is_gold=[c in self.gold_check for c in self.page_clips])

    def _open(self, clip_ids: list[str], labels: list[int]):
        """Show these clips as the page (its page_view written first: a failed write leaves the state as it was)."""
        page_no = self.store.submitted_pages(self.annotator, self.class_label)
        t0 = self.clock()
        page_event = (
            self.store.page_view(
                self.annotator, self.class_label, page_no, list(clip_ids), t0, self.source, self.session
            )
            if clip_ids
            else None
        )
        self.page_clips, self.labels, self._flips = list(clip_ids), list(labels), []
        self.page_no, self.page_t0, self.page_event, self.page_missing = page_no, t0, page_event, False

    def _done(self) -> set[str]:
        """Clips of this session's queue already labeled: the class's current labels, or for an overlap session
        this annotator's overlap labels."""
        if self.overlap:
            return set(self.store.overlap_labels(self.annotator).clip_id)
        return set(self.store.current_labels(self.class_label).clip_id)

    def next_page(self):
        """Open the next page: the first page_size clips of the queue without a current label."""
        self._send_unsaved()
        done = self._done()
        todo = [c for c in self.queue if c not in done][: self.page_size]
        self._open(todo, [self.default_label] * len(todo))

    # -- actions
    def flip(self, i: int, source: str = "click") -> int:
        """Toggle clip i of the page between positive (+1) and negative (-1); returns its new label.

        With the database unreachable the click still counts on the page and waits in :attr:`unsaved` (the grid
        says so); it is sent, in order, before the next action that reaches the store."""
        if not 0 <= i < len(self.page_clips):
            raise IndexError(f"clip {i} is not on this page ({len(self.page_clips)} clips)")
        prev = self.labels[i]
        self.labels[i] = -prev
        c = self.page_clips[i]
        event = dict(
            kw=dict(
                annotator=self.annotator,
                class_label=self.class_label,
                clip_id=c,
                new_label=self.labels[i],
                is_gold=c in self.gold_check,
                page=self.page_no,
                page_event=self.page_event,
                ts_client=self.clock(),
                source=source,
                session=self.session,
            ),
            eid=None,
        )
        self._flips.append((event, i, prev))
        self.unsaved.append(event)
        try:
            self._send_unsaved()
        except StoreUnavailable as e:
            self.store_error = str(e)
        return self.labels[i]

    def _send_unsaved(self):
        """Write the clicks that could not be written yet, oldest first (raises StoreUnavailable while the
        database is still away; those sent stay sent)."""
        while self.unsaved:
            ev = self.unsaved[0]
            ev["eid"] = self.store.flip(**ev["kw"])
            self.unsaved.pop(0)
        self.store_error = None

    def submit(self, source: str = "button") -> int:
        """Save the page (one transaction), then open the next; returns the number of clips saved."""
        if self.finished:
            return 0
        if self.page_missing:  # the last page was saved, the next could not be opened: open it now
            self.next_page()
            return 0
        self._send_unsaved()  # raises StoreUnavailable: the page stays, nothing is lost
        now = self.clock()
        self.store.submit(
            self.annotator,
            self.class_label,
            self.page_no,
            self.page_event,
            self.page_clips,
            self.labels,
            [c in self.gold_check for c in self.page_clips],
            max(0.0, now - self.page_t0),
            now,
            source,
            self.session,
            action="overlap" if self.overlap else "submit",
        )
        n = len(self.page_clips)
        self.page_clips, self.labels, self._flips = [], [], []
        try:
            self.next_page()
        except StoreUnavailable as e:  # the page is saved; the next one opens once the database is back
            self.page_missing = True
            raise StoreUnavailable(f"page saved ({n} clips), but the next page could not be opened: {e}") from e
        return n

    def undo(self, source: str = "button") -> str | None:
        """Revert the last flip on this page; with none, retract the last submitted page and show it again.
        Returns 'flip', 'page' or None (nothing to undo)."""
        if self._flips:
            event, i, prev = self._flips[-1]
            if event in self.unsaved:  # never reached the store: nothing to retract there
                self.unsaved.remove(event)
                self._flips.pop()
                self.labels[i] = prev
                return "flip"
            self._send_unsaved()
            self.store.undo(
                self.annotator,
                self.class_label,
                [(event["eid"], self.page_clips[i], prev)],
                self.page_no,
                self.page_event,
                self.clock(),
                source,
                self.session,
            )
            self._flips.pop()
            self.labels[i] = prev
            return "flip"
        self._send_unsaved()
        last = self.store.last_submitted_page(self.annotator, self.class_label)
        if last.empty:
            return None
        self.store.undo(
            self.annotator,
            self.class_label,
            [(int(e), c, None) for e, c in zip(last.event_id, last.clip_id)],
            self.page_no,
            self.page_event,
            self.clock(),
            source,
            self.session,
        )
        self._open(list(last.clip_id), [int(v) for v in last.label])
        return "page"

    # -- live numbers
    def progress(self) -> dict:
        """done / remaining / total clips of this class (golden examples excluded), and the page number."""
        done = len(self._done() & set(self.queue))
        return dict(done=done, remaining=len(self.queue) - done, total=len(self.queue), page=self.page_no)

    def gold_accuracy(self) -> dict:
        """This annotator's golden-set accuracy so far (over every class they labeled)."""
        t = self.store.gold_accuracy(self.annotator)
        if t.empty:
            return dict(gold_n=0, gold_correct=0, gold_accuracy=None)
        r = t.iloc[0]
        return dict(gold_n=int(r.gold_n), gold_correct=int(r.gold_correct), gold_accuracy=float(r.gold_accuracy))
