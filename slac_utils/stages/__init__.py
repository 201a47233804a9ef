"""One module per DVC stage, named as the stage in ``dvc.yaml``: orchestration only.

Each holds ``Paths`` (a frozen dataclass: one field per ``-p`` of its ``dvc.yaml`` command, defaults = the
pipeline's paths), ``run(params, paths=Paths(), progress=True) -> dict`` and ``main()``, so a stage runs from its
notebook (``<stage>.run(P, <stage>.Paths.from_mapping(globals()))``), from the command line
(``python -m slac_utils.stages.<stage> --params params.yaml [--<field> PATH]``) or under ``torchrun``. What a
stage computes lives in a library room; the stage reads its inputs, calls the room, writes its outputs.

======================  =====  ==========================================  =====================================
module                  stage  what                                        library rooms
======================  =====  ==========================================  =====================================
``ingest``              00     list, probe, quarantine candidate videos    ``ingest``, ``video``
``dedup``               01     internal + external near-duplicates         ``dedup``, ``features``, ``models``
``shots_persons``       02     shots, persons per shot, candidates         ``shots``, ``persons``, ``models``
``proposals``           03     the two proposal classifiers                ``proposals``, ``models``
``sampling``            04     R(x) active sampling, clip files            ``sampling``, ``clips``
``annotate``            05     one-click labels, golden-set QC             ``annotation``
``train_recognition``   06     RGB + flow Res3D on the labeled clips       ``recognition``, ``train``, ``res3d``
``evaluate_slac``       07     Table 4: RGB, flow, fusion                  ``recognition``, ``metrics``
``transfer``            08     Tables 5-7: fine-tuning on targets          ``transfer``, ``train``, ``metrics``
``localize``            09     Tables 8-9: CDC, refinement, mAP            ``localization``, ``cdc``
``report``              10     Tables 1-9, Figures 1-4, export, index      ``report``, ``export``, ``tables``
======================  =====  ==========================================  =====================================

``base`` holds what they share (``StagePaths``, the command line). The demo world's generators are the
``demo_world`` and ``demo_target`` stages (:mod:`slac_utils.demo`); a stage reaches the demo world's truth only
behind ``data.source: demo`` (``StagePaths.for_source``).
"""
