"""Pretrained models that ship inside registry packages, loaded offline.

Nothing here downloads: each backend finds its weight file inside an installed wheel through
importlib (:func:`package_file`) or takes a local path from ``params.yaml``.  :func:`provenance`
returns what a stage report prints about the model that ran: backend, package, version, licence,
weight file and its size.

Rooms: ``transnet`` (TransNetV2 shot boundaries), ``person_ssd`` (SSD-MobileNetV2-COCO persons via
``cv2.dnn``), ``efficientnet`` (ImageNet EfficientNet-Lite0 image features), ``proposal_nets`` (the networks of
the two proposal models of stage 03).
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
from contextlib import contextmanager
from pathlib import Path


def package_available(module: str) -> bool:
    """True when the top-level module is importable (without importing it)."""
    return importlib.util.find_spec(module) is not None


def package_file(module: str, relative: str) -> Path:
    """The path of a data file inside an installed package, found without importing the package.

    Raises FileNotFoundError naming the package to install when the module or the file is absent.
    """
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"package {module!r} is not installed (it ships the weights); `make install` installs it"
        )
    for root in spec.submodule_search_locations:
        p = Path(root) / relative
        if p.is_file():
            return p
    raise FileNotFoundError(f"{relative} not found inside the installed package {module!r}")


def provenance(
    backend: str, distribution: str | None, weights: str | Path | None, licence: str | None = None, **extra
) -> dict:
    """What a report says about a model: backend, package==version, licence, weight file (name and MB)."""
    out = {"backend": backend}
    if distribution:
        try:
            meta = md.metadata(distribution)
            version = md.version(distribution)
            declared = meta.get("License-Expression") or meta.get("License") or ""
        except md.PackageNotFoundError:
            version, declared = "not installed", ""
        out["package"] = f"{distribution}=={version}"
        out["licence"] = licence or declared or "not declared"
    elif licence:
        out["licence"] = licence
    if weights:
        w = Path(weights)
        out["weights"] = w.name
        out["weights_mb"] = round(w.stat().st_size / 2**20, 1) if w.exists() else None
    out.update(extra)
    return out


def provenance_line(info: dict) -> str:
    """One line for a report's provenance list."""
    keys = [k for k in ("package", "licence", "weights") if info.get(k)]
    body = ", ".join(
        f"{k} {info[k]}" + (f" ({info['weights_mb']} MB)" if k == "weights" and info.get("weights_mb") else "")
        for k in keys
    )
    rest = ", ".join(
        f"{k} {v}" for k, v in info.items() if k not in {"backend", "package", "licence", "weights", "weights_mb"}
    )
    return f"{info['backend']}" + (f": {body}" if body else "") + (f"; {rest}" if rest else "")


@contextmanager
def torch_threads(n: int | None):
    """torch's intra-op CPU threads set to ``n`` inside the block (restored after); nothing when ``n`` is None.
    A network's float sums depend on the count, so a step that must give the same bits everywhere fixes it."""
    if not n:
        yield
        return
    import torch  # deferred: only code that runs a network asks for threads

    before = torch.get_num_threads()
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(before)
