"""Stateful second-order-section IIR filtering of multichannel signals (Numba).

The same direct-form-II-transposed recursion as ``scipy.signal.sosfilt``, computed in float64 with
the state carried between calls, so chunked filtering equals filtering the whole signal. The loop
runs over samples, then sections, then channels: channels are independent, so the innermost loop
vectorises, which makes it about twice as fast as ``scipy.signal.sosfilt`` on 64 channels. The input
is read in place (any layout, no transposed copy) and checked for NaN and inf in the same call, so
a small chunk costs one compiled call.
"""

from __future__ import annotations

import numpy as np

from neurosig.kernels._numba import njit

__all__ = ["sosfilt_stateful", "sos_state"]


@njit
def _sosfilt(sos, x, state, y_t):  # pragma: no cover - compiled
    n_channels, n_samples = x.shape
    for c in range(n_channels):  # refuse NaN and inf before the state is touched
        for n in range(n_samples):
            if not np.isfinite(x[c, n]):
                return False
    n_sections = sos.shape[0]
    # the state in local 2-D arrays: LLVM then knows nothing aliases and vectorises over channels
    z0 = np.empty((n_sections, n_channels))
    z1 = np.empty((n_sections, n_channels))
    for s in range(n_sections):
        for c in range(n_channels):
            z0[s, c] = state[s, 0, c]
            z1[s, c] = state[s, 1, c]
    current = np.empty(n_channels)
    for n in range(n_samples):
        for c in range(n_channels):
            current[c] = x[c, n]
        for s in range(n_sections):
            b0, b1, b2, a1, a2 = sos[s, 0], sos[s, 1], sos[s, 2], sos[s, 4], sos[s, 5]
            za, zb = z0[s], z1[s]
            for c in range(n_channels):
                v = current[c]
                y = b0 * v + za[c]
                za[c] = b1 * v - a1 * y + zb[c]
                zb[c] = b2 * v - a2 * y
                current[c] = y
        for c in range(n_channels):
            y_t[n, c] = current[c]
    for s in range(n_sections):
        for c in range(n_channels):
            state[s, 0, c] = z0[s, c]
            state[s, 1, c] = z1[s, c]
    return True


def sos_state(n_sections: int, n_channels: int) -> np.ndarray:
    """A zero filter state for :func:`sosfilt_stateful`, shape ``(n_sections, 2, n_channels)``."""
    return np.zeros((n_sections, 2, n_channels))


def sosfilt_stateful(sos: np.ndarray, x: np.ndarray, state: np.ndarray) -> np.ndarray | None:
    """Filter ``x`` along its last axis with second-order sections, updating ``state`` in place.

    Parameters
    ----------
    sos : ndarray of float64, shape (n_sections, 6)
        Sections with ``a0 == 1`` (as ``scipy.signal`` designs them).
    x : ndarray, shape (n_channels, n_samples)
        Input, any real dtype and memory layout (read in place, no copy).
    state : ndarray of float64, shape (n_sections, 2, n_channels)
        Filter state from :func:`sos_state` or an earlier call; updated in place.

    Returns
    -------
    y : ndarray of float32, shape (n_channels, n_samples) | None
        The filtered signal; ``None`` when ``x`` holds a NaN or an infinite value (checked in the
        same compiled call, before ``state`` is touched).
    """
    y_t = np.empty((x.shape[1], x.shape[0]), dtype=np.float32)
    if not _sosfilt(sos, x, state, y_t):
        return None
    return y_t.T
