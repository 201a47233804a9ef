"""The annotation guideline (paper section 3.7, Figure 3): the file the researcher writes.

``annotation.guideline`` names a YAML file (``configs/guideline.yaml`` is the demo's)::

    classes:
      <class label>:
        definition: "what counts as the action"          # required
        positive_examples: [clip_id, ...]                  # optional: clips that show it
        negative_examples: [clip_id, ...]                  # optional: hard negatives

The grid shows each class's definition above its pages and the example clips beside it; listed examples
become golden-set rows with role ``example`` (never put on pages). A class the file does not define shows
its name. The legacy ``world.json`` of the demo world (``{"classes": {label: definition}}``) is still read.

:class:`Guideline` — ``definitions`` {class: text} and ``examples`` (clip_id, class_label, label, role).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pandas as pd
import yaml

EXAMPLE_COLUMNS = ["clip_id", "class_label", "label", "role"]


class GuidelineError(ValueError):
    """A guideline file that cannot be read; the message names the file and the entry."""


@dataclass
class Guideline:
    definitions: dict[str, str] = field(default_factory=dict)
    examples: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EXAMPLE_COLUMNS))
    path: str | None = None


def _entries(path: Path) -> dict:
    text = path.read_text()
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    classes = (data or {}).get("classes", {}) if isinstance(data, dict) else None
    if not isinstance(classes, dict):
        raise GuidelineError(f"{path}: expected a mapping 'classes: {{<label>: {{definition: ...}}}}'")
    return classes


def _entry(path: Path, cls: str, entry) -> tuple[str, list[dict]]:
    if isinstance(entry, str):  # world.json style: label -> definition
        return entry, []
    if not isinstance(entry, dict) or not isinstance(entry.get("definition"), str) or not entry["definition"].strip():
        raise GuidelineError(f"{path}: class {cls!r} needs a non-empty 'definition'")
    unknown = set(entry) - {"definition", "positive_examples", "negative_examples"}
    if unknown:
        raise GuidelineError(
            f"{path}: class {cls!r} has unknown keys {sorted(unknown)} (definition, positive_examples, negative_examples)"
        )
    rows = []
    for key, label in (("positive_examples", 1), ("negative_examples", -1)):
        ids = entry.get(key) or []
        if not isinstance(ids, list):
            raise GuidelineError(f"{path}: class {cls!r}: {key} must be a list of clip ids")
        rows += [dict(clip_id=str(c), class_label=cls, label=label, role="example") for c in ids]
    return entry["definition"].strip(), rows


def load_guideline(path, classes: Iterable[str] = ()) -> Guideline:
    """The guideline at path (None or a missing file: names only) for the union of its classes and ``classes``."""
    defs, rows = {}, []
    if path is not None and Path(path).exists():
        p = Path(path)
        for cls, entry in _entries(p).items():
            text, ex = _entry(p, str(cls), entry)
            defs[str(cls)] = text
            rows += ex
    definitions = {c: defs.get(c, c.replace("_", " ")) for c in sorted(set(classes) | set(defs))}
    examples = pd.DataFrame(rows, columns=EXAMPLE_COLUMNS).drop_duplicates("clip_id").reset_index(drop=True)
    return Guideline(definitions, examples, None if path is None else str(path))


def load_definitions(path, classes: Iterable[str] = ()) -> dict[str, str]:
    """Class definitions only (the guideline's text; the class name where it has none)."""
    return load_guideline(path, classes).definitions


def add_examples(store, guideline: Guideline, clips: pd.DataFrame) -> int:
    """Put the guideline's listed example clips that exist among ``clips`` into the store's golden set."""
    ex = guideline.examples
    if ex.empty:
        return 0
    known = ex[ex.clip_id.isin(set(clips.clip_id))]
    return store.add_gold(known, source=f"guideline:{guideline.path}") if len(known) else 0
