"""FEAST: online event-based feature extraction with adaptive selection thresholds (Numba kernel).

Afshar, Ralph, Xu, Tapson, van Schaik & Cohen (2020), "Event-based feature extraction using adaptive
selection thresholds", Sensors 20(6):1600. Per event, in time order:

1. the pixel's last timestamp becomes ``t``; the context ``c`` is ``exp((T - t) / tau)`` over the
   ``(2r + 1)²`` window of last timestamps ``T`` (0 for pixels outside the sensor or never seen),
   normalised to unit length;
2. each neuron's match is ``d_i = w_i · c``; the candidates are the neurons with ``d_i >= theta_i``;
3. no candidate: every threshold falls by ``d_open`` (a *missed* event, output ``-1``);
4. else the best candidate ``k`` wins: ``w_k <- normalise(w_k + eta (c - w_k))`` and
   ``theta_k += d_close`` (learning only when ``learn``), and the event is emitted as feature ``k``.

Polarity is ignored (one time surface for both polarities).
"""

from __future__ import annotations

import math

import numpy as np

from neurosig.dtypes import check_events_dtype
from neurosig.errors import DataError
from neurosig.kernels._numba import njit

__all__ = ["feast"]


@njit
def _feast_kernel(
    t,
    x,
    y,
    last_ts,
    weights,
    thresholds,
    radius,
    tau_us,
    eta,
    d_open,
    d_close,
    learn,
    record_every,
    first,
    features,
    history,
):  # pragma: no cover - compiled
    """Run FEAST over events in place; see the module docstring.

    ``last_ts`` (float64 ``(width, height)``, ``-inf`` for never), ``weights`` ``(n, (2r+1)²)`` and
    ``thresholds`` ``(n,)`` are updated in place and carry the state across calls. ``features[e]``
    receives the winner or -1. After event ``first`` and every ``record_every`` events after it, the
    thresholds are copied into the next row of ``history``; the number of rows written is returned.
    """
    width, height = last_ts.shape
    n_neurons, size = weights.shape
    side = 2 * radius + 1
    context = np.empty(size)
    rows = 0
    for e in range(t.shape[0]):
        now = float(t[e])
        cx, cy = int(x[e]), int(y[e])
        last_ts[cx, cy] = now
        norm = 0.0
        for dx in range(side):
            px = cx + dx - radius
            for dy in range(side):
                py = cy + dy - radius
                v = 0.0
                if 0 <= px < width and 0 <= py < height:
                    v = math.exp((last_ts[px, py] - now) / tau_us)
                context[dx * side + dy] = v
                norm += v * v
        norm = math.sqrt(norm)
        for k in range(size):
            context[k] /= norm
        winner = -1
        best = -np.inf
        for i in range(n_neurons):
            d = 0.0
            for k in range(size):
                d += weights[i, k] * context[k]
            if d >= thresholds[i] and d > best:
                best = d
                winner = i
        features[e] = winner
        if learn:
            if winner < 0:
                for i in range(n_neurons):
                    thresholds[i] -= d_open
            else:
                wn = 0.0
                for k in range(size):
                    w = weights[winner, k] + eta * (context[k] - weights[winner, k])
                    weights[winner, k] = w
                    wn += w * w
                wn = math.sqrt(wn)
                for k in range(size):
                    weights[winner, k] /= wn
                thresholds[winner] += d_close
        if e >= first and (e - first) % record_every == 0 and rows < history.shape[0]:
            for i in range(n_neurons):
                history[rows, i] = thresholds[i]
            rows += 1
    return rows


def feast(
    events: np.ndarray,
    last_ts: np.ndarray,
    weights: np.ndarray,
    thresholds: np.ndarray,
    radius: int,
    tau: float,
    eta: float,
    d_open: float,
    d_close: float,
    learn: bool = True,
    record_every: int = 100,
    offset: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Run FEAST over time-ordered events, updating the state arrays in place.

    Parameters
    ----------
    events : ndarray of EVENTS_DTYPE
        Events in time order (``t`` in µs); polarity is ignored.
    last_ts : ndarray of float64, shape (width, height)
        Last timestamp per pixel in µs (``-inf``: never), updated in place.
    weights : ndarray of float64, shape (n_neurons, (2 * radius + 1) ** 2)
        Unit-norm neuron weights, updated in place when learning.
    thresholds : ndarray of float64, shape (n_neurons,)
        Selection thresholds, updated in place when learning.
    radius : int
        Context radius in pixels.
    tau : float
        Time-surface decay in seconds.
    eta, d_open, d_close : float
        Learning rate, threshold decrease on a missed event, threshold increase of a winner.
    learn : bool
        Adapt weights and thresholds.
    record_every : int
        Record the thresholds after every ``record_every``-th event of the whole stream.
    offset : int
        Number of events of the stream already processed (keeps the recording grid across calls).

    Returns
    -------
    features : ndarray of int64, shape (n_events,)
        The winner per event, ``-1`` for a missed event.
    history : ndarray, shape (n_records, n_neurons)
        The recorded thresholds.

    Raises
    ------
    DataError
        On a wrong dtype, pixels outside ``last_ts``, decreasing timestamps or mismatched state shapes.
    """
    check_events_dtype(events, "FEAST events")
    width, height = last_ts.shape
    if len(events) and (events["x"].max() >= width or events["y"].max() >= height):
        raise DataError(f"events fall outside the {width}x{height} sensor; check sensor_size.")
    if len(events) > 1 and np.any(np.diff(events["t"]) < 0):
        raise DataError("event timestamps must not decrease; sort the events by t first.")
    side = 2 * radius + 1
    if weights.shape != (len(thresholds), side * side):
        raise DataError(f"weights must have shape ({len(thresholds)}, {side * side}), got {weights.shape}.")
    features = np.empty(len(events), dtype=np.int64)
    first = (record_every - 1 - offset) % record_every  # local index of the first recorded event
    n_records = (len(events) - first - 1) // record_every + 1 if len(events) > first else 0
    history = np.empty((n_records, len(thresholds)))
    rows = _feast_kernel(
        events["t"].astype(np.float64),
        events["x"],
        events["y"],
        last_ts,
        weights,
        thresholds,
        radius,
        tau * 1e6,
        eta,
        d_open,
        d_close,
        learn,
        record_every,
        first,
        features,
        history,
    )
    return features, history[:rows]
