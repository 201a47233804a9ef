"""CDC localization model (paper section 5; Shou et al., CVPR 2017 "CDC"): a Res3D trunk, three
Convolutional-De-Convolutional operators and a per-frame (K+1)-way classifier, with its data, training,
dense inference, proposals and the paper's boundary refinement.

Architecture
------------
``CDC(trunk_model, num_classes, frames, crop)`` takes the ``trunk`` of a :class:`~slac_utils.models.res3d.Res3D`
(input B x 3 x L x H x W -> C x L/8 x h x w; paper: Res3D-34 at 32 x 112 x 112 -> 512 x 4 x 7 x 7) and
adds three Conv-Deconv operators (:class:`ConvDeconv`) that each *convolve in space* (no spatial padding,
stride 1: the map shrinks) and *deconvolve in time* (x2) in one step, ending at C x L x 1 x 1 (paper:
512 x 32 x 1 x 1), then a per-frame linear classifier (a kernel-1 Conv1d) giving B x num_classes x L logits,
``num_classes`` = K + 1 including background (paper: 201).  Output frame ``t`` is aligned to input frame ``t``.

A CDC operator with input (C_in, T, h, w) and kernel (k_h, k_w) holds, as in Shou et al.'s CDC filter, one
independent spatial kernel C_out x C_in x k_t x k_h x k_w *per upsampled output time step* (2 of them):
output frame 2t + r (r = 0, 1) is kernel r applied to input step t.  It is computed as one Conv3d with
2 C_out output channels whose two halves are interleaved in time.  ``temporal_kernel`` k_t is 1 here (the
pure x2 de-convolution of Shou's CDC filter: each input step produces its two output steps; the temporal
context comes from the trunk, whose receptive field spans the whole window).  Each operator is followed by
BatchNorm and ReLU (the trunk is batch-normalised too); weights have no bias.

Frame alignment: the trunk's stride-2 convolutions (kernel 3, padding 1) centre trunk step j on input
frame 8j; its 8 output frames 8j .. 8j+7 each get their own path through the three x2 de-convolutions
(2 x 2 x 2 distinct kernels), and a trained trunk's temporal receptive field spans tens of frames, so each
output frame is fitted to its own input frame by the per-frame loss.  (A freshly initialised Res3D, whose
residual blocks start as identities, sees only frames 8j-1 .. 8j+1 -- tests/test_cdc.py perturbs it.)

Spatial kernels adapt to the trunk's actual output size s (computed at build time from the trunk's
convolutions, :func:`trunk_output_shape`): operator 1 reduces s -> ceil(s/4), operator 2 reduces that to 1,
operator 3 is 1 x 1 (like Shou's CDC7/CDC8).  Paper size s = 7: kernels 6x6 (7 -> 2), 2x2 (2 -> 1), 1x1.
Demo size (56 x 56 crops) s = 4: kernels 4x4 (4 -> 1), 1x1, 1x1.

Parameter counts (``parameter_counts``; paper settings built on the meta device by
:func:`paper_parameter_counts`, checked in tests/test_cdc.py):

* Res3D-34 trunk (width 64):             63,475,904  (paper: 63.4M; within 0.1M, res3d.trunk_parameters)
* CDC operators, 512 channels:           21,498,880 = 2 x 512 x 512 x (36 + 4 + 1) weights + 3 x 1,024 BN
                                                     (paper: 20.4M; ours +1.10M, +5.4%)
* per-frame classifier (512 -> 201):        103,113

The paper's supplementary material with the exact layer shapes is not available, so the construction is
inferred.  No construction of this family reproduces 20.4M exactly: with 512 -> 512 operators a count is
512^2 x 2 x k_t x (sum of the three operators' spatial taps), and 20.4M = 512^2 x 77.8 would need
k_t x taps = 39 -- with k_t = 1, 39 is not a sum of three squares (39 = 8*4+7), and k_t = 3 would need 13
(not a sum of three positive squares either).  Alternatives considered (k_t = 1): 7x7, 1x1, 1x1 (Shou's
"full map in the first operator") 26.74M; 5x5, 3x3, 1x1 18.35M; 4x4, 4x4, 1x1 17.30M; 3x3 three times
14.16M; k_t = 3 (a Shou-style temporal kernel 3, padding 1): >= 42.5M with stride-1 kernels (3x3 three
times), 22.0M with a strided 2x2/2 first kernel.  6x6, 2x2, 1x1 with k_t = 1 is the closest (+1.10M).

Data
----
* :class:`SlacFrameDataset` -- CDC pre-training on SLAC clips: L random consecutive frames of a 2-second
  clip, every frame labelled with the clip's label (negatives -> background K), random crop + flip, all
  drawn from (seed, epoch, draw, index) by :class:`slac_utils.data.clips.ClipDataset` (composition).
* :class:`UntrimmedWindowDataset` -- fine-tuning: for each ground-truth segment, the segment expanded by
  ``expand_seconds`` on both sides (clamped to the video); L random consecutive frames in that window;
  frame labels: the label of a ground-truth segment whose *original* extent covers the frame centre,
  background elsewhere.

Frames are decoded with decord with the short side resized to ``resize_short`` (default
``crop x 8/7``: 64 for 56 crops, 128 for the paper's 112), then square ``crop`` crops; RGB in [0, 1]
normalised with the ImageNet mean/std (as :mod:`slac_utils.data.clips`).

Training, inference, refinement
-------------------------------
* :func:`train_cdc` -- per-frame cross-entropy, SGD momentum 0.9, linear warm-up then /10 every
  ``step_epochs`` (:func:`slac_utils.engine.train.lr_at`), weighted draws (:func:`slac_utils.engine.train.epoch_draws`),
  an atomic, byte-reproducible checkpoint per epoch, exact resume, bf16 + channels_last_3d on GPU, DDP under
  torchrun.
* :func:`frame_scores` -- (n_frames, K+1) per-frame softmax of a whole video from consecutive L-frame
  windows (the last one overlapping the previous so it ends at the last frame; each frame takes its score
  from exactly one window).
* :func:`sliding_window_proposals`, :func:`classify_only` (paper Table 9 "before refinement"),
  :func:`refine` (paper section 5 boundary refinement, alpha = 25%, beta = 2.0), :func:`temporal_nms`,
  :func:`localize_videos`, :func:`tune_beta`.

Rooms: ``model`` (the network, parameter counts, ``train_cdc``), ``data`` (decoding, frame labels, the two
datasets), ``temporal`` (frame scores, proposals, refinement, NMS, ``localize_videos``, ``tune_beta``).
"""

from .data import (
    SlacFrameDataset,
    UntrimmedWindowDataset,
    decode_video,
    default_resize_short,
    frame_labels,
    normalise,
    window_start_range,
)
from .model import (
    CDC,
    ConvDeconv,
    build_cdc,
    cdc_kernel_sizes,
    paper_parameter_counts,
    parameter_counts,
    train_cdc,
    trunk_output_shape,
)
from .temporal import (
    classify_only,
    frame_scores,
    localize_videos,
    refine,
    segment_score,
    sliding_window_proposals,
    temporal_nms,
    tune_beta,
    window_starts,
)

__all__ = [
    "CDC",
    "ConvDeconv",
    "SlacFrameDataset",
    "UntrimmedWindowDataset",
    "build_cdc",
    "cdc_kernel_sizes",
    "classify_only",
    "decode_video",
    "default_resize_short",
    "frame_labels",
    "frame_scores",
    "localize_videos",
    "normalise",
    "paper_parameter_counts",
    "parameter_counts",
    "refine",
    "segment_score",
    "sliding_window_proposals",
    "temporal_nms",
    "train_cdc",
    "trunk_output_shape",
    "tune_beta",
    "window_start_range",
    "window_starts",
]
