"""slac_utils — the SLAC pipeline (Zhao et al., "SLAC: A Sparsely Labeled Dataset for Action
Classification and Localization") as small pure functions over documented tables.

One module per stage; notebooks/ call their ``run`` functions and display the results.

=================  ===========================================================================
config             the one typed schema of params.yaml (``load_params``)
io                 deterministic parquet/CSV/Markdown/JSON/PNG writers
video              decord reading, frame sampling, paper preprocessing (short edge 256, crop 224)
demo/              the embedded demo world: generator and ground truth (world, target, motions, render)
ingest             stage 00: manifest, probing, quarantine
features, dedup    stage 01: per-frame embedders, mean feature per video, cosine graph, Table 2
shots, persons     stage 02: histogram shot detection, person score per shot, candidates
plots              figures of the stages
=================  ===========================================================================
"""

__version__ = "0.1.0"
