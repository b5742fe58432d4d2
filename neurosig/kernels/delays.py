"""Event-driven synaptic delays: each input spike adds its synapses' weights ``delay`` steps later.

For integer delays ``d[o, i]`` and weights ``w[o, i]`` the output is
``y[b, t, o] = sum_i w[o, i] * s[b, t - d[o, i], i]`` — exactly the causal convolution of
:class:`neurosig.snn.delays.DelayedSynapses` after :meth:`~neurosig.snn.delays.DelayedSynapses.round_delays`
— computed at a cost of ``n_spikes × out`` instead of ``T × in × out × K``.

:func:`delayed_scatter` is the public entry point: it validates, converts and dispatches to the
Numba CPU kernel, or to the ``numba.cuda`` twin in :mod:`neurosig.kernels.delays_cuda` when the spikes
live on a GPU.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from neurosig.core.errors import DataError
from neurosig.kernels._numba import njit, on_gpu

__all__ = ["check_delay_params", "check_binary", "delayed_scatter"]

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
def _tables(weight, delay, n_delays, offset):  # pragma: no cover - compiled
    """Per input ``i``, its ``(offset, weight)`` pairs sorted by delay, and prefix counts by delay.

    ``offset[i, k] = d * n_out + o`` and ``weight_s[i, k] = weight[o, i]`` list the synapses of input
    ``i`` in order of delay ``d = delay[o, i]`` (then of ``o``), so that one spike's adds walk forward
    through the output; ``count[i, r]`` (``0 <= r <= n_delays + 1``) is how many of them have
    ``d < r``, so a spike ``r`` steps before the horizon touches exactly the first ``count[i, r]``
    entries. Delays ``>= n_delays`` are clipped to ``n_delays`` (they never land inside the output).
    """
    n_out, n_in = weight.shape
    weight_s = np.empty((n_in, n_out), np.float32)
    count = np.zeros((n_in, n_delays + 2), np.int64)
    fill = np.empty((n_in, n_delays + 1), np.int64)
    for i in prange(n_in):
        c = count[i]
        for o in range(n_out):
            c[min(delay[o, i], n_delays) + 1] += 1
        for r in range(1, n_delays + 2):
            c[r] += c[r - 1]
        f = fill[i]
        f[:] = c[: n_delays + 1]
        for o in range(n_out):
            d = min(delay[o, i], n_delays)
            k = f[d]
            f[d] = k + 1
            offset[i, k] = d * n_out + o
            weight_s[i, k] = weight[o, i]
    return weight_s, count


@njit
def _scatter_row(spikes, offset, weight_s, count, max_delay, gap, horizon, row, ev_t, ev_i, ev_next, last):
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
        n_first = n_out if horizon - t > max_delay else count[i, horizon - t]
        base = np.uint64(t) * width
        done = 0
        e2 = ev_next[e]
        if e2 >= 0 and ev_t[e2] - t <= gap:
            t2 = ev_t[e2]
            ev_t[e2] = -1
            n_both = n_out if horizon - t2 > max_delay else count[i, horizon - t2]
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
def _scatter_cpu(spikes, offset, weight_s, count, max_delay, gap, out, bad):  # pragma: no cover - compiled
    """For every spike ``spikes[b, t, i] == 1`` and output ``o``: ``out[b, (t + delay[o, i]) * n_out + o]
    += weight[o, i]``, dropping what lands at or after the horizon ``out.shape[1] // n_out``.

    ``offset``, ``weight_s``, ``count`` come from :func:`_tables` (``max_delay`` is its ``n_delays``).
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
            spikes[b], offset, weight_s, count, max_delay, gap, horizon, out[b], ev_t, ev_i, ev_next, last
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


def delayed_scatter(spikes, weight: np.ndarray, delay: np.ndarray, n_steps: int | None = None):
    """Event-driven delayed synapses.

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
    weight, delay = check_delay_params(weight, delay)
    if n_steps is not None and int(n_steps) < 0:
        raise DataError(f"n_steps must be >= 0 (the output length in time steps); got {n_steps}.")
    if on_gpu(spikes):
        from neurosig.kernels.delays_cuda import delayed_scatter_cuda

        return delayed_scatter_cuda(spikes, weight, delay, n_steps)
    spikes = np.asarray(spikes)
    squeeze = spikes.ndim == 2
    if squeeze:
        spikes = spikes[None]
    if spikes.ndim != 3 or spikes.shape[2] != weight.shape[1]:
        raise DataError(
            f"spikes must have shape (batch, T, {weight.shape[1]}) or (T, {weight.shape[1]}) to match "
            f"weight (out, in) = {weight.shape}; got {np.shape(spikes)}."
        )
    horizon = spikes.shape[1] if n_steps is None else int(n_steps)
    n_batch, (n_out, n_in) = spikes.shape[0], weight.shape
    n_delays = min(int(delay.max()) if delay.size else 0, horizon)
    # offsets d * n_out + o < (n_delays + 1) * n_out: 32 bits whenever they fit (half the table traffic)
    wide = (n_delays + 1) * max(n_out, 1) >= 2**32
    offset = np.empty((n_in, n_out), dtype=np.uint64 if wide else np.uint32)
    weight_s, count = _tables(weight, delay, n_delays, offset)
    flat = _empty_on_huge_pages((n_batch, horizon * n_out))
    spikes = np.ascontiguousarray(spikes, dtype=np.float32)
    bad = np.zeros(n_batch, dtype=np.bool_)
    _scatter_cpu(spikes, offset, weight_s, count, n_delays, PAIR_GAP, flat, bad)
    if bad.any() or horizon < spikes.shape[1]:  # the kernel reads no step at or after the horizon
        check_binary(spikes)  # raises, naming the first offending value
    out = flat.reshape(n_batch, horizon, n_out)
    return out[0] if squeeze else out
