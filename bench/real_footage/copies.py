"""Near-duplicate copies made the way web re-uploads differ, time-range parts, and broken files.

Every copy is one ffmpeg run (imageio-ffmpeg binary, x264, bit-exact flags) over an original in the
benchmark; ``TRANSFORMS`` maps a transform name to its filter chain and encoder settings.  The logo
is a PNG drawn with cv2 (no fonts needed from ffmpeg).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import cv2
import numpy as np
from sources import X264, ffmpeg_exe

# name -> (video filter with {a}/{b} = first/last kept frame for trims, crf, uses the logo overlay)
TRANSFORMS = {
    "trim": ("trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS", 23, False),
    "rescale_320": ("scale=320:-2:flags=bicubic", 23, False),
    "grade": ("eq=gamma=1.35:saturation=1.5:brightness=0.04", 23, False),
    "grade_dark": ("eq=gamma=0.75:saturation=0.6:contrast=1.15", 23, False),
    "lowq_crf40": ("null", 40, False),
    "letterbox": ("scale=640:-2,pad=640:480:(ow-iw)/2:(oh-ih)/2:black", 23, False),
    "pillarbox": ("scale=-2:360,pad=854:360:(ow-iw)/2:(oh-ih)/2:black", 23, False),
    "logo": ("[0:v][1:v]overlay=W-w-12:12", 23, True),
    "mirror": ("hflip", 23, False),
    "fps15": ("fps=15", 23, False),
    "fps30": ("fps=30", 23, False),
    "trim+rescale+lowq": ("trim=start_frame={a}:end_frame={b},setpts=PTS-STARTPTS,scale=320:-2", 34, False),
    "mirror+grade+logo": ("[0:v]hflip,eq=gamma=1.2:saturation=1.3[m];[m][1:v]overlay=12:12", 26, True),
}


def logo_png(folder: Path, video_width: int) -> Path:
    """A semi-opaque channel logo with text, a quarter of the video's width (160x48 on 640 px), RGBA PNG, deterministic.

    Scaled with the video as a channel watermark is: a fixed 160 px logo would cover most of a 176 px wide video."""
    w = max(40, int(round(video_width / 4)))
    h = max(12, int(round(w * 0.3)))
    path = folder / f"logo_{w}x{h}.png"
    if not path.exists():
        im = np.zeros((h, w, 4), np.uint8)
        cv2.rectangle(im, (0, 0), (w - 1, h - 1), (30, 30, 200, 200), -1)
        cv2.putText(
            im,
            "MyTube HD",
            (w // 20, int(h * 0.67)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.8 * w / 160,
            (255, 255, 255, 255),
            max(1, round(2 * w / 160)),
            cv2.LINE_AA,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), im)
    return path


def make_copy(
    orig: Path, out: Path, transform: str, n_frames: int, rng_frac: tuple[float, float], logo_dir: Path
) -> None:
    """Write out = transform(orig); trims drop rng_frac[0] of the frames at the start and rng_frac[1] at the end;
    the logo transforms overlay :func:`logo_png` sized to orig's width (PNGs kept in logo_dir)."""
    if out.exists():
        return
    vf, crf, uses_logo = TRANSFORMS[transform]
    a = int(round(n_frames * rng_frac[0]))
    b = n_frames - int(round(n_frames * rng_frac[1]))
    vf = vf.format(a=a, b=b)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part.mp4")
    cmd = [ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(orig)]
    if uses_logo:
        cap = cv2.VideoCapture(str(orig))
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        cap.release()
        cmd += ["-i", str(logo_png(logo_dir, width)), "-filter_complex", vf]
    else:
        cmd += ["-vf", vf]
    cmd += [*X264, "-crf", str(crf), str(tmp)]
    subprocess.run(cmd, check=True)
    tmp.replace(out)


def cut_part(orig: Path, out: Path, start: int, end: int) -> None:
    """Frames [start, end) of orig re-encoded as its own video (a different time range of one source)."""
    if out.exists():
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".part.mp4")
    vf = f"trim=start_frame={start}:end_frame={end},setpts=PTS-STARTPTS"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(orig), "-vf", vf, *X264, "-crf", "18", str(tmp)],
        check=True,
    )
    tmp.replace(out)


def make_broken(donor: Path, folder: Path) -> list[dict]:
    """Three files ingest must quarantine: a truncated mp4, a zero-length mp4, a text file named .mp4."""
    folder.mkdir(parents=True, exist_ok=True)
    data = donor.read_bytes()
    files = {
        "broken_truncated.mp4": (
            data[: len(data) * 2 // 5],
            "truncated",
            "first 40% of the bytes of an mp4 (no moov atom)",
        ),
        "broken_zero_length.mp4": (b"", "zero_length", "empty file"),
        "broken_not_a_video.mp4": (
            b"This is not a video. <html><body>404 Not Found</body></html>\n",
            "not_video",
            "text/HTML saved as .mp4",
        ),
    }
    rows = []
    for name, (blob, kind, reason) in files.items():
        p = folder / name
        if not p.exists() or p.read_bytes() != blob:
            p.write_bytes(blob)
        rows.append(dict(file=f"{folder.name}/{name}", video_id=Path(name).stem, kind=kind, reason=reason))
    return rows
