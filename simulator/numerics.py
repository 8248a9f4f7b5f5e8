"""Scalar primitives that reproduce torch's CPU float64 rounding bit for bit.

torch's element-wise CPU kernels fuse multiply-adds (FMA) on AVX2/AVX512 builds and evaluate
Python-side scalar maths (``beta ** step``, ``bc2 ** 0.5``) with C ``pow``. Numba does neither on
its own: it never contracts ``a * b + c`` and LLVM turns ``x ** 0.5`` into ``sqrt``. The helpers
below restore torch's rounding. See ../shared/reference/torch-optim-numerics.md, section 1.

Every helper takes ``fused``: whether torch on this machine fuses multiply-adds. It is a run-time
argument (not a global) because Numba freezes globals at compile time and caches the result.
"""

import os

import numpy as np
from llvmlite import binding as llvm_binding
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def torch_fuses_multiply_add() -> bool:
    """Whether torch's CPU kernels use FMA here, decided without importing torch.

    torch dispatches to its AVX2/AVX512 kernels (which fuse) when the CPU has FMA, unless
    ``ATEN_CPU_CAPABILITY=default`` forces the plain kernels. ``OPTISCOPE_FMA=0/1`` overrides.
    """
    forced = os.environ.get("OPTISCOPE_FMA")
    if forced is not None:
        return forced.strip() not in ("0", "false", "no", "")
    if os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower() == "default":
        return False
    features = llvm_binding.get_host_cpu_features()
    return bool(features.get("fma", False))


FUSED = torch_fuses_multiply_add()


@intrinsic
def _fma_intrinsic(typingctx, a, b, c):
    double = ir.DoubleType()
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.fma", [double], ir.FunctionType(double, [double] * 3))
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def _c_pow_intrinsic(typingctx, x, y):
    # A call to libm's ``pow`` by name, without the attributes of ``llvm.pow``: LLVM may not
    # rewrite it (``pow(x, 0.5)`` into ``sqrt``), so it rounds exactly like CPython's ``x ** y``.
    double = ir.DoubleType()
    sig = types.float64(types.float64, types.float64)

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(double, [double, double]), "pow")
        return builder.call(fn, args)

    return sig, codegen


@njit(cache=True, error_model="numpy")
def fma(a, b, c):
    """a * b + c with one rounding."""
    return _fma_intrinsic(float(a), float(b), float(c))


@njit(cache=True, error_model="numpy")
def cpow(x, y):
    """Python's ``x ** y`` for floats (C pow), never rewritten into sqrt or multiplications."""
    return _c_pow_intrinsic(float(x), float(y))


@njit(cache=True, error_model="numpy")
def madd(a, b, c, fused):
    """a * b + c as torch computes it here: fused when torch fuses."""
    if fused:
        return _fma_intrinsic(a, b, c)
    return a * b + c


@njit(cache=True, error_model="numpy")
def add_scaled(a, b, alpha, fused):
    """torch ``a.add(b, alpha=alpha)``."""
    return madd(alpha, b, a, fused)


@njit(cache=True, error_model="numpy")
def lerp(start, end, weight, fused):
    """torch ``start.lerp_(end, weight)`` with a Python float weight."""
    if abs(weight) < 0.5:
        return madd(weight, end - start, start, fused)
    return madd(weight - 1.0, end - start, end, fused)


@njit(cache=True, error_model="numpy")
def addcmul(a, t1, t2, value, fused):
    """torch ``a.addcmul_(t1, t2, value=value)``."""
    return madd(value * t1, t2, a, fused)


@njit(cache=True, error_model="numpy")
def addcdiv(a, t1, t2, value):
    """torch ``a.addcdiv_(t1, t2, value=value)``: three roundings, never fused."""
    return a + (value * t1) / t2


@njit(cache=True, error_model="numpy")
def maximum(a, b):
    """torch.maximum: NaN wins."""
    if a != a or b != b:
        return np.nan
    return a if a > b else b


@njit(cache=True, error_model="numpy")
def sign(x):
    """torch.sign (0 for 0, NaN for NaN)."""
    if x > 0.0:
        return 1.0
    if x < 0.0:
        return -1.0
    return x * 0.0


@njit(cache=True, error_model="numpy")
def to_f32(x):
    """Round to float32, as torch stores scalar state in the default dtype."""
    return float(np.float32(x))
