"""Which backend each ``auto`` key of params.yaml resolves to on this machine, in one place.

Stages resolve their own backend when they build it (``features.resolve_embedder``, ``persons.resolve_detector``,
``proposals.resolve_backbone``, ``shots.resolve_shot_detector``, after ``config.resolve_auto_backends`` for the demo
source); the report's key parameters call :func:`resolved_backends` so that ``auto`` is shown with what it ran as.
"""

from __future__ import annotations

from .config import annotation_mode, resolve_auto_backends
from .features import resolve_embedder
from .persons import resolve_detector
from .proposals import resolve_backbone
from .shots import resolve_shot_detector


def resolved_backends(params) -> dict[str, str]:
    """{dotted key: backend name} for the keys that accept ``auto``; a key set explicitly maps to its own value."""
    p = resolve_auto_backends(params)
    return {
        "dedup.embedder": resolve_embedder(p.dedup),
        "shots.detector": resolve_shot_detector(p.shots),
        "persons.detector": resolve_detector(p.persons),
        "proposals.backbone": resolve_backbone(p.proposals),
        "annotation.mode": annotation_mode(p),
    }
