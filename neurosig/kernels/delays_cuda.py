"""``numba.cuda`` twin of :class:`neurosig.kernels.delays.EventDrivenDelays`: the spikes stay on the GPU.

Two kernels per call: one thread per spike-tensor element lists the spikes (flat indices, appended
with an atomic counter) and flags values that are neither 0 nor 1; then one thread per spike ×
output adds the synapse's weight ``delay`` steps later (atomic adds). Only the spike count and the
flag travel back to the host, in one copy, to size the second launch and to raise on bad input.
Spikes given as events (:meth:`CudaDelays.apply_events`) are listed by one thread per event instead,
which also checks their range and their order. The transposed weight and delay tables are copied to
the device once per :class:`CudaDelays`.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from neurosig.errors import DataError
from neurosig.kernels._cuda import THREADS, blocks, device_full
from neurosig.kernels._delay_checks import repeated_spike_error

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
def _list_events(rows, steps, units, n_rows, n_steps, n_in, events, tally):  # pragma: no cover - device code
    # One thread per event: its flat index (row * n_steps + step) * n_in + unit, listed when before the
    # horizon. tally[1] flags a value out of range; tally[2] an event that does not come after the one
    # before it in (row, step, unit) order, tally[3] one equal to it (the same spike twice).
    e = cuda.grid(1)
    if e >= steps.shape[0]:
        return
    r, t, i = rows[e], steps[e], units[e]
    if r < 0 or r >= n_rows or t < 0 or i < 0 or i >= n_in:
        tally[1] = 1
        return
    if e > 0:
        r0, t0, i0 = rows[e - 1], steps[e - 1], units[e - 1]
        if r0 > r or (r0 == r and (t0 > t or (t0 == t and i0 > i))):
            tally[2] = 1
        elif r0 == r and t0 == t and i0 == i:
            tally[3] = 1
    if t < n_steps:
        events[cuda.atomic.add(tally, 0, 1)] = (r * n_steps + t) * n_in + i


@cuda.jit
def _largest(values, result):  # pragma: no cover - device code
    k = cuda.grid(1)
    if k < values.shape[0]:
        cuda.atomic.max(result, 0, values[k])


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
        device = _as_device(spikes)
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

    def apply_events(self, steps, units, n_steps: int, rows=None, n_rows: int | None = None):
        """:meth:`neurosig.kernels.delays.EventDrivenDelays.apply_events` on device arrays (numba, CuPy
        or torch); the output is a numba device array. Events not in order of row, step, then input
        are sorted on the host first (a round trip); the CPU path sorts only by row and step."""
        squeeze = rows is None
        units, steps = _device_events(units, "units"), _device_events(steps, "steps")
        rows = device_full(units.shape[0], 0) if squeeze else _device_events(rows, "rows")
        if not steps.shape[0] == units.shape[0] == rows.shape[0]:
            raise DataError(
                f"steps, units and rows must hold one value per spike; got lengths {steps.shape[0]}, "
                f"{units.shape[0]} and {rows.shape[0]}."
            )
        if squeeze:
            n_rows = 1
        elif n_rows is None:
            n_rows = max(_largest_value(rows) + 1, 0) if rows.shape[0] else 0
        out = device_full((n_rows, n_steps, self.n_out), 0, np.float32)
        tally = self._list_and_add(rows, steps, units, n_rows, n_steps, out)
        if tally[2] and not tally[1]:  # out of order: sort on the host, then list again
            host = [a.copy_to_host() for a in (rows, steps, units)]
            order = np.lexsort((host[2], host[1], host[0]))
            rows, steps, units = (cuda.to_device(np.ascontiguousarray(a[order])) for a in host)
            tally = self._list_and_add(rows, steps, units, n_rows, n_steps, out)  # out is still zeros
        if tally[1]:
            raise DataError(
                f"spike events out of range: steps must be >= 0, inputs in [0, {self.n_in}) and rows in "
                f"[0, {n_rows})."
            )
        if tally[3]:
            raise repeated_spike_error()
        return out[0] if squeeze else out

    def _list_and_add(self, rows, steps, units, n_rows: int, n_steps: int, out) -> np.ndarray:
        """List the events, then add their synapses into ``out`` unless a check failed; the tally."""
        n = steps.shape[0]
        events = cuda.device_array(max(n, 1), dtype=np.int64)
        tally = device_full(4)
        if n:
            _list_events[blocks(n), THREADS](rows, steps, units, n_rows, n_steps, self.n_in, events, tally)
        counts = tally.copy_to_host()  # the one trip back to the host
        if counts[0] and self.n_out and not counts[1:].any():
            _scatter[blocks(counts[0] * self.n_out), THREADS](
                events, counts[0], n_steps, self.n_in, self._weight_t, self._delay_t, out
            )
        return counts


def _as_device(values):
    """A numba device array as it is; a CuPy or torch CUDA array as a numba view of the same memory."""
    return values if hasattr(values, "copy_to_host") else cuda.as_cuda_array(values)


def _device_events(values, name: str):
    """``values`` as a 1-D integer device array, or a :class:`DataError` naming ``name``."""
    device = _as_device(values)
    if device.ndim != 1 or not np.issubdtype(device.dtype, np.integer):
        raise DataError(
            f"{name} must be a 1-D integer array, one value per spike; got {device.dtype} {device.shape}."
        )
    return device


def _largest_value(values) -> int:
    """The largest value of a non-empty integer device array (one trip back to the host)."""
    result = device_full(1, np.iinfo(np.int64).min)
    _largest[blocks(values.shape[0]), THREADS](values, result)
    return int(result.copy_to_host()[0])
