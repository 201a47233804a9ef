"""The one typed schema of ``params.yaml``.

Every stage reads its section through :func:`load_params`; a wrong key or value
fails fast with a message naming it (and a close match, when there is one).
Defaults are the CPU demo profile; the paper's value of each constant is stated in
its description and collected in ``configs/paper.yaml`` (apply it with
``python -m slac_utils.config paper-flags`` -> ``dvc exp run <flags>``).

Run ``python -m slac_utils.config show`` for the documented defaults.

Rooms: ``curation`` (sections of stages 00-05), ``learning`` (06-10), ``params`` (:class:`Params`, backend and mode
resolution), ``load`` (:func:`load_params`, :func:`validate`, profiles, the defaults file), ``base``.
"""

from .curation import (
    DEMO_CLASSES,
    AnnotationConfig,
    ComputeConfig,
    DataConfig,
    DedupConfig,
    DemoConfig,
    ExternalTarget,
    IngestConfig,
    PersonsConfig,
    ProposalsConfig,
    SamplingConfig,
    ShotsConfig,
)
from .learning import ExportConfig, LocalizationConfig, RecognitionConfig, TransferConfig, TransferTarget
from .load import ConfigError, flatten, hydra_value, load_params, paper_flags, render_defaults, validate
from .params import Params, annotation_mode, resolve_auto_backends

__all__ = [
    "AnnotationConfig",
    "ConfigError",
    "DEMO_CLASSES",
    "DataConfig",
    "ComputeConfig",
    "DedupConfig",
    "DemoConfig",
    "ExportConfig",
    "ExternalTarget",
    "IngestConfig",
    "LocalizationConfig",
    "Params",
    "PersonsConfig",
    "ProposalsConfig",
    "RecognitionConfig",
    "SamplingConfig",
    "ShotsConfig",
    "TransferConfig",
    "TransferTarget",
    "annotation_mode",
    "flatten",
    "hydra_value",
    "load_params",
    "paper_flags",
    "render_defaults",
    "resolve_auto_backends",
    "validate",
]
