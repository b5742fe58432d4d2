"""``numba.cuda`` twin of :func:`neurosig.kernels.delays.delayed_scatter` (one thread per spike × output)."""

from __future__ import annotations

import numpy as np
from numba import cuda

from neurosig.core.errors import DataError

__all__ = ["delayed_scatter_cuda"]


@cuda.jit
def _scatter_kernel(spike_b, spike_t, spike_i, weight_t, delay_t, out):  # pragma: no cover - device code
    k = cuda.grid(1)
    n_out = weight_t.shape[1]
    if k >= spike_b.shape[0] * n_out:
        return
    e = k // n_out
    o = k % n_out
    i = spike_i[e]
    s = spike_t[e] + delay_t[i, o]
    if s < out.shape[1]:
        cuda.atomic.add(out, (spike_b[e], s, o), weight_t[i, o])


def delayed_scatter_cuda(spikes, weight: np.ndarray, delay: np.ndarray, n_steps: int | None = None):
    """GPU twin of :func:`~neurosig.kernels.delays.delayed_scatter`; same arguments, device output.

    ``weight`` and ``delay`` have already been validated by the CPU entry point.
    """
    device = spikes if hasattr(spikes, "copy_to_host") else cuda.as_cuda_array(spikes)
    host = device.copy_to_host()
    squeeze = host.ndim == 2
    if squeeze:
        host = host[None]
    if host.ndim != 3 or host.shape[2] != weight.shape[1]:
        raise DataError(f"spikes must have shape (batch, T, {weight.shape[1]}); got {host.shape}.")
    bad = (host != 0) & (host != 1)
    if np.any(bad):
        raise DataError(
            "spikes must be binary (0 or 1) for a spiking layer; clip counts with min(counts, 1)."
        )
    b, t, i = (np.ascontiguousarray(a, dtype=np.int64) for a in np.nonzero(host))
    horizon = host.shape[1] if n_steps is None else int(n_steps)
    out = cuda.to_device(np.zeros((host.shape[0], horizon, weight.shape[0]), dtype=np.float32))
    n_threads = len(b) * weight.shape[0]
    if n_threads:
        block = 128
        _scatter_kernel[(n_threads + block - 1) // block, block](
            cuda.to_device(b),
            cuda.to_device(t),
            cuda.to_device(i),
            cuda.to_device(np.ascontiguousarray(weight.T)),
            cuda.to_device(np.ascontiguousarray(delay.T)),
            out,
        )
    return out[0] if squeeze else out
