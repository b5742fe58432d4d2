"""Representations computed once into an HDF5 cache, and the torch Dataset that reads it.

:func:`build_cache` runs each recording through an :class:`~neurosig.events.preprocess.EventPreprocessing`
(Numba kernels) and stores, per sample, the transformed events and the ``(n_steps, units)``
representation in ``CACHE_DIR/KEY.h5``. ``KEY`` hashes the recordings' fingerprints and labels and
the preprocessing's parameters, so a rerun (or another model on the same data) reuses the file and any
change of data or transforms writes a new one. The file is written exclusively to a partial file and
renamed when complete (:func:`neurosig.io.hdf5.atomic_h5`).

:class:`CachedEventDataset` reads the cache (the file is opened in each DataLoader worker). Without
augmentation it returns the stored representation; with :class:`EventAugment` it perturbs the stored
events (random crop by shifting, flip, time jitter, dropped events) and recomputes the representation,
so augmentations act on the events, before the representation, as they should.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import ConfigError, DataError
from neurosig.data.event_dataset import EventRecording, check_sensor_sizes
from neurosig.events.preprocess import EventPreprocessing
from neurosig.io.hdf5 import check_metadata

__all__ = ["cache_key", "build_cache", "EventAugment", "CachedEventDataset", "CACHE_VERSION"]

#: Bumped when the cache layout changes (old files are then not reused).
CACHE_VERSION = 1


def cache_key(recordings: Sequence[EventRecording], preprocessing: EventPreprocessing) -> str:
    """sha256 (hex) of the cache layout, the recordings' fingerprints and labels, and the preprocessing."""
    h = hashlib.sha256()
    h.update(
        json.dumps(
            {"version": CACHE_VERSION, "preprocessing": preprocessing.to_dict()}, sort_keys=True
        ).encode()
    )
    for rec in recordings:
        h.update(f"\n{rec.fingerprint}\t{rec.label}".encode())
    return h.hexdigest()


def _is_complete(path: Path, key: str) -> bool:
    import h5py

    if not path.is_file():
        return False
    try:
        with h5py.File(path, "r") as f:
            return bool(f.attrs.get("complete", False)) and f.attrs.get("key") == key
    except OSError:
        return False


def build_cache(
    recordings: Sequence[EventRecording],
    preprocessing: EventPreprocessing,
    cache_dir: str | Path,
    progress: bool = False,
) -> Path:
    """Compute every recording's transformed events and representation once; return the cache file.

    Parameters
    ----------
    recordings : sequence of EventRecording
        The samples, in the order the cache keeps.
    preprocessing : EventPreprocessing
        Transforms and representation; its ``sensor_size`` must be every recording's.
    cache_dir : str | Path
        Folder of cache files (created).
    progress : bool
        Show a progress bar over recordings.

    Returns
    -------
    Path
        ``cache_dir / KEY.h5``; reused as it is when it already exists and is complete.

    Raises
    ------
    DataError
        If the recordings have different sensor sizes, or not the preprocessing's.
    """
    import h5py
    from tqdm.auto import tqdm

    from neurosig._version import __version__
    from neurosig.io.hdf5 import atomic_h5

    if not recordings:
        raise DataError("no recordings to cache; check the dataset's root and split fractions.")
    key = cache_key(recordings, preprocessing)
    path = Path(cache_dir) / f"{key[:32]}.h5"
    if _is_complete(path, key):
        return path
    n, n_steps, n_units = len(recordings), preprocessing.n_steps, preprocessing.n_units
    with atomic_h5(path, overwrite=True) as f:
        f.attrs.update(
            {
                "key": key,
                "neurosig_version": __version__,
                "preprocessing": json.dumps(preprocessing.to_dict()),
            }
        )
        rep = None
        events_ds = f.create_dataset("events", (0,), dtype=EVENTS_DTYPE, maxshape=(None,), chunks=(1 << 14,))
        offsets = np.zeros(n + 1, dtype=np.int64)
        first: tuple[tuple[int, ...], str] | None = None
        for i, rec in enumerate(tqdm(recordings, desc="caching", disable=not progress)):
            events, size = rec.load()
            if first is None:
                first = (tuple(size), rec.name)
                if first[0] != preprocessing.sensor_size:
                    raise DataError(
                        f"{rec.name} has sensor size {first[0]} but the preprocessing expects "
                        f"{preprocessing.sensor_size}; set the dataset's sensor_size to match."
                    )
            check_sensor_sizes([first[0], size], [first[1], rec.name])
            kept = preprocessing.apply_transforms(events)
            x = preprocessing.apply_representation(kept)
            if rep is None:
                rep = f.create_dataset(
                    "representation",
                    (n, n_steps, n_units),
                    dtype=x.dtype,
                    chunks=(1, n_steps, n_units),
                    compression="lzf",
                )
            rep[i] = x
            offsets[i + 1] = offsets[i] + len(kept)
            events_ds.resize((offsets[i + 1],))
            events_ds[offsets[i] :] = kept
        f["offsets"] = offsets
        f["labels"] = np.array([r.label for r in recordings], dtype=np.int64)
        str_dtype = h5py.string_dtype()
        names = np.array([r.name for r in recordings], dtype=object)
        f.create_dataset("names", data=names, dtype=str_dtype)
        f.create_dataset(
            "groups", data=np.array([r.group for r in recordings], dtype=object), dtype=str_dtype
        )
    return path


@dataclass(frozen=True)
class EventAugment:
    """Random perturbations of a sample's events, applied before the representation.

    Parameters
    ----------
    max_shift : int
        Random crop with padding: shift x and y by up to this many pixels each way (events pushed off the
        sensor are dropped).
    flip_x : float
        Probability of a left-right mirror. It turns motion to the left into motion to the right: keep 0
        when the classes are directions.
    time_jitter : float
        Standard deviation of Gaussian noise added to each timestamp, in µs (events are re-sorted).
    drop : float
        Fraction of events dropped at random.
    """

    max_shift: int = 0
    flip_x: float = 0.0
    time_jitter: float = 0.0
    drop: float = 0.0

    def __post_init__(self):
        if self.max_shift < 0 or self.time_jitter < 0 or not (0 <= self.flip_x <= 1 and 0 <= self.drop < 1):
            raise ConfigError(
                f"augment: max_shift (pixels) and time_jitter (µs) must be >= 0, flip_x in [0, 1] and drop "
                f"in [0, 1); got {asdict(self)}."
            )

    @property
    def active(self) -> bool:
        """Whether any perturbation is on."""
        return bool(self.max_shift or self.flip_x or self.time_jitter or self.drop)

    def __call__(
        self, events: np.ndarray, sensor_size: Sequence[int], rng: np.random.Generator
    ) -> np.ndarray:
        """A perturbed copy of ``events`` (time order kept), inside ``sensor_size``."""
        w, h = int(sensor_size[0]), int(sensor_size[1])
        ev = events.copy()
        if self.drop:
            ev = ev[rng.random(len(ev)) >= self.drop]
        x, y = ev["x"].astype(np.int64), ev["y"].astype(np.int64)
        if self.flip_x and rng.random() < self.flip_x:
            x = w - 1 - x
        if self.max_shift:
            x = x + rng.integers(-self.max_shift, self.max_shift + 1)
            y = y + rng.integers(-self.max_shift, self.max_shift + 1)
        inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
        ev, x, y = ev[inside], x[inside], y[inside]
        ev["x"], ev["y"] = x, y
        if self.time_jitter:
            t = ev["t"] + np.round(rng.normal(0, self.time_jitter, len(ev))).astype(np.int64)
            ev["t"] = np.maximum(t, 0)
            ev = ev[np.argsort(ev["t"], kind="stable")]
        return ev


class CachedEventDataset:
    """A torch-style Dataset over a cache file: ``ds[i]`` is ``(x (n_steps, units) float32, label)``.

    Parameters
    ----------
    path : str | Path
        A file from :func:`build_cache`.
    indices : sequence of int | None
        The samples of this split (default: all).
    augment : EventAugment | None
        Perturb the events and recompute the representation (training splits).
    seed : int
        Seed of the augmentations; sample ``i`` of epoch ``e`` uses ``(seed, e, i)``, so a run is
        reproducible whatever the number of workers.

    Notes
    -----
    The HDF5 file is opened lazily in each process, so the dataset can go to DataLoader workers.
    Call :meth:`set_epoch` before each epoch to draw new augmentations.
    """

    def __init__(
        self,
        path: str | Path,
        indices: Sequence[int] | None = None,
        augment: EventAugment | None = None,
        seed: int = 0,
    ):
        import h5py

        self.path = Path(path)
        check_metadata(self.path)
        with h5py.File(self.path, "r") as f:
            self.preprocessing = EventPreprocessing.from_config(**json.loads(f.attrs["preprocessing"]))
            self.labels_all = f["labels"][:]
            self._offsets = f["offsets"][:]
        self.indices = (
            np.arange(len(self.labels_all)) if indices is None else np.asarray(indices, dtype=np.int64)
        )
        self.augment = augment if augment is not None and augment.active else None
        self.seed = seed
        self.epoch = 0
        self._file: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_file": None}

    def set_epoch(self, epoch: int) -> None:
        """Draw the next epoch's augmentations."""
        self.epoch = int(epoch)

    @property
    def labels(self) -> np.ndarray:
        """Labels of this split's samples."""
        return self.labels_all[self.indices]

    def __len__(self) -> int:
        return len(self.indices)

    def events(self, i: int) -> np.ndarray:
        """The transformed (not augmented) events of sample ``i`` of this split."""
        j = int(self.indices[i])
        return self._h5()["events"][self._offsets[j] : self._offsets[j + 1]]

    def _h5(self):
        if self._file is None:
            import h5py

            self._file = h5py.File(self.path, "r")
        return self._file

    def __getitems__(self, items: Sequence[int]) -> list[tuple[np.ndarray, int]]:
        """A batch of samples (what a DataLoader asks for): stored representations in one HDF5 read."""
        if self.augment is not None:
            return [self[i] for i in items]
        rows = self.indices[np.asarray(items, dtype=np.int64)]
        unique, inverse = np.unique(rows, return_inverse=True)  # h5py reads increasing indices
        block = self._h5()["representation"][unique].astype(np.float32)
        return [(block[k], int(self.labels_all[j])) for k, j in zip(inverse, rows, strict=True)]

    def __getitem__(self, i: int) -> tuple[np.ndarray, int]:
        j = int(self.indices[i])
        if self.augment is None:
            x = self._h5()["representation"][j]
        else:
            rng = np.random.default_rng([self.seed, self.epoch, j])
            pre = self.preprocessing
            x = pre.apply_representation(self.augment(self.events(i), pre.output_size, rng))
        return x.astype(np.float32, copy=False), int(self.labels_all[j])

    def loader(self, batch_size: int, shuffle: bool = False, workers: int = 0, seed: int = 0):
        """A torch ``DataLoader`` of ``(x (batch, n_steps, units), y (batch,))`` batches.

        Shuffles with a generator seeded by ``(seed, epoch)``; ``workers`` processes read the cache.
        """
        import torch
        from torch.utils.data import DataLoader

        generator = torch.Generator().manual_seed(int(seed) * 100_003 + self.epoch) if shuffle else None
        return DataLoader(
            self,
            batch_size=batch_size,
            shuffle=shuffle,
            num_workers=workers,
            generator=generator,
            persistent_workers=False,
        )
