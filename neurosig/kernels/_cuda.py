"""Launch helpers shared by the ``numba.cuda`` twins: threads per block, block counts, filled arrays.

Imported only by the CUDA twin modules, so ``numba.cuda`` loads only when a device array reaches a
kernel (or under ``NUMBA_ENABLE_CUDASIM=1`` in tests).
"""

from __future__ import annotations

import math

import numpy as np
from numba import cuda

__all__ = ["THREADS", "blocks", "device_full"]

#: Threads per block of every 1-D launch.
THREADS = 256


def blocks(n: int) -> int:
    """Blocks of :data:`THREADS` that cover ``n`` threads (at least one)."""
    return max(1, math.ceil(n / THREADS))


@cuda.jit
def _fill(flat, value):  # pragma: no cover - device code
    k = cuda.grid(1)
    if k < flat.shape[0]:
        flat[k] = value


def device_full(shape, value=0, dtype=np.int64):
    """A C-contiguous device array of ``value``, filled on the device (no host array is copied)."""
    a = cuda.device_array(shape, dtype=dtype)
    if a.size:
        _fill[blocks(a.size), THREADS](a.reshape(a.size), a.dtype.type(value))
    return a
