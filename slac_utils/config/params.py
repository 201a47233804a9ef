"""Params: the whole params.yaml, one section per stage; the backend and mode resolution every stage shares."""

from __future__ import annotations

from pydantic import Field, model_validator

from .base import _Section
from .curation import (
    AnnotationConfig,
    ComputeConfig,
    DataConfig,
    DedupConfig,
    DemoConfig,
    IngestConfig,
    PersonsConfig,
    ProposalsConfig,
    SamplingConfig,
    ShotsConfig,
)
from .learning import ExportConfig, LocalizationConfig, RecognitionConfig, TransferConfig


class Params(_Section):
    seed: int = Field(0, description="Global seed for every stage's randomness.")
    data: DataConfig = Field(default_factory=DataConfig)
    demo: DemoConfig = Field(default_factory=DemoConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    dedup: DedupConfig = Field(default_factory=DedupConfig)
    shots: ShotsConfig = Field(default_factory=ShotsConfig)
    persons: PersonsConfig = Field(default_factory=PersonsConfig)
    proposals: ProposalsConfig = Field(default_factory=ProposalsConfig)
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    annotation: AnnotationConfig = Field(default_factory=AnnotationConfig)
    recognition: RecognitionConfig = Field(default_factory=RecognitionConfig)
    transfer: TransferConfig = Field(default_factory=TransferConfig)
    localization: LocalizationConfig = Field(default_factory=LocalizationConfig)
    export: ExportConfig = Field(default_factory=ExportConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)

    @model_validator(mode="after")
    def _cross(self):
        if self.dedup.embedder == "resnet50" and not self.dedup.resnet50_weights:
            raise ValueError("dedup.embedder=resnet50 needs dedup.resnet50_weights (a local .pth file)")
        if self.persons.detector == "faster_rcnn" and not self.persons.faster_rcnn_weights:
            raise ValueError("persons.detector=faster_rcnn needs persons.faster_rcnn_weights (a local .pth file)")
        if self.localization.frames % 8:
            raise ValueError(
                f"localization.frames must be a multiple of 8 (the trunk downsamples time by 8), got {self.localization.frames}"
            )
        if self.localization.dataset != "demo" and not (
            self.localization.annotations_path and self.localization.videos_dir
        ):
            raise ValueError(
                f"localization.dataset={self.localization.dataset} needs localization.annotations_path and localization.videos_dir"
            )
        return self


def annotation_mode(params: "Params") -> str:
    """annotation.mode with auto resolved: simulate on the demo source (it has truth to simulate from), human otherwise."""
    mode = params.annotation.mode
    if mode == "auto":
        return "simulate" if params.data.source == "demo" else "human"
    return mode


def resolve_auto_backends(params: "Params") -> "Params":
    """The demo source's ``auto`` backends: the weight-free ones, calibrated on its drawn world.

    On real footage (folder / csv sources) ``auto`` means the learned models shipped in packages. The demo world
    is drawn: SSD-MobileNet finds ~0.79 of its figures (the calibrated HOG + cascades find all), and EfficientNet-Lite0
    features leave no gap between its planted copies and same-scene siblings (the signature embedder does), so on
    ``data.source: demo`` an ``auto`` person detector, de-dup embedder and proposal backbone resolve to opencv,
    signature and features (weights named in params still win). Returns a copy; other sources are returned as they are.
    """
    if params.data.source != "demo":
        return params
    p = params.model_copy(deep=True)
    if p.dedup.embedder == "auto" and not p.dedup.resnet50_weights:
        p.dedup.embedder = "signature"
    if p.persons.detector == "auto" and not p.persons.faster_rcnn_weights:
        p.persons.detector = "opencv"
    if p.proposals.backbone == "auto":
        p.proposals.backbone = "features"
    return p
