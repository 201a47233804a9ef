"""Readers of the transfer-learning target datasets (paper 4.2, Tables 5-7), as distributed: UCF-101 and HMDB-51
here, Kinetics in :mod:`slac_utils.data.kinetics` (same table).

Each reader parses the official split files of one dataset and returns one table with one row per video
of the chosen split (train and test rows together, told apart by ``split``).  The table has the common
columns first, then the dataset's extras:

===============  ========================================================================================
video_id         str, the file stem (``v_ApplyEyeMakeup_g08_c01``; Kinetics: ``<youtube_id>_<start>_<end>``)
path             str, the video file: the file found on disk (case-insensitively for UCF-101/HMDB-51), or
                 where the official layout puts it when it is missing (then ``exists`` is False)
label            str, the class name as the dataset's class list spells it (UCF-101: ``classInd.txt``)
label_index      int, 0-based class index (see "class order" below); -1 for unlabeled Kinetics test rows
split            ``"train"``, ``"val"`` or ``"test"``
exists           bool, whether ``path`` is a file (readers never fail on missing videos, they mark them)
---------------  ----------------------------------------------------------------------------------------
split_id         int, UCF-101 and HMDB-51: the official split number (1, 2 or 3) the rows come from
group, clip      int, UCF-101 only: ``gXX`` and ``cYY`` of the file name (-1 when the name has no such part);
                 clips of one group come from one long video and never straddle train and test
youtube_id       str, Kinetics only
time_start,      int, Kinetics only: the clip's extent in the YouTube video (seconds)
time_end
===============  ========================================================================================

Class order (``label_index``), stable for a given class list:

* UCF-101: the number in ``classInd.txt`` minus one (the official 1-based index);
* HMDB-51: the sorted class names (the names of the ``<class>_test_split<k>.txt`` files, or ``classes``);
* Kinetics: the position in ``classes`` when given, else the sorted labels of the CSV files read together
  (read train and val in one call, or pass the train classes, so both share one index).

Row order: UCF-101 in list order (``trainlistNN`` then ``testlistNN``); HMDB-51 train rows then test rows, each
by class index and line order; Kinetics in CSV order (files in the order given).

Quirks of the real files that are handled: CRLF line endings, trailing blanks, a UTF-8 byte-order mark, blank
lines, and the class-name case mismatch of UCF-101 (``HandstandPushups`` in ``classInd.txt`` and the folder,
``v_HandStandPushups_g01_c01.avi`` files; other copies differ in the folder) -- class names and path components
are matched case-insensitively.  A malformed line raises :class:`DatasetFormatError` naming the file and line;
a class name not in the class list raises it naming the class.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import pandas as pd

COMMON_COLUMNS = ["video_id", "path", "label", "label_index", "split", "exists"]
UCF101_COLUMNS = [*COMMON_COLUMNS, "split_id", "group", "clip"]
HMDB51_COLUMNS = [*COMMON_COLUMNS, "split_id"]
KINETICS_COLUMNS = [*COMMON_COLUMNS, "youtube_id", "time_start", "time_end"]
SPLITS = ("train", "val", "test")

_HMDB_CODES = {"0": None, "1": "train", "2": "test"}  # 0 = not used in this split
_UCF_GROUP_CLIP = re.compile(r"_g(\d+)_c(\d+)$")


class DatasetFormatError(ValueError):
    """A split/annotation file does not follow the official format; the message names the file and line."""


def _fail(path, lineno: int | None, what: str) -> DatasetFormatError:
    where = f"{path}:{lineno}" if lineno is not None else str(path)
    return DatasetFormatError(f"{where}: {what}")


# ----------------------------------------------------------------------------- shared helpers
def read_lines(path) -> list[tuple[int, str]]:
    """(1-based line number, text) of the non-blank lines of a text file, without CR/LF and surrounding blanks."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"split file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise _fail(path, None, f"not UTF-8 text ({e})") from None
    return [(i, s.strip()) for i, s in enumerate(text.splitlines(), 1) if s.strip()]


class DirIndex:
    """Cached directory listings: exact and case-insensitive lookups without a stat() per video."""

    def __init__(self):
        self._lower: dict[str, dict[str, list[str]]] = {}
        self._files: dict[str, frozenset[str]] = {}

    def _load(self, folder: str) -> None:
        by_lower: dict[str, list[str]] = {}
        files = set()
        try:
            with os.scandir(folder) as it:
                for e in sorted(it, key=lambda e: e.name):
                    by_lower.setdefault(e.name.lower(), []).append(e.name)
                    if e.is_file():
                        files.add(e.name)
        except (FileNotFoundError, NotADirectoryError):
            pass
        self._lower[folder], self._files[folder] = by_lower, frozenset(files)

    def entries(self, folder) -> dict[str, list[str]]:
        """lower-cased name -> the actual names in folder (empty when folder does not exist)."""
        folder = os.fspath(folder)
        if folder not in self._lower:
            self._load(folder)
        return self._lower[folder]

    def files(self, folder) -> frozenset[str]:
        """Names of the files (not folders) in folder, exactly as spelt on disk."""
        folder = os.fspath(folder)
        if folder not in self._files:
            self._load(folder)
        return self._files[folder]

    def resolve(self, base, rel: str) -> Path | None:
        """base/rel with each component spelt as on disk (exact match first, else ignoring case); None if absent."""
        cur = Path(base)
        parts = PurePosixPath(rel).parts
        for i, part in enumerate(parts):
            found = self.entries(cur).get(part.lower(), [])
            if part not in found:
                if not found:
                    return None
                if len(found) > 1:
                    raise FileExistsError(f"{cur}: several entries match {part!r} ignoring case: {found}")
                part = found[0]
            if i == len(parts) - 1 and part not in self.files(cur):
                return None
            cur = cur / part
        return cur


def _finish(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """The table with its documented columns and dtypes (also when empty)."""
    df = pd.DataFrame(rows, columns=columns)
    ints = [c for c in ("label_index", "split_id", "group", "clip", "time_start", "time_end") if c in columns]
    df[ints] = df[ints].astype("int64")
    df["exists"] = df["exists"].astype(bool)
    return df.reset_index(drop=True)


def class_table(df: pd.DataFrame) -> pd.DataFrame:
    """(label_index, label) of a dataset table, one row per class in index order (unlabeled rows left out)."""
    c = (
        df.loc[df.label_index >= 0, ["label_index", "label"]]
        .drop_duplicates()
        .sort_values("label_index", kind="mergesort")
    )
    if c.label_index.duplicated().any() or c.label.duplicated().any():
        raise ValueError("label and label_index are not one-to-one in this table")
    return c.reset_index(drop=True)


def validate_table(df: pd.DataFrame) -> None:
    """Check the common columns of a dataset table (names, split values, index range); raises ValueError."""
    missing = [c for c in COMMON_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"dataset table lacks columns {missing}")
    bad = sorted(set(df.split) - set(SPLITS))
    if bad:
        raise ValueError(f"unknown split values {bad}; expected {list(SPLITS)}")
    if df.video_id.duplicated().any():
        raise ValueError(f"duplicate video_id: {sorted(df.video_id[df.video_id.duplicated()].unique())[:5]}")
    class_table(df)


# ----------------------------------------------------------------------------- UCF-101
def read_ucf101_classes(class_ind) -> list[str]:
    """Class names of ``classInd.txt`` ("1 ApplyEyeMakeup" lines) in index order: entry i is class i + 1."""
    by_index: dict[int, str] = {}
    seen: dict[str, int] = {}
    for lineno, line in read_lines(class_ind):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise _fail(class_ind, lineno, f"expected '<index> <ClassName>', got {line!r}")
        idx, name = int(parts[0]), parts[1]
        if idx in by_index:
            raise _fail(class_ind, lineno, f"index {idx} given twice ({by_index[idx]!r} and {name!r})")
        if name.lower() in seen:
            raise _fail(
                class_ind,
                lineno,
                f"class {name!r} given twice (also index {seen[name.lower()]}; names are compared ignoring case)",
            )
        by_index[idx], seen[name.lower()] = name, idx
    if sorted(by_index) != list(range(1, len(by_index) + 1)):
        raise _fail(class_ind, None, f"class indices must be 1..{len(by_index)} without gaps, got {sorted(by_index)}")
    return [by_index[i] for i in range(1, len(by_index) + 1)]


def _ucf_row(list_path, lineno: int, rel: str, classes: list[str], videos_dir: Path, index: DirIndex) -> dict:
    """One list entry 'Class/v_Class_gXX_cYY.avi': class checked against classInd, file resolved on disk."""
    parts = PurePosixPath(rel).parts
    if len(parts) != 2 or "\\" in rel:
        raise _fail(list_path, lineno, f"expected '<Class>/<file>', got {rel!r}")
    folder, fname = parts
    lower = [c.lower() for c in classes]
    if folder.lower() not in lower:
        raise _fail(list_path, lineno, f"unknown class {folder!r} (not in classInd.txt, even ignoring case)")
    label_index = lower.index(folder.lower())
    stem = PurePosixPath(fname).stem
    m = _UCF_GROUP_CLIP.search(stem)
    found = index.resolve(videos_dir, rel)
    return dict(
        video_id=stem,
        path=str(found if found is not None else videos_dir / rel),
        label=classes[label_index],
        label_index=label_index,
        exists=found is not None,
        group=int(m.group(1)) if m else -1,
        clip=int(m.group(2)) if m else -1,
    )


def read_ucf101(root, split_id: int = 1, *, lists_dir=None, videos_dir=None) -> pd.DataFrame:
    """UCF-101 split ``split_id`` (1, 2 or 3) as a dataset table (columns: module docstring, ``UCF101_COLUMNS``).

    Reads ``<lists_dir>/classInd.txt``, ``trainlist0<k>.txt`` ("Class/v_Class_g08_c01.avi <1-based label>") and
    ``testlist0<k>.txt`` ("Class/v_Class_g01_c01.avi", labeled by its folder); videos are looked up under
    ``<videos_dir>/<Class>/<file>``.  Defaults: ``lists_dir = <root>/ucfTrainTestlist``,
    ``videos_dir = <root>/UCF-101``.  A train label that disagrees with the folder, a class not in classInd, or a
    video listed twice (also across train and test) raises :class:`DatasetFormatError`.
    """
    root = Path(root)
    lists_dir = Path(lists_dir) if lists_dir is not None else root / "ucfTrainTestlist"
    videos_dir = Path(videos_dir) if videos_dir is not None else root / "UCF-101"
    classes = read_ucf101_classes(lists_dir / "classInd.txt")
    index = DirIndex()
    rows: list[dict] = []
    seen: dict[str, str] = {}
    for split in ("train", "test"):
        list_path = lists_dir / f"{split}list{split_id:02d}.txt"
        for lineno, line in read_lines(list_path):
            if split == "train":
                parts = line.rsplit(maxsplit=1)
                if len(parts) != 2 or not parts[1].isdigit():
                    raise _fail(list_path, lineno, f"expected '<Class>/<file> <label 1..{len(classes)}>', got {line!r}")
                rel, label = parts[0], int(parts[1])
                if not 1 <= label <= len(classes):
                    raise _fail(list_path, lineno, f"label {label} outside 1..{len(classes)} of classInd.txt")
            else:
                rel, label = line, None
                if len(line.split()) != 1:
                    raise _fail(list_path, lineno, f"expected '<Class>/<file>' (no label in a test list), got {line!r}")
            row = _ucf_row(list_path, lineno, rel, classes, videos_dir, index)
            if label is not None and label - 1 != row["label_index"]:
                raise _fail(
                    list_path,
                    lineno,
                    f"label {label} ({classes[label - 1]}) disagrees with the folder of {rel!r} ({row['label']})",
                )
            key = rel.lower()
            if key in seen:
                raise _fail(list_path, lineno, f"{rel!r} listed twice (first in {seen[key]})")
            seen[key] = f"{list_path.name}:{lineno}"
            rows.append(dict(row, split=split, split_id=split_id))
    return _finish(rows, UCF101_COLUMNS)


# ----------------------------------------------------------------------------- HMDB-51
def hmdb51_split_files(splits_dir, split_id: int = 1) -> dict[str, Path]:
    """class name -> ``<class>_test_split<k>.txt`` in splits_dir, sorted by class name."""
    splits_dir = Path(splits_dir)
    suffix = f"_test_split{split_id}.txt"
    files = {p.name[: -len(suffix)]: p for p in sorted(splits_dir.glob(f"*{suffix}"))}
    if not files:
        raise FileNotFoundError(f"no HMDB-51 split files '*{suffix}' in {splits_dir}")
    return dict(sorted(files.items()))


def read_hmdb51(
    root, split_id: int = 1, *, splits_dir=None, videos_dir=None, classes: Sequence[str] | None = None
) -> pd.DataFrame:
    """HMDB-51 split ``split_id`` as a dataset table (columns: module docstring, ``HMDB51_COLUMNS``).

    Reads the per-class files ``<splits_dir>/<class>_test_split<k>.txt`` with lines "<video>.avi <0|1|2>"
    (1 = train, 2 = test, 0 = not used in this split: left out); videos are ``<videos_dir>/<class>/<video>.avi``.
    Defaults: ``splits_dir = <root>/testTrainMulti_7030_splits``, ``videos_dir = <root>``.  ``classes`` fixes the
    class list (sorted for the index); then a split file of another class, or a class without a split file, raises.
    """
    root = Path(root)
    splits_dir = Path(splits_dir) if splits_dir is not None else root / "testTrainMulti_7030_splits"
    videos_dir = Path(videos_dir) if videos_dir is not None else root
    files = hmdb51_split_files(splits_dir, split_id)
    names = sorted(classes) if classes is not None else list(files)
    if classes is not None:
        if len(set(names)) != len(names):
            raise ValueError(f"classes has duplicates: {sorted({c for c in names if names.count(c) > 1})}")
        for cls, path in files.items():
            if cls not in names:
                raise _fail(path, None, f"unknown class {cls!r} (not in the {len(names)} given classes)")
        absent = [c for c in names if c not in files]
        if absent:
            raise FileNotFoundError(
                f"no split file '<class>_test_split{split_id}.txt' in {splits_dir} for classes {absent}"
            )
    index = DirIndex()
    rows: list[dict] = []
    seen: dict[str, str] = {}
    for label_index, cls in enumerate(names):
        path = files[cls]
        for lineno, line in read_lines(path):
            parts = line.rsplit(maxsplit=1)
            if len(parts) != 2 or parts[1] not in _HMDB_CODES:
                raise _fail(path, lineno, f"expected '<video>.avi <0|1|2>', got {line!r}")
            fname, split = parts[0], _HMDB_CODES[parts[1]]
            if fname in seen:
                raise _fail(path, lineno, f"video {fname!r} listed twice (first in {seen[fname]})")
            seen[fname] = f"{path.name}:{lineno}"
            if split is None:
                continue
            found = index.resolve(videos_dir, f"{cls}/{fname}")
            rows.append(
                dict(
                    video_id=PurePosixPath(fname).stem,
                    path=str(found if found is not None else videos_dir / cls / fname),
                    label=cls,
                    label_index=label_index,
                    split=split,
                    exists=found is not None,
                    split_id=split_id,
                )
            )
    order = {"train": 0, "test": 1}
    rows.sort(key=lambda r: order[r["split"]])  # stable: class index, then line order within a split
    return _finish(rows, HMDB51_COLUMNS)
