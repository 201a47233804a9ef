"""The profile of a run (demo scale, paper scale or custom) and the key parameters printed with every table."""

from __future__ import annotations

import math
from pathlib import Path

from ..backends import resolved_backends
from ..config import validate


# ----------------------------------------------------------------------------- profile and params
def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flatten(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if (
        isinstance(a, (int, float))
        and isinstance(b, (int, float))
        and not isinstance(a, bool)
        and not isinstance(b, bool)
    ):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def profile_of(params, paper_profile_path=None) -> dict:
    """name: demo (data.source demo) or custom; scale: 'demo scale', 'paper scale' (every setting of
    configs/paper.yaml applied; data paths, weight files and worker counts aside) or 'custom scale'; text: one line."""
    if params.data.source == "demo":
        return dict(
            name="demo",
            scale="demo scale",
            text="demo (DEMO SCALE: the embedded synthetic demo world and the CPU settings of params.yaml; numbers are not comparable in scale to the paper's)",
        )
    differ = None
    if paper_profile_path is not None and Path(paper_profile_path).is_file():
        import yaml  # deferred: PyYAML loads only when a profile file is read

        raw = yaml.safe_load(Path(paper_profile_path).read_text()) or {}
        paper = _flatten(
            validate(raw, source=str(paper_profile_path)).model_dump(mode="json")
        )  # defaults filled in, as applied
        ours = _flatten(params.model_dump(mode="json"))
        location = ("_weights", "workers", "_path", "_dir", "transfer.targets")  # where the data lie, not the scale
        keys = [
            k
            for k in _flatten(raw)
            if not k.startswith("data.") and not k.endswith(location) and k != "transfer.targets"
        ]
        differ = sorted(k for k in keys if not _same(ours.get(k), paper[k]))
    if differ == []:
        return dict(
            name="custom",
            scale="paper scale",
            text=f"custom data ({params.data.source}: {params.data.videos_dir}) at PAPER SCALE (every setting of {paper_profile_path})",
        )
    extra = (
        f"; differs from {paper_profile_path} in {', '.join(differ[:6])}{' ...' if len(differ) > 6 else ''}"
        if differ
        else ""
    )
    return dict(
        name="custom",
        scale="custom scale",
        text=f"custom data ({params.data.source}: {params.data.videos_dir}), custom scale{extra}",
    )


def _fmt_value(v) -> str:
    if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
        return "[" + ", ".join(str(x.get("name", x)) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_fmt_value(x) for x in v) + "]"
    return str(v)


def param_items(params, keys) -> list[str]:
    """'key=value' for each key (a dotted key or a section prefix) that the schema has; an ``auto`` backend is
    shown with what it resolves to on this machine (``auto -> signature``)."""
    flat = _flatten(params.model_dump(mode="json"))
    resolved = resolved_backends(params)
    out = []
    for k in keys:
        hits = [f for f in flat if f == k or f.startswith(k + ".")]
        if k == "dedup.gamma":  # only the threshold actually used
            hits = [f"dedup.gamma.{resolved['dedup.embedder']}"]
        if k == "dedup.external_targets":
            out.append("dedup.external_targets=[" + ", ".join(t.name for t in params.dedup.external_targets) + "]")
            continue
        for f in hits:
            if f in flat:
                ran = resolved.get(f, flat[f])
                out.append(f"{f}={_fmt_value(flat[f])}" + (f" -> {ran}" if ran != flat[f] else ""))
    return out
