"""Training and evaluation machinery shared by the stages: ``train`` (the one training loop: weighted sampling,
warm-up and steps, DDP under torchrun, exact resume from ``last.pt``), ``metrics`` (Clip@1, Video@1, per-class
accuracy, late fusion) and ``detection_eval`` (temporal-detection mAP, ActivityNet and THUMOS14 protocols)."""
