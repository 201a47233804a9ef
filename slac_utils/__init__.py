"""slac_utils — the SLAC pipeline (Zhao et al., "SLAC: A Sparsely Labeled Dataset for Action
Classification and Localization") as small pure functions over documented tables.

Notebooks (notebooks/) call each stage's ``run`` (:mod:`slac_utils.stages`) and display the results.

=====================  =======================================================================================
stages/                one module per DVC stage: Paths, run(params, paths), main -- orchestration only
config, backends       the one typed schema of params.yaml (``load_params``); what each ``auto`` backend resolves to
io, tables, seeding    deterministic parquet/JSON/PNG writers; Markdown/CSV/LaTeX tables (+ .meta.json); seeds from names
paper                  every number of the paper that a table puts beside this run's (Tables 1-9, Figure 1, sizes)
video/                 decode (decord, sampling, preprocessing), encode (clip files), clip_sampling, flow (Farneback)
data/                  clip datasets for training (clips); readers of UCF-101 / HMDB-51 / Kinetics (targets)
models/                res3d, proposal_nets; detectors and embedders whose weights ship inside packages
engine/                train (the training loop, exact resume), metrics (Clip@1, Video@1, fusion), detection_eval (mAP)
cdc/                   CDC (model, data, temporal: proposals, refinement, NMS, beta)
plots, grid, guideline figures of the stages; the ipywidgets annotation grid; the annotation guideline
dvc_deps               dvc.yaml's code deps = each stage's import closure
compute/               the per-video runner and its shard cache (resume, incremental, error rows)
demo/                  the embedded demo world: generator and ground truth (world, target, motions, render)
ingest                 stage 00: manifest, probing, quarantine
features, dedup,       stage 01: per-frame embedders, mean feature per video, cosine graph, Table 2;
dedup_verify           temporal alignment of candidate pairs (beyond the paper)
shots, persons         stage 02: shot detection, person score per shot, candidates
proposals              stage 03: the two proposal models
sampling               stage 04: R(x) and the clip selection
annotation/            stage 05: label store, session, simulated annotator, QC, the check command
recognition            stages 06-07: Res3D training on SLAC, Table 4
transfer               stage 08: fine-tuning on the target datasets, Tables 5-7
localization/          stage 09: ground truth, split, CDC inference, mAP, Tables 8-9
export, report/        stage 10: the HACS export; Tables 1-9, Figures 1-4, the index
=====================  =======================================================================================
"""
