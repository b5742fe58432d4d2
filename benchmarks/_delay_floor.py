"""What one scattered float add costs on this CPU, for ``bench_delays``: the floor under the event kernel.

Each loop walks 256 distinct offsets into a 6,400-float window (the SHD configuration: 25 delays x
256 outputs, 25 KB, in L1), shifting the window by one 256-float row per pass, as successive spikes
do. Loops: a plain store per offset; a load-add-store per offset (one spike's pass); the same feeding
two windows from one table load (a pair of spikes, as the kernel does); and the load-add-store done
16 lanes at a time with the CPU's vector gather and scatter (``llvm.masked.gather``/``scatter``,
which LLVM does not emit by itself for AMD Zen 4). Each figure is the minimum over many short runs
(so that a shared machine's preemptions drop out), in ns per add and in cycles at the clock measured
by a chain of dependent multiply-adds.

:func:`pull_floor` measures the vectorised alternative the other way round: each output's 112 steps
kept in 7 registers of 16 floats, every input's spike train added at the synapse's delay, either
with one fused multiply-add per 16 steps on float 0/1 spikes or with one AVX-512 masked add per 16
steps driven by the spike bits. Its cost does not depend on the spikes, so per add the event kernel
would do it is ``cycles per pair / (steps x density)``.
"""

from __future__ import annotations

import time

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from neurosig.kernels._llvm import splat

_LANES = 16


@njit(cache=True)
def _chain(n, x):  # pragma: no cover - compiled
    for _ in range(n):
        x = x * x + np.uint64(1)  # imul (3 cycles) then add (1): 4 cycles per step
    return x


@njit(cache=True)
def _stores(offset, weight, window, passes):  # pragma: no cover - compiled
    for p in range(passes):
        base = np.uint64((p & 15) * 256)
        for k in range(offset.size):
            window[base + np.uint64(offset[k])] = np.float32(1.0)


@njit(cache=True)
def _adds(offset, weight, window, passes):  # pragma: no cover - compiled
    for p in range(passes):
        base = np.uint64((p & 15) * 256)
        for k in range(offset.size):
            window[base + np.uint64(offset[k])] += weight[k]


@njit(cache=True)
def _pairs(offset, weight, window, passes):  # pragma: no cover - compiled
    for p in range(0, passes, 2):
        base = np.uint64((p & 15) * 256)
        other = base + np.uint64(3 * 256)
        for k in range(offset.size):
            at = np.uint64(offset[k])
            w = weight[k]
            window[base + at] += w
            window[other + at] += w


@intrinsic
def _gather_add_scatter(typingctx, window_t, base_t, offset_t, weight_t, k_t):
    """``window[base + offset[k : k + 16]] += weight[k : k + 16]`` with one vector gather and scatter."""
    sig = types.void(window_t, types.int64, offset_t, weight_t, types.int64)

    def codegen(context, builder, signature, args):
        window, base, offset, weight, k = args
        window_a, offset_a, weight_a = (
            context.make_array(signature.args[n])(context, builder, a)
            for n, a in ((0, window), (2, offset), (3, weight))
        )
        f32, i32, i64, i1 = ir.FloatType(), ir.IntType(32), ir.IntType(64), ir.IntType(1)
        floats, longs, flags = (
            ir.VectorType(f32, _LANES),
            ir.VectorType(i64, _LANES),
            ir.VectorType(i1, _LANES),
        )
        pointers = ir.VectorType(ir.PointerType(), _LANES)
        at = builder.load(builder.gep(offset_a.data, [k]), typ=ir.VectorType(i32, _LANES), align=4)
        w = builder.load(builder.gep(weight_a.data, [k]), typ=floats, align=4)

        start = builder.ptrtoint(window_a.data, i64)
        index = builder.add(builder.zext(at, longs), splat(builder, base, longs))
        where = builder.inttoptr(
            builder.add(splat(builder, start, longs), builder.mul(index, ir.Constant(longs, [4] * _LANES))),
            pointers,
        )
        every = ir.Constant(flags, [1] * _LANES)
        gather = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(floats, [pointers, i32, flags, floats]),
            f"llvm.masked.gather.v{_LANES}f32.v{_LANES}p0",
        )
        scatter = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [floats, pointers, i32, flags]),
            f"llvm.masked.scatter.v{_LANES}f32.v{_LANES}p0",
        )
        old = builder.call(gather, [where, ir.Constant(i32, 4), every, ir.Constant(floats, ir.Undefined)])
        builder.call(scatter, [builder.fadd(old, w), where, ir.Constant(i32, 4), every])
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True)
def _vector(offset, weight, window, passes):  # pragma: no cover - compiled
    for p in range(passes):
        base = (p & 15) * 256
        for k in range(0, offset.size, _LANES):
            _gather_add_scatter(window, base, offset, weight, k)


def _fastest(fn, args, runs: int) -> float:
    fn(*args)
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best


def scatter_floor(runs: int = 300) -> dict:
    """ns and cycles per add of each loop (see the module docstring), and the measured clock (GHz)."""
    steps = 1 << 16
    ghz = 4 * steps / _fastest(_chain, (steps, np.uint64(3)), runs) / 1e9
    rng = np.random.default_rng(0)
    offset = rng.choice(25 * 256, 256, replace=False).astype(np.uint32)
    weight = rng.random(256).astype(np.float32)
    passes = 64
    size = (25 + 15 + 3) * 256  # the offsets' 25 rows, 15 shifts of the base, a pair's 3 rows
    out = {"clock_ghz": ghz}
    results = []
    for name, fn in (
        ("store", _stores),
        ("load_add_store", _adds),
        ("pair", _pairs),
        ("gather_scatter_16", _vector),
    ):
        window = np.zeros(size, dtype=np.float32)
        ns = 1e9 * _fastest(fn, (offset, weight, window, passes), runs) / (passes * offset.size)
        results.append((name, ns))
    check = [np.zeros(size, dtype=np.float32) for _ in range(2)]
    _adds(offset, weight, check[0], 16)
    _vector(offset, weight, check[1], 16)
    if not np.array_equal(*check):
        raise AssertionError("the gather/scatter loop disagrees with the scalar one")
    for name, ns in results:
        out[f"{name}_ns_per_add"] = ns
        out[f"{name}_cycles_per_add"] = ns * ghz
    return out


#: Output steps a pull loop keeps in registers: 7 vectors of 16 floats cover the SHD batch's 100 steps.
_PULL_VECTORS = 7


def _pull_loop(context, builder, signature, args, add_input):
    """Shared body of the pull loops: for one output, over every input ``i``, ``acc += add_input(...)``
    on 7 register accumulators of 16 steps each, then store them to ``out[0:112]``."""
    out, weight, delay, n_in = args[:4]
    arrays = [context.make_array(signature.args[k])(context, builder, a) for k, a in enumerate(args[:3])]
    vec = ir.VectorType(ir.FloatType(), _LANES)
    accs = [
        cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * _LANES)) for _ in range(_PULL_VECTORS)
    ]
    with cgutils.for_range(builder, n_in) as loop:
        i = loop.index
        w = splat(builder, builder.load(builder.gep(arrays[1].data, [i])), vec)
        d = builder.load(builder.gep(arrays[2].data, [i]))
        for j, acc in enumerate(accs):
            builder.store(add_input(builder, arrays, args, i, d, j, w, builder.load(acc)), acc)
    for j, acc in enumerate(accs):
        at = builder.gep(arrays[0].data, [ir.Constant(ir.IntType(64), _LANES * j)])
        builder.store(builder.load(acc), builder.bitcast(at, vec.as_pointer()), align=4)
    return context.get_dummy_value()


@intrinsic
def _pull_fma(typingctx, out_t, weight_t, delay_t, n_in_t, spikes_t, stride_t):
    """One output's 112 steps: ``acc += weight[i] * spikes[i * stride + 32 - delay[i] :][:112]`` over the
    inputs, the spikes as float 0/1 time series (one fused multiply-add with an unaligned load per 16
    steps)."""
    sig = types.void(out_t, weight_t, delay_t, types.int64, spikes_t, types.int64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        vec = ir.VectorType(ir.FloatType(), _LANES)
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vec, [vec, vec, vec]), f"llvm.fma.v{_LANES}f32"
        )
        spikes = context.make_array(signature.args[4])(context, builder, args[4])

        def add(builder, arrays, args, i, d, j, w, acc):
            start = builder.add(builder.mul(i, args[5]), builder.sub(ir.Constant(i64, 32 + _LANES * j), d))
            x = builder.load(builder.bitcast(builder.gep(spikes.data, [start]), vec.as_pointer()), align=4)
            return builder.call(fma, [w, x, acc])

        return _pull_loop(context, builder, signature, args, add)

    return sig, codegen


@intrinsic
def _pull_masked(typingctx, out_t, weight_t, delay_t, n_in_t, bits_t, stride_t):
    """One output's 112 steps: ``acc += weight[i]`` in the steps where input ``i`` spiked ``delay[i]``
    steps before, over the inputs: the input's spike bits (256 a row, 32 steps of zeros before step
    0), shifted by the delay, give one 16-bit AVX-512 mask per vector of 16 steps (a masked add)."""
    sig = types.void(out_t, weight_t, delay_t, types.int64, bits_t, types.int64)

    def codegen(context, builder, signature, args):
        i16, i64, i128, i192 = ir.IntType(16), ir.IntType(64), ir.IntType(128), ir.IntType(192)
        flags = ir.VectorType(ir.IntType(1), _LANES)
        bits = context.make_array(signature.args[4])(context, builder, args[4])

        def add(builder, arrays, args, i, d, j, w, acc):
            first = builder.sub(ir.Constant(i64, 32), d)  # the bit of step -delay
            byte = builder.add(builder.mul(i, args[5]), builder.lshr(first, ir.Constant(i64, 3)))
            word = builder.load(builder.bitcast(builder.gep(bits.data, [byte]), i192.as_pointer()), align=1)
            low = builder.zext(builder.and_(first, ir.Constant(i64, 7)), i192)
            shifted = builder.trunc(builder.lshr(word, low), i128)
            mask = builder.trunc(builder.lshr(shifted, ir.Constant(i128, _LANES * j)), i16)
            return builder.select(builder.bitcast(mask, flags), builder.fadd(acc, w), acc)

        return _pull_loop(context, builder, signature, args, add)

    return sig, codegen


@njit(cache=True)
def _pull_fma_outputs(out, weight, delay, spikes, stride, n_out):  # pragma: no cover - compiled
    n_in = weight.shape[1]
    for o in range(n_out):
        _pull_fma(out[o % 16], weight[o % weight.shape[0]], delay[o % weight.shape[0]], n_in, spikes, stride)


@njit(cache=True)
def _pull_masked_outputs(out, weight, delay, bits, stride, n_out):  # pragma: no cover - compiled
    n_in = weight.shape[1]
    for o in range(n_out):
        _pull_masked(out[o % 16], weight[o % weight.shape[0]], delay[o % weight.shape[0]], n_in, bits, stride)


def pull_floor(runs: int = 100, density: float = 0.05) -> dict:
    """Cycles per ``(output, input)`` pair of the two vectorised pull loops, and what they imply.

    Pulling computes each output's 100 steps from every input's spike train shifted by the synapse's
    delay, whatever the spikes, 16 steps per vector op; the event kernel pushes each spike's adds.
    ``*_cycles_per_pair`` is one output-input pair over 112 steps (7 vectors) on one core;
    ``*_cycles_per_useful_add`` divides it by the adds the event kernel does for that pair at
    ``density`` (100 steps x density). Checked against a plain numpy pull.
    """
    steps = 1 << 16
    ghz = 4 * steps / _fastest(_chain, (steps, np.uint64(3)), runs) / 1e9
    rng = np.random.default_rng(0)
    n_in, n_outputs, stride = 140, 256, 160
    weight = rng.standard_normal((16, n_in)).astype(np.float32)
    delay = rng.integers(0, 25, (16, n_in)).astype(np.int64)
    train = (rng.random((n_in, 100)) < density).astype(np.float32)
    spikes = np.zeros((n_in, stride), np.float32)
    spikes[:, 32:132] = train
    bits = np.zeros((n_in, 4), np.uint64)  # bit 32 + t of each 256-bit row: step t
    for i, t in zip(*np.nonzero(train), strict=True):
        bits[i, (32 + t) // 64] |= np.uint64(1) << np.uint64((32 + t) % 64)
    want = np.zeros((16, 112), np.float32)
    for o in range(16):
        for i in range(n_in):
            shifted = np.concatenate([np.zeros(delay[o, i], np.float32), train[i]])[:112]
            want[o, : len(shifted)] += weight[o, i] * shifted
    out = {"clock_ghz": ghz, "density": density}
    for name, fn, source, width in (
        ("pull_fma", _pull_fma_outputs, spikes.ravel(), stride),
        ("pull_masked_add", _pull_masked_outputs, bits.view(np.uint8).ravel(), 32),
    ):
        got = np.zeros((16, 112), np.float32)
        fn(got, weight, delay, source, width, 16)
        if not np.allclose(got, want, atol=1e-5):
            raise AssertionError(f"{name} disagrees with numpy")
        seconds = _fastest(fn, (got, weight, delay, source, width, n_outputs), runs)
        cycles = seconds * ghz * 1e9 / (n_outputs * n_in)
        out[f"{name}_cycles_per_pair"] = cycles
        out[f"{name}_cycles_per_useful_add"] = cycles / (100 * density)
    return out
