"""What the report knows: the paper's Tables 1-9 and figures (captions, their stage, the params that matter), the
pipeline counts printed in the paper, stage names and the metrics worth a line in the index."""

from __future__ import annotations

STAGE = "10_report"
GREEN, RED, GREY = "#2ca02c", "#d62728", "#7f7f7f"
KIND_COLORS = {"action": "#2ca02c", "no_action": "#ff7f0e", "no_context": "#1f77b4", "no_person": "#7f7f7f"}
NEGATIVE_TYPES = ("no_person", "no_context", "no_action")

# ----------------------------------------------------------------------------- the paper

# Paper tables: caption, the stage folder that writes them (None: built here), the params that matter.
TABLES = {
    1: (
        "Comparisons between SLAC and other video datasets",
        None,
        [
            "data.source",
            "data.videos_dir",
            "demo.classes",
            "demo.videos_per_class",
            "sampling.max_per_video",
            "sampling.easy_positive",
            "annotation.mode",
        ],
    ),
    2: (
        "De-duplication of SLAC within itself and against prior test/validation sets",
        "01_dedup",
        ["dedup.embedder", "dedup.gamma", "dedup.fps", "dedup.min_frames", "dedup.keep", "dedup.external_targets"],
    ),
    3: (
        "Cost comparison for full and sparse annotations",
        "05_annotate",
        [
            "annotation.mode",
            "annotation.page_size",
            "annotation.sim_seconds_per_clip",
            "annotation.sim_accuracy",
            "annotation.full_annotation_minutes_per_video",
        ],
    ),
    4: (
        "Results on SLAC (Clip@1)",
        "07_evaluate",
        [
            "recognition.depth",
            "recognition.width",
            "recognition.frames",
            "recognition.crop",
            "recognition.epochs",
            "recognition.neg_weight",
            "recognition.fusion_weights",
        ],
    ),
    5: (
        "Transfer learning with RGB and flow input",
        "08_transfer",
        [
            "recognition.depth",
            "recognition.width",
            "recognition.frames",
            "transfer.targets",
            "transfer.base_lr",
            "transfer.video_clips",
        ],
    ),
    6: (
        "SLAC compared with other pre-training datasets",
        "08_transfer",
        ["recognition.depth", "recognition.width", "transfer.targets", "transfer.pretrained", "transfer.base_lr"],
    ),
    7: (
        "Res3D pre-trained on SLAC beside the state of the art",
        "08_transfer",
        [
            "recognition.depth",
            "recognition.fusion_weights",
            "transfer.targets",
            "transfer.dense_stride",
            "transfer.dense_crops",
        ],
    ),
    8: (
        "Action localization on THUMOS14 (mAP)",
        "09_localize",
        [
            "localization.dataset",
            "localization.frames",
            "localization.crop",
            "localization.epochs",
            "localization.pretrain_epochs",
            "localization.alpha",
            "localization.beta",
            "localization.table8_tiou",
            "localization.table8_protocol",
        ],
    ),
    9: (
        "Action localization on ActivityNet-v1.3 before and after refinement (mAP)",
        "09_localize",
        [
            "localization.dataset",
            "localization.frames",
            "localization.crop",
            "localization.epochs",
            "localization.pretrain_epochs",
            "localization.alpha",
            "localization.beta",
            "localization.table9_tiou",
            "localization.table9_protocol",
        ],
    ),
}
FLOATFMT = {4: ".1f", 5: ".1f", 6: ".1f", 7: ".1f", 8: ".1f", 9: ".1f"}

STAGES = {
    "00_ingest": "Ingest: probe and list the candidate videos (paper 3.4)",
    "01_dedup": "De-duplication within the dataset and against external test sets (paper 3.4, Table 2)",
    "02_shots_persons": "Shot detection and person detection (paper 3.5)",
    "03_proposals": "Proposal models: video-frame and web-image classifiers (paper 3.6)",
    "04_sampling": "Active frame sampling with R(x) and 2-second clips (paper 3.6)",
    "05_annotate": "Clip annotation: grid, golden set, QC, cost (paper 3.7, Table 3)",
    "06_train": "Res3D training on SLAC (paper 4.1)",
    "07_evaluate": "Evaluation on SLAC (paper 4.1, Table 4)",
    "08_transfer": "Transfer: fine-tuning on smaller benchmarks (paper 4.2, Tables 5-7)",
    "09_localize": "Action localization with CDC (paper 5, Tables 8-9)",
    STAGE: "The paper side by side (this stage)",
}
FIGURES = {
    "demo_world.png": "frames of the demo world's videos, one row per class",
    "videos_per_class.png": "candidate videos per class and their lengths",
    "similarity_hist.png": "cosine similarity of same-class video pairs and the threshold γ",
    "pr_vs_threshold.png": "precision / recall of internal de-dup against the planted duplicates, by threshold",
    "person_scores.png": "person scores of shots (with the threshold)",
    "shot_timeline.png": "shot-boundary dissimilarities of one video with detected and true boundaries",
    "training_curves.png": "training curves (loss, accuracy by epoch)",
    "R_by_truth_kind.png": "consensus, disagreement and R(x) by the true segment kind",
    "sampling_vs_baselines.png": "what R(x), consensus-only and uniform sampling spend the annotation budget on",
    "labels.png": "labels per class and golden-set accuracy per annotator",
    "time_per_clip.png": "annotation seconds per clip (ours beside the paper's 8.8 s)",
    "finetune_curves.png": "fine-tuning curves of every target, initialisation and input",
    "transfer_accuracy.png": "top-1 on each transfer target, from scratch vs pre-trained",
    "frame_scores.png": "per-frame CDC scores on held-out videos with ground truth and detections",
}
KEY_METRICS = {
    "00_ingest": ["listed", "ok", "quarantined", "classes", "hours"],
    "01_dedup": [
        "candidates",
        "kept",
        "removed_internal",
        "removed_external",
        "embedder",
        "gamma",
        "internal_precision",
        "internal_recall",
    ],
    "02_shots_persons": [
        "shots",
        "person_shots",
        "share_person_shots",
        "videos_kept",
        "shot_f1",
        "person_precision",
        "person_recall",
    ],
    "03_proposals": ["X_frames", "frames_model_heldout_accuracy", "web_model_heldout_accuracy", "agreement_on_X"],
    "04_sampling": ["clips", "hard", "easy", "videos", "clips_per_video", "clip_truth_positive_share"],
    "05_annotate": [
        "labeled",
        "positives",
        "negatives",
        "seconds_per_clip",
        "seconds_per_video",
        "saving_vs_full",
        "gold_accuracy_mean",
        "label_accuracy",
    ],
    "06_train": ["train_clips", "val_clips", "test_clips", "train_accuracy_rgb", "train_accuracy_flow"],
}
OWN_FIGURES = {
    "fig1_pipeline.png": "Figure 1 — the data-collection pipeline with this run's counts at every step (paper's in grey)",
    "fig2_negatives.png": "Figure 2 — a positive clip and the three negative types (no person / no context / no action), frames of this run",
    "fig3_guideline.png": "Figure 3 — the annotation guideline: class definitions with the golden-set positive (green) and negative (red) examples",
    "fig4_grid.png": "Figure 4 — one page of the annotation grid, borders show this run's labels (green positive, red negative)",
    "class_balance.png": "labeled clips per class (positive / negative) and the positive share of hard vs easy clips",
    "clips_per_video.png": "labeled clips per video (ours beside the paper's 1.75M / 520K)",
    "r_distribution.png": "R(x) of the labeled clips by sampling kind, by label and (demo) by true segment kind",
}
