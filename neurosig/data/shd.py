"""SHD-format spike datasets: a bounded-memory reader and a generator of synthetic delay tasks.

The Spiking Heidelberg Digits (Cramer et al. 2020) store one ragged spike train per sample in HDF5:
``spikes/times`` (seconds, float), ``spikes/units`` (channel per spike, uint16) and ``labels``.
:class:`SHDReader` reads samples one at a time from the open file and bins them into dense
``(n_bins, n_channels)`` arrays, so memory holds one batch, never the dataset.

:func:`make_delay_task` writes a synthetic SHD-format file whose classes differ *only* in the relative
timing of spikes across channels: every channel fires exactly once per sample, never two in the same
bin, at a class-specific offset after a random onset. Spike counts per channel are equal across
classes, so a network without delays whose neurons do not integrate over time sees no class
information; a network with learnable delays can align the spikes and detect the coincidence.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from neurosig._version import __version__
from neurosig.core.errors import ConfigError, DataError, FormatError
from neurosig.core.stage import RunMeta
from neurosig.core.validate import check_existing_file, check_positive
from neurosig.io.hdf5 import check_metadata

__all__ = ["SHDReader", "write_shd", "make_delay_task", "split_indices"]

_REQUIRED = ("spikes/times", "spikes/units", "labels")


def write_shd(
    path: str | Path,
    times: Sequence[np.ndarray],
    units: Sequence[np.ndarray],
    labels: np.ndarray,
    description: dict | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ragged spike trains as an SHD-format HDF5 file, atomically, with neurosig provenance.

    Parameters
    ----------
    path : str | Path
        Output file.
    times : sequence of ndarray
        Spike times of each sample, in seconds.
    units : sequence of ndarray
        Channel of each spike (same lengths as ``times``).
    labels : ndarray of int, shape (n_samples,)
        Class of each sample.
    description : dict | None
        Provenance recorded as the file's ``source`` attribute (e.g. the generator's parameters).
    overwrite : bool
        Replace an existing neurosig file of another run.

    Returns
    -------
    Path
        The written file.
    """
    import h5py

    from neurosig.io.hdf5 import atomic_h5, write_provenance

    if not len(times) == len(units) == len(labels):
        raise DataError(
            f"{len(times)} time arrays, {len(units)} unit arrays and {len(labels)} labels differ."
        )
    meta = RunMeta(neurosig_version=__version__, pipeline_yaml="", source=description or {"type": "shd"})
    with atomic_h5(path, overwrite=overwrite) as f:
        write_provenance(f, meta)
        grp = f.create_group("spikes")
        t_ds = grp.create_dataset("times", (len(times),), dtype=h5py.vlen_dtype(np.float32))
        u_ds = grp.create_dataset("units", (len(units),), dtype=h5py.vlen_dtype(np.uint16))
        for i, (t, u) in enumerate(zip(times, units, strict=True)):
            t_ds[i] = np.asarray(t, dtype=np.float32)
            u_ds[i] = np.asarray(u, dtype=np.uint16)
        f.create_dataset("labels", data=np.asarray(labels, dtype=np.uint16))
    return Path(path)


def make_delay_task(
    path: str | Path,
    n_samples: int = 1000,
    n_channels: int = 8,
    n_classes: int = 4,
    span: int = 8,
    n_bins: int = 32,
    dt: float = 0.01,
    seed: int = 0,
    overwrite: bool = False,
) -> Path:
    """Write a synthetic SHD-format task that only delays can solve.

    Parameters
    ----------
    path : str | Path
        Output HDF5 file.
    n_samples : int
        Number of samples (balanced classes, shuffled).
    n_channels : int
        Input channels; each fires exactly once per sample.
    n_classes : int
        Number of classes; each has its own offsets of the channels.
    span : int
        Offsets of one class are ``n_channels`` distinct bins in ``[0, span)`` (``span >= n_channels``),
        so no two channels fire in the same bin. A delay layer needs ``kernel_size >= span``.
    n_bins : int
        Sample length in bins; onsets are uniform in ``[0, n_bins - span]``.
    dt : float
        Bin length in seconds; spike times fall in the middle half of their bin.
    seed : int
        Seed of the class offsets, onsets, labels and jitter.
    overwrite : bool
        Replace an existing file of another run.

    Returns
    -------
    Path
        The written file.
    """
    if span < n_channels:
        raise ConfigError(f"span={span} must be >= n_channels={n_channels} so that no two channels coincide.")
    if n_bins < span:
        raise ConfigError(f"n_bins={n_bins} must be >= span={span}.")
    check_positive("dt", dt)
    rng = np.random.default_rng(seed)
    offsets = np.stack([rng.choice(span, size=n_channels, replace=False) for _ in range(n_classes)])
    labels = rng.permutation(np.arange(n_samples) % n_classes)
    onsets = rng.integers(0, n_bins - span + 1, size=n_samples)
    times, units = [], []
    for label, onset in zip(labels, onsets, strict=True):
        bins = onset + offsets[label]
        order = np.argsort(bins, kind="stable")
        jitter = rng.uniform(0.25, 0.75, size=n_channels)
        times.append(((bins + jitter) * dt)[order])
        units.append(np.arange(n_channels)[order])
    params = {
        "type": "make_delay_task",
        "n_samples": n_samples,
        "n_channels": n_channels,
        "n_classes": n_classes,
        "span": span,
        "n_bins": n_bins,
        "dt": dt,
        "seed": seed,
    }
    return write_shd(path, times, units, labels, description=params, overwrite=overwrite)


def split_indices(n: int, fractions: Sequence[float], seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(n)`` with ``seed`` and cut it into disjoint parts of the given fractions.

    The last part takes the remainder (its fraction only documents the intent), so the parts cover
    every index exactly once: ``split_indices(n, [0.8, 0.2])`` gives train and validation indices.
    """
    if any(f < 0 for f in fractions) or sum(fractions) > 1 + 1e-9:
        raise ConfigError(f"split fractions must be >= 0 and sum to <= 1, got {list(fractions)}.")
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.floor(np.cumsum(fractions[:-1]) * n).astype(int)
    return [np.sort(part) for part in np.split(order, cuts)]


class SHDReader:
    """Read an SHD-format HDF5 file sample by sample, binned to dense arrays or listed as events.

    Parameters
    ----------
    path : str | Path
        The HDF5 file (``spikes/times``, ``spikes/units``, ``labels``).
    dt : float
        Bin length in seconds (SHD: 0.01).
    n_bins : int
        Bins per sample; later spikes are dropped (SHD: 100 covers 1 s).
    n_units : int | None
        Number of raw channels (SHD: 700); default: one more than the largest unit in the file,
        found by a scan that reads one sample at a time.
    group : int
        Sum ``group`` neighbouring channels into one input (SHD: 5 → 140 inputs).
    binary : bool
        Clip counts to 1 (what a spiking layer expects).

    Raises
    ------
    FormatError
        If the file lacks a required dataset or the ragged arrays disagree.
    """

    def __init__(
        self,
        path: str | Path,
        dt: float = 0.01,
        n_bins: int = 100,
        n_units: int | None = None,
        group: int = 1,
        binary: bool = True,
    ) -> None:
        import h5py

        self.path = check_existing_file(path, "SHD file")
        check_positive("dt", dt)
        if n_bins < 1 or group < 1:
            raise ConfigError(f"n_bins and group must be positive integers, got {n_bins} and {group}.")
        check_metadata(self.path)
        try:
            self._file = h5py.File(self.path, "r")
        except OSError:
            raise FormatError("not an HDF5 file; SHD files are HDF5 (.h5).", path=self.path) from None
        missing = [name for name in _REQUIRED if name not in self._file]
        if missing:
            self._file.close()
            raise FormatError(
                f"missing dataset(s) {missing}; an SHD-format file has {list(_REQUIRED)}.", path=self.path
            )
        self._times, self._units = self._file["spikes/times"], self._file["spikes/units"]
        self.labels = np.asarray(self._file["labels"][:], dtype=np.int64)
        if not len(self._times) == len(self._units) == len(self.labels):
            self._file.close()
            raise FormatError(
                f"{len(self._times)} spike-time rows, {len(self._units)} unit rows and {len(self.labels)} "
                "labels: the ragged arrays must have one row per sample.",
                path=self.path,
            )
        self.dt, self.n_bins, self.group, self.binary = float(dt), int(n_bins), int(group), bool(binary)
        self.n_units = int(n_units) if n_units is not None else self._scan_units()
        self.n_channels = -(-self.n_units // self.group)

    def _scan_units(self) -> int:
        largest = 0
        for i in range(len(self._units)):
            row = self._units[i]
            if len(row):
                largest = max(largest, int(row.max()))
        return largest + 1

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_classes(self) -> int:
        """Number of classes (largest label + 1)."""
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    def _binned(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Bin and channel of each spike of sample ``index`` that falls within ``n_bins``."""
        t = np.asarray(self._times[index], dtype=np.float64)
        u = np.asarray(self._units[index], dtype=np.int64)
        if len(t) != len(u):
            raise FormatError(f"sample {index} has {len(t)} spike times but {len(u)} units.", path=self.path)
        if len(u) and (u.min() < 0 or u.max() >= self.n_units):
            raise FormatError(
                f"sample {index} has unit {int(u.max())} outside [0, {self.n_units}); pass n_units.",
                path=self.path,
            )
        bins = np.floor(t / self.dt).astype(np.int64)
        keep = (bins >= 0) & (bins < self.n_bins)
        return bins[keep], u[keep] // self.group

    def sample(self, index: int) -> np.ndarray:
        """Sample ``index`` binned to float32 ``(n_bins, n_channels)``."""
        bins, channels = self._binned(index)
        out = np.zeros((self.n_bins, self.n_channels), dtype=np.float32)
        np.add.at(out, (bins, channels), 1.0)
        return np.minimum(out, 1.0) if self.binary else out

    def sample_events(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Sample ``index`` as binary spike events ``(steps, channels)``, int64, in order of step then
        channel: one event per bin and channel that holds a spike, whatever ``binary`` says.

        The event form of :meth:`sample` (binary), for
        :meth:`neurosig.kernels.delays.EventDrivenDelays.apply_events`; its size follows the spikes,
        not ``n_bins × n_channels``.
        """
        bins, channels = self._binned(index)
        keys = np.unique(bins * self.n_channels + channels)
        return keys // self.n_channels, keys % self.n_channels

    def batches(
        self, indices: Sequence[int] | None = None, batch_size: int = 64, shuffle: bool = False, seed: int = 0
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(x, y)``: ``x`` float32 ``(n_bins, batch, n_channels)`` time first, ``y`` int64 labels.

        Parameters
        ----------
        indices : sequence of int | None
            Samples to read (default: all), e.g. one part of :func:`split_indices`.
        batch_size : int
            Samples per batch (the last batch may be smaller).
        shuffle : bool
            Visit the indices in an order drawn from ``seed``.
        seed : int
            Seed of the shuffle (vary it per epoch).
        """
        order = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        if shuffle:
            order = np.random.default_rng(seed).permutation(order)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            x = np.stack([self.sample(int(i)) for i in idx], axis=1)
            yield x, self.labels[idx]

    def close(self) -> None:
        """Close the file."""
        self._file.close()

    def __enter__(self) -> SHDReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
