"""Event-driven synaptic delays: each input spike adds its synapses' weights ``delay`` steps later.

For integer delays ``d[o, i]`` and weights ``w[o, i]`` the output is
``y[b, t, o] = sum_i w[o, i] * s[b, t - d[o, i], i]`` — exactly the causal convolution of
:class:`neurosig.snn.delays.DelayedSynapses` after :meth:`~neurosig.snn.delays.DelayedSynapses.round_delays`
— computed at a cost of ``n_spikes × out`` instead of ``T × in × out × K``.

:func:`delayed_scatter` is the public entry point: it validates, converts and dispatches to the
Numba CPU kernel, or to the ``numba.cuda`` twin in :mod:`neurosig.kernels.delays_cuda` when the spikes
live on a GPU (they stay there: the output is a device array).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from neurosig.core.errors import DataError
from neurosig.kernels._numba import njit, on_gpu

__all__ = ["EventDrivenDelays", "check_delay_params", "check_binary", "delayed_scatter"]

#: Two spikes of one input at most this many steps apart share one pass over its synapse table.
PAIR_GAP = 25

_HUGE_PAGE = 2 << 20


def _empty_on_huge_pages(shape: tuple[int, ...]) -> np.ndarray:
    """``np.empty(shape, float32)`` starting on a 2 MiB boundary when it is 4 MiB or more.

    numpy asks for transparent huge pages on large buffers, but only the 2 MiB-aligned middle of an
    unaligned buffer gets them; the rest is faulted in 4 KiB at a time (about 550 page faults for the
    6.5 MB SHD benchmark output, against 68 when aligned, worth ~0.8 ms of one core). Costs at most
    2 MiB more memory.
    """
    nbytes = int(np.prod(shape)) * 4
    if nbytes < 2 * _HUGE_PAGE:
        return np.empty(shape, dtype=np.float32)
    raw = np.empty(nbytes + _HUGE_PAGE, dtype=np.uint8)
    start = -raw.ctypes.data % _HUGE_PAGE
    return raw[start : start + nbytes].view(np.float32).reshape(shape)


@njit(parallel=True)
def _sorted_tables(weight, delay, max_delay, offset, weight_s):  # pragma: no cover - compiled
    # Per input (in parallel): its synapses sorted by delay, ties in the order of o. A counting sort
    # when the delays are few (the usual case: a few dozen steps), a stable argsort otherwise, so
    # that no array is sized by a very long delay.
    n_out, n_in = weight.shape
    counting = max_delay < 4 * n_out
    for i in prange(n_in):
        if counting:
            start = np.zeros(max_delay + 2, np.int64)
            for o in range(n_out):
                start[delay[o, i] + 1] += 1
            for d in range(max_delay + 1):
                start[d + 1] += start[d]
            order = np.empty(n_out, np.int64)
            for o in range(n_out):
                d = delay[o, i]
                order[start[d]] = o
                start[d] += 1
        else:
            order = np.argsort(delay[:, i], kind="mergesort")
        for k in range(n_out):
            o = order[k]
            d = delay[o, i]
            offset[i, k] = d * n_out + o
            weight_s[i, k] = weight[o, i]


def _tables(weight: np.ndarray, delay: np.ndarray, max_delay: int) -> tuple[np.ndarray, np.ndarray]:
    """Per input ``i``, its synapses sorted by delay: ``(offset, weight_s)``, each ``(in, out)``.

    ``offset[i, k] = d * n_out + o`` and ``weight_s[i, k] = weight[o, i]`` list the synapses of input
    ``i`` in order of delay ``d = delay[o, i]`` (then of ``o``), so that one spike's adds walk forward
    through the output. A row of offsets increases strictly, so a spike ``r`` steps before the
    horizon touches exactly the prefix with ``offset < r * n_out`` (found by bisection). Offsets are
    32-bit whenever they fit (half the table traffic).
    """
    n_out, n_in = weight.shape
    wide = (max_delay + 1) * max(n_out, 1) >= 2**32
    offset = np.empty((n_in, n_out), dtype=np.uint64 if wide else np.uint32)
    weight_s = np.empty((n_in, n_out), dtype=np.float32)
    _sorted_tables(weight, delay, max_delay, offset, weight_s)
    return offset, weight_s


@njit
def _n_inside(offset, start, n, max_delay, room):  # pragma: no cover - compiled
    # How many synapses of the table offset[start : start + n] land less than ``room`` steps ahead:
    # all when room > max_delay, else the prefix with offset < room * n (bisection).
    if room > max_delay:
        return n
    limit = np.uint64(room) * np.uint64(n)
    lo = 0
    hi = n
    while lo < hi:
        mid = (lo + hi) // 2
        if np.uint64(offset[start + mid]) < limit:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit
def _scatter_row(spikes, offset, weight_s, max_delay, gap, horizon, row, ev_t, ev_i, ev_next, last):
    """One batch row: ``row[(t + d) * n_out + o] += w`` for every spike; returns whether a spike was not 0/1.

    Spikes are first listed in time order (branch-free compaction), each linked to the next spike of
    the same input. A spike and the next one of its input, if at most ``gap`` steps later, share one
    pass over the input's table (one load of each offset and weight feeds two adds: 3 memory
    operations per add instead of 4); the rows being written stay within ``gap + max_delay`` steps,
    so they stay in cache. Near the horizon a spike walks only the prefix of its delay-sorted table
    that still lands inside the row, so the inner loops test no bounds. Indices are unsigned so that
    Numba emits no negative-index wraparound code in the inner loops.
    """
    n_in = spikes.shape[1]
    n_out = offset.shape[1]
    offset = offset.ravel()
    weight_s = weight_s.ravel()
    n_steps = min(spikes.shape[0], horizon)
    width = np.uint64(n_out)
    row[:] = 0  # here rather than np.zeros: the page faults and the memset split across threads
    flat = spikes.ravel()
    m = 0
    for k in range(n_steps * n_in):
        ev_t[m] = k
        m += flat[k] != 0
    bad = False
    for i in range(n_in):
        last[i] = -1
    for e in range(m - 1, -1, -1):
        k = ev_t[e]
        bad |= flat[k] != 1
        t = k // n_in
        i = k - t * n_in
        ev_t[e] = t
        ev_i[e] = i
        ev_next[e] = last[i]
        last[i] = e
    for e in range(m):
        t = ev_t[e]
        if t < 0:  # already added as the second of a pair
            continue
        i = ev_i[e]
        table = np.uint64(i) * width
        n_first = _n_inside(offset, table, n_out, max_delay, horizon - t)
        base = np.uint64(t) * width
        done = 0
        e2 = ev_next[e]
        if e2 >= 0 and ev_t[e2] - t <= gap:
            t2 = ev_t[e2]
            ev_t[e2] = -1
            n_both = _n_inside(offset, table, n_out, max_delay, horizon - t2)
            base2 = np.uint64(t2) * width
            for k in range(np.uint64(n_both)):
                at = np.uint64(offset[table + k])
                w = weight_s[table + k]
                row[base + at] += w
                row[base2 + at] += w
            done = n_both
        for k in range(np.uint64(done), np.uint64(n_first)):
            row[base + np.uint64(offset[table + k])] += weight_s[table + k]
    return bad


@njit(parallel=True)
def _scatter_cpu(spikes, offset, weight_s, max_delay, gap, out, bad):  # pragma: no cover - compiled
    """For every spike ``spikes[b, t, i] == 1`` and output ``o``: ``out[b, (t + delay[o, i]) * n_out + o]
    += weight[o, i]``, dropping what lands at or after the horizon ``out.shape[1] // n_out``.

    ``offset`` and ``weight_s`` come from :func:`_tables`; ``max_delay`` is the largest delay.
    Batch rows run in parallel (each writes only its own row). A value that is neither 0 nor 1
    marks ``bad[b]``, so the caller can raise.
    """
    n_batch, n_steps, n_in = spikes.shape
    horizon = out.shape[1] // offset.shape[1] if offset.shape[1] else 0
    for b in prange(n_batch):
        ev_t = np.empty(n_steps * n_in, np.int64)
        ev_i = np.empty(n_steps * n_in, np.int64)
        ev_next = np.empty(n_steps * n_in, np.int64)
        last = np.empty(n_in, np.int64)
        bad[b] = _scatter_row(
            spikes[b], offset, weight_s, max_delay, gap, horizon, out[b], ev_t, ev_i, ev_next, last
        )


def check_delay_params(weight: np.ndarray, delay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(weight, delay)`` of shape ``(out, in)`` and return them as float32 and int64.

    Raises
    ------
    DataError
        On mismatched shapes, non-finite weights, or negative or non-integer delays.
    """
    weight = np.asarray(weight, dtype=np.float32)
    delay_in = np.asarray(delay)
    if weight.ndim != 2 or delay_in.shape != weight.shape:
        raise DataError(
            f"weight and delay must both have shape (out, in); got {weight.shape} and {delay_in.shape}."
        )
    if not np.all(np.isfinite(weight)):
        raise DataError("weight contains NaN or infinite values; check the trained layer.")
    fractional = not np.issubdtype(delay_in.dtype, np.integer) and np.any(delay_in != np.round(delay_in))
    if delay_in.size and (np.any(delay_in < 0) or fractional):
        bad = delay_in[(delay_in < 0) | (delay_in != np.round(delay_in))].ravel()[0]
        raise DataError(
            f"delays must be non-negative integers of time steps, got {bad!r}; "
            "round trained positions with DelayedSynapses.delays()."
        )
    return weight, delay_in.astype(np.int64)


def check_binary(spikes: np.ndarray, what: str = "spikes") -> None:
    """Raise :class:`DataError` unless every value of ``spikes`` is 0 or 1."""
    bad = (spikes != 0) & (spikes != 1)
    if np.any(bad):
        where = tuple(int(v) for v in np.argwhere(bad)[0])
        raise DataError(
            f"{what} must be binary (0 or 1) for a spiking layer; found {spikes[where]!r} at index {where}. "
            "Clip spike counts with np.minimum(counts, 1) or bin more finely."
        )


class EventDrivenDelays:
    """Trained delayed synapses prepared once for event-driven inference.

    Validates ``(weight, delay)`` and builds the per-input synapse tables once, so that repeated
    calls (a streaming stage, batches of a test set) pay only for their spikes; the dense
    counterpart likewise builds its convolution kernel once. :func:`delayed_scatter` is the one-shot
    form.

    Parameters
    ----------
    weight : ndarray, shape (out, in)
        Synaptic weights.
    delay : ndarray of int, shape (out, in)
        Delays in time steps (``>= 0``).

    Raises
    ------
    DataError
        On mismatched shapes, non-finite weights, or negative or non-integer delays.
    """

    def __init__(self, weight: np.ndarray, delay: np.ndarray):
        self.weight, self.delay = check_delay_params(weight, delay)
        self.max_delay = int(self.delay.max(initial=0))
        self._offset, self._weight_s = _tables(self.weight, self.delay, self.max_delay)
        self._cuda = None

    def __call__(self, spikes, n_steps: int | None = None):
        """Summed weighted delayed spikes; see :func:`delayed_scatter` for the arguments and output."""
        if n_steps is not None and int(n_steps) < 0:
            raise DataError(f"n_steps must be >= 0 (the output length in time steps); got {n_steps}.")
        if on_gpu(spikes):
            if self._cuda is None:
                from neurosig.kernels.delays_cuda import CudaDelays

                self._cuda = CudaDelays(self.weight, self.delay)  # tables copied to the device once
            return self._cuda(spikes, n_steps)
        spikes = np.asarray(spikes)
        squeeze = spikes.ndim == 2
        if squeeze:
            spikes = spikes[None]
        n_out, n_in = self.weight.shape
        if spikes.ndim != 3 or spikes.shape[2] != n_in:
            raise DataError(
                f"spikes must have shape (batch, T, {n_in}) or (T, {n_in}) to match "
                f"weight (out, in) = {self.weight.shape}; got {np.shape(spikes)}."
            )
        horizon = spikes.shape[1] if n_steps is None else int(n_steps)
        flat = _empty_on_huge_pages((spikes.shape[0], horizon * n_out))
        spikes = np.ascontiguousarray(spikes, dtype=np.float32)
        bad = np.zeros(spikes.shape[0], dtype=np.bool_)
        _scatter_cpu(spikes, self._offset, self._weight_s, self.max_delay, PAIR_GAP, flat, bad)
        if bad.any() or horizon < spikes.shape[1]:  # the kernel reads no step at or after the horizon
            check_binary(spikes)  # raises, naming the first offending value
        out = flat.reshape(spikes.shape[0], horizon, n_out)
        return out[0] if squeeze else out


def delayed_scatter(spikes, weight: np.ndarray, delay: np.ndarray, n_steps: int | None = None):
    """Event-driven delayed synapses (one call; :class:`EventDrivenDelays` prepares them once).

    Parameters
    ----------
    spikes : ndarray, shape (batch, T, in) or (T, in)
        Binary spikes per time step (a CUDA array selects the GPU twin).
    weight : ndarray, shape (out, in)
        Synaptic weights.
    delay : ndarray of int, shape (out, in)
        Delays in time steps (``>= 0``).
    n_steps : int | None
        Length of the output along time (default ``T``); longer keeps contributions that fall after
        the input's last step, which the streaming stage carries over to the next chunk.

    Returns
    -------
    ndarray, shape (batch, n_steps, out) or (n_steps, out), float32
        Summed weighted delayed spikes (a device array when the input was one).

    Raises
    ------
    DataError
        On wrong shapes, negative delays or non-binary spikes.
    """
    return EventDrivenDelays(weight, delay)(spikes, n_steps)
