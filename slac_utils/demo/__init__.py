"""The embedded demo world: the test bench, not the product.

=========  ==================================================================================================
world      the demo world generator (``python -m slac_utils.demo.world``): candidate videos with planted copies,
           shots, persons and action segments, external sets, web images, and their ground truth (``load_truth``)
plan       what the world holds (videos, shots, copies, broken files, images), before any pixel
footage    rendering the planned shots, the copies' transforms, MPEG-4 files
target     a small transfer target in the UCF-101 layout (``python -m slac_utils.demo.target``)
motions    the drawn actions (``CLASSES``: definition, colour and pose of each class)
render     drawing people, talking heads, shapes and backgrounds
=========  ==================================================================================================

Pipeline code reaches this package only behind ``data.source: demo`` (the truth of a demo run, read when the
stage is given a truth folder); the schema names the demo classes itself (``config.DEMO_CLASSES``).
"""
