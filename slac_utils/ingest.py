"""Ingest: list candidate videos, probe them, quarantine what cannot be read.
The library of stage 00; the stage itself is :mod:`slac_utils.stages.ingest`.

Manifest table (``data/interim/manifest.parquet``), one row per listed video:

=============  =====================================================================
video_id       unique id (YouTube id in demo/csv; sanitised file stem in folder mode)
class_label    the action class whose query returned the video
path           file path (relative to the repo when inside it)
url, title     as listed (empty when unknown)
n_frames, fps, duration_s, width, height   probed with decord (0 when quarantined)
sha256         content hash ('' when the file is missing or empty)
status         ``ok`` or ``quarantined``
error          why it was quarantined ('' when ok)
=============  =====================================================================

One bad file never stops the stage: every failure becomes a quarantined row with
its reason.  ``external_manifest.parquet`` has the same columns plus ``target``
for the external evaluation sets used by de-dup.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from .compute import Step, run_step, strip_clock
from .compute.files import stat_key
from .config import ComputeConfig, DataConfig, IngestConfig
from .io import sha256_file
from .video.decode import open_reader

MANIFEST_COLUMNS = [
    "video_id",
    "class_label",
    "path",
    "url",
    "title",
    "n_frames",
    "fps",
    "duration_s",
    "width",
    "height",
    "sha256",
    "status",
    "error",
]
_ID_OK = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def make_video_id(stem: str) -> str:
    """A filesystem- and URL-safe id from a file stem: kept as is when already safe, else slug + short hash."""
    if _ID_OK.match(stem):
        return stem
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "_", ascii_).strip("_")[:40] or "video"
    return f"{slug}-{hashlib.sha1(stem.encode()).hexdigest()[:8]}"


def _display_path(p: Path) -> str:
    try:
        return os.path.relpath(p) if not os.path.relpath(p).startswith("..") else str(p)
    except ValueError:
        return str(p)


def list_folder(videos_dir, extensions: list[str]) -> pd.DataFrame:
    """<videos_dir>/<class label>/<file>: one row per file (non-video endings are kept, flagged for quarantine)."""
    root = Path(videos_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"data.videos_dir does not exist or is not a folder: {root}")
    rows = []
    for cdir in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(p for p in cdir.rglob("*") if p.is_file()):
            note = "" if f.suffix.lower() in extensions else f"unsupported file ending '{f.suffix}'"
            rows.append(
                dict(
                    video_id=make_video_id(f.stem),
                    class_label=cdir.name,
                    path=_display_path(f),
                    url="",
                    title="",
                    listing_error=note,
                )
            )
    for f in sorted(p for p in root.iterdir() if p.is_file()):
        rows.append(
            dict(
                video_id=make_video_id(f.stem),
                class_label="",
                path=_display_path(f),
                url="",
                title="",
                listing_error="file outside a class folder",
            )
        )
    return pd.DataFrame(rows, columns=["video_id", "class_label", "path", "url", "title", "listing_error"])


def list_csv(csv_path, videos_dir) -> pd.DataFrame:
    """A csv with video_id,class_label,path[,url,title]; relative paths resolve against videos_dir."""
    csv_path = Path(csv_path)
    if not csv_path.exists():
        raise FileNotFoundError(f"data.csv_path not found: {csv_path}")
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    missing = {"video_id", "class_label", "path"} - set(df.columns)
    if missing:
        raise ValueError(f"{csv_path}: missing columns {sorted(missing)} (need video_id,class_label,path[,url,title])")
    for c in ("url", "title"):
        if c not in df:
            df[c] = ""
    root = Path(videos_dir)
    df["path"] = [_display_path(p if p.is_absolute() else root / p) for p in map(Path, df.path)]
    df["listing_error"] = ""
    return df[["video_id", "class_label", "path", "url", "title", "listing_error"]]


def list_external(external_dir, extensions: list[str]) -> pd.DataFrame:
    """<external_dir>/<target>/<class>/<file> -> rows with a target column."""
    root = Path(external_dir)
    empty = pd.DataFrame(columns=["target", "video_id", "class_label", "path", "url", "title", "listing_error"])
    if not root.is_dir():
        return empty
    parts = []
    for tdir in sorted(p for p in root.iterdir() if p.is_dir()):
        df = list_folder(tdir, extensions)
        df.insert(0, "target", tdir.name)
        parts.append(df)
    return pd.concat(parts, ignore_index=True) if parts else empty


def _quarantined(error: str) -> dict:
    """The manifest fields of a file that cannot be used, with its reason."""
    return dict(n_frames=0, fps=0.0, duration_s=0.0, width=0, height=0, sha256="", status="quarantined", error=error)


def probe(path: str, verify_decode: bool = True, min_frames: int = 1, hash_file: bool = True) -> dict:
    """Probe one file. Never raises: returns the manifest fields with status/error (``sha256`` empty when not
    ``hash_file``: the later stages' target datasets only need to know the file decodes)."""
    out = _quarantined("")
    p = Path(path)
    if not p.exists():
        out["error"] = "missing: file not found"
        return out
    size = p.stat().st_size
    if size == 0:
        out["error"] = "empty: zero-length file"
        return out
    if hash_file:
        out["sha256"] = sha256_file(p)
    try:
        vr = open_reader(p)
        n = len(vr)
        fps = float(vr.get_avg_fps())
        if n < min_frames:
            out["error"] = f"too short: {n} frames < ingest.min_frames={min_frames}"
            return out
        h, w = vr[0].shape[:2]
        if verify_decode:
            vr.seek(0)
            vr[n - 1].asnumpy()
        out.update(
            n_frames=n, fps=fps, duration_s=n / fps if fps > 0 else 0.0, width=int(w), height=int(h), status="ok"
        )
        if fps <= 0:
            out.update(status="quarantined", error="unreadable: no frame rate")
    except Exception as e:  # decord raises RuntimeError/DECORDError on corrupt data
        msg = strip_clock(str(e).splitlines()[0])[:160].replace(str(p), "<file>")
        out["error"] = f"unreadable: {type(e).__name__}: {msg}"
    return out


def _probe_args(a):
    return probe(*a)


def probe_step(cfg: IngestConfig) -> Step:
    """Stage 00's probe + hash of one file as a runner step; a batch is probed by ``cfg.workers`` processes."""
    how = (cfg.verify_decode, cfg.min_frames)

    def process(state, row) -> dict:
        return _as_row(probe(row.path, *how))

    def process_batch(state, rows: pd.DataFrame) -> list[dict]:
        args = [(p, *how) for p in rows.path]
        if cfg.workers > 1 and len(args) > 1:
            with ProcessPoolExecutor(min(cfg.workers, len(args))) as ex:
                return [_as_row(r) for r in ex.map(_probe_args, args, chunksize=4)]
        return [_as_row(probe(*a)) for a in args]

    return Step(
        name="probe",
        version="1",
        process=process,
        process_batch=process_batch,
        params=dict(verify_decode=cfg.verify_decode, min_frames=cfg.min_frames),
        resources={"cpus": max(1, cfg.workers), "gpus": 0},
    )


def _as_row(r: dict) -> dict:
    """A probe's verdict as runner columns (the runner's own ``status`` / ``error`` say whether the step ran)."""
    r = dict(r)
    return dict(r, probe_status=r.pop("status"), probe_error=r.pop("error"))


def build_manifest(listing: pd.DataFrame, cfg: IngestConfig, progress: bool = True, compute=None) -> pd.DataFrame:
    """Probe every listed file and return the manifest, sorted by class and id.  Runs through
    :func:`slac_utils.compute.run_step` (``compute``: the ``compute`` params section; None: no cache), keyed by
    path, size and modification time (:func:`stat_key`), so a re-run probes only new or changed files."""
    listing = listing.reset_index(drop=True).copy()
    dup = listing.duplicated("video_id", keep="first")
    todo = [i for i in range(len(listing)) if not listing.listing_error[i] and not dup[i]]
    rows_todo = pd.DataFrame(dict(path=listing.path[todo].astype(str).to_numpy()))
    rows_todo["video_id"] = listing.video_id[todo].to_numpy()
    rows_todo["key_extra"] = [stat_key(p) for p in rows_todo.path]
    table, _ = run_step(probe_step(cfg), rows_todo, compute or ComputeConfig(cache_dir=None), progress, "probe")
    fields = ["n_frames", "fps", "duration_s", "width", "height", "sha256"]
    results: dict[int, dict] = {}
    for i, t in zip(todo, table.itertuples(index=False)):
        if t.status == "ok":
            results[i] = {f: getattr(t, f) for f in fields} | dict(status=t.probe_status, error=t.probe_error)
        else:  # the probe itself failed (it returns its verdict, so only a crash gets here)
            results[i] = _quarantined(f"probe failed: {t.error}")
    rows = []
    for i, row in listing.iterrows():
        r = results.get(i)
        if r is None:
            err = (
                row.listing_error
                or f"duplicate video_id '{row.video_id}' (first listed at {listing.path[listing.video_id == row.video_id].iloc[0]})"
            )
            r = _quarantined(err)
        rows.append({**{c: row[c] for c in ("video_id", "class_label", "path", "url", "title")}, **r})
    cols = MANIFEST_COLUMNS + (["target"] if "target" in listing else [])
    if "target" in listing:
        for r, t in zip(rows, listing.target):
            r["target"] = t
    df = pd.DataFrame(rows, columns=cols)
    df["n_frames"] = df.n_frames.astype("int64")
    df["width"] = df.width.astype("int64")
    df["height"] = df.height.astype("int64")
    keys = (["target"] if "target" in df else []) + ["class_label", "video_id", "path"]
    return df.sort_values(keys, kind="mergesort").reset_index(drop=True)


def list_candidates(data: DataConfig) -> pd.DataFrame:
    if data.source == "folder":
        return list_folder(data.videos_dir, data.video_extensions)
    return list_csv(data.csv_path, data.videos_dir)


def summarize(manifest: pd.DataFrame) -> pd.DataFrame:
    """Per class: listed, ok, quarantined, hours of video."""
    g = manifest.groupby("class_label", dropna=False)
    return pd.DataFrame(
        dict(
            listed=g.size(),
            ok=g.status.apply(lambda s: int((s == "ok").sum())),
            quarantined=g.status.apply(lambda s: int((s != "ok").sum())),
            hours=g.duration_s.sum() / 3600,
        )
    ).reset_index()


def diagnose(path: str) -> str:
    """A more specific reason than decord's for an unreadable file, from FFmpeg via PyAV."""
    try:
        import av  # deferred: PyAV is used only for this probe

        with av.open(str(path)) as c:
            if not c.streams.video:
                return "no video stream"
            next(c.decode(video=0))
        return "decoder error"
    except StopIteration:
        return "no decodable frame"
    except Exception as e:
        return f"{type(e).__name__}: {str(e).replace(str(path), '<file>')[:120]}"
