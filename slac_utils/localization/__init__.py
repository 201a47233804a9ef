"""Stage 09 — action localization with CDC (paper section 5, Tables 8 and 9).

The paper fine-tunes a Res3D-34 + Conv-Deconv localization model (:mod:`slac_utils.cdc`) on untrimmed
videos (THUMOS14, ActivityNet-v1.3), with and without SLAC pre-training, labels and refines segment
proposals with its per-frame scores, and reports mAP at tIoU thresholds.  Stage 09 does the same at
demo scale on the demo world (or on ActivityNet / THUMOS14 with ``localization.dataset``); the stage,
:mod:`slac_utils.stages.localize`, runs these steps, each from a room of this package:

1. **Ground truth.** demo: the ``kind == "action"`` segments of the ingested (manifest status ok), not
   broken demo videos, labelled with the video's class; only videos with at least one action segment are
   used (as ActivityNet, where every video is annotated).  Written as ActivityNet-v1.3 JSON
   (``<results_dir>/ground_truth.json``).
2. **Split by video.** ``demo_test_fraction`` of the videos are held out for evaluation, seeded and by
   near-duplicate group (the demo world's planted copies never straddle the split).  Held-out videos are
   drawn first from groups with no clip in the stage-06 training split, so neither the stage-06 trunk nor
   the CDC pre-training has seen them (the count of held-out videos that were seen is in the metrics).
3. **Models.** (i) *w/o pre-training*: CDC with a randomly initialised trunk, fine-tuned on the training
   videos; (ii) *pre-train on SLAC*: the trunk of the stage-06 RGB Res3D, the whole CDC model pre-trained
   on the labeled SLAC clips of the stage-06 training split (every frame gets its clip's label, negatives
   the background, sampling weights 1.0 / 0.02) for ``pretrain_epochs``, then fine-tuned the same way.
   Fine-tuning: every ground-truth segment expanded by ``expand_seconds`` on both sides, L random frames
   inside, frame labels from the original segments.
4. **Inference.** Per-frame softmax of each held-out video (:func:`slac_utils.cdc.frame_scores`);
   proposals: multi-scale sliding windows (``window_seconds``, ``window_stride``) or
   ``localization.proposals_path``; *before refinement*: each proposal labelled
   (:func:`slac_utils.cdc.classify_only`), *after refinement*: :func:`slac_utils.cdc.refine` (alpha 25%,
   beta 2.0, or beta tuned on held-out training videos with ``tune_beta``).  Both optionally followed by
   per-class temporal NMS (``nms_tiou``; the paper's proposals came non-overlapping from [36], sliding
   windows do not, see the run's notes).
5. **Evaluation** (:mod:`slac_utils.engine.detection_eval`): Table 9 with ``table9_protocol`` at ``table9_tiou``
   (ActivityNet 0.5:0.95), Table 8 with ``table8_protocol`` at ``table8_tiou`` (THUMOS14 0.3:0.7); our rows
   beside the paper's, labelled DEMO SCALE; parameter counts of ours and of the paper-size model beside the
   paper's 63.4M / 20.4M.

Outputs: ``<out_models_dir>/{scratch,slac_pretrain,slac}/{last.pt,log.csv,meta.json}``,
``<results_dir>/ground_truth.json`` and ``<results_dir>/{scratch,slac}_{before,after}_refinement.json``
(ActivityNet results format), tables (Table 8, Table 9, parameters, split, logs), figures (per-frame scores vs
ground truth, training curves) and the metrics JSON.

Rooms: ``ground_truth`` (steps 1-2: the demo world's or an external dataset's segments, the split),
``evaluate`` (steps 4-5: proposals, beta, labelling / refinement, mAP), ``tables`` (the paper's Tables 8 and 9
beside ours, parameter counts, metrics), ``figures`` (per-frame scores against the ground truth).
"""

from .evaluate import Localization, evaluate_detections, localize_and_evaluate, proposals_for, slac_trunk
from .figures import scores_figure
from .ground_truth import (
    LocalizationSplit,
    demo_ground_truth,
    external_ground_truth,
    make_split,
    pretrain_clips,
    split_videos,
)
from .tables import (
    LOG_KEYS,
    MODELS,
    SKIP_TABLES,
    fmt_m,
    stage_metrics,
    table_notes,
    write_parameters,
    write_split,
    write_table8,
    write_table9,
)

__all__ = [
    "LOG_KEYS",
    "MODELS",
    "SKIP_TABLES",
    "Localization",
    "LocalizationSplit",
    "demo_ground_truth",
    "evaluate_detections",
    "external_ground_truth",
    "fmt_m",
    "localize_and_evaluate",
    "make_split",
    "pretrain_clips",
    "proposals_for",
    "scores_figure",
    "slac_trunk",
    "split_videos",
    "stage_metrics",
    "table_notes",
    "write_parameters",
    "write_split",
    "write_table8",
    "write_table9",
]
