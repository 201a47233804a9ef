"""Reading params.yaml (validation with a close match for a typo), profiles as dvc exp flags, the documented
defaults file."""

from __future__ import annotations

import difflib
import textwrap
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from .params import Params


class ConfigError(ValueError):
    """A params file that does not match the schema; the message names each bad key."""


def _suggest(model: type[BaseModel], loc: tuple) -> str:
    """'did you mean' for an unknown key, walking the schema along loc."""
    m: Any = model
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        f = getattr(m, "model_fields", {}).get(part)
        if f is None:
            return ""
        ann = f.annotation
        args = getattr(ann, "__args__", ())
        m = next((a for a in (ann, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if m is None:
            return ""
    close = difflib.get_close_matches(str(loc[-1]), list(getattr(m, "model_fields", {})), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def validate(raw: dict, source: str = "params") -> Params:
    try:
        return Params.model_validate(raw or {})
    except ValidationError as e:
        lines = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "<root>"
            if err["type"] == "extra_forbidden":
                lines.append(f"{source}: unknown key '{key}'{_suggest(Params, err['loc'])}")
            else:
                lines.append(f"{source}: {key}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("\n".join(lines)) from None


def _set_dotted(d: dict, dotted: str, value):
    keys = dotted.split(".")
    for k in keys[:-1]:
        d = d.setdefault(k, {})
    d[keys[-1]] = value


def load_params(path: str | Path = "params.yaml", overrides: dict | None = None) -> Params:
    """Read and validate a params file; overrides maps dotted keys to values (e.g. {'dedup.fps': 0.5})."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"params file not found: {path}")
    raw = yaml.safe_load(path.read_text()) or {}
    for k, v in (overrides or {}).items():
        _set_dotted(raw, k, v)
    return validate(raw, source=str(path))


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested dict -> {dotted.key: value}; DVC's ``-S`` sets nested keys the same way (``dedup.gamma.resnet50=0.935``)."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict) and v:
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def hydra_value(v) -> str:
    """A value in the override grammar DVC's ``-S`` uses (Hydra's): strings single-quoted, lists ``[a,b]``,
    mappings ``{key:value}``, no spaces -- so ``$(paper-flags)`` word-splits only between flags."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        if any(c.isspace() for c in v):
            raise ConfigError(
                f"profile value {v!r} contains white space: it cannot be passed through $(paper-flags); set it in params.yaml"
            )
        return "'" + v.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(hydra_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{k}:{hydra_value(x)}" for k, x in v.items()) + "}"
    raise ConfigError(f"cannot write {v!r} as a -S value")


def paper_flags(path: str | Path = "configs/paper.yaml") -> list[str]:
    """`-S key=value` flags for `dvc exp run` that apply a profile file (e.g. the paper-scale values)."""
    raw = yaml.safe_load(Path(path).read_text()) or {}
    validate(raw, source=str(path))  # fail early on a typo in the profile itself
    return [f"-S {k}={hydra_value(v)}" for k, v in flatten(raw).items()]


def render_defaults() -> str:
    """params.yaml text with every default and its description as a comment (the file shipped in the repo)."""

    lines = [
        "# SLAC pipeline parameters: the CPU demo profile. Validated by slac_utils/config/;",
        "# the paper-scale values are in configs/paper.yaml (dvc exp run $(python -m slac_utils.config paper-flags)).",
        "",
    ]
    d = Params().model_dump(mode="json")

    def emit(model, values, indent):
        for name, f in model.model_fields.items():
            v = values[name]
            for c in textwrap.wrap(f.description or "", 110 - indent):
                lines.append(" " * indent + "# " + c)
            sub = f.annotation if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel) else None
            if sub is not None:
                lines.append(" " * indent + f"{name}:")
                emit(sub, v, indent + 2)
            else:
                flow = not isinstance(v, dict) and not (isinstance(v, list) and v and isinstance(v[0], dict))
                dumped = (
                    yaml.safe_dump({name: v}, sort_keys=False, default_flow_style=flow, width=1000)
                    .rstrip()
                    .splitlines()
                )
                if flow:
                    dumped = [dumped[0].strip("{}")]
                lines.extend(" " * indent + ln for ln in dumped)
            if indent == 0:
                lines.append("")

    emit(Params, d, 0)
    return "\n".join(lines).rstrip() + "\n"
