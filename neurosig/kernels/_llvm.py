"""LLVM IR pieces shared by the kernels' intrinsics (``@numba.extending.intrinsic`` code generators)."""

from __future__ import annotations

from llvmlite import ir

__all__ = ["splat", "const"]


def splat(builder: ir.IRBuilder, value: ir.Value, vec: ir.VectorType) -> ir.Value:
    """``value`` (a scalar of ``vec``'s element type) in every lane of ``vec``."""
    i32 = ir.IntType(32)
    one = builder.insert_element(ir.Constant(vec, ir.Undefined), value, ir.Constant(i32, 0))
    every = ir.Constant(ir.VectorType(i32, vec.count), [0] * vec.count)
    return builder.shuffle_vector(one, ir.Constant(vec, ir.Undefined), every)


def const(value: int | float, vec: ir.VectorType) -> ir.Constant:
    """The constant ``value`` in every lane of ``vec``."""
    return ir.Constant(vec, [value] * vec.count)
