"""Numba defaults and device dispatch shared by every kernel module."""

from __future__ import annotations

import functools
import os
from typing import Any

import numba
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["njit", "on_gpu", "cuda_enabled", "host_has", "take_next", "FASTMATH"]

#: Numerical settings live here, never as scattered literals: kernels are exact unless stated.
FASTMATH = False


def njit(fn=None, **options: Any):
    """``numba.njit`` with the suite's defaults (``cache=True, nogil=True, fastmath=FASTMATH``)."""
    options = {"cache": True, "nogil": True, "fastmath": FASTMATH, **options}
    if fn is None:
        return functools.partial(njit, **options)
    return numba.njit(**options)(fn)


def on_gpu(array: Any) -> bool:
    """Whether ``array`` lives on a CUDA device: a numba device array (also the simulator's, which
    has only ``copy_to_host``), a CuPy array or a torch CUDA tensor."""
    return hasattr(array, "__cuda_array_interface__") or hasattr(array, "copy_to_host")


@functools.cache
def cuda_enabled() -> bool:
    """Whether CUDA kernels can run: a real GPU, or the simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True
    try:
        from numba import cuda

        return bool(cuda.is_available())
    except Exception:  # noqa: BLE001 - a missing driver raises many kinds of errors
        return False


@functools.cache
def host_has(feature: str) -> bool:
    """Whether the kernels are compiled for this CPU (``NUMBA_CPU_NAME`` unset or ``host``) and it has
    the LLVM CPU ``feature`` (e.g. ``"avx512f"``). Kernels whose vector code another CPU would only
    emulate check this before taking it. Asked once: LLVM's answer takes 0.3-0.6 ms."""
    if numba.config.CPU_NAME not in (None, "host"):
        return False
    from llvmlite import binding

    return bool(binding.get_host_cpu_features().get(feature, False))


@intrinsic
def take_next(typingctx, counter_t):  # pragma: no cover - compiled
    """``counter[0] += 1`` in one atomic instruction, returning the value before: threads that share
    ``counter`` (an int64 array) each get a different number, so ``prange`` workers can hand out
    work items one at a time (a dynamic schedule, which Numba's OpenMP layer does not give)."""
    if not (isinstance(counter_t, types.Array) and counter_t.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        counter = context.make_array(signature.args[0])(context, builder, args[0])
        return builder.atomic_rmw("add", counter.data, ir.Constant(ir.IntType(64), 1), "monotonic")

    return types.int64(counter_t), codegen
