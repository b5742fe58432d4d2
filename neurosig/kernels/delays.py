"""Event-driven synaptic delays: each input spike adds its synapses' weights ``delay`` steps later.

For integer delays ``d[o, i]`` and weights ``w[o, i]`` the output is
``y[b, t, o] = sum_i w[o, i] * s[b, t - d[o, i], i]`` — exactly the causal convolution of
:class:`neurosig.snn.delays.DelayedSynapses` after :meth:`~neurosig.snn.delays.DelayedSynapses.round_delays`
— computed at a cost of ``n_spikes × out`` instead of ``T × in × out × K``.

:func:`delayed_scatter` is the public entry point: it validates, converts and dispatches to the
Numba CPU kernel, or to the ``numba.cuda`` twin in :mod:`neurosig.kernels.delays_cuda` when the spikes
live on a GPU (they stay there: the output is a device array). :class:`EventDrivenDelays` prepares
the synapses once for many calls, on spike tensors or, with
:meth:`~EventDrivenDelays.apply_events`, on spikes listed as ``(row, step, input)`` events, which
need no ``T × in`` pass at all.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import prange, types
from numba.core import cgutils
from numba.cpython.unsafe.numbers import trailing_zeros
from numba.extending import intrinsic

from neurosig.errors import DataError
from neurosig.kernels._delay_checks import check_n_steps, event_array, repeated_spike_error
from neurosig.kernels._delay_pull import LANES, PASS, mask_stride, pull_row
from neurosig.kernels._numba import host_has, njit, on_gpu, take_next

__all__ = ["EventDrivenDelays", "check_delay_params", "check_binary", "delayed_scatter"]

#: Two spikes of one input at most this many steps apart share one pass over its synapse table.
PAIR_GAP = 25

#: Spike density from which a batch row is pulled (:mod:`._delay_pull`) rather than scattered, on
#: CPUs with AVX-512: spikes per input and step of the pull's work, which is its output steps in whole
#: vectors of 16 plus the building of its spike masks (weighed by :data:`_MASK_WEIGHT`), so that
#: layers with few outputs or long delays need denser rows. From the crossing of
#: ``benchmarks/bench_delays.py``'s density sweep: 8-10 % on the SHD configuration (256 outputs,
#: delays up to 24), where this gives 9.3 %.
PULL_DENSITY = 0.08

#: Cost of building one 16-bit spike mask against one 16-lane masked add (about 0.45 against 1.5
#: cycles on the benchmark CPU).
_MASK_WEIGHT = 0.3

#: Most bytes of spike masks a pulled row may need (each thread holds one row's): beyond it, with
#: very long delays, every row is scattered.
_PULL_MASK_BYTES = 16 << 20


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
    horizon touches exactly the prefix with ``offset < r * n_out`` (found by bisection). Offsets
    take the narrowest of 16, 32 and 64 bits that holds the largest, ``(max_delay + 1) * n_out - 1``:
    16 on the SHD layer, 6 bytes per synapse instead of 8, which saves 4 % of the scatter's time
    there.
    """
    n_out, n_in = weight.shape
    largest = (max_delay + 1) * n_out - 1
    width = next((t for t in (np.uint16, np.uint32) if largest <= np.iinfo(t).max), np.uint64)
    offset = np.empty((n_in, n_out), dtype=width)
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


@intrinsic
def _nonzero_bits(typingctx, values_t, start_t, count_t):  # pragma: no cover - compiled
    """``(nonzero, bad)``: 64-bit masks of which of the ``count <= 64`` float32 values
    ``values[start : start + count]`` are not 0, and which are neither 0 nor 1 (NaN included).

    One masked vector load and two vector compares, which LLVM lowers to the CPU's widest SIMD
    (AVX-512 compares into mask registers; ``vmaskmovps`` loads and AVX2 compares without AVX-512);
    lanes at or after ``count`` are not read and read as 0.
    """
    if not (isinstance(values_t, types.Array) and values_t.dtype == types.float32 and values_t.ndim == 1):
        return None
    if values_t.layout != "C":  # the vector load reads contiguous memory
        return None
    sig = types.UniTuple(types.uint64, 2)(values_t, start_t, count_t)

    def codegen(context, builder, signature, args):
        values = args[0]
        start = context.cast(builder, args[1], signature.args[1], types.int64)
        count = context.cast(builder, args[2], signature.args[2], types.int64)
        data = context.make_array(signature.args[0])(context, builder, values).data
        lanes = 64
        f32, i32, i64, i1 = ir.FloatType(), ir.IntType(32), ir.IntType(64), ir.IntType(1)
        vec, flags = ir.VectorType(f32, lanes), ir.VectorType(i1, lanes)
        all_lanes = builder.icmp_unsigned(">=", count, ir.Constant(i64, lanes))
        prefix = builder.sub(builder.shl(ir.Constant(i64, 1), count), ir.Constant(i64, 1))
        inside = builder.bitcast(builder.select(all_lanes, ir.Constant(i64, -1), prefix), flags)
        load_type = ir.FunctionType(vec, [ir.PointerType(), i32, flags, vec])
        load = cgutils.get_or_insert_function(builder.module, load_type, f"llvm.masked.load.v{lanes}f32.p0")
        zeros, ones = ir.Constant(vec, [0.0] * lanes), ir.Constant(vec, [1.0] * lanes)
        x = builder.call(load, [builder.gep(data, [start]), ir.Constant(i32, 4), inside, zeros])
        nonzero = builder.fcmp_unordered("!=", x, zeros)
        bad = builder.and_(nonzero, builder.fcmp_unordered("!=", x, ones))
        as_bits = [builder.bitcast(m, i64) for m in (nonzero, bad)]
        return context.make_tuple(builder, signature.return_type, as_bits)

    return sig, codegen


@njit
def _list_dense(spikes, horizon, ev_t, ev_i):
    """List the spikes of one ``(T, in)`` batch row before ``horizon`` in time order, as steps and
    inputs; returns their number and whether a listed value was not 1.

    Each step's inputs are read 64 at a time into a bit mask of the non-zero ones (vector compares,
    :func:`_nonzero_bits`), whose set bits are then listed: the cost is a compare per 64 values plus
    a few instructions per spike, instead of a store per value.
    """
    n_in = spikes.shape[1]
    flat = spikes.ravel()
    m = 0
    bad = np.uint64(0)
    for t in range(min(spikes.shape[0], horizon)):
        for i0 in range(0, n_in, 64):
            nonzero, bad_bits = _nonzero_bits(flat, t * n_in + i0, min(64, n_in - i0))
            bad |= bad_bits
            while nonzero:
                ev_t[m] = t
                ev_i[m] = i0 + trailing_zeros(nonzero)
                m += 1
                nonzero &= nonzero - np.uint64(1)
    return m, bad != 0


@njit
def _link(ev_t, ev_i, m, ev_next, last):
    """Link each of the ``m`` time-ordered spikes to the next spike of its input (``-1``: none);
    returns whether two spikes share a step and an input (a spike count above 1)."""
    for i in range(last.size):
        last[i] = -1
    repeated = False
    for e in range(m - 1, -1, -1):
        i = ev_i[e]
        following = last[i]
        repeated |= following >= 0 and ev_t[following] == ev_t[e]
        ev_next[e] = following
        last[i] = e
    return repeated


@njit
def _add_spikes(ev_t, ev_i, ev_next, m, offset, weight_s, max_delay, gap, horizon, row):
    """``row[(t + d) * n_out + o] += w`` for every listed spike ``(t, i)`` and synapse of input ``i``.

    A spike and the next one of its input, if at most ``gap`` steps later, share one pass over the
    input's table (one load of each offset and weight feeds two adds: 3 memory operations per add
    instead of 4); the rows being written stay within ``gap + max_delay`` steps, so they stay in
    cache. Near the horizon a spike walks only the prefix of its delay-sorted table that still lands
    inside the row, so the inner loops test no bounds. Indices are unsigned so that Numba emits no
    negative-index wraparound code in the inner loops. Marks paired spikes in ``ev_t`` (``-1``).
    """
    n_out = offset.shape[1]
    offset = offset.ravel()
    weight_s = weight_s.ravel()
    width = np.uint64(n_out)
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


@njit
def _fill_row(ev_t, ev_i, ev_next, m, synapses, horizon, row):
    """Write one batch row's ``horizon`` output steps from its ``m`` listed and linked spikes: pulled
    (:func:`._delay_pull.pull_row`) from ``pull_from`` spikes on, else zeroed and scattered.
    ``synapses`` is :meth:`EventDrivenDelays._kernel_args`'s tuple."""
    offset, weight_s, max_delay, gap, weight, rel, pull_from = synapses
    if 0 < m and pull_from <= m:
        pull_row(ev_t, ev_i, m, weight, rel, max_delay, horizon, row)
    else:
        row[:] = 0
        _add_spikes(ev_t, ev_i, ev_next, m, offset, weight_s, max_delay, gap, horizon, row)


@njit(parallel=True)
def _synapses_cpu(spikes, synapses, out, bad, n_threads):  # pragma: no cover - compiled
    """For every spike ``spikes[b, t, i] == 1`` and output ``o``: ``out[b, (t + delay[o, i]) * n_out + o]
    += weight[o, i]``, dropping what lands at or after the horizon ``out.shape[1] // n_out``.

    ``synapses`` is ``(offset, weight_s, max_delay, gap, weight, rel, pull_from)``
    (:meth:`EventDrivenDelays._kernel_args`): the tables of :func:`_tables`, the largest delay, the
    pairing gap, and for the pull the weights, ``rel = max_delay - delay`` and the spike count from
    which a row is pulled (:func:`._delay_pull.pull_row`); other rows are zeroed and scattered. A
    value that is neither 0 nor 1 marks ``bad[b]``, so the caller can raise.

    Each of the ``n_threads`` workers (one per Numba thread: ``numba.get_num_threads()``, given by
    the caller, as a compiled function reading it could not be cached) takes the next batch row from
    a shared atomic counter (:func:`._numba.take_next`) until none is left, and writes only that row.
    A core that runs slower, as one of a shared VM's often does for seconds at a time, so takes fewer
    rows instead of holding up the call, as Numba's static split of a ``prange`` would.
    """
    n_batch, n_steps, n_in = spikes.shape
    horizon = out.shape[1] // synapses[0].shape[1] if synapses[0].shape[1] else 0
    taken = np.zeros(1, np.int64)
    for _ in prange(n_threads):
        ev_t = np.empty(n_steps * n_in, np.int64)
        ev_i = np.empty(n_steps * n_in, np.int64)
        last = np.empty(n_in, np.int64)
        b = take_next(taken)
        while b < n_batch:
            m, bad[b] = _list_dense(spikes[b], horizon, ev_t, ev_i)
            ev_next = np.empty(m, np.int64)
            _link(ev_t, ev_i, m, ev_next, last)
            _fill_row(ev_t, ev_i, ev_next, m, synapses, horizon, out[b])
            b = take_next(taken)


#: ``status`` bits set by :func:`_synapses_events_cpu` for a batch row it could not add.
_UNSORTED, _OUT_OF_RANGE, _REPEATED = 1, 2, 4


@njit(parallel=True)
def _synapses_events_cpu(
    starts, rows, steps, units, synapses, out, status, n_threads
):  # pragma: no cover - compiled
    """:func:`_synapses_cpu` for spikes given as events: batch row ``b`` owns the events
    ``starts[b]:starts[b + 1]``, whose ``rows`` must all be ``b`` and whose steps must be in time
    order (``starts`` is found by bisection of sorted ``rows``; unsorted rows fail the first test).
    A row whose events are out of order, out of range or repeated is left at zero and flagged in
    ``status[b]`` for the caller, before any of its adds. Rows are handed out as in
    :func:`_synapses_cpu`."""
    n_in, n_out = synapses[0].shape
    horizon = out.shape[1] // n_out if n_out else 0
    taken = np.zeros(1, np.int64)
    for _ in prange(n_threads):
        last = np.empty(n_in, np.int64)
        b = take_next(taken)
        while b < starts.size - 1:
            lo, hi = starts[b], max(starts[b + 1], starts[b])
            ev_t, ev_i, m, flags = _list_events(b, rows[lo:hi], steps[lo:hi], units[lo:hi], n_in, horizon)
            ev_next = np.empty(m, np.int64)
            if starts[b + 1] < lo:
                flags |= _UNSORTED
            if flags == 0 and _link(ev_t, ev_i, m, ev_next, last):
                flags = _REPEATED
            status[b] = flags
            if flags == 0:
                _fill_row(ev_t, ev_i, ev_next, m, synapses, horizon, out[b])
            else:
                out[b][:] = 0
            b = take_next(taken)


@njit
def _list_events(b, rows, steps, units, n_in, horizon):  # pragma: no cover - compiled
    """Batch row ``b``'s events as ``(ev_t, ev_i, m, flags)``: the ``m`` spikes before ``horizon``, and
    the :data:`_UNSORTED` and :data:`_OUT_OF_RANGE` bits for events of another row, out of time order,
    or out of range."""
    ev_t = np.empty(steps.size, np.int64)
    ev_i = np.empty(steps.size, np.int64)
    flags = 0
    previous = 0
    m = 0
    for e in range(steps.size):
        t = steps[e]
        i = units[e]
        if rows[e] != b or t < previous:
            flags |= _UNSORTED
        if t < 0 or i < 0 or i >= n_in:
            flags |= _OUT_OF_RANGE
        previous = t
        ev_t[m] = t
        ev_i[m] = i
        m += t < horizon
    return ev_t, ev_i, m, flags


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
    pull_density : float | None
        Spike density (spikes per input and output step) from which a batch row's output is pulled,
        16 steps per vector instruction, instead of scattered spike by spike (the two agree to float
        rounding; see ``docs/snn.md``), counted over the pull's work (:data:`PULL_DENSITY`). Default
        :data:`PULL_DENSITY` on CPUs with AVX-512, and never (``inf``) on others; a value given is
        used on any CPU.

    Raises
    ------
    DataError
        On mismatched shapes, non-finite weights, negative or non-integer delays, or a negative
        ``pull_density``.
    """

    def __init__(self, weight: np.ndarray, delay: np.ndarray, *, pull_density: float | None = None):
        self.weight, self.delay = check_delay_params(weight, delay)
        self.weight = np.ascontiguousarray(self.weight)
        self.max_delay = int(self.delay.max(initial=0))
        if pull_density is None:
            # without AVX-512, LLVM would emulate the pull's 16-lane masked adds with blends
            pull_density = PULL_DENSITY if host_has("avx512f") else np.inf
        try:
            density = float(pull_density)
        except (TypeError, ValueError):
            density = np.nan
        if not density >= 0:
            raise DataError(f"pull_density must be >= 0 (spikes per input and step); got {pull_density!r}.")
        if mask_stride(self.max_delay) * self.weight.shape[1] * 2 > _PULL_MASK_BYTES:
            density = np.inf
        self.pull_density = density
        self._offset, self._weight_s = _tables(self.weight, self.delay, self.max_delay)
        self._rel = np.ascontiguousarray(self.max_delay - self.delay, dtype=np.int32)
        self._cuda = None

    def _kernel_args(self, horizon: int) -> tuple:
        """The CPU kernels' synapse arguments for an output of ``horizon`` steps, down to ``pull_from``:
        the spike count from which a row is pulled, ``pull_density`` times the inputs times the pull's
        work in steps (see :data:`PULL_DENSITY`)."""
        n_out, n_in = self.weight.shape
        vectors = -(-horizon // LANES)
        masks = _MASK_WEIGHT * -(-vectors // PASS) * mask_stride(self.max_delay) / max(n_out, 1)
        limit = self.pull_density * n_in * LANES * (vectors + masks)
        pull_from = int(np.ceil(limit)) if limit < 2**62 else 2**62
        return (self._offset, self._weight_s, self.max_delay, PAIR_GAP, self.weight, self._rel, pull_from)

    def __call__(self, spikes, n_steps: int | None = None):
        """Summed weighted delayed spikes; see :func:`delayed_scatter` for the arguments and output."""
        if n_steps is not None:
            check_n_steps(n_steps)
        if on_gpu(spikes):
            return self._cuda_twin()(spikes, n_steps)
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
        _synapses_cpu(spikes, self._kernel_args(horizon), flat, bad, numba.get_num_threads())
        if bad.any() or horizon < spikes.shape[1]:  # the kernel reads no step at or after the horizon
            check_binary(spikes)  # raises, naming the first offending value
        out = flat.reshape(spikes.shape[0], horizon, n_out)
        return out[0] if squeeze else out

    def _cuda_twin(self):
        """The ``numba.cuda`` twin, built on the first GPU call (the tables go to the device once)."""
        if self._cuda is None:
            from neurosig.kernels.delays_cuda import CudaDelays

            self._cuda = CudaDelays(self.weight, self.delay)
        return self._cuda

    def _add_events(self, rows: np.ndarray, steps: np.ndarray, units: np.ndarray, flat: np.ndarray) -> int:
        """Run the event kernel into ``flat``; the rows' status bits, or-ed. Events that no row owns
        (``rows`` unsorted or out of range) give ``_UNSORTED`` without running it."""
        starts = np.searchsorted(rows, np.arange(flat.shape[0] + 1))  # sorted rows: each row's events
        if starts[0] != 0 or starts[-1] != rows.shape[0]:
            return _UNSORTED
        status = np.zeros(flat.shape[0], dtype=np.int64)
        horizon = flat.shape[1] // max(self.weight.shape[0], 1)
        _synapses_events_cpu(
            starts, rows, steps, units, self._kernel_args(horizon), flat, status, numba.get_num_threads()
        )
        return int(np.bitwise_or.reduce(status)) if status.size else 0

    def apply_events(self, steps, units, n_steps: int, rows=None, n_rows: int | None = None) -> np.ndarray:
        """The same output as calling the synapses, from spikes listed as events instead of a tensor.

        Nothing here is sized by ``T × in``: the cost follows the spikes (plus zeroing the output),
        which is how event data such as SHD's ragged ``(times, units)`` arrive.
        :meth:`neurosig.data.shd.SHDReader.sample_events` gives a sample's events.

        Parameters
        ----------
        steps : array of int, shape (n_spikes,)
            Time step of each spike (``>= 0``); spikes at or after ``n_steps`` add nothing.
        units : array of int, shape (n_spikes,)
            Input of each spike, in ``[0, in)``.
        n_steps : int
            Length of the output along time, in steps.
        rows : array of int, shape (n_spikes,) | None
            Batch row of each spike (default: one sequence, and a 2-D output).
        n_rows : int | None
            Number of batch rows (default ``max(rows) + 1``).

        Returns
        -------
        ndarray, shape (n_rows, n_steps, out) or (n_steps, out), float32
            Summed weighted delayed spikes, equal to ``self(dense)`` for the dense binary spikes.

        Raises
        ------
        DataError
            On arrays of different lengths, non-integer values, a negative step, an input or row out
            of range, or the same spike (row, step, input) listed twice.

        Notes
        -----
        Events in order of row, then step (as ``np.nonzero`` of a dense tensor lists them, and as SHD
        stores a sample) are used as they are; others are first sorted (stable, ``O(n log n)``).
        Device arrays (all three) select the CUDA twin, which returns a device array.
        """
        check_n_steps(n_steps)
        if n_rows is not None and int(n_rows) < 0:
            raise DataError(f"n_rows must be >= 0 (the number of batch rows); got {n_rows}.")
        n_steps = int(n_steps)
        given = [a for a in (steps, units, rows) if a is not None]
        if any(on_gpu(a) for a in given):
            if not all(on_gpu(a) for a in given):
                raise DataError("steps, units and rows must be all device arrays or all host arrays.")
            return self._cuda_twin().apply_events(steps, units, n_steps, rows, n_rows)
        units = event_array(units, "units")
        steps = event_array(steps, "steps", units.shape[0])
        squeeze = rows is None
        if squeeze:
            rows, n_rows = np.zeros(units.shape[0], np.int64), 1
        else:
            rows = event_array(rows, "rows", units.shape[0])
            n_rows = (max(int(rows.max()) + 1, 0) if rows.size else 0) if n_rows is None else int(n_rows)
        n_out = self.weight.shape[0]
        flat = _empty_on_huge_pages((n_rows, n_steps * n_out))
        found = self._add_events(rows, steps, units, flat)
        if found == _UNSORTED:  # rows or steps out of order, or rows out of range
            if rows.size and (rows.min() < 0 or rows.max() >= n_rows):
                bad = rows[(rows < 0) | (rows >= n_rows)][0]
                raise DataError(f"rows must be in [0, {n_rows}) (n_rows batch rows); got {bad}.")
            order = np.lexsort((steps, rows))
            rows, steps, units = rows[order], steps[order], units[order]
            found = self._add_events(rows, steps, units, flat)
        if found & _OUT_OF_RANGE:
            bad = np.flatnonzero((steps < 0) | (units < 0) | (units >= self.weight.shape[1]))[0]
            raise DataError(
                f"spike {bad} has step {steps[bad]} and input {units[bad]}: steps must be >= 0 and "
                f"inputs in [0, {self.weight.shape[1]})."
            )
        if found & _REPEATED:
            raise repeated_spike_error()
        out = flat.reshape(n_rows, n_steps, n_out)
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
