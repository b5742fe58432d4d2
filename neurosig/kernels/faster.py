"""Hot loops of FASTER: Hurst exponents, gradients and per-epoch statistics.

The public functions validate and convert (to float64, keeping any strides: a view of MNE's
channels-major epochs is read where it lies, not copied) and call the jitted kernels. All functions
reduce along the last axis of a 2-D array ``(n_series, n_times)`` (epochs are viewed as
``(n_epochs * n_channels, n_times)`` by the callers). The units of the outputs are those of the
input (volts, volts², ...), except the Hurst exponents, which are dimensionless.
"""

from __future__ import annotations

import numpy as np

from neurosig.errors import DataError
from neurosig.kernels._numba import njit

__all__ = [
    "excess_kurtosis",
    "hurst_diff",
    "hurst_dispersional",
    "median_gradient",
    "series_stats",
]


def _as_2d(x: np.ndarray, min_times: int, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise DataError(f"{what} needs a 2-D array (n_series, n_times), got shape {x.shape}.")
    if x.shape[1] < min_times:
        raise DataError(
            f"{what} needs at least {min_times} samples per series, got {x.shape[1]}; use longer epochs."
        )
    return x


@njit
def _hurst_diff(x):
    n_series, n = x.shape
    out = np.empty(n_series)
    for i in range(n_series):
        s1 = 0.0
        s2 = 0.0
        # Second differences at lag 1 (samples 3 .. n-2) and lag 2 (samples 5 .. n-2).
        # One loop for both sums (two independent chains of adds), each in the order of k.
        for k in range(3, min(5, n - 1)):
            d1 = x[i, k] - 2.0 * x[i, k - 1] + x[i, k - 2]
            s1 += d1 * d1
        for k in range(5, n - 1):
            d1 = x[i, k] - 2.0 * x[i, k - 1] + x[i, k - 2]
            d2 = x[i, k] - 2.0 * x[i, k - 2] + x[i, k - 4]
            s1 += d1 * d1
            s2 += d2 * d2
        m1 = s1 / (n - 4)
        m2 = s2 / (n - 6)
        out[i] = 0.5 * np.log2(m2 / m1) if m1 > 0.0 and m2 > 0.0 else np.nan
    return out


def hurst_diff(x: np.ndarray) -> np.ndarray:
    """Hurst exponent from the ratio of second differences at lags 2 and 1 (mne-faster's estimator).

    ``H = ½ · log2(mean(d2²) / mean(d1²))`` where ``d1[k] = x[k] − 2x[k−1] + x[k−2]`` and ``d2`` is the
    same at lag 2, over the samples mne-faster keeps (it drops the filter's start-up and last sample).

    Parameters
    ----------
    x : ndarray, shape (n_series, n_times)
        Time series (any unit); ``n_times >= 8``.

    Returns
    -------
    h : ndarray, shape (n_series,)
        Hurst exponents (dimensionless); NaN for a series whose second differences are all zero.
    """
    return _hurst_diff(_as_2d(x, 8, "hurst_diff"))


@njit
def _hurst_dispersional(x, scales):
    n_series, n = x.shape
    n_scales = scales.shape[0]
    out = np.empty(n_series)
    logm = np.log(scales.astype(np.float64))
    for i in range(n_series):
        logsd = np.empty(n_scales)
        ok = True
        for s in range(n_scales):
            m = scales[s]
            n_bins = n // m
            total = 0.0
            total2 = 0.0
            for b in range(n_bins):
                acc = 0.0
                for k in range(b * m, (b + 1) * m):
                    acc += x[i, k]
                mean = acc / m
                total += mean
                total2 += mean * mean
            grand = total / n_bins
            var = total2 / n_bins - grand * grand
            if var <= 0.0:
                ok = False
                break
            logsd[s] = 0.5 * np.log(var)
        if not ok:
            out[i] = np.nan
            continue
        # Least-squares slope of log(SD of bin means) against log(bin size); H = 1 + slope.
        mx = logm.mean()
        my = logsd.mean()
        num = 0.0
        den = 0.0
        for s in range(n_scales):
            num += (logm[s] - mx) * (logsd[s] - my)
            den += (logm[s] - mx) ** 2
        out[i] = 1.0 + num / den
    return out


def hurst_dispersional(x: np.ndarray, min_bins: int = 8) -> np.ndarray:
    """Hurst exponent by dispersional analysis (Bassingthwaighte), as the FASTER paper uses.

    The series is cut into bins of ``m = 1, 2, 4, ...`` samples (at least ``min_bins`` bins each); the
    standard deviation of the bin means scales as ``m^(H−1)``, so ``H`` is one plus the least-squares
    slope of ``log SD`` against ``log m``. White noise gives 0.5; smoother (drifting, 1/f) series more.

    Parameters
    ----------
    x : ndarray, shape (n_series, n_times)
        Time series (any unit); ``n_times >= 4 * min_bins``.
    min_bins : int
        Fewest bins at the largest scale.

    Returns
    -------
    h : ndarray, shape (n_series,)
        Hurst exponents (dimensionless); NaN for a constant series.
    """
    x = _as_2d(x, 4 * min_bins, "hurst_dispersional")
    n_scales = int(np.floor(np.log2(x.shape[1] / min_bins))) + 1
    scales = (2 ** np.arange(n_scales)).astype(np.int64)
    return _hurst_dispersional(x, scales)


@njit
def _select(values, k, below, above):  # pragma: no cover - compiled
    # The k-th smallest of ``values`` (left as it is); ``below`` and ``above`` are scratch of its size.
    # Quickselect whose partition has no data-dependent branch (each value is written to both sides,
    # and only the side's count moves), so random data costs no mispredictions: about three passes
    # over the data in all. Values equal to the pivot are counted, not kept. A pass writes a side at an
    # index no larger than the one it reads, so the side it reads from can be rewritten in place.
    source = values
    n = values.shape[0]
    for _ in range(64):
        if n <= 1:
            return source[0]
        x, y, z = source[0], source[n // 2], source[n - 1]
        pivot = max(min(x, y), min(max(x, y), z))
        n_below = 0
        n_above = 0
        for j in range(n):
            v = source[j]
            below[n_below] = v
            n_below += v < pivot
            above[n_above] = v
            n_above += v > pivot
        if k < n_below:
            source, n = below, n_below
        elif k < n - n_above:
            return pivot
        else:
            source, k, n = above, k - (n - n_above), n_above
    return np.sort(source[:n])[k]  # adversarial data only


@njit
def _median_gradient(x, absolute):  # pragma: no cover - compiled
    n_series, n = x.shape
    out = np.empty(n_series)
    m = n - 1
    buf, below, above = np.empty(m), np.empty(m), np.empty(m)
    for i in range(n_series):
        for k in range(m):
            d = x[i, k + 1] - x[i, k]
            buf[k] = abs(d) if absolute else d
        upper = _select(buf, m // 2, below, above)
        if m % 2:
            out[i] = upper
        else:  # the mean of the two middle values, as np.median takes it
            out[i] = (_select(buf, m // 2 - 1, below, above) + upper) / 2.0
    return out


def median_gradient(x: np.ndarray, absolute: bool = False) -> np.ndarray:
    """Median of the first difference of each series (the paper's signed gradient, or of ``|diff|``).

    Parameters
    ----------
    x : ndarray, shape (n_series, n_times)
        Time series in any unit; ``n_times >= 2``.
    absolute : bool
        Take the median of ``|diff|`` (mne-faster) instead of ``diff`` (the paper).

    Returns
    -------
    g : ndarray, shape (n_series,)
        Median gradient in the input's unit per sample.
    """
    return _median_gradient(_as_2d(x, 2, "median_gradient"), absolute)


@njit
def _sum4(x, i, centre, power):  # pragma: no cover - compiled
    # sum_k (x[i, k] - centre) ** power (power 1 or 2) over four interleaved partial sums, so that the
    # adds do not wait on each other (a single running sum is bound by the add latency).
    n = x.shape[1]
    s0 = s1 = s2 = s3 = 0.0
    n4 = n - n % 4
    for k in range(0, n4, 4):
        d0, d1, d2, d3 = x[i, k] - centre, x[i, k + 1] - centre, x[i, k + 2] - centre, x[i, k + 3] - centre
        if power == 2:
            d0, d1, d2, d3 = d0 * d0, d1 * d1, d2 * d2, d3 * d3
        s0 += d0
        s1 += d1
        s2 += d2
        s3 += d3
    for k in range(n4, n):
        d = x[i, k] - centre
        s0 += d * d if power == 2 else d
    return (s0 + s1) + (s2 + s3)


@njit
def _series_stats(x):  # pragma: no cover - compiled
    n_series, n = x.shape
    mean = np.empty(n_series)
    var = np.empty(n_series)
    ptp = np.empty(n_series)
    for i in range(n_series):
        lo = x[i, 0]
        hi = x[i, 0]
        for k in range(n):
            lo = min(lo, x[i, k])
            hi = max(hi, x[i, k])
        m = _sum4(x, i, 0.0, 1) / n
        mean[i] = m
        var[i] = _sum4(x, i, m, 2) / n
        ptp[i] = hi - lo
    return mean, var, ptp


def series_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance (population, ``ddof=0``) and peak-to-peak range of each series in one pass.

    Parameters
    ----------
    x : ndarray, shape (n_series, n_times)
        Time series in volts (or any unit); ``n_times >= 1``.

    Returns
    -------
    mean : ndarray, shape (n_series,)
        In the input's unit.
    var : ndarray, shape (n_series,)
        In the input's unit squared.
    ptp : ndarray, shape (n_series,)
        Maximum minus minimum, in the input's unit.
    """
    return _series_stats(_as_2d(x, 1, "series_stats"))


@njit
def _excess_kurtosis(x):
    n_series, n = x.shape
    out = np.empty(n_series)
    for i in range(n_series):
        m = _sum4(x, i, 0.0, 1) / n
        m2 = 0.0
        m4 = 0.0
        for k in range(n):
            d = x[i, k] - m
            d2 = d * d
            m2 += d2
            m4 += d2 * d2
        m2 /= n
        m4 /= n
        out[i] = m4 / (m2 * m2) - 3.0 if m2 > 0.0 else np.nan
    return out


def excess_kurtosis(x: np.ndarray) -> np.ndarray:
    """Excess (Fisher) kurtosis of each series, biased estimator (as ``scipy.stats.kurtosis``).

    Parameters
    ----------
    x : ndarray, shape (n_series, n_times)
        Time series in any unit.

    Returns
    -------
    k : ndarray, shape (n_series,)
        ``m4 / m2² − 3`` (dimensionless; 0 for a Gaussian); NaN for a constant series.
    """
    return _excess_kurtosis(_as_2d(x, 2, "excess_kurtosis"))
