"""The memory budget every output array is checked against before it is allocated.

It lives with the kernels, whose public functions allocate the largest outputs (frames, voxel grids,
time surfaces); :mod:`neurosig.core.validate` re-exports it beside the other input checks.
"""

from __future__ import annotations

import os

import numpy as np

from neurosig.errors import ConfigError, DataError

__all__ = ["memory_budget", "check_output_bytes"]


def memory_budget() -> int:
    """Bytes one output array may take: ``$NEUROSIG_MEMORY_BUDGET`` (bytes), else half the RAM."""
    env = os.environ.get("NEUROSIG_MEMORY_BUDGET")
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise ConfigError(f"NEUROSIG_MEMORY_BUDGET must be a number of bytes, got {env!r}.") from None
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2


def check_output_bytes(shape: tuple[int, ...], dtype, what: str, parameter: str) -> tuple[int, ...]:
    """Check that an array of ``shape`` and ``dtype`` fits :func:`memory_budget` before allocating it.

    Parameters
    ----------
    shape : tuple of int
        The output's shape.
    dtype : numpy dtype
        Its element type.
    what : str
        What the array is (``"frames (T, P, H, W)"``).
    parameter : str
        The parameter(s) that set its size, which the message tells the user to change.

    Raises
    ------
    DataError
        Naming the bytes the output would need, the budget and the parameter to change.
    """
    shape = tuple(int(n) for n in shape)
    need = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    budget = memory_budget()
    if need > budget:
        raise DataError(
            f"{what} of shape {shape} would need {need:,} bytes ({need / 2**30:.1f} GiB), over the memory "
            f"budget of {budget:,} bytes; change {parameter} (or crop/downsample the sensor), or raise "
            "NEUROSIG_MEMORY_BUDGET."
        )
    return shape
