"""The grid's gold mode: the researcher labels the golden set in the same grid the annotators use (paper 3.7).

:class:`GoldGrid` is :class:`~slac_utils.grid.AnnotationGrid` over a :class:`~slac_utils.annotation.gold.GoldSession`:
the same tiles, clicks, hotkeys, submit and undo, plus one button per tile that marks the clip as a guideline
*example* (shown beside the definition, paper Fig. 3) instead of a hidden *check*.  Gold labeling claims no
class.  Usage (notebooks/05_annotate.ipynb, section "Golden set")::

    gold = GoldGrid.from_params(P, clips_path, guideline_path=guideline_path)
    display(gold.widget)
"""

from __future__ import annotations

import html

import ipywidgets as W

from .annotation.gold import GoldSession
from .grid import GREEN, AnnotationGrid, guideline_html


class GoldGrid(AnnotationGrid):
    """The researcher's golden-set grid (see the module docstring)."""

    def __init__(self, store, clips, definitions=None, gold_rate: float = 0.1, examples: int = 2, **kw):
        self.gold_rate, self.n_examples = gold_rate, examples
        super().__init__(store, clips, definitions, **kw)

    @classmethod
    def from_params(cls, params, clips_path, clips_truth_path=None, guideline_path=None, **kw) -> "GoldGrid":
        """The golden-set grid on the label store of ``annotation.store`` / ``db_url`` (always the real store)."""
        cfg = params.annotation
        kw = {**dict(gold_rate=cfg.gold_rate, examples=cfg.guideline_examples), **kw}
        return super().from_params(params, clips_path, None, guideline_path, human=True, **kw)

    def _build(self, columns: int):
        super()._build(columns)
        self.name_box.description, self.name_box.placeholder = "Researcher", "your name"
        self.start_button.description = "Label golden set"
        self.example_buttons = []
        for i, t in enumerate(self.tiles):
            b = W.Button(layout=W.Layout(width=f"{self.clip_width}px"))
            b.add_class("slac-example")
            b.on_click(lambda _, i=i: self.toggle_example(i))
            t.children = (*t.children, b)
            self.example_buttons.append(b)
        self.widget.add_class("slac-gold")
        # its own hooks, so that a page showing both grids (notebook 05) has one annotator login and hotkey box
        self.login_box.remove_class("slac-login")
        self.login_box.add_class("slac-gold-login")
        self.key_box.remove_class("slac-keys")
        self.key_box.add_class("slac-gold-keys")

    def _class_options(self, name: str | None = None) -> list[tuple[str, str]]:
        have = self.store.gold().class_label.value_counts()
        return [(f"{c} — {int(have.get(c, 0))} golden", c) for c in self.classes]

    def _pick_class(self, name: str) -> str | None:
        return self.classes[0] if self.classes else None

    def _new_session(self, name: str, class_label: str) -> GoldSession:
        return GoldSession(
            self.store,
            self.clips,
            class_label,
            name,
            self.gold_rate,
            self.n_examples,
            self.page_size,
            self.seed,
            clock=self.clock,
        )

    def login(self, name: str, class_label: str | None = None) -> bool:
        ok = super().login(name, class_label)
        if ok:
            self._say(
                f"Golden set of <b>{html.escape(self.session.class_label)}</b>: click the clips that show the action "
                "(green); mark the clearest ones as guideline examples (☆); the rest become hidden checks. Submit saves the page."
            )
        return ok

    def toggle_example(self, i: int) -> str | None:
        """Mark clip i of the page as a guideline example, or back to a hidden check."""
        s = self._need_session()
        if not 0 <= i < len(s.page_clips):
            return None
        role = s.toggle_example(i)
        self._paint(i)
        return role

    def submit(self, source: str = "button") -> int:
        n = super().submit(source)
        s = self.session
        examples = [(self._path(r.clip_id), int(r.label)) for r in s.examples.itertuples()]
        self.guideline.value = guideline_html(
            s.class_label, self.definitions.get(s.class_label, s.class_label), examples
        )
        self.class_box.options = self._class_options()
        self.class_box.value = s.class_label
        return n

    def _paint(self, i: int, status: bool = True):
        super()._paint(i, status)
        ex = self.session.roles[i] == "example"
        self.example_buttons[i].description = "★ guideline example" if ex else "☆ hidden check"
        self.example_buttons[i].button_style = "warning" if ex else ""

    def _status(self):
        super()._status()
        g = self.session.summary()
        self.gold_text.value = (
            f'<span style="color:{GREEN}">golden set of {html.escape(self.session.class_label)}: '
            f'<b class="slac-gold-count">{g["checks"]}</b> checks, {g["examples"]} examples '
            f"({g['positives']} positive, {g['negatives']} negative)</span>"
        )
