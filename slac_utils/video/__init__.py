"""Video in and out: ``decode`` (decord probing and reading, frame sampling, the paper's preprocessing: short edge,
centre crop, ImageNet normalisation), ``encode`` (2-second H.264 clip files browsers play), ``clip_sampling``
(which frames and pixels a Res3D clip is made of), ``flow`` (Farneback optical flow for the flow stream)."""
