"""Integer primitives shared by the golden model, the nonlinear units and the requantizers.

Every function takes and returns numpy int64 arrays and states its hardware meaning:
rounding is round-half-up (add half an LSB, arithmetic shift right), which is what
`ap_fixed` AP_RND does and what the RTL does with one adder; saturation clamps to the
two's-complement (or unsigned) range of the target width, as AP_SAT.
"""
from __future__ import annotations

import numpy as np

from quant import saturation

INT = np.int64


def as_int(x) -> np.ndarray:
    return np.asarray(x, dtype=INT)


def int_range(bits: int, signed: bool) -> tuple[int, int]:
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def saturate(x, bits: int, signed: bool = True) -> np.ndarray:
    lo, hi = int_range(bits, signed)
    x = as_int(x)
    saturation.record(x, lo, hi)
    return np.clip(x, lo, hi)


def round_shift(x, shift: int) -> np.ndarray:
    """x / 2**shift rounded half up (toward +inf on ties). shift may be 0 or negative (left shift)."""
    x = as_int(x)
    if shift > 0:
        return (x + (1 << (shift - 1))) >> shift
    return x << (-shift)


def floor_shift(x, shift: int) -> np.ndarray:
    """x / 2**shift rounded toward -inf (plain arithmetic shift, AP_TRN)."""
    x = as_int(x)
    return x >> shift if shift >= 0 else x << (-shift)


def requantize(acc, mult, shift: int, bias, bits: int, signed: bool = True) -> np.ndarray:
    """The requantizer: saturate(round((acc * mult + bias) / 2**shift)) to `bits`.

    `mult` and `bias` broadcast over the last axis (per output channel) or are scalars.
    In hardware: one DSP multiply, one add, a rounding shift and a clamp.
    """
    return saturate(round_shift(as_int(acc) * as_int(mult) + as_int(bias), shift), bits, signed)


def exact_matmul(a, b) -> np.ndarray:
    """Integer matrix product computed through float64 BLAS, exact while |result| < 2**53.

    numpy has no BLAS for integers; float64 is exact for every product and partial sum here
    because the bound below is checked from the operand ranges before multiplying.
    """
    a, b = as_int(a), as_int(b)
    k = a.shape[-1]
    bound = int(np.abs(a).max(initial=0)) * int(np.abs(b).max(initial=0)) * k
    if bound >= 1 << 53:
        return np.matmul(a, b)  # slow but exact fallback
    if a.ndim > 2 and b.ndim == 2:
        # one GEMM for a batch of token lists (numpy's stacked matmul is far slower here)
        flat = np.matmul(a.reshape(-1, k).astype(np.float64), b.astype(np.float64))
        return np.rint(flat).astype(INT).reshape(*a.shape[:-1], b.shape[-1])
    return np.rint(np.matmul(a.astype(np.float64), b.astype(np.float64))).astype(INT)


# --- added for the nonlinear units (quant/nl_*.py) -------------------------------------------


def round_shift_var(x, shift) -> np.ndarray:
    """x / 2**shift rounded half up, with a per-element shift >= 0 (a barrel shifter plus one adder).

    For shift == 0 the rounding constant (1 << 0) >> 1 is 0, so the value passes unchanged.
    """
    x, shift = as_int(x), as_int(shift)
    assert np.all(shift >= 0) and np.all(shift < 63), "round_shift_var: shift out of [0, 62]"
    return (x + ((np.ones_like(shift) << shift) >> 1)) >> shift


def msb_index(x) -> np.ndarray:
    """floor(log2(x)) for x >= 1, i.e. 63 - count_leading_zeros64(x) (a priority encoder).

    Exact integer binary search (six compare/shift steps); x <= 0 is not allowed.
    """
    x = as_int(x).copy()
    assert np.all(x >= 1), "msb_index: x must be >= 1"
    out = np.zeros_like(x)
    for step in (32, 16, 8, 4, 2, 1):
        big = x >= (1 << step)
        out += np.where(big, step, 0)
        x = np.where(big, x >> step, x)
    return out


def check_bits(x, bits: int, signed: bool = True, name: str = "value") -> np.ndarray:
    """Assert that every element fits a `bits`-wide two's-complement (or unsigned) word; return x.

    This is how the nonlinear units state the width of each intermediate: the comment says the
    width, this call proves it on every evaluation. Nothing may exceed 48 bits (a DSP48 accumulator).
    """
    assert bits <= 48, f"{name}: declared width {bits} exceeds 48 bits"
    x = as_int(x)
    if x.size:
        lo, hi = int_range(bits, signed)
        xmin, xmax = int(x.min()), int(x.max())
        assert lo <= xmin and xmax <= hi, (
            f"{name}: range [{xmin}, {xmax}] does not fit {'s' if signed else 'u'}{bits} [{lo}, {hi}]")
    return x


def bit_length(v: int) -> int:
    """Bits of the unsigned magnitude of a Python int (generation-time width arithmetic)."""
    return int(abs(int(v))).bit_length()
