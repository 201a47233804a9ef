"""Seeds from names: one rule for every seeded draw that is keyed by strings (a class, a figure, a purpose).

``np.random.default_rng(seed_of(params.seed, "gold", class_label))`` gives the same stream on every run and machine
(Python's ``hash`` of a string is salted per process; CRC-32 is not), and a different stream per name.
"""

from __future__ import annotations

import zlib


def seed_of(*parts) -> list[int]:
    """A numpy seed sequence: Python ints pass through, anything else is the CRC-32 of its ``str``."""
    return [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]
