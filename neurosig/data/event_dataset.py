"""Labelled event recordings for training: simulated, event files with labels, or tonic datasets.

A dataset is a list of :class:`EventRecording` s. Each knows its label, the group it must stay in when
the data is split (the recording, or the user where the dataset records one), a fingerprint that
changes when its data does, and how to load its events. Three builders:

- :func:`simulated_motion`: bars and dots moving in 8 directions over noise and hot pixels
  (:func:`neurosig.events.simulate.motion_sample`), offline and deterministic by seed;
- :func:`labelled_files`: event files of any format :func:`neurosig.io.events.read_events` reads, with
  labels from a folder per class or from a CSV / JSON list;
- :func:`tonic_recordings`: a tonic dataset (N-MNIST, DVS Gesture, ...) from local files, through
  :func:`neurosig.data.tonic_datasets.tonic_dataset` and its offline errors.

:func:`split_by_group` splits them into train, validation and test parts that share no group.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.errors import ConfigError, DataError
from neurosig.io.events import FORMATS, as_events, read_events

__all__ = [
    "EventRecording",
    "simulated_motion",
    "labelled_files",
    "tonic_recordings",
    "split_by_group",
    "check_sensor_sizes",
]

Size = tuple[int, int, int]


@dataclass(frozen=True)
class EventRecording:
    """One labelled recording, loaded on demand.

    Parameters
    ----------
    name : str
        A readable identifier (the file path, or ``simulated/17``).
    label : int
        Class index.
    group : str
        Recordings of one group are never split across train, validation and test.
    fingerprint : str
        Changes whenever the data does (file size and modification time, generator parameters).
    load : callable
        ``load()`` returns ``(events, sensor_size)``: :data:`~neurosig.core.chunks.EVENTS_DTYPE` events in
        time order and ``(width, height, polarities)``.
    """

    name: str
    label: int
    group: str
    fingerprint: str
    load: Callable[[], tuple[np.ndarray, Size]]


class _Simulated:
    """A picklable loader of one simulated sample (DataLoader workers may build caches)."""

    def __init__(self, direction: int, seed: int, params: Mapping[str, Any]):
        self.direction, self.seed, self.params = direction, seed, dict(params)

    def __call__(self) -> tuple[np.ndarray, Size]:
        from neurosig.events.simulate import motion_sample

        events = motion_sample(self.direction, self.seed, **self.params)
        return events, (self.params.get("width", 32), self.params.get("height", 32), 2)


def simulated_motion(n_per_class: int = 50, seed: int = 0, **params: Any) -> list[EventRecording]:
    """The simulated event-camera dataset: 8 classes of motion direction, ``n_per_class`` each.

    Parameters
    ----------
    n_per_class : int
        Recordings per direction.
    seed : int
        Seed of the whole set: recording ``i`` uses seed ``seed * 1_000_003 + i``.
    **params
        Passed to :func:`neurosig.events.simulate.motion_sample` (``duration``, ``width``, ``height``,
        ``speed``, ``noise_rate``, ``n_hot_pixels``, ``hot_rate``).

    Returns
    -------
    list of EventRecording
        Each its own group; label ``k`` moves at ``k * 45`` degrees.
    """
    from neurosig.events.simulate import N_DIRECTIONS, motion_sample

    if n_per_class < 1:
        raise ConfigError(f"n_per_class must be >= 1 recording per class, got {n_per_class!r}.")
    try:
        motion_sample(0, 0, **{**params, "duration": 1e-3})  # bad parameters fail here, named
    except TypeError as err:
        raise ConfigError(f"simulated dataset: {err}; see neurosig.events.simulate.motion_sample.") from None
    out = []
    for i in range(n_per_class * N_DIRECTIONS):
        label, sample_seed = i % N_DIRECTIONS, seed * 1_000_003 + i
        key = json.dumps({"simulated": sample_seed, "direction": label, **params}, sort_keys=True)
        out.append(
            EventRecording(
                f"simulated/{i}", label, f"simulated/{i}", key, _Simulated(label, sample_seed, params)
            )
        )
    return out


class _FileLoader:
    def __init__(self, path: Path, sensor_size: Size | None):
        self.path, self.sensor_size = path, sensor_size

    def __call__(self) -> tuple[np.ndarray, Size]:
        chunk = read_events(self.path, sensor_size=self.sensor_size)
        return chunk.events, chunk.info.sensor_size


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _event_files(folder: Path) -> list[Path]:
    """Files in ``folder`` (recursively) that look like event files (by suffix), sorted."""
    suffixes = {".raw", ".dat", ".aedat4", ".bin", ".npy", ".h5", ".hdf5"}
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def _read_label_file(path: Path) -> list[dict[str, Any]]:
    """Rows ``{"file", "label", "group"?}`` of a CSV (with a header) or a JSON list / mapping."""
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text())
        rows = [{"file": k, "label": v} for k, v in data.items()] if isinstance(data, dict) else data
    else:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    if not isinstance(rows, list) or not all(
        isinstance(r, dict) and {"file", "label"} <= set(r) for r in rows
    ):
        raise DataError(
            f"{path}: a label file is a CSV with columns file,label[,group] or a JSON list of "
            '{"file": ..., "label": ...} objects (or a {"file": label} mapping); fix its layout.'
        )
    return rows


def labelled_files(
    root: str | Path,
    labels: str | Path | None = None,
    sensor_size: Sequence[int] | None = None,
    classes: Sequence[str] | None = None,
) -> tuple[list[EventRecording], list[str]]:
    """Event files with labels, from a folder per class or from a label file.

    Parameters
    ----------
    root : str | Path
        Without ``labels``: a folder holding one sub-folder per class (``root/CLASS/*.h5``, any event
        format). With ``labels``: the folder the label file's paths are relative to.
    labels : str | Path | None
        A CSV (header ``file,label`` and optionally ``group``) or a JSON list of
        ``{"file", "label"[, "group"]}`` objects or a ``{file: label}`` mapping.
    sensor_size : sequence of int | None
        ``(width, height, polarities)`` for every file (formats without a header, e.g. ``.npy``, take
        the data's extent otherwise).
    classes : sequence of str | None
        Class names in label order (default: the sorted names found).

    Returns
    -------
    recordings : list of EventRecording
        One per file; the group is the ``group`` column when given, else the file.
    classes : list of str
        Class names; label ``k`` is ``classes[k]``.

    Raises
    ------
    DataError
        If the folder is missing or empty, a file lies outside the class folders (unlabelled), or the
        label file names files that do not exist.
    """
    root = Path(root).expanduser()
    if not root.is_dir():
        raise DataError(f"{root} is not a folder of event recordings; check the dataset's root path.")
    size = None if sensor_size is None else tuple(int(s) for s in sensor_size)
    if labels is None:
        loose = [p for p in _event_files(root) if p.parent == root]
        if loose:
            raise DataError(
                f"{len(loose)} event files in {root} have no label (e.g. {loose[0].name}): with a folder per "
                "class, put each file in ROOT/CLASS/, or give a label file (labels: labels.csv)."
            )
        rows = [
            {"file": str(p.relative_to(root)), "label": p.relative_to(root).parts[0]}
            for p in _event_files(root)
        ]
    else:
        label_path = Path(labels).expanduser()
        if not label_path.is_file():
            raise DataError(
                f"label file {label_path} does not exist; pass the CSV or JSON list of files and labels."
            )
        rows = _read_label_file(label_path)
        missing = [str(r["file"]) for r in rows if not (root / str(r["file"])).is_file()]
        if missing:
            raise DataError(
                f"{label_path} names {len(missing)} files that are not under {root}: "
                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}; fix the paths (relative to "
                "the dataset root) or remove those rows."
            )
    if not rows:
        raise DataError(f"no event files ({', '.join(FORMATS)}) found under {root}.")
    names = sorted({str(r["label"]) for r in rows}) if classes is None else [str(c) for c in classes]
    unknown = sorted({str(r["label"]) for r in rows} - set(names))
    if unknown:
        raise DataError(
            f"labels {unknown} are not among the classes {names}; add them to classes or fix the labels."
        )
    out = []
    for r in rows:
        path = root / str(r["file"])
        group = str(r.get("group") or r["file"])
        out.append(
            EventRecording(
                str(path), names.index(str(r["label"])), group, _fingerprint(path), _FileLoader(path, size)
            )
        )
    return out, names


class _TonicLoader:
    def __init__(self, name: str, root: str, train: bool, index: int):
        self.name, self.root, self.train, self.index = name, root, train, index

    def __call__(self) -> tuple[np.ndarray, Size]:
        ds = _tonic(self.name, self.root, self.train)
        events, _ = ds[self.index]
        return as_events(events), tuple(int(s) for s in ds.sensor_size)


_TONIC_CACHE: dict[tuple[str, str, bool], Any] = {}


def _tonic(name: str, root: str, train: bool):
    from neurosig.data.tonic_datasets import tonic_dataset

    key = (name, root, train)
    if key not in _TONIC_CACHE:
        _TONIC_CACHE[key] = tonic_dataset(name, root, train=train)
    return _TONIC_CACHE[key]


def tonic_recordings(
    name: str, root: str | Path, train: bool = True, limit: int | None = None
) -> tuple[list[EventRecording], list[str]]:
    """A tonic dataset's samples as recordings (local files only; offline errors as tonic_dataset's).

    Parameters
    ----------
    name : str
        A :data:`~neurosig.data.tonic_datasets.TONIC_DATASETS` name (``"nmnist"``, ``"dvs_gesture"``, ...).
    root : str | Path
        The folder holding tonic's per-dataset folder.
    train : bool
        tonic's training split (``False``: its test split).
    limit : int | None
        Use only the first ``limit`` samples (smoke runs).

    Returns
    -------
    recordings, classes
        Each sample is its own group (tonic datasets name no user; where they do, split with its own
        train / test sets).
    """
    root = str(Path(root).expanduser())
    ds = _tonic(name, root, train)
    n = len(ds) if limit is None else min(int(limit), len(ds))
    targets = [int(ds.targets[i]) if hasattr(ds, "targets") else int(ds[i][1]) for i in range(n)]
    classes = [str(c) for c in getattr(ds, "classes", range(max(targets, default=0) + 1))]
    out = [
        EventRecording(
            f"{name}/{'train' if train else 'test'}/{i}",
            targets[i],
            f"{name}/{i}",
            f"tonic:{name}:{root}:{train}:{i}",
            _TonicLoader(name, root, train, i),
        )
        for i in range(n)
    ]
    return out, classes


def check_sensor_sizes(sizes: Sequence[Size], names: Sequence[str]) -> Size:
    """The one sensor size of a dataset, or a :class:`DataError` naming two recordings that differ."""
    first = tuple(sizes[0])
    for size, name in zip(sizes, names, strict=True):
        if tuple(size) != first:
            raise DataError(
                f"mixed sensor sizes: {names[0]} is {first} (width, height, polarities) but {name} is "
                f"{tuple(size)}; give the dataset one sensor_size, or crop / downsample the recordings "
                "to one size before training."
            )
    return first


def split_by_group(
    recordings: Sequence[EventRecording], fractions: Sequence[float], seed: int = 0
) -> list[list[int]]:
    """Split recording indices into parts (e.g. train / val / test) that share no group.

    Groups are shuffled (seeded) and dealt to the parts by size within each class, so every part gets
    about ``fraction`` of each class's recordings.

    Parameters
    ----------
    recordings : sequence of EventRecording
        The dataset.
    fractions : sequence of float
        Part sizes, summing to 1.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    list of list of int
        Sorted indices into ``recordings``, one list per part.
    """
    fractions = np.asarray(fractions, dtype=float)
    if np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ConfigError(f"split fractions must be >= 0 and sum to 1, got {fractions.tolist()}.")
    groups: dict[str, list[int]] = {}
    for i, rec in enumerate(recordings):
        groups.setdefault(rec.group, []).append(i)
    by_class: dict[int, list[str]] = {}
    for name, members in groups.items():  # a group's class: its first recording's
        by_class.setdefault(recordings[members[0]].label, []).append(name)
    rng = np.random.default_rng(seed)
    parts: list[list[int]] = [[] for _ in fractions]
    for label in sorted(by_class):
        names = sorted(by_class[label])
        rng.shuffle(names)
        edges = np.round(np.cumsum(fractions) * len(names)).astype(int)
        for k, (a, b) in enumerate(zip(np.r_[0, edges[:-1]], edges, strict=True)):
            for name in names[a:b]:
                parts[k].extend(groups[name])
    return [sorted(p) for p in parts]
