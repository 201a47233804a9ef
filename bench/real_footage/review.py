"""Helpers used to judge the source truth by eye (not part of the build).

``review.py candidates CLIP``    frames with a large colour-histogram change (cut candidates) — a
                                 list to look at, never the truth itself.
``review.py sheet CLIP START STOP [STEP] OUT.png``  a contact sheet of frames START..STOP (every
                                 STEP-th), each thumbnail stamped with its frame index.

The truth in truth/*.csv was written after viewing such sheets: every 3rd frame of clips under
~300 frames, every 6th of bbb_trailer, plus every frame in a window around each candidate and each
change seen on a sheet (see README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def read_all(path, width: int = 160) -> np.ndarray:
    import av

    out = []
    with av.open(str(path)) as c:
        for fr in c.decode(video=0):
            a = fr.to_ndarray(format="rgb24")
            h = int(round(a.shape[0] * width / a.shape[1]))
            out.append(cv2.resize(a, (width, h), interpolation=cv2.INTER_AREA))
    return np.stack(out)


def candidates(path, top: int = 40) -> list[tuple[int, float, float]]:
    from slac_utils.shots import dissimilarity, hsv_histograms

    H = hsv_histograms(read_all(path), 16)
    d1, d8 = dissimilarity(H, 1), dissimilarity(H, 8)
    order = np.argsort(-d1)[:top]
    return sorted((int(t), float(d1[t]), float(d8[t])) for t in order)


def sheet(path, start: int, stop: int, step: int, out: str, cols: int = 8, width: int = 200) -> None:
    frames = read_all(path, width)
    idx = list(range(start, min(stop, len(frames)), step))
    th, tw = frames.shape[1:3]
    rows = (len(idx) + cols - 1) // cols
    canvas = np.full((rows * (th + 4), cols * (tw + 4), 3), 255, np.uint8)
    for k, i in enumerate(idx):
        r, c = divmod(k, cols)
        im = frames[i].copy()
        cv2.putText(im, str(i), (3, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3)
        cv2.putText(im, str(i), (3, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 0), 1)
        canvas[r * (th + 4) : r * (th + 4) + th, c * (tw + 4) : c * (tw + 4) + tw] = im
    cv2.imwrite(out, canvas[:, :, ::-1])


if __name__ == "__main__":
    cmd, clip = sys.argv[1], sys.argv[2]
    if cmd == "candidates":
        for t, a, b in candidates(clip):
            print(f"{t:6d} d1={a:.3f} d8={b:.3f}")
    else:
        a = [int(x) for x in sys.argv[3:-1]]
        sheet(clip, a[0], a[1], a[2] if len(a) > 2 else 1, sys.argv[-1])
