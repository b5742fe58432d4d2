"""Input checks shared by the CPU delay kernels (:mod:`.delays`) and their CUDA twin (:mod:`.delays_cuda`)."""

from __future__ import annotations

import numpy as np

from neurosig.errors import DataError

__all__ = ["check_n_steps", "repeated_spike_error", "event_array"]


def check_n_steps(n_steps: int) -> None:
    """Raise :class:`DataError` unless the output length ``n_steps`` (time steps) is ``>= 0``."""
    if int(n_steps) < 0:
        raise DataError(f"n_steps must be >= 0 (the output length in time steps); got {n_steps}.")


def repeated_spike_error() -> DataError:
    """The error for spike events that list one ``(row, step, input)`` twice (CPU and CUDA paths)."""
    return DataError(
        "the same spike (row, step, input) is listed twice; a spiking layer takes binary spikes, "
        "so keep one event per step and input (np.unique of the events)."
    )


def event_array(values, name: str, n: int | None = None) -> np.ndarray:
    """``values`` as a 1-D int64 array of length ``n``, or a :class:`DataError` naming ``name``."""
    array = np.asarray(values)
    if array.ndim != 1 or (n is not None and array.shape[0] != n):
        raise DataError(f"{name} must be a 1-D array of one value per spike; got shape {array.shape}.")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(
            f"{name} must hold integers, got {array.dtype}; bin spike times to steps with "
            "np.floor(times / dt).astype(int)."
        )
    return array.astype(np.int64, copy=False)
