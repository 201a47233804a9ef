"""The one seeded split by group (a video, or a near-duplicate group of videos): no group in two parts.

:func:`split_groups` draws a seeded permutation of the sorted unique groups (so the result does not depend on the
input's order), optionally moves the ``prefer``-red groups to the front (stable), then fills the parts in the
order given: a part takes whole groups until its quota is reached (a quota counts groups, or rows with
``weights``: videos per group); what is left goes to ``rest``. Used by stage 03 (the proposal models' held-out
videos), stage 06 (train / val / test by video), stage 09 (held-out videos by near-duplicate group, unseen groups
first) and the HACS export (training / validation / testing with exact counts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np


def split_groups(
    groups: Iterable,
    quotas: Mapping[str, float],
    seed: int,
    rest: str,
    weights: Mapping | None = None,
    prefer: Callable | None = None,
) -> dict:
    """group -> part name. ``quotas``: part -> how much it takes (groups, or rows when ``weights`` maps each group to
    its rows), parts filled in order; ``rest``: the name of everything left; ``prefer``: groups for which it is true
    are drawn first."""
    uniq = sorted(set(groups))
    perm = [uniq[i] for i in np.random.default_rng(seed).permutation(len(uniq))]
    if prefer is not None:
        perm = [g for g in perm if prefer(g)] + [g for g in perm if not prefer(g)]
    out, i = {}, 0
    for name, quota in quotas.items():
        taken = 0
        while i < len(perm) and taken < quota:
            out[perm[i]] = name
            taken += 1 if weights is None else int(weights[perm[i]])
            i += 1
    out.update({g: rest for g in perm[i:]})
    return out
