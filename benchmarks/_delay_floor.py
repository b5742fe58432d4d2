"""What one scattered float add costs on this CPU, for ``bench_delays``: the floor under the event kernel.

Each loop walks 256 distinct offsets into a 6,400-float window (the SHD configuration: 25 delays x
256 outputs, 25 KB, in L1), shifting the window by one 256-float row per pass, as successive spikes
do. Loops: a plain store per offset; a load-add-store per offset (one spike's pass); the same feeding
two windows from one table load (a pair of spikes, as the kernel does); and the load-add-store done
16 lanes at a time with the CPU's vector gather and scatter (``llvm.masked.gather``/``scatter``,
which LLVM does not emit by itself for AMD Zen 4). Each figure is the minimum over many short runs
(so that a shared machine's preemptions drop out), in ns per add and in cycles at the clock measured
by a chain of dependent multiply-adds.
"""

from __future__ import annotations

import time

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

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

        def splat(value):
            one = builder.insert_element(ir.Constant(longs, ir.Undefined), value, ir.Constant(i32, 0))
            return builder.shuffle_vector(
                one, ir.Constant(longs, ir.Undefined), ir.Constant(ir.VectorType(i32, _LANES), [0] * _LANES)
            )

        start = builder.ptrtoint(window_a.data, i64)
        index = builder.add(builder.zext(at, longs), splat(base))
        where = builder.inttoptr(
            builder.add(splat(start), builder.mul(index, ir.Constant(longs, [4] * _LANES))), pointers
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
