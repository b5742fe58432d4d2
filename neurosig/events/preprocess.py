"""One recording's events → a fixed-size model input: stream transforms, then a representation.

:class:`EventPreprocessing` is the declarative form that a training job, its cache and the deployed
``snn_classify`` stage share, so the same events always give the same tensor::

    pre = EventPreprocessing.from_config(
        (32, 32, 2),
        transforms=[{"type": "denoise", "filter_time": 5000}, {"type": "downsample", "spatial_factor": 2}],
        representation={"type": "spikes", "dt": 5000},
        n_steps=20,
    )
    x = pre(events)          # (20, 2 * 16 * 16) uint8 spikes

The transforms are the frozen dataclasses of :mod:`neurosig.events.transforms` (Numba kernels);
their parameters, with the representation's and ``n_steps``, make :meth:`~EventPreprocessing.key`,
the hash that names a cache.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurosig.core.chunks import EVENTS_DTYPE
from neurosig.core.errors import ConfigError
from neurosig.core.validate import did_you_mean
from neurosig.events import functional as F
from neurosig.events import transforms as T

__all__ = ["EventPreprocessing", "TRANSFORMS", "REPRESENTATIONS"]

Size = tuple[int, int, int]

#: Stream transforms by YAML name, with the sensor size each leaves.
TRANSFORMS: dict[str, tuple[type, Callable[..., Size]]] = {
    "denoise": (T.Denoise, lambda size, **_: size),
    "refractory": (T.RefractoryPeriod, lambda size, **_: size),
    "hot_pixels": (T.HotPixels, lambda size, **_: size),
    "crop": (T.Crop, lambda size, x0, y0, width, height: F.cropped_size(size, x0, y0, width, height)),
    "downsample": (
        T.Downsample,
        lambda size, spatial_factor=2, **_: F.downsampled_size(size, spatial_factor),
    ),
    "merge_polarity": (T.MergePolarity, lambda size: (size[0], size[1], 1)),
}

#: Representations by YAML name: ``(T, ...)`` arrays flattened to ``(T, units)`` per step.
REPRESENTATIONS = ("spikes", "frames", "voxel_grid", "time_surface")


def _check_type(what: str, entry: Mapping[str, Any], valid: Sequence[str]) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, Mapping) or "type" not in entry:
        raise ConfigError(
            f"each {what} must be a mapping with a 'type' (one of {list(valid)}); got {entry!r}."
        )
    params = dict(entry)
    kind = params.pop("type")
    if kind not in valid:
        raise ConfigError(
            f"unknown {what} type {kind!r}; choose one of {list(valid)}.{did_you_mean(kind, valid)}"
        )
    return kind, params


@dataclass(frozen=True)
class EventPreprocessing:
    """Transforms and a representation that turn a recording's events into ``(n_steps, units)``.

    Parameters
    ----------
    sensor_size : tuple of int
        ``(width, height, polarities)`` of the input events.
    transforms : tuple of dict
        ``{"type": NAME, **params}`` for each :data:`TRANSFORMS` entry, applied in order.
    representation : dict
        ``{"type": "spikes", "dt": µs}`` (binary spikes, the SNN's input), ``{"type": "frames", "dt": µs}``
        (event counts), ``{"type": "voxel_grid"}`` (``n_steps`` bins) or
        ``{"type": "time_surface", "dt": µs, "tau": µs}``.
    n_steps : int
        Time steps per sample: longer outputs are cut, shorter ones padded with zeros.

    Notes
    -----
    Time steps start at the sample's first event (as :func:`neurosig.kernels.event_repr.to_spikes`).
    The per-pixel filters start fresh on every sample.
    """

    sensor_size: Size
    transforms: tuple[dict[str, Any], ...]
    representation: dict[str, Any]
    n_steps: int

    @classmethod
    def from_config(
        cls,
        sensor_size: Sequence[int],
        transforms: Sequence[Mapping[str, Any]] = (),
        representation: Mapping[str, Any] | None = None,
        n_steps: int = 20,
    ) -> EventPreprocessing:
        """Validate a YAML-style description (see the class parameters) and build it."""
        if int(n_steps) < 1:
            raise ConfigError(f"n_steps must be a positive number of time steps, got {n_steps!r}.")
        rep = dict(representation or {"type": "spikes", "dt": 5000})
        _check_type("representation", rep, REPRESENTATIONS)
        pre = cls(
            tuple(int(s) for s in sensor_size),
            tuple(dict(t) for t in transforms),
            rep,
            int(n_steps),
        )
        pre._chain()  # raises on bad transform parameters
        pre.apply_representation(np.zeros(0, dtype=EVENTS_DTYPE))
        return pre

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (stored in checkpoints and cache attributes)."""
        return {
            "sensor_size": list(self.sensor_size),
            "transforms": [dict(t) for t in self.transforms],
            "representation": dict(self.representation),
            "n_steps": self.n_steps,
        }

    def key(self) -> str:
        """sha256 of :meth:`to_dict` (hex): equal exactly when the preprocessing is."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def _chain(self) -> tuple[list[Callable[[np.ndarray], np.ndarray]], Size]:
        size = self.sensor_size
        chain = []
        for entry in self.transforms:
            kind, params = _check_type("transform", entry, list(TRANSFORMS))
            cls, out_size = TRANSFORMS[kind]
            try:
                chain.append(cls(size, **params))
                size = out_size(size, **params)
            except TypeError as err:
                raise ConfigError(
                    f"transform {kind!r}: {err}; see neurosig.events.transforms.{cls.__name__}."
                ) from None
        return chain, size

    @property
    def output_size(self) -> Size:
        """Sensor size after the transforms."""
        return self._chain()[1]

    @property
    def n_units(self) -> int:
        """Units per time step of the representation."""
        w, h, p = self.output_size
        return w * h if self.representation["type"] == "voxel_grid" else w * h * p

    @property
    def dt(self) -> float:
        """Seconds per time step (voxel grids: ``nan``, their bins follow each sample's duration)."""
        return self.representation.get("dt", float("nan")) * 1e-6

    @property
    def binary(self) -> bool:
        """Whether the representation is 0/1 spikes (what spiking layers take)."""
        return self.representation["type"] == "spikes"

    def apply_transforms(self, events: np.ndarray) -> np.ndarray:
        """The stream transforms alone (events in, events out, in the :attr:`output_size` sensor)."""
        for transform in self._chain()[0]:
            events = transform(events)
        return events

    def apply_representation(self, events: np.ndarray) -> np.ndarray:
        """Transformed events → ``(n_steps, n_units)``: uint8 spikes, int32 counts or float32 values."""
        size = self.output_size
        kind, params = _check_type("representation", self.representation, REPRESENTATIONS)
        try:
            if kind == "spikes":
                out = T.ToSpikes(size, **params)(events)
            elif kind == "frames":
                out = T.ToFrame(size, time_window=params.pop("dt", 5000), **params)(events)
            elif kind == "voxel_grid":
                out = T.ToVoxelGrid(size, n_time_bins=self.n_steps, **params)(events)
            else:
                out = T.ToTimeSurface(size, include_incomplete=True, **params)(events)
        except TypeError as err:
            raise ConfigError(f"representation {kind!r}: {err}.") from None
        out = out.reshape(len(out), self.n_units)[: self.n_steps]
        if len(out) < self.n_steps:
            pad = np.zeros((self.n_steps - len(out), self.n_units), dtype=out.dtype)
            out = np.concatenate([out, pad]) if len(out) else pad
        return out

    def __call__(self, events: np.ndarray) -> np.ndarray:
        """Transforms then representation: ``(n_steps, n_units)``."""
        return self.apply_representation(self.apply_transforms(events))
