"""params.yaml sections of the learning stages 06-10 (recognition, transfer, localization, export)."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, field_validator

from .base import _Section


# ----------------------------------------------------------------------------- recognition (06-08)
class NegWeightScaling(_Section):
    """How the paper's negative sampling weight carries to a training set of another size. ``fixed``: neg_weight as
    given. ``background_per_class``: background keeps the share of draws relative to one average class that
    neg_weight gives it in the paper's set (57.5% negatives at 0.02 against 200 classes at 1.0: 5.4x a class);
    at the paper's scale that is neg_weight itself."""

    rule: Literal["background_per_class", "fixed"] = Field(
        "background_per_class",
        description="background_per_class (keep the paper's ratio) or fixed (neg_weight as given).",
    )
    paper_negative_share: float = Field(
        0.575, gt=0, lt=1, description="Share of negative clips in the paper's training set (paper: 57.5%)."
    )
    paper_classes: int = Field(200, ge=1, description="Positive classes of the paper's training set (paper: 200).")


class RecognitionConfig(_Section):
    depth: Literal[10, 18, 34] = Field(
        18, description="Res3D depth (paper: 34; the CPU demo trains an 18-layer model)."
    )
    width: int = Field(
        16, ge=4, description="Channels of the first stage (paper: 64; the CPU demo uses a narrow model)."
    )
    frames: int = Field(8, ge=1, description="Frames per input clip (paper: 32).")
    resize_short: int = Field(
        64, ge=16, description="Clips are resized so the short side has this size before cropping (paper scale: 128)."
    )
    crop: tuple[int, int] = Field((56, 72), description="Input height, width (paper: 112 x 144).")
    pos_weight: float = Field(1.0, gt=0, description="Sampling weight of positive clips (paper: 1.0).")
    neg_weight: float = Field(
        0.02, gt=0, description="Sampling weight of negative clips, which all share the background label (paper: 0.02)."
    )
    neg_weight_scaling: NegWeightScaling = Field(
        default_factory=lambda: NegWeightScaling(),
        description="How neg_weight carries to this training set (NegWeightScaling).",
    )
    batch_size: int = Field(16, ge=1, description="Mini-batch per GPU/process (paper: 16, x 64 GPUs = 1024).")
    base_lr: float = Field(
        0.05,
        gt=0,
        description="Learning rate per GPU/process (paper: 0.005, and 0.32 = 0.005 x 64 GPUs after warm-up; the one-process CPU demo uses 0.05).",
    )
    warmup_epochs: float = Field(
        2, ge=0, description="Linear warm-up from base_lr to base_lr x world size (paper: 10 epochs)."
    )
    step_epochs: float = Field(
        8, gt=0, description="After warm-up, divide the learning rate by 10 every this many epochs (paper: 10)."
    )
    epochs: int = Field(20, ge=1, description="Training epochs (paper: 45).")
    clips_per_epoch: Optional[int] = Field(
        None, ge=1, description="Clips drawn per epoch by the weighted sampler (default: the number of training clips)."
    )
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum.")
    weight_decay: float = Field(1e-4, ge=0, description="SGD weight decay.")
    workers: int = Field(
        0, ge=0, description="DataLoader worker processes (0 with cache_clips: the clips are in memory)."
    )
    cache_clips: bool = Field(
        True,
        description="Decode every clip once (and compute its flow once) into memory: right for the demo, not for 1.75M clips.",
    )
    val_fraction: float = Field(
        0.15,
        ge=0,
        lt=1,
        description="Share of videos in validation (paper: 6K of 520K videos; demo: larger so the split is measurable).",
    )
    test_fraction: float = Field(0.15, ge=0, lt=1, description="Share of videos in test (paper: 12K of 520K videos).")
    fusion_weights: tuple[float, float] = Field(
        (0.6, 0.4), description="Late fusion of softmax scores, RGB and flow (paper: 0.6, 0.4)."
    )
    unweighted_baseline: bool = Field(
        True,
        description="Also train an RGB model without weighted sampling (every clip weight pos_weight), so that the claims "
        "table tests the paper's 'weighted sampling keeps training from being biased by negatives'; one more training "
        "run (set false at paper scale unless the ablation is wanted).",
    )
    threads: int = Field(
        2,
        ge=1,
        description="torch CPU threads when no GPU is present (the committed dvc.lock was recorded with 2; another count changes speed and may change the last bits of float sums).",
    )


# ----------------------------------------------------------------------------- transfer (stage 08)
class TransferTarget(_Section):
    name: str = Field(description="Name in Tables 5-7 (e.g. UCF-101).")
    format: Literal["ucf101", "hmdb51", "kinetics"] = Field(
        description="Layout of the files, read by slac_utils.data.targets."
    )
    root: str = Field(description="UCF-101/HMDB-51: dataset root (videos in class folders); Kinetics: the video root.")
    lists_dir: Optional[str] = Field(
        None,
        description="UCF-101: folder of classInd.txt/trainlistNN.txt (default <root>/ucfTrainTestlist); HMDB-51: folder of the <class>_test_splitN.txt files.",
    )
    split_id: int = Field(1, ge=1, le=3, description="UCF-101/HMDB-51 official split (paper: split 1).")
    csv_paths: list[str] = Field(
        [], description="Kinetics: annotation CSVs (train first, then the one evaluated: validation, as in the paper)."
    )
    epochs: int = Field(12, ge=1, description="Fine-tuning epochs (paper: 110 UCF-101, 50 HMDB-51, 110 Kinetics).")


class TransferConfig(_Section):
    targets: list[TransferTarget] = Field(
        [TransferTarget(name="UCF-101 (demo)", format="ucf101", root="data/raw/demo_ucf101", epochs=10)],
        description="Target datasets fine-tuned and evaluated (paper: UCF-101 split 1, HMDB-51 split 1, Kinetics val). "
        "The default is the demo target written in the UCF-101 layout by the demo_target stage.",
    )
    demo_train_per_class: int = Field(6, ge=1, description="Demo target: training videos per class (UCF-101 layout).")
    demo_test_per_class: int = Field(3, ge=1, description="Demo target: test videos per class.")
    pretrained: dict[str, str] = Field(
        {},
        description="Other pre-trained Res3D checkpoints to compare with (Table 6), name -> local .pt file with a 'model' state_dict "
        "of the same depth/width (e.g. {Kinetics: weights/res3d34_kinetics.pt}). Never downloaded.",
    )
    modalities: list[Literal["rgb", "flow"]] = Field(
        ["rgb", "flow"], description="Inputs fine-tuned (Table 5: RGB and flow; Table 7 fuses them)."
    )
    base_lr: float = Field(
        0.01,
        gt=0,
        description="Fine-tuning learning rate per process (the paper does not state it; the head and trunk share it).",
    )
    warmup_epochs: float = Field(1, ge=0, description="Linear warm-up epochs of fine-tuning.")
    step_epochs: float = Field(
        6, gt=0, description="Divide the fine-tuning learning rate by 10 every this many epochs after warm-up."
    )
    clips_per_epoch: Optional[int] = Field(
        96,
        ge=1,
        description="Clips drawn per fine-tuning epoch (None: the number of training videos, as in the paper; the demo draws more so its few videos give enough steps).",
    )
    video_clips: int = Field(10, ge=1, description="Video@1: evenly spaced clips averaged per video (paper: 10).")
    dense_stride: int = Field(4, ge=1, description="Dense prediction: a clip every this many frames (paper: 4).")
    dense_crops: Literal[1, 10] = Field(
        10,
        description="Dense prediction crops per clip: 10 = 4 corners + centre and their mirrors (paper), 1 = centre.",
    )
    max_dense_clips: Optional[int] = Field(
        4,
        ge=1,
        description="Cap on dense clips per video (evenly thinned), to bound test time on CPU; None: all (paper).",
    )
    threads: int = Field(
        2,
        ge=1,
        description="torch CPU threads when no GPU is present (the committed dvc.lock was recorded with 2; another count changes speed and may change the last bits of float sums).",
    )


# ----------------------------------------------------------------------------- localization (stage 09)
class LocalizationConfig(_Section):
    dataset: Literal["demo", "activitynet", "thumos14"] = Field(
        "demo",
        description="Untrimmed videos with segment annotations. demo: the demo world's videos and their planted action segments; "
        "activitynet: annotations_path is the ActivityNet-v1.3 JSON; thumos14: annotations_path is the folder of per-class '<Class>_val.txt'/'<Class>_test.txt' files.",
    )
    annotations_path: Optional[str] = Field(None, description="Ground truth for activitynet/thumos14 (see dataset).")
    videos_dir: Optional[str] = Field(
        None, description="Folder of the untrimmed videos (<video_id>.<ext>) for activitynet/thumos14."
    )
    train_subset: str = Field(
        "training", description="Subset fine-tuned on (ActivityNet: training; THUMOS14: validation)."
    )
    test_subset: str = Field(
        "validation", description="Subset evaluated (ActivityNet: validation, Table 9; THUMOS14: test, Table 8)."
    )
    demo_test_fraction: float = Field(
        0.3, gt=0, lt=1, description="Demo: share of untrimmed videos held out for evaluation (by video, seeded)."
    )
    proposals_path: Optional[str] = Field(
        None,
        description="Segment proposals (ActivityNet-style results JSON or CSV video,start,end,score); None: sliding windows.",
    )
    window_seconds: list[float] = Field(
        [1.0, 2.0, 4.0, 8.0], description="Sliding-window proposal lengths (s) when no proposal file is given."
    )
    window_stride: float = Field(
        0.25, gt=0, le=1, description="Sliding-window stride as a fraction of the window length."
    )
    frames: int = Field(16, ge=8, description="Frames per CDC input window; a multiple of 8 (paper: 32).")
    crop: int = Field(56, ge=16, description="Square input size of the CDC model (paper: 112).")
    cdc_channels: int = Field(
        0, ge=0, description="Channels of the CDC operators; 0 = the trunk's output channels (paper: 512)."
    )
    pretrain_epochs: int = Field(
        6,
        ge=0,
        description="Epochs of CDC pre-training on the labeled SLAC clips (every frame gets its clip's label); 0 skips it.",
    )
    epochs: int = Field(10, ge=1, description="Fine-tuning epochs on the untrimmed training videos (paper: 11).")
    warmup_epochs: float = Field(2, ge=0, description="Linear warm-up epochs (paper: 2, from 0.005 to 0.32).")
    step_epochs: float = Field(
        3, gt=0, description="Divide the learning rate by 10 every this many epochs after warm-up (paper: 3)."
    )
    base_lr: float = Field(
        0.02, gt=0, description="Learning rate per process (paper: 0.005 per GPU, 0.32 after warm-up on 64 GPUs)."
    )
    batch_size: int = Field(8, ge=1, description="Windows per mini-batch per process.")
    windows_per_epoch: Optional[int] = Field(
        None, ge=1, description="Training windows drawn per epoch (default: the number of training segments / clips)."
    )
    expand_seconds: float = Field(
        2.0,
        ge=0,
        description="Each ground-truth segment is expanded by this much on both sides for fine-tuning windows (paper: 2 s).",
    )
    pos_weight: float = Field(
        1.0, gt=0, description="Sampling weight of positive SLAC clips in CDC pre-training (paper: 1.0)."
    )
    neg_weight: float = Field(
        0.02, gt=0, description="Sampling weight of negative SLAC clips in CDC pre-training (paper: 0.02)."
    )
    neg_weight_scaling: NegWeightScaling = Field(
        default_factory=lambda: NegWeightScaling(),
        description="How neg_weight carries to this pre-training set (NegWeightScaling).",
    )
    alpha: float = Field(
        0.25,
        ge=0,
        description="Refinement: extend each proposal by this fraction of its length on each side (paper: 25%).",
    )
    beta: float = Field(
        2.0, ge=0, description="Refinement: shrink boundaries until the score exceeds mu - beta*sigma (paper: 2.0)."
    )
    tune_beta: bool = Field(
        False,
        description="Choose beta from beta_grid on held-out training videos (as the paper did) instead of using beta.",
    )
    beta_grid: list[float] = Field(
        [0.5, 1.0, 1.5, 2.0, 2.5, 3.0], description="Candidates for beta when tune_beta is true."
    )
    nms_tiou: Optional[float] = Field(
        None,
        gt=0,
        le=1,
        description="Per-class temporal NMS of the detections at this tIoU (None: none). The paper does not describe one: its proposals came from [27]/[36]; overlapping sliding windows benefit from 0.5.",
    )
    table8_tiou: list[float] = Field(
        [0.3, 0.4, 0.5, 0.6, 0.7], description="tIoU thresholds of the THUMOS14-style table (Table 8)."
    )
    table8_protocol: Literal["activitynet", "thumos14"] = Field(
        "thumos14",
        description="mAP protocol of Table 8 (slac_utils.engine.detection_eval): the THUMOS14 kit or ActivityNet's eval_detection.py.",
    )
    table9_tiou: list[float] = Field(
        [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95],
        description="tIoU thresholds of the ActivityNet-style table (Table 9: 0.5:0.95:0.05).",
    )
    table9_protocol: Literal["activitynet", "thumos14"] = Field(
        "activitynet", description="mAP protocol of Table 9 (ActivityNet's official eval_detection.py)."
    )
    threads: int = Field(
        2,
        ge=1,
        description="torch CPU threads when no GPU is present (the committed dvc.lock was recorded with 2; another count changes speed and may change the last bits of float sums).",
    )


# ----------------------------------------------------------------------------- export and report (stage 10)
class ExportConfig(_Section):
    split_fractions: tuple[float, float, float] = Field(
        (0.7, 0.15, 0.15),
        description="Training / validation / testing shares of videos in the HACS export (paper: 502K / 6K / 12K videos = 0.9654 / 0.0115 / 0.0231).",
    )
    url_template: str = Field(
        "https://www.youtube.com/watch?v={video_id}",
        description="The 'url' of a video in the segments JSON ({video_id} is replaced).",
    )

    @field_validator("split_fractions")
    @classmethod
    def _sum1(cls, v):
        if min(v) < 0 or abs(sum(v) - 1) > 1e-6:
            raise ValueError("split_fractions must be non-negative and sum to 1")
        return v
