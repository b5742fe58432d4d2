"""``numba.cuda`` twins of the event filters in :mod:`neurosig.kernels.event_filters`.

Same arguments, same results, on device arrays. Both filters only need, for each event, the latest
earlier event at some pixel, so the events are first grouped by pixel (a counting sort on the
device: atomic counts, a block-wise prefix sum, an atomic scatter, then each pixel's short list
sorted back into stream order by one thread); each event then looks its neighbours up by binary
search in their lists, in parallel. The state array ``last`` (padded layout, see
:func:`~neurosig.kernels.event_filters.new_pixel_state`) is read for pixels with no earlier event in
the chunk and updated at the end.

Imported only when a device array reaches a filter, or under ``NUMBA_ENABLE_CUDASIM=1`` in tests.
"""

from __future__ import annotations

import numpy as np
from numba import cuda

from neurosig.kernels._cuda import THREADS, blocks, device_full

__all__ = ["denoise_mask_cuda", "refractory_mask_cuda"]


@cuda.jit
def _pixel_index(x, y, row, pix, counts):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < x.shape[0]:
        k = (np.int64(y[i]) + 1) * row + np.int64(x[i]) + 1
        pix[i] = k
        cuda.atomic.add(counts, k, 1)


@cuda.jit
def _scatter(pix, offsets, cursor, order):  # pragma: no cover - device code
    i = cuda.grid(1)
    if i < pix.shape[0]:
        k = pix[i]
        order[offsets[k] + cuda.atomic.add(cursor, k, 1)] = i


@cuda.jit
def _sort_segments(offsets, order):  # pragma: no cover - device code
    k = cuda.grid(1)
    if k < offsets.shape[0] - 1:
        for a in range(offsets[k] + 1, offsets[k + 1]):
            v = order[a]
            b = a - 1
            while b >= offsets[k] and order[b] > v:
                order[b + 1] = order[b]
                b -= 1
            order[b + 1] = v


@cuda.jit(device=True)
def _latest_before(t, order, offsets, last, k, i):  # pragma: no cover - device code
    """Latest timestamp at padded pixel ``k`` among events before ``i`` (or the carried state)."""
    lo = offsets[k]
    hi = offsets[k + 1]
    while lo < hi:
        mid = (lo + hi) // 2
        if order[mid] < i:
            lo = mid + 1
        else:
            hi = mid
    if lo > offsets[k]:
        return t[order[lo - 1]]
    return last[k]


@cuda.jit
def _denoise_kernel(t, pix, order, offsets, last, row, filter_time, neighbours, keep):  # pragma: no cover
    i = cuda.grid(1)
    if i < t.shape[0]:
        k = pix[i]
        since = t[i] - filter_time
        ok = False
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                if (dx == 0 and dy == 0) or (neighbours == 4 and dx != 0 and dy != 0):
                    continue
                if _latest_before(t, order, offsets, last, k + dy * row + dx, i) > since:
                    ok = True
        keep[i] = ok


@cuda.jit
def _refractory_kernel(t, order, offsets, last, period, keep):  # pragma: no cover - device code
    k = cuda.grid(1)
    if k < offsets.shape[0] - 1:
        prev = last[k]
        for a in range(offsets[k], offsets[k + 1]):
            i = order[a]
            keep[i] = t[i] - prev > period
            prev = t[i]


@cuda.jit
def _update_last(t, order, offsets, last):  # pragma: no cover - device code
    k = cuda.grid(1)
    if k < offsets.shape[0] - 1 and offsets[k + 1] > offsets[k]:
        last[k] = t[order[offsets[k + 1] - 1]]


@cuda.jit
def _scan_blocks(values, out, block_sums):  # pragma: no cover - device code
    # Inclusive prefix sum of each block of THREADS values (Hillis-Steele in shared memory); each
    # block's total goes to block_sums.
    tmp = cuda.shared.array(THREADS, np.int64)
    tid = cuda.threadIdx.x
    k = cuda.grid(1)
    tmp[tid] = values[k] if k < values.shape[0] else 0
    cuda.syncthreads()
    step = 1
    while step < THREADS:
        v = tmp[tid - step] if tid >= step else 0
        cuda.syncthreads()
        tmp[tid] += v
        cuda.syncthreads()
        step *= 2
    if k < values.shape[0]:
        out[k] = tmp[tid]
    if tid == THREADS - 1:
        block_sums[cuda.blockIdx.x] = tmp[tid]


@cuda.jit
def _add_block_offsets(out, scanned_sums):  # pragma: no cover - device code
    k = cuda.grid(1)
    b = cuda.blockIdx.x
    if k < out.shape[0] and b > 0:
        out[k] += scanned_sums[b - 1]


def _inclusive_scan(values, out) -> None:
    """``out[k] = values[0] + ... + values[k]`` for int64 device arrays, on the device: a scan per
    block of ``THREADS``, then the scanned block totals (recursively) added to the later blocks."""
    n_blocks = blocks(values.shape[0])
    sums = cuda.device_array(n_blocks, dtype=np.int64)
    _scan_blocks[n_blocks, THREADS](values, out, sums)
    if n_blocks > 1:
        scanned = cuda.device_array(n_blocks, dtype=np.int64)
        _inclusive_scan(sums, scanned)
        _add_block_offsets[n_blocks, THREADS](out, scanned)


def _group_by_pixel(index_kernel, index_args: tuple, n: int, n_pix: int):
    """Group ``n`` events by pixel: each event's pixel, CSR offsets per pixel, event indices per pixel.

    ``index_kernel[blocks, threads](*index_args, pix, counts)`` writes each event's pixel index into
    ``pix`` and counts the events per pixel (:func:`_pixel_index` for the padded filter layout); the
    events of a pixel keep their stream order. Everything stays on the device.
    """
    pix = cuda.device_array(n, dtype=np.int64)
    counts = device_full(n_pix)
    index_kernel[blocks(n), THREADS](*index_args, pix, counts)
    offsets = device_full(n_pix + 1)
    _inclusive_scan(counts, offsets[1:])
    order = cuda.device_array(n, dtype=np.int64)
    _scatter[blocks(n), THREADS](pix, offsets, device_full(n_pix), order)
    _sort_segments[blocks(n_pix), THREADS](offsets, order)
    return pix, offsets, order


def denoise_mask_cuda(t, x, y, width: int, filter_time: int, neighbours: int, last):
    """CUDA twin of :func:`neurosig.kernels.event_filters.denoise_mask` (device arrays in and out)."""
    n = t.shape[0]
    keep = cuda.device_array(n, dtype=np.bool_)
    if n == 0:
        return keep
    pix, offsets, order = _group_by_pixel(_pixel_index, (x, y, width + 2), n, last.shape[0])
    _denoise_kernel[blocks(n), THREADS](
        t, pix, order, offsets, last, width + 2, np.int64(filter_time), neighbours, keep
    )
    _update_last[blocks(last.shape[0]), THREADS](t, order, offsets, last)
    return keep


def refractory_mask_cuda(t, x, y, width: int, period: int, last):
    """CUDA twin of :func:`neurosig.kernels.event_filters.refractory_mask` (device arrays in and out)."""
    n = t.shape[0]
    keep = cuda.device_array(n, dtype=np.bool_)
    if n == 0:
        return keep
    _, offsets, order = _group_by_pixel(_pixel_index, (x, y, width + 2), n, last.shape[0])
    _refractory_kernel[blocks(last.shape[0]), THREADS](t, order, offsets, last, np.int64(period), keep)
    _update_last[blocks(last.shape[0]), THREADS](t, order, offsets, last)
    return keep
