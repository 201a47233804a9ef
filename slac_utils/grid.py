"""The annotation grid of paper section 3.7 (Fig. 3 guideline + Fig. 4 tool) as ipywidgets.

A page shows ``page_size`` clips of one class as autoplaying, looping, muted ``<video>`` elements (the
clip's MP4 inlined as a data URL, so it plays in JupyterLab, Voila or a saved HTML page alike) under the
action's name, definition and golden-set example clips. Every clip starts negative (red border, the
``default_label``); a click on the clip, on its button or its hotkey (1-9, 0, -, = in the hotkey box) flips
it to positive (green). Enter or "Submit page" saves the page; "u" or "Undo" reverts the last flip, or the
last submitted page. Progress and the annotator's live golden-set accuracy (flagged below the threshold)
stay on top.

All logic is in plain methods — :meth:`AnnotationGrid.login`, :meth:`flip`, :meth:`submit`, :meth:`undo`,
:meth:`next_page`, :meth:`handle_key` — over :class:`slac_utils.annotation.AnnotationSession`; the widgets
only call them, so tests drive the grid headlessly.

Usage (notebooks/05_annotate.ipynb)::

    grid = AnnotationGrid.from_params(P, clips_path, clips_truth_path, guideline_path)
    display(grid.widget)
"""

from __future__ import annotations

import base64
import html
import tempfile
import time
from pathlib import Path
from typing import Callable

import ipywidgets as W
import pandas as pd

from .annotation import AnnotationSession, AssignmentError, LabelStore, ensure_gold, open_store, read_truth
from .annotation.backends import StoreUnavailable
from .config import annotation_mode
from .guideline import add_examples, load_guideline
from .io import read_table

KEYS = list("1234567890-=")  # hotkey of page position i
SUBMIT_KEYS = ("Enter", "\n", "\r")
UNDO_KEYS = ("u", "U", "z", "Backspace")
GREEN, RED = "#2ca02c", "#d62728"
# a click on the video clicks the tile's flip button (ipywidgets' HTML widget renders its value as-is)
_ONCLICK = "this.closest('.slac-tile').querySelector('button.slac-flip').click()"


OVERLAP = "overlap:"  # a class option "overlap:<class>": a second opinion on the overlap sample of <class>


def overlap_class(option: str | None) -> str | None:
    """The class of an "overlap:<class>" option, else None."""
    return option[len(OVERLAP) :] if option and option.startswith(OVERLAP) else None


def video_html(path: Path, width: int, onclick: bool = True, attrs: str = "") -> str:
    """An autoplaying, looping, muted <video> with the clip inlined as a data URL (or a placeholder when missing)."""
    if not path.exists():
        return (
            f'<div style="width:{width}px;height:{int(width * 0.75)}px;background:#333;color:#eee;font-size:11px;'
            f'display:flex;align-items:center;justify-content:center;text-align:center">clip file missing:<br>{html.escape(str(path))}</div>'
        )
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    click = f' onclick="{_ONCLICK}"' if onclick else ""
    return (
        f'<video src="data:video/mp4;base64,{data}" autoplay loop muted playsinline preload="auto" width="{width}" '
        f'style="display:block;cursor:pointer"{click} {attrs}></video>'
    )


def guideline_html(class_label: str, definition: str, examples: list[tuple[Path, int]], width: int = 150) -> str:
    """The guideline of paper Fig. 3: action, definition, positive and negative example clips."""

    def tiles(lab):
        vids = [
            f'<div style="border:4px solid {GREEN if lab > 0 else RED};display:inline-block;margin:2px">{video_html(p, width, onclick=False)}</div>'
            for p, l in examples
            if l == lab
        ]
        return "".join(vids) or '<i style="color:#888">(no golden example yet)</i>'

    return (
        f'<div class="slac-guideline" style="border:1px solid #ccc;padding:6px 10px;margin-bottom:6px">'
        f'<div style="font-size:1.3em"><b>Action:</b> {html.escape(class_label.replace("_", " ").capitalize())}</div>'
        f"<div><b>Definition:</b> {html.escape(definition)}</div>"
        f'<table style="margin-top:4px"><tr><td style="color:{GREEN};font-weight:bold;padding-right:6px">Positive</td><td>{tiles(1)}</td>'
        f'<td style="color:{RED};font-weight:bold;padding:0 6px 0 16px">Negative</td><td>{tiles(-1)}</td></tr></table></div>'
    )


class AnnotationGrid:
    """The labeling grid for one annotator and one class at a time (see the module docstring)."""

    def __init__(
        self,
        store: LabelStore,
        clips: pd.DataFrame,
        definitions: dict[str, str] | None = None,
        annotator: str | None = None,
        class_label: str | None = None,
        page_size: int = 12,
        default_label: int = -1,
        gold_min_accuracy: float = 0.9,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        root: str | Path = ".",
        columns: int = 4,
        clip_width: int = 200,
        member=None,
        overlap_rate: float = 0.0,
    ):
        self.store, self.clips = store, clips
        self.member = member  # a team member (web app): only this name, only these classes
        self.classes = sorted(clips.class_label.unique())
        allowed = set(member.classes) if member is not None else None
        # overlap:<class> = a second opinion on a seeded share of a class another annotator owns (Cohen's kappa)
        self.overlap_rate = overlap_rate
        self.overlap_classes = [
            c for c in self.classes if overlap_rate > 0 and (allowed is None or f"{OVERLAP}{c}" in allowed)
        ]
        if allowed is not None:
            self.classes = [c for c in self.classes if c in allowed]
        self.definitions = {c: (definitions or {}).get(c, c.replace("_", " ")) for c in self.classes}
        self.page_size, self.default_label, self.gold_min_accuracy, self.seed = (
            page_size,
            default_label,
            gold_min_accuracy,
            seed,
        )
        self.clock, self.root, self.clip_width = clock, Path(root), clip_width
        self._paths = dict(zip(clips.clip_id, clips.path))
        self.session: AnnotationSession | None = None
        self._build(columns)
        if member is not None:
            self.name_box.value, self.name_box.disabled = member.name, True
            self.class_box.options = self._class_options(member.name)
        if annotator:
            self.login(annotator, class_label)

    @classmethod
    def from_params(
        cls, params, clips_path, clips_truth_path=None, guideline_path=None, human: bool | None = None, **kw
    ) -> "AnnotationGrid":
        """The grid of the notebook. Human mode: the label store at annotation.store / db_url. Simulate mode: a
        scratch store in a temporary folder (a preview: the pipeline's labels come from the simulated annotator).
        The golden set comes from the clips' truth when there is one (demo world) and the store has none for a class."""

        cfg = params.annotation
        clips = read_table(clips_path)
        scratch = None
        if human or (human is None and annotation_mode(params) == "human"):
            store = open_store(cfg)
        else:
            scratch = tempfile.TemporaryDirectory(prefix="slac-grid-preview-")
            store = LabelStore(Path(scratch.name) / "labels.sqlite")
        guideline = load_guideline(guideline_path, clips.class_label.unique())
        add_examples(store, guideline, clips)
        ensure_gold(store, clips, read_truth(clips_truth_path), cfg.gold_rate, cfg.guideline_examples, params.seed)
        kw = {
            **dict(
                page_size=cfg.page_size,
                default_label=cfg.default_label,
                gold_min_accuracy=cfg.gold_min_accuracy,
                seed=params.seed,
                overlap_rate=cfg.overlap_rate,
            ),
            **kw,
        }
        grid = cls(store, clips, guideline.definitions, **kw)
        grid.scratch = scratch  # kept alive with the grid; None in human mode
        return grid

    # ------------------------------------------------------------------ widgets
    def _build(self, columns: int):
        w = self.clip_width
        self.name_box = W.Text(description="Your name", placeholder="annotator name", layout=W.Layout(width="260px"))
        self.class_box = W.Dropdown(description="Class", options=self._class_options(), layout=W.Layout(width="360px"))
        self.start_button = W.Button(description="Start", button_style="primary", icon="play")
        self.start_button.on_click(lambda _: self.login(self.name_box.value, self.class_box.value))
        self.login_box = W.HBox([self.name_box, self.class_box, self.start_button])
        self.login_box.add_class("slac-login")
        self.guideline = W.HTML()
        self.progress_text = W.HTML()
        self.progress_bar = W.IntProgress(min=0, max=1, value=0, layout=W.Layout(width="240px"))
        self.gold_text = W.HTML()
        self.status = W.HBox(
            [self.progress_text, self.progress_bar, self.gold_text], layout=W.Layout(align_items="center", gap="12px")
        )
        self.tiles, self.videos, self.buttons = [], [], []
        for i in range(self.page_size):
            v = W.HTML()
            b = W.Button(layout=W.Layout(width=f"{w}px"))
            b.add_class("slac-flip")
            b.on_click(lambda _, i=i: self.flip(i, source="click"))
            t = W.VBox(
                [v, b],
                layout=W.Layout(
                    border=f"5px solid {RED}", padding="2px", margin="3px", width=f"{w + 24}px", align_items="center"
                ),
            )
            t.add_class("slac-tile")
            self.tiles.append(t), self.videos.append(v), self.buttons.append(b)
        self.grid = W.GridBox(self.tiles, layout=W.Layout(grid_template_columns=f"repeat({columns}, {w + 30}px)"))
        self.submit_button = W.Button(
            description="Submit page (Enter)", button_style="success", icon="check", layout=W.Layout(width="auto")
        )
        self.submit_button.on_click(lambda _: self.submit(source="button"))
        self.undo_button = W.Button(description="Undo (u)", icon="undo", layout=W.Layout(width="auto"))
        self.undo_button.on_click(lambda _: self.undo(source="button"))
        self.key_box = W.Text(
            placeholder="click here, then: 1-9 0 - = flip a clip · Enter submit · u undo",
            continuous_update=True,
            layout=W.Layout(width="420px"),
        )
        self.key_box.add_class("slac-keys")
        self.key_box.observe(self._on_keys, "value")
        self.key_box.on_msg(self._on_key_msg)
        self.controls = W.HBox([self.submit_button, self.undo_button, self.key_box])
        self.message = W.HTML()
        self.work = W.VBox([self.guideline, self.status, self.grid, self.controls], layout=W.Layout(display="none"))
        self.widget = W.VBox([self.login_box, self.message, self.work])
        self.widget.add_class("slac-grid")

    def _class_options(self, name: str | None = None) -> list[tuple[str, str]]:
        a = self.store.assignments()
        owners = dict(zip(a.class_label, a.annotator))
        opts = []
        for c in self.classes:
            o = owners.get(c)
            tag = "free" if o is None else ("yours" if o == name else f"taken by {o}")
            opts.append((f"{c} — {tag}", c))
        for c in self.overlap_classes:
            if owners.get(c) not in (None, name):
                opts.append((f"{c} — second opinion on {owners[c]}'s labels (overlap sample)", f"{OVERLAP}{c}"))
        return opts

    def _say(self, text: str, color: str = "#333"):
        self.message.value = f'<div style="color:{color};padding:2px 0">{text}</div>'

    # ------------------------------------------------------------------ logic (called by the widgets and by tests)
    def login(self, name: str, class_label: str | None = None) -> bool:
        """Start (or resume) labeling as `name`: the given class, or their unfinished class, or the first free one."""
        name = (name or "").strip()
        if not name:
            self._say("Enter your name first.", RED)
            return False
        overlap = overlap_class(class_label)
        if overlap is not None and overlap not in self.overlap_classes:
            self._say(f"No overlap sample of {html.escape(overlap)} for {html.escape(name)}.", RED)
            return False
        if self.member is not None and (
            name != self.member.name or (class_label and overlap is None and class_label not in self.classes)
        ):
            # what a page sends is checked here: a crafted message cannot label as someone else or another class
            self._say(
                f"{html.escape(self.member.name)} may label only: {html.escape(', '.join(self.classes) or 'no class yet')}.",
                RED,
            )
            return False
        if class_label is None:
            class_label = self._pick_class(name)
            if class_label is None:
                self._say(f"Every class is assigned to another annotator; nothing left for {html.escape(name)}.", RED)
                return False
        try:
            self.session = self._new_session(name, class_label)
        except (AssignmentError, ValueError) as e:
            self.class_box.options = self._class_options(name)
            self._say(html.escape(str(e)), RED)
            return False
        self.name_box.value, self.class_box.options = name, self._class_options(name)
        self.class_box.value = class_label
        s = self.session
        examples = [(self._path(r.clip_id), int(r.label)) for r in s.examples.itertuples()]
        self.guideline.value = guideline_html(
            s.class_label, self.definitions.get(s.class_label, s.class_label), examples
        )
        self.work.layout.display = "flex"
        self._say(
            f"Labeling <b>{html.escape(class_label.replace(OVERLAP, 'the overlap sample of '))}</b> as <b>{html.escape(name)}</b>. Every clip starts "
            f"{'negative (red)' if self.default_label < 0 else 'positive (green)'}; click the clips that "
            f"{'show' if self.default_label < 0 else 'do not show'} the action, then submit."
        )
        self.render_page()
        return True

    def _pick_class(self, name: str) -> str | None:
        """The class a login without one opens: the annotator's unfinished class, else the first free one."""
        owners = self.store.assignments()
        mine = [c for c in owners.class_label[owners.annotator == name] if c in self.classes]
        free = [c for c in self.classes if c not in set(owners.class_label)]
        return (mine + free + [None])[0]

    def _new_session(self, name: str, class_label: str):
        overlap = overlap_class(class_label)
        return AnnotationSession(
            self.store,
            self.clips,
            overlap or class_label,
            name,
            self.page_size,
            self.default_label,
            self.seed,
            clock=self.clock,
            source="grid",
            overlap_rate=self.overlap_rate if overlap is not None else None,
        )

    def _need_session(self) -> AnnotationSession:
        if self.session is None:
            raise RuntimeError("log in first: grid.login(name, class_label)")
        return self.session

    def flip(self, i: int, source: str = "click") -> int | None:
        """Flip clip i of the page (positive <-> negative); returns its new label (None when i is not on the page)."""
        s = self._need_session()
        if not 0 <= i < len(s.page_clips):
            return None
        lab = s.flip(i, source)
        self._paint(i)
        if s.unsaved:
            self._say_unsaved(s)
        return lab

    def _say_unsaved(self, s: AnnotationSession, what: str = ""):
        n = len(s.unsaved)
        clicks = (
            f" {n} click{'s' if n != 1 else ''} not saved yet (kept here, sent when the database is back)." if n else ""
        )
        self._say(f"<b>Not saved:</b> {html.escape(what or s.store_error or '')}.{clicks}", RED)

    def _store_call(self, fn, what: str):
        """fn() with the database maybe away: on StoreUnavailable the annotator is told what was not saved."""
        try:
            return fn(), True
        except StoreUnavailable as e:
            self._say_unsaved(self._need_session(), f"{what}: {e}")
            return None, False

    def submit(self, source: str = "button") -> int:
        """Save the page and show the next; returns the number of clips saved (0 when the database was away:
        the page stays as it is and the annotator is told to submit again)."""
        s = self._need_session()
        page = s.page_no
        n, ok = self._store_call(lambda: s.submit(source), f"page {page + 1} — press Submit again")
        if not ok:
            if s.page_missing:  # saved, but the next page could not be opened
                self.render_page()
            return 0
        self.store.checkpoint()  # passive: the .sqlite file itself (what DVC hashes) holds the page too
        if n:
            self._say(f"Saved page {page + 1} ({n} clips).", GREEN)
        self.render_page()
        return n

    def undo(self, source: str = "button") -> str | None:
        """Revert the last flip; with none on this page, retract the last submitted page and show it again."""
        s = self._need_session()
        what, ok = self._store_call(lambda: s.undo(source), "undo — press Undo again")
        if not ok:
            return None
        self._say(
            {
                "flip": "Undid the last click.",
                "page": f"Undid the submission of page {s.page_no + 1}; it is shown again.",
                None: "Nothing to undo.",
            }[what]
        )
        self.render_page()
        return what

    def next_page(self):
        """Show the first clips not labeled yet (after a submit this is the next page)."""
        s = self._need_session()
        if self._store_call(s.next_page, "the next page could not be opened — try again when the database is back")[1]:
            self.render_page()

    def handle_key(self, key: str, source: str = "key") -> str | None:
        """A hotkey: 1-9 0 - = flip that clip, Enter submits, u / z / Backspace undoes. Returns the action taken."""
        if self.session is None:
            return None
        if key in KEYS:
            return "flip" if self.flip(KEYS.index(key), source) is not None else None
        if key in SUBMIT_KEYS:
            self.submit(source)
            return "submit"
        if key in UNDO_KEYS:
            self.undo(source)
            return "undo"
        return None

    def _on_keys(self, change):
        if not change["new"]:
            return
        for ch in change["new"]:
            self.handle_key(ch)
        self.key_box.value = ""

    def _on_key_msg(self, _widget, content, _buffers):
        if content.get("event") == "submit":  # Enter in the hotkey box
            self.handle_key("Enter")

    # ------------------------------------------------------------------ view
    def _path(self, clip_id: str) -> Path:
        p = Path(self._paths[clip_id])
        return p if p.is_absolute() else self.root / p

    def _paint(self, i: int, status: bool = True):
        s = self.session
        pos = s.labels[i] > 0
        key = f"[{KEYS[i]}] " if i < len(KEYS) else ""
        self.tiles[i].layout.border = f"5px solid {GREEN if pos else RED}"
        self.buttons[i].description = f"{key}{'positive ✓' if pos else 'negative ✗'}"
        self.buttons[i].button_style = "success" if pos else "danger"
        if status:
            self._status()

    def render_page(self):
        """Put the session's page into the tiles (video, border, button) and refresh progress and accuracy."""
        s = self._need_session()
        for i, t in enumerate(self.tiles):
            if i < len(s.page_clips):
                c = s.page_clips[i]
                self.videos[i].value = video_html(
                    self._path(c), self.clip_width, attrs=f'data-clip="{html.escape(c)}" data-index="{i}"'
                )
                t.layout.display = "flex"
                self._paint(i, status=False)
            else:
                self.videos[i].value = ""
                t.layout.display = "none"
        self.submit_button.disabled = s.finished
        if s.page_missing:
            self._say("Page saved. The next page opens when the label database is back: press <b>Submit</b>.", RED)
        elif s.finished:
            self._say(
                f"All clips of <b>{html.escape(s.class_label)}</b> are labeled — thank you. Undo reopens the last page.",
                GREEN,
            )
        self._status()

    def _status(self):
        s = self.session
        try:
            p, g = s.progress(), s.gold_accuracy()
        except StoreUnavailable:  # the page itself is shown; the numbers come back with the database
            self.progress_text.value = '<span style="color:#c00">progress: the label database is unreachable</span>'
            return
        self.progress_text.value = (
            f"<b>{html.escape(s.class_label)}</b> · {html.escape(s.annotator)} · page {p['page'] + 1} · "
            f'done <b class="slac-done">{p["done"]}</b> / {p["total"]} · remaining <b class="slac-remaining">{p["remaining"]}</b>'
        )
        self.progress_bar.max, self.progress_bar.value = max(1, p["total"]), p["done"]
        if g["gold_accuracy"] is None:
            self.gold_text.value = '<span style="color:#888">golden-set accuracy: — (no golden clip labeled yet)</span>'
        else:
            low = g["gold_accuracy"] < self.gold_min_accuracy
            flag = (
                f' <b class="slac-flag">⚠ below {self.gold_min_accuracy:.0%}: re-read the guideline</b>' if low else ""
            )
            self.gold_text.value = (
                f'<span style="color:{RED if low else GREEN}">golden-set accuracy: <b class="slac-gold">{g["gold_accuracy"]:.0%}</b> '
                f"({g['gold_correct']}/{g['gold_n']}){flag}</span>"
            )

    def page_html(self) -> str:
        """The current page as one standalone HTML document (guideline + bordered, autoplaying clips)."""
        s = self._need_session()
        tiles = "".join(
            f'<div style="display:inline-block;margin:3px;border:5px solid {GREEN if lab > 0 else RED}">{v.value}</div>'
            for v, lab in zip(self.videos, s.labels)
        )
        return f"<!doctype html><html><head><meta charset='utf-8'></head><body>{self.guideline.value}{self.progress_text.value}<div>{tiles}</div></body></html>"
