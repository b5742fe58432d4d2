"""``numba.cuda`` twin of :class:`neurosig.kernels.delays.EventDrivenDelays`: the spikes stay on the GPU.

Two kernels per call: one thread per spike-tensor element lists the spikes (flat indices, appended
with an atomic counter) and flags values that are neither 0 nor 1; then one thread per spike ×
output adds the synapse's weight ``delay`` steps later (atomic adds). Only the spike count and the
flag travel back to the host, in one copy, to size the second launch and to raise on bad input.
The transposed weight and delay tables are copied to the device once per :class:`CudaDelays`.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from neurosig.core.errors import DataError
from neurosig.kernels._cuda import THREADS, blocks, device_full

__all__ = ["CudaDelays"]


@cuda.jit
def _list_spikes(flat, n_steps, n_in, horizon, events, tally):  # pragma: no cover - device code
    # flat: the (batch, T, in) spikes raveled; every value is checked, spikes before the horizon listed.
    # tally[0] counts the listed spikes, tally[1] flags a value that is neither 0 nor 1.
    k = cuda.grid(1)
    if k >= flat.shape[0]:
        return
    v = flat[k]
    if v != 0:
        if v != 1:
            tally[1] = 1
        elif (k // n_in) % n_steps < horizon:
            events[cuda.atomic.add(tally, 0, 1)] = k


@cuda.jit
def _scatter(events, n_events, n_steps, n_in, weight_t, delay_t, out):  # pragma: no cover - device code
    k = cuda.grid(1)
    n_out = weight_t.shape[1]
    if k >= n_events * n_out:
        return
    flat = events[k // n_out]
    o = k % n_out
    i = flat % n_in
    t = (flat // n_in) % n_steps
    s = t + delay_t[i, o]
    if s < out.shape[1]:
        cuda.atomic.add(out, (flat // (n_in * n_steps), s, o), weight_t[i, o])


class CudaDelays:
    """Validated ``(weight, delay)`` of shape ``(out, in)`` with their tables on the GPU.

    Built by :class:`~neurosig.kernels.delays.EventDrivenDelays` the first time it is called on a
    device array; called as ``synapses(spikes, horizon)`` with ``spikes`` a CUDA array (numba, CuPy
    or torch) of shape ``(batch, T, in)`` or ``(T, in)``. Returns a numba device array.
    """

    def __init__(self, weight: np.ndarray, delay: np.ndarray):
        self.n_out, self.n_in = weight.shape
        self._weight_t = cuda.to_device(np.ascontiguousarray(weight.T))
        self._delay_t = cuda.to_device(np.ascontiguousarray(delay.T))

    def __call__(self, spikes, n_steps: int | None = None):
        device = spikes if hasattr(spikes, "copy_to_host") else cuda.as_cuda_array(spikes)
        squeeze = device.ndim == 2
        shape = (1, *device.shape) if squeeze else tuple(device.shape)
        if len(shape) != 3 or shape[2] != self.n_in:
            raise DataError(
                f"spikes must have shape (batch, T, {self.n_in}) or (T, {self.n_in}); "
                f"got {tuple(device.shape)}."
            )
        n_batch, n_steps_in, _ = shape
        horizon = n_steps_in if n_steps is None else int(n_steps)
        flat = device.ravel() if device.is_c_contiguous() else cuda.to_device(device.copy_to_host().ravel())
        events = cuda.device_array(max(flat.shape[0], 1), dtype=np.int64)
        tally = device_full(2)
        if flat.shape[0]:
            _list_spikes[blocks(flat.shape[0]), THREADS](flat, n_steps_in, self.n_in, horizon, events, tally)
        n_events, bad = (int(v) for v in tally.copy_to_host())  # the one trip back to the host
        if bad:
            raise DataError(
                "spikes must be binary (0 or 1) for a spiking layer; clip counts with min(counts, 1)."
            )
        out = device_full((n_batch, horizon, self.n_out), 0, np.float32)
        if n_events and self.n_out:
            _scatter[blocks(n_events * self.n_out), THREADS](
                events, n_events, n_steps_in, self.n_in, self._weight_t, self._delay_t, out
            )
        return out[0] if squeeze else out
