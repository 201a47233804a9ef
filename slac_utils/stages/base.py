"""What every stage module shares: its paths as a frozen dataclass, and a command line built from them.

A stage module (``slac_utils/stages/<dvc stage name>.py``) holds

- ``Paths``: a frozen dataclass of the files and folders the stage reads and writes, one field per ``-p`` of its
  ``dvc.yaml`` command, the defaults being the pipeline's paths (``tests/test_pipeline_contract.py`` checks that
  the dataclass, the notebook's parameters cell and ``dvc.yaml`` name the same things with the same values);
- ``run(params, paths=Paths(), progress=True) -> dict``: the stage, orchestration only (what it computes lives in a
  library room: ``models/``, ``engine``-style modules, ``report/`` ...);
- ``main(argv=None)``: ``python -m slac_utils.stages.<name> --params params.yaml [--<field> PATH ...]``, the same run
  without the notebook (and the ``torchrun`` entry point of the training stages at paper scale).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Mapping

from ..config import load_params


@dataclasses.dataclass(frozen=True)
class StagePaths:
    """Base of every stage's ``Paths``; a field whose default is None is optional (or comes from params)."""

    @classmethod
    def from_mapping(cls, mapping: Mapping):
        """The fields found in ``mapping`` (a notebook's ``globals()`` after its parameters cell), defaults for the rest."""
        return cls(**{f.name: mapping[f.name] for f in dataclasses.fields(cls) if f.name in mapping})

    def for_source(self, params):
        """This with ``demo_dir`` None unless ``data.source`` is demo: the demo world (and its truth) is reached only
        behind the demo source, whatever path a notebook or command line passes."""
        if params.data.source == "demo" or "demo_dir" not in self.names():
            return self
        return dataclasses.replace(self, demo_dir=None)

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]


def main(paths_cls: type[StagePaths], run: Callable, description: str, argv=None) -> dict:
    """Parse ``--params`` and one ``--<field>`` per path, load and validate params, run the stage."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--params", default="params.yaml", help="the params file (validated by slac_utils.config)")
    for f in dataclasses.fields(paths_cls):
        ap.add_argument(f"--{f.name}", default=f.default, help=f"default: {f.default}")
    ap.add_argument("--no-progress", action="store_true", help="no progress bars")
    a = ap.parse_args(argv)
    paths = paths_cls(**{f.name: getattr(a, f.name) for f in dataclasses.fields(paths_cls)})
    return run(load_params(a.params), paths, progress=not a.no_progress)
