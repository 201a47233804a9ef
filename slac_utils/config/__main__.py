"""``python -m slac_utils.config [show | check PARAMS | defaults | paper-flags PROFILE]``."""

from __future__ import annotations

import sys

import yaml
from pydantic import BaseModel

from .load import ConfigError, load_params, paper_flags, render_defaults
from .params import Params


def _main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "show"
    if cmd == "show":
        print(yaml.safe_dump(Params().model_dump(mode="json"), sort_keys=False))
        for name, sec in Params.model_fields.items():
            model = sec.annotation
            if isinstance(model, type) and issubclass(model, BaseModel):
                for fname, f in model.model_fields.items():
                    print(f"{name}.{fname}: {f.description}")
        return 0
    if cmd == "check":
        load_params(argv[1] if len(argv) > 1 else "params.yaml")
        print("ok")
        return 0
    if cmd == "defaults":
        sys.stdout.write(render_defaults())
        return 0
    if cmd == "paper-flags":
        print(" ".join(paper_flags(argv[1] if len(argv) > 1 else "configs/paper.yaml")))
        return 0
    print("usage: python -m slac_utils.config [show | check PARAMS | defaults | paper-flags PROFILE]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(_main(sys.argv[1:]))
    except ConfigError as e:
        print(e, file=sys.stderr)
        sys.exit(1)
