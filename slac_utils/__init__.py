"""slac_utils — the SLAC pipeline (Zhao et al., "SLAC: A Sparsely Labeled Dataset for Action
Classification and Localization") as small pure functions over documented tables.

Notebooks (notebooks/) call each stage's ``run`` function and display the results.

=====================  =======================================================================================
config, backends       the one typed schema of params.yaml (``load_params``); what each ``auto`` backend resolves to
io, tables, seeding    deterministic parquet/JSON/PNG writers; Markdown/CSV/LaTeX tables; seeds from names
video, flow            decord reading, frame sampling, paper preprocessing (short edge 256, crop 224); Farneback flow
models/                detectors and embedders whose weights ship inside packages (TransNetV2, SSD, EfficientNet)
res3d, cdc/            the Res3D network; CDC (model, data, temporal: proposals, refinement, NMS, beta)
clips, sampling_clips  2-second H.264 clip files (browser-playable); which frames and pixels a Res3D clip is made of
clipdata, datasets     clip datasets for training; readers of UCF-101 / HMDB-51 / Kinetics / ActivityNet / THUMOS14
train, metrics         the training loop (exact resume); Clip@1, Video@1, late fusion
detection_eval         temporal-detection mAP (ActivityNet and THUMOS14 protocols)
plots, grid, guideline figures of the stages; the ipywidgets annotation grid; the annotation guideline
dvc_deps               dvc.yaml's code deps = each stage's import closure
demo/                  the embedded demo world: generator and ground truth (world, target, motions, render)
ingest                 stage 00: manifest, probing, quarantine
features, dedup        stage 01: per-frame embedders, mean feature per video, cosine graph, Table 2
shots, persons         stage 02: shot detection, person score per shot, candidates
proposals              stage 03: the two proposal models
sampling               stage 04: R(x) and the clip selection
annotation/            stage 05: label store, session, simulated annotator, QC
recognition            stages 06-07: Res3D training on SLAC, Table 4
transfer               stage 08: fine-tuning on the target datasets, Tables 5-7
localization           stage 09: CDC localization, Tables 8-9
export, report/        stage 10: the HACS export; Tables 1-9, Figures 1-4, the index
=====================  =======================================================================================
"""

__version__ = "0.1.0"
