"""Integer LayerNorm core and integer reciprocal square root (two variants, one chosen as default).

These functions ARE the hardware definition (HLS C++ and RTL compute exactly this, bit for bit).

layernorm_int over the last axis (dim signed in_bits codes, any scale; no gamma/beta, the caller
folds them into a per-channel requantizer)::

    sx  = sum(x)                                  s(in_bits + lb), lb = ceil(log2 dim)
    muF = round(sx * mean_mult / 2**(mean_shift - MF))
                                                  the mean at MF = MEAN_FRAC fraction bits: s(in_bits + MF)
    mu  = sat(in_bits, round(muF / 2**MF))        mean_mult = round(2**mean_shift / dim): s(in_bits)
    c   = x - mu                                  s(in_bits + 1)
    e2  = round(dim * d**2 / 2**(2 MF))           d = mu * 2**MF - muF: s(MF + 1); e2 u(lb + 1)
    v   = max(sum(c * c) - e2, 0) + dim * eps_code
                                                  dim * (var + eps) around muF: u(2 in_bits + lb + 1)
    r,k = rsqrt_int(v)                            1/sqrt(v) ~ r * 2**-(r_frac + k)
    f   = round(r * sqrt_dim / 2**(r_frac + sqrt_dim_frac - scale_frac))
                                                  1/sqrt(var + eps) ~ f * 2**-(scale_frac + k)
    b   = round(d * f / 2**MF)                    the row's centring correction (x - muF / 2**MF = c + d / 2**MF)
    y   = sat(out_bits, round((c * f + b) / 2**(scale_frac + k - out_frac)))

Deviation from "var = sum(c^2) times the reciprocal of dim": the 1/dim is folded into the per-row
scale as sqrt(dim) (1/sqrt(S/dim + eps) = sqrt(dim) / sqrt(S + dim*eps)). v is then exact, no
rounding is spent on the variance, and the 45-bit sum(c^2) is never multiplied by a wide constant
(S * round(2**t / dim) would exceed 48 bits without an extra normalisation). The cost is the same:
one constant multiply per row.

Accuracy: the row is centred on muF, |muF / 2**MF - mean| <= 2**-(MF+1) + |sx| 2**-(mean_shift+1)
(< 0.025 codes even for dim 3072 at full scale, 0.002 for rows near zero), which shifts every output
of the row by that over sigma (sigma in input codes). Centring on the integer mu instead (0.5 codes)
cost 3e-3 at sigma = 85 codes and 3e-2 at 8, the small rows a pretrained ViT's LayerNorms see when
one outlier channel sets the residual's scale; the correction b is one multiply per row, and the
per-lane c * f + b is a DSP's post-adder. The sum of squares around the integer mu is exact;
e2 moves it to muF (sum (c + d/2**MF)**2 = sum c**2 - dim d**2 / 2**(2 MF) up to the mean's own error,
since sum c = -dim d / 2**MF), which at sigma = 8 codes is worth 7.6e-3 on the largest outputs. The
clamp at 0 is for constant rows, where the mean's error can make e2 exceed sum c**2 = 0. The scale f has relative error ~2**-15.5 (rsqrt + two constant roundings), so an output
of magnitude |y| is off by |y| * 2**-15.5 plus half an output LSB. |y| <= sqrt(dim - 1) (55.4 for
dim 3072); with the default out_bits = 16, out_frac = 10 the output saturates at +-32, which only a
row dominated by one outlier reaches.

Reciprocal square root of an integer v in [1, 2**47): leading-one normalisation v = m * 2**msb,
m in [1, 2) with MAN_FRAC = 16 fraction bits (truncated, relative error < 2**-16 in m), k = msb >> 1,
parity = msb & 1, so 1/sqrt(v) = 1/sqrt(m * 2**parity) * 2**-k with m * 2**parity in [1, 4)
(the even shift of the brief). Two mantissa evaluators, both fitted with quantization in the loop
and both measured exhaustively over all 2 * 2**16 mantissas (`measure_rsqrt`; r has 16 fraction
bits, errors in output LSB = 2**-16, which is about the relative error since r is in (0.5, 1]):

  (a) rsqrt_int: piecewise quadratic, 2**seg_bits segments per octave (per parity), Horner in the
      offset t inside the segment: 2 multiplies, a ROM of 3 * 2**(seg_bits+1) coefficients
      (coef_frac = 19).
        seg_bits  ROM   max err          mean err
        0           6   456  LSB (7.0e-3)  72.4 LSB
        2          24   14.5 LSB (2.3e-4)  1.41 LSB
        3          48   2.50 LSB (4.0e-5)  0.31 LSB
        4          96   0.78 LSB (1.9e-5)  0.25 LSB   <- DEFAULT
  (b) rsqrt_newton_int: linear seed per parity (1 multiply, 4 coefficients, fitted with the
      iterations in the loop), then y <- y (3 - m y^2) / 2 at 20 fraction bits (3 multiplies each):
        iterations  multiplies  max err          mean err
        1           4           93.5 LSB (1.5e-3)  11.9 LSB
        2           7           0.62 LSB (1.6e-5)  0.25 LSB
        3           10          0.56 LSB (1.7e-5)  0.25 LSB
  Choice: (a) with seg_bits = 4 is the default used by layernorm_int. It has the same mean error as
  2-3 Newton iterations and a max error only 0.16-0.22 LSB larger (both are dominated by the final
  rounding's 0.5 LSB), for 2 multiplies instead of 7-10 and a 2-multiply-deep pipeline instead of
  6-9 dependent multiplies; the 96-word ROM (19-bit words) is a few LUTRAMs. (`python -m
  quant.nl_report` reprints this table.)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from quant.intops import as_int, bit_length, check_bits, msb_index, round_shift, round_shift_var, saturate
from quant.nl_exp import NLParams, abs_error_score, neighbour_search

MAN_FRAC = 16      # fraction bits of the normalised mantissa m in [1, 2)
RSQRT_FRAC = 16    # fraction bits of the rsqrt mantissa r in (0.5, 1]
V_BITS = 47        # rsqrt input: unsigned, < 2**47
COEF_GUARD = 3     # coef_frac = out_frac + COEF_GUARD
MEAN_FRAC = 8      # fraction bits of the LayerNorm row mean the row is centred on


def _normalise(v, man_frac: int):
    """v >= 1 -> (m, parity, k): v = m * 2**(2k + parity) * 2**-man_frac, m in [2**man_frac, 2**(man_frac+1)).

    msb = floor(log2 v) from a count-leading-zeros; m is v shifted left or right (truncating) so its
    leading one sits at bit man_frac.
    """
    v = check_bits(np.maximum(as_int(v), 1), V_BITS, False, "rsqrt.v")             # u(47); v = 0 -> 1
    msb = msb_index(v)                                                              # u(6)
    left = np.maximum(man_frac - msb, 0)
    right = np.maximum(msb - man_frac, 0)
    m = check_bits((v << left) >> right, man_frac + 1, False, "rsqrt.m")            # u(man_frac + 1)
    return m, msb & 1, msb >> 1


# ----------------------------------------------------------------------------------------------
# (a) piecewise quadratic
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RsqrtParams(NLParams):
    man_frac: int            # fraction bits of m in [1, 2)
    seg_bits: int            # 2**seg_bits segments per octave; index = parity * 2**seg_bits + segment
    out_frac: int            # fraction bits of r
    coef_frac: int           # fraction bits of c0, c1, c2 and of the Horner accumulators
    c0: tuple[int, ...]      # value at the segment start
    c1: tuple[int, ...]      # slope per segment width (negative)
    c2: tuple[int, ...]      # curvature per segment width squared

    @property
    def t_frac(self) -> int:
        return self.man_frac - self.seg_bits


def _rsqrt_poly_mantissa(m, parity, q: RsqrtParams) -> np.ndarray:
    """r = rsqrt(m * 2**parity) at out_frac for normalised m (man_frac fraction bits)."""
    tf, cf = q.t_frac, q.coef_frac
    idx = (parity << q.seg_bits) | ((m >> tf) & ((1 << q.seg_bits) - 1))           # u(seg_bits + 1)
    t = m & ((1 << tf) - 1)                                                         # u(t_frac)
    c0, c1, c2 = (np.asarray(c, dtype=np.int64)[idx] for c in (q.c0, q.c1, q.c2))  # coefficient ROM
    h = c1 + round_shift(check_bits(c2 * t, cf + tf + 1, True, "rsqrt.c2t"), tf)    # s(cf + 1)
    y = c0 + round_shift(check_bits(h * t, cf + tf + 1, True, "rsqrt.ht"), tf)      # (0.5, 1]: s(cf + 2)
    return check_bits(round_shift(y, cf - q.out_frac), q.out_frac + 1, False, "rsqrt.r")  # u(out_frac+1)


def rsqrt_int(v, q: RsqrtParams):
    """Integer 1/sqrt(v) for 1 <= v < 2**47 (v = 0 is treated as 1): returns (r, k) with
    1/sqrt(v) ~ r * 2**-(q.out_frac + k), r about [2**(out_frac-1), 2**out_frac] (u(out_frac+1)),
    k = floor(log2(v) / 2) (u(5)). Cost: a count-leading-zeros, two shifters, a ROM, 2 multiplies.
    """
    m, parity, k = _normalise(v, q.man_frac)
    return _rsqrt_poly_mantissa(m, parity, q), k


def _mantissa_grid(man_frac: int, parity: int, lo: int, hi: int):
    m = np.arange(lo, hi, dtype=np.int64)
    want = 1.0 / np.sqrt(m * 2.0 ** (parity - man_frac))
    return m, np.full_like(m, parity), want


@lru_cache(maxsize=None)
def fit_rsqrt(seg_bits: int = 4, man_frac: int = MAN_FRAC, out_frac: int = RSQRT_FRAC,
              search: bool = True) -> RsqrtParams:
    """Fit the piecewise quadratic: per segment, the float least-squares quadratic in the offset,
    rounded to coef_frac = out_frac + COEF_GUARD bits, then the neighbour search on its three codes over
    every mantissa of the segment (objective: mean abs error of r, tie-break max)."""
    cf, tf = out_frac + COEF_GUARD, man_frac - seg_bits
    frame = RsqrtParams(man_frac, seg_bits, out_frac, cf, (), (), ())
    c0, c1, c2 = [], [], []
    for parity in (0, 1):
        for seg in range(1 << seg_bits):
            lo = (1 << man_frac) + (seg << tf)
            m, par, want = _mantissa_grid(man_frac, parity, lo, lo + (1 << tf))
            t = (m - lo) * 2.0 ** -tf
            coef = np.polyfit(t, want, 2)                       # [curvature, slope, value]
            start = tuple(round(c * (1 << cf)) for c in coef[::-1])

            def score(cs, m=m, par=par, want=want):
                q = replace(frame, c0=(cs[0],) * 2 * (1 << seg_bits), c1=(cs[1],) * 2 * (1 << seg_bits),
                            c2=(cs[2],) * 2 * (1 << seg_bits))
                return abs_error_score(_rsqrt_poly_mantissa(m, par, q) * 2.0 ** -out_frac, want)

            step = 1 << max(2, 8 - 2 * seg_bits)               # error scale ~ segment width**3
            best = neighbour_search(start, score, radius=1, max_step=step)[0] if search else start
            c0.append(best[0]), c1.append(best[1]), c2.append(best[2])
    return replace(frame, c0=tuple(c0), c1=tuple(c1), c2=tuple(c2))


# ----------------------------------------------------------------------------------------------
# (b) Newton iterations from a linear seed
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RsqrtNewtonParams(NLParams):
    man_frac: int
    out_frac: int
    work_frac: int          # fraction bits of y during the iterations
    iterations: int
    d0: tuple[int, int]     # seed y0 = d0[parity] + d1[parity] * m  (m in [1, 2)), at work_frac
    d1: tuple[int, int]


def _rsqrt_newton_mantissa(m, parity, q: RsqrtNewtonParams) -> np.ndarray:
    wf, mf = q.work_frac, q.man_frac
    d0, d1 = np.asarray(q.d0, dtype=np.int64)[parity], np.asarray(q.d1, dtype=np.int64)[parity]
    y = d0 + round_shift(check_bits(d1 * m, wf + mf + 3, True, "newton.seed"), mf)  # s(wf + 2)
    y = check_bits(np.maximum(y, 0), wf + 1, False, "newton.y0")                    # u(wf + 1)
    m4 = m << parity                                                                # [1, 4): u(mf + 2)
    for _ in range(q.iterations):
        y2 = check_bits(round_shift(y * y, wf), wf + 2, False, "newton.y2")         # u(wf + 2)
        my2 = check_bits(round_shift(m4 * y2, mf), wf + 4, False, "newton.my2")     # ~1: u(wf + 4)
        t3 = check_bits((3 << wf) - my2, wf + 4, True, "newton.t3")                 # ~2: s(wf + 4)
        y = check_bits(round_shift(y * t3, wf + 1), wf + 1, False, "newton.y")      # u(wf + 1)
    return round_shift(y, wf - q.out_frac)


def rsqrt_newton_int(v, q: RsqrtNewtonParams):
    """Variant (b): same contract as rsqrt_int; 1 + 3 * iterations multiplies."""
    m, parity, k = _normalise(v, q.man_frac)
    return _rsqrt_newton_mantissa(m, parity, q), k


@lru_cache(maxsize=None)
def fit_rsqrt_newton(iterations: int = 3, man_frac: int = MAN_FRAC, out_frac: int = RSQRT_FRAC,
                     work_frac: int = 20, search: bool = True) -> RsqrtNewtonParams:
    """Linear seed per parity: float least squares on [1, 2), then the neighbour search with the
    Newton iterations in the loop (objective: mean abs error of the final r over all mantissas)."""
    frame = RsqrtNewtonParams(man_frac, out_frac, work_frac, iterations, (0, 0), (0, 0))
    d0, d1 = [], []
    for parity in (0, 1):
        m, par, want = _mantissa_grid(man_frac, parity, 1 << man_frac, 2 << man_frac)
        slope, icpt = np.polyfit(m * 2.0 ** -man_frac, want, 1)
        start = (round(icpt * (1 << work_frac)), round(slope * (1 << work_frac)))

        def score(ds, m=m, par=par, want=want):
            q = replace(frame, d0=(ds[0], ds[0]), d1=(ds[1], ds[1]))
            return abs_error_score(_rsqrt_newton_mantissa(m, par, q) * 2.0 ** -out_frac, want)

        best = neighbour_search(start, score, radius=1, max_step=1 << (work_frac - 12))[0] if search else start
        d0.append(best[0]), d1.append(best[1])
    return replace(frame, d0=tuple(d0), d1=tuple(d1))


def measure_rsqrt(q) -> dict:
    """Exhaustive error of a mantissa evaluator over all 2 * 2**man_frac mantissas, and its cost."""
    m = np.arange(1 << q.man_frac, 2 << q.man_frac, dtype=np.int64)
    m = np.concatenate([m, m])
    parity = np.repeat(np.array([0, 1], dtype=np.int64), 1 << q.man_frac)
    want = 1.0 / np.sqrt(m * 2.0 ** (parity - q.man_frac))
    if isinstance(q, RsqrtParams):
        r, mults, table = _rsqrt_poly_mantissa(m, parity, q), 2, 3 * len(q.c0)
    else:
        r, mults, table = _rsqrt_newton_mantissa(m, parity, q), 1 + 3 * q.iterations, 4
    err = np.abs(r * 2.0 ** -q.out_frac - want)
    lsb = 2.0 ** -q.out_frac
    return {"max_abs": float(err.max()), "mean_abs": float(err.mean()),
            "max_lsb": float(err.max() / lsb), "mean_lsb": float(err.mean() / lsb),
            "max_rel": float((err / want).max()), "multiplies": mults, "table_entries": table}


# ----------------------------------------------------------------------------------------------
# LayerNorm core
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LayerNormParams(NLParams):
    dim: int
    in_bits: int           # signed input codes
    out_frac: int          # fraction bits of the normalised output
    out_bits: int          # signed output width (saturating)
    eps_code: int          # eps in input-code units squared
    mean_mult: int         # round(2**mean_shift / dim)
    mean_shift: int
    sqrt_dim: int          # round(sqrt(dim) * 2**sqrt_dim_frac)
    sqrt_dim_frac: int
    scale_frac: int        # fraction bits of the per-row scale f
    rsqrt: RsqrtParams


def fit_layernorm(dim: int, in_bits: int = 16, out_frac: int = 10, eps_code: int = 1,
                  out_bits: int = 16, rsqrt: RsqrtParams | None = None) -> LayerNormParams:
    """LayerNorm core for rows of `dim` signed in_bits codes; output s(out_bits) with out_frac bits."""
    assert 1 <= dim <= 4096 and 2 <= in_bits <= 16 and eps_code >= 0 and 1 <= out_frac < out_bits <= 24
    lb = (dim - 1).bit_length()
    assert 2 * in_bits + lb + 1 <= V_BITS and dim * eps_code < (1 << (2 * in_bits + lb)), "eps_code too large"
    mean_shift = 47 - in_bits                    # |sx| * mean_mult < 2**(in_bits - 1 + mean_shift) * (1 + 2**-20)
    sqrt_frac = 16
    return LayerNormParams(dim, in_bits, out_frac, out_bits, eps_code, round((1 << mean_shift) / dim),
                           mean_shift, round(math.sqrt(dim) * (1 << sqrt_frac)), sqrt_frac,
                           max(16, out_frac + 1), rsqrt if rsqrt is not None else fit_rsqrt())


def layernorm_int(x, q: LayerNormParams) -> np.ndarray:
    """Integer LayerNorm core over the last axis (see module docstring for the data path).

    Rounding: every shift is round-half-up; muF and mu are clamped to their ranges (active only for
    a mean within half a code of the int16 limits); the output saturates to s(out_bits).
    """
    ib, r = q.in_bits, q.rsqrt
    x = check_bits(x, ib, True, "ln.x")
    assert x.shape[-1] == q.dim, f"layernorm_int: last axis {x.shape[-1]} != dim {q.dim}"
    lb = (q.dim - 1).bit_length()
    sx = check_bits(x.sum(axis=-1, keepdims=True), ib + lb, True, "ln.sum")                # s(ib + lb)
    smm = check_bits(sx * q.mean_mult, ib + q.mean_shift + 1, True, "ln.sum_mult")         # s(ib + shift + 1)
    mf = MEAN_FRAC
    muf = saturate(round_shift(smm, q.mean_shift - mf), ib + mf, True)                     # s(ib + MF)
    mu = saturate(round_shift(muf, mf), ib, True)                                          # s(ib)
    d = check_bits((mu << mf) - muf, mf + 1, True, "ln.d")                                 # s(MF + 1)
    c = check_bits(x - mu, ib + 1, True, "ln.c")                                           # s(ib + 1)
    s2 = check_bits((c * c).sum(axis=-1, keepdims=True), 2 * ib + lb, False, "ln.s2")     # u(2 ib + lb)
    e2 = check_bits(round_shift(q.dim * d * d, 2 * mf), lb + 1, False, "ln.e2")            # u(lb + 1)
    v = check_bits(np.maximum(s2 - e2, 0) + q.dim * q.eps_code, 2 * ib + lb + 1, False, "ln.v")
    rr, k = rsqrt_int(v, r)                                                                # u(r_frac+1), u(5)
    f = round_shift(check_bits(rr * q.sqrt_dim, r.out_frac + 1 + bit_length(q.sqrt_dim), False, "ln.r_sqd"),
                    r.out_frac + q.sqrt_dim_frac - q.scale_frac)
    f = check_bits(f, q.scale_frac + 7, False, "ln.f")                                     # < 64: u(Ff + 7)
    b = check_bits(round_shift(d * f, mf), q.scale_frac + 8, True, "ln.b")                  # s(Ff + 8)
    cf = check_bits(c * f + b, ib + q.scale_frac + 8, True, "ln.c_f")                      # s(ib + Ff + 8)
    y = round_shift_var(cf, q.scale_frac + k - q.out_frac)                                 # barrel shift
    return saturate(y, q.out_bits, True)                                                   # s(out_bits)


def layernorm_float(x, eps_code: float = 1.0) -> np.ndarray:
    """Float64 reference: (x - mean) / sqrt(var + eps) over the last axis (population variance)."""
    x = np.asarray(x, dtype=np.float64)
    c = x - x.mean(axis=-1, keepdims=True)
    return c / np.sqrt((c * c).mean(axis=-1, keepdims=True) + eps_code)
