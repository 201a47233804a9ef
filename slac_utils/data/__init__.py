"""Datasets: ``clips`` (clip datasets for Res3D training and evaluation: RGB or flow, training and evaluation
views), ``targets`` and ``kinetics`` (readers of the transfer benchmarks as distributed: UCF-101, HMDB-51,
Kinetics) and ``splits`` (the one seeded split by group). The untrimmed-video datasets of CDC live in
:mod:`slac_utils.cdc.data`."""
