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

from neurosig.kernels._numba import njit

__all__ = ["feast_kernel"]


@njit
def feast_kernel(
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
    features,
    history,
):  # pragma: no cover - compiled
    """Run FEAST over events in place; see the module docstring.

    ``last_ts`` (float64 ``(width, height)``, ``-inf`` for never), ``weights`` ``(n, (2r+1)²)`` and
    ``thresholds`` ``(n,)`` are updated in place and carry the state across calls. ``features[e]``
    receives the winner or -1. Every ``record_every`` events the thresholds are copied into the next
    row of ``history``; the number of rows written is returned.
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
        if record_every > 0 and (e + 1) % record_every == 0 and rows < history.shape[0]:
            for i in range(n_neurons):
                history[rows, i] = thresholds[i]
            rows += 1
    return rows
