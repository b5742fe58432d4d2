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


@njit(parallel=True)
def _scatter_cpu(spikes, weight_t, offset_t, delay_t, max_delay, out, bad):  # pragma: no cover - compiled
    """For every spike ``spikes[b, t, i] == 1``: ``out[b, t * n_out + offset_t[i, o]] += weight_t[i, o]``.

    ``offset_t[i, o] = delay[o, i] * n_out + o`` flattens the (time, output) index, so the inner loop
    is one gather and one add; only steps within ``max_delay`` of the horizon check the bound. Batch
    rows run in parallel (each writes only its own row). A value that is neither 0 nor 1 is skipped
    and marks ``bad[b]``, so the caller can raise.
    """
    n_batch, n_steps, n_in = spikes.shape
    n_out = weight_t.shape[1]
    horizon = out.shape[1] // n_out
    for b in prange(n_batch):
        row = out[b]
        for t in range(n_steps):
            base = t * n_out
            safe = t + max_delay < horizon
            for i in range(n_in):
                v = spikes[b, t, i]
                if v == 0:
                    continue
                if v != 1:
                    bad[b] = True
                    continue
                if safe:
                    for o in range(n_out):
                        row[base + offset_t[i, o]] += weight_t[i, o]
                else:
                    for o in range(n_out):
                        if t + delay_t[i, o] < horizon:
                            row[base + offset_t[i, o]] += weight_t[i, o]


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
    if delay_in.size and (np.any(delay_in < 0) or np.any(delay_in != np.round(delay_in))):
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
    n_batch, n_out = spikes.shape[0], weight.shape[0]
    max_delay = int(delay.max()) if delay.size else 0
    offset_t = np.ascontiguousarray((delay * n_out + np.arange(n_out)[:, None]).T)
    flat = np.zeros((n_batch, horizon * n_out), dtype=np.float32)
    spikes = np.ascontiguousarray(spikes, dtype=np.float32)
    bad = np.zeros(n_batch, dtype=np.bool_)
    delay_t = np.ascontiguousarray(delay.T)
    _scatter_cpu(spikes, np.ascontiguousarray(weight.T), offset_t, delay_t, max_delay, flat, bad)
    if bad.any():
        check_binary(spikes)  # raises, naming the first offending value
    out = flat.reshape(n_batch, horizon, n_out)
    return out[0] if squeeze else out
