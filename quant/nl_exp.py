"""Integer exp and softmax (I-BERT range reduction + quadratic, HeatViT-style fitted coefficients).

These functions ARE the hardware definition: the HLS C++ and the RTL compute exactly this, bit for
bit. Only add, sub, multiply, shifts, compares/clamps and (in softmax) one integer division per row
are used; every intermediate's width is stated in a comment and checked by `check_bits`.

exp_int (x <= 0, x a code with in_frac fraction bits, result a code with out_frac fraction bits)::

    n   = min(-x, n_clamp)                         beyond n_clamp the result is 0 anyway
    z   = (n * inv_mult) >> inv_shift              == floor(n * 2**g / ln2)  EXACTLY (see below)
    p   = z * ln2 - (n << g)                       in (-ln2_q, 0], p_frac fraction bits
    L   = round((a * round((p + b)**2)) ) + c      a(p+b)^2 + c at l_frac = out_frac + guard bits
    L   = clamp(L, 2**(l_frac-1), 2**l_frac)       exp(p) lies in (0.5, 1] on the domain
    out = round_half_up(L / 2**(z + guard))        z <= z_max because n <= n_clamp

* ln2_q = ln2 / 2**p_frac is the quantized ln2 (p_frac >= in_frac, so g = p_frac - in_frac >= 0
  and x << g is exact). z is floor(-x / ln2_q), computed as a multiply by a fixed-point 1/ln2 and a
  shift; the constant is chosen (Granlund-Montgomery) so that n * e < 2**inv_shift, with
  e = inv_mult*ln2 - 2**(inv_shift+g) in [0, ln2), which makes the floor exact for every
  n in [0, n_clamp]; the fit also verifies this exhaustively. Hence p is always in (-ln2_q, 0].
* z_max = out_frac + 2: at z = z_max, L / 2**(z+guard) <= 2**(out_frac+guard) / 2**(out_frac+2+guard)
  = 1/4 rounds to 0, so the output is exactly 0 beyond the representable range. n_clamp is the
  smallest n with z(n) = z_max: clamping n is the only clamp needed (z never exceeds z_max, which
  bounds the barrel shift), and it never changes the result.
* exp(0) is exactly 2**out_frac: the fit only accepts coefficients with L(p=0) >= 2**l_frac and
  the clamp brings it to 2**l_frac.
* Monotone non-decreasing in x, by construction: within one z band L is a non-decreasing function
  of p (a > 0, p + b > 0, all roundings monotone); across a band boundary the value below is
  >= 2**(l_frac-1) / 2**z >= L_max / 2**(z+1) thanks to the lower clamp.

softmax_int over the last axis: m = row max, d = x - m <= 0, e = exp_int(d), s = sum(e) (exact),
r = floor(2**R / s) (ONE integer division per row), prob = sat_u(out_bits, round(e * r / 2**(R-out_bits))).
With e <= 2**Fe (Fe = exp out_frac) the reciprocal's floor costs at most e * 2**(out_bits-R) <=
2**(Fe+out_bits-R) output LSB; R = Fe + out_bits + 4 makes that < 1/16 LSB for ANY row length.
The row length only sets the width of s (Fe + 1 + ceil(log2 max_len) bits); Fe = out_bits +
ceil(log2 max_len) keeps the sum of the per-element exp rounding errors (<= max_len/2 exp LSB)
below half an output LSB relative to s >= 2**Fe.

Fitting (generation time, float allowed): the float least-squares quadratic with L(0) = 1, rounded
to the coefficient formats, then a quantization-in-the-loop neighbour search (`neighbour_search`)
over the codes (a, b, c) minimising the mean absolute error of exp_int over every input code of
the domain [-n_clamp, 0] (tie-break: max absolute error).

This module also hosts the small fitting helpers shared by nl_gelu and nl_layernorm.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from typing import Callable, Sequence

import numpy as np

from quant.intops import as_int, bit_length, check_bits, round_shift, round_shift_var, saturate

# ----------------------------------------------------------------------------------------------
# shared fitting helpers
# ----------------------------------------------------------------------------------------------


class NLParams:
    """Mixin for the frozen parameter dataclasses: plain ints (and nested params / int tuples)."""

    def to_dict(self) -> dict:
        out = {}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, NLParams):
                v = v.to_dict()
            elif isinstance(v, tuple):
                v = [int(t) for t in v]
            out[f.name] = v
        return out


Score = tuple[float, float]


def abs_error_score(got: np.ndarray, want: np.ndarray) -> Score:
    """(mean abs error, max abs error): the fitting objective and its tie-break."""
    err = np.abs(np.asarray(got, dtype=np.float64) - want)
    return float(err.mean()), float(err.max())


def neighbour_search(start: Sequence[int], evaluate: Callable[[tuple[int, ...]], Score | None],
                     radius: int = 1, max_step: int = 1,
                     max_rounds: int = 64) -> tuple[tuple[int, ...], Score]:
    """Quantization-in-the-loop coefficient search (HeatViT): hill-climb over integer code boxes.

    Evaluate every code vector in the box centre + step * [-radius, radius] (per coordinate), move
    to the best one (key: mean abs error, then max abs error, then the code vector itself, so the
    result is deterministic) and repeat until the centre is the best. The step runs coarse to fine,
    max_step, max_step/2, ..., 1 (powers of two), so long drifts at fine resolutions cost few
    evaluations; the final point is a local optimum of its +-radius code neighbourhood.
    `evaluate` returns None for an infeasible candidate. The start must be feasible, and the result
    is never worse than the start.
    """
    start = tuple(int(s) for s in start)
    memo: dict[tuple[int, ...], Score | None] = {}

    def score(c):
        if c not in memo:
            memo[c] = evaluate(c)
        return memo[c]

    best = start
    best_score = score(best)
    assert best_score is not None, "neighbour_search: start point is infeasible"
    offsets = np.stack(np.meshgrid(*[np.arange(-radius, radius + 1)] * len(start), indexing="ij"),
                       -1).reshape(-1, len(start))
    step = 1 << max(0, int(max_step).bit_length() - 1)
    while step >= 1:
        for _ in range(max_rounds):
            centre = best
            for off in offsets:
                cand = tuple(int(c + step * o) for c, o in zip(centre, off))
                s = score(cand)
                if s is not None and (s, cand) < (best_score, best):
                    best, best_score = cand, s
            if best == centre:
                break
        step //= 2
    return best, best_score


# ----------------------------------------------------------------------------------------------
# exp
# ----------------------------------------------------------------------------------------------

EXP_GUARD = 2  # extra fraction bits of L over the output


@dataclass(frozen=True)
class ExpParams(NLParams):
    in_frac: int    # fraction bits of the input code x (x <= 0)
    out_frac: int   # fraction bits of the output (exp(0) -> 2**out_frac)
    guard: int      # l_frac = out_frac + guard: fraction bits of the polynomial value L
    p_frac: int     # fraction bits of ln2, p and b (>= in_frac)
    ln2: int        # round(ln(2) * 2**p_frac)
    inv_mult: int   # ceil(2**(inv_shift + p_frac - in_frac) / ln2): z = (n * inv_mult) >> inv_shift
    inv_shift: int
    n_clamp: int    # -x is clamped to this (z(n_clamp) == z_max)
    z_max: int      # out_frac + 2: shifts of z_max or more give 0
    a: int          # a * 2**l_frac  (> 0)
    b: int          # b * 2**p_frac  (> ln2)
    c: int          # c * 2**l_frac

    @property
    def l_frac(self) -> int:
        return self.out_frac + self.guard


def _exp_poly_raw(p, q: ExpParams) -> np.ndarray:
    """L(p) = a(p+b)^2 + c at l_frac fraction bits, before the clamp. p: (-ln2_q, 0] at p_frac."""
    lf = q.l_frac
    pb = check_bits(p + q.b, q.p_frac + 1, False, "exp.pb")            # (b - ln2, b] < 2: u(p_frac+1)
    pb2 = check_bits(pb * pb, 2 * q.p_frac + 2, False, "exp.pb2")     # < 4: u(2 p_frac + 2)
    sq = check_bits(round_shift(pb2, 2 * q.p_frac - lf), lf + 2, False, "exp.sq")  # u(l_frac + 2)
    prod = check_bits(q.a * sq, bit_length(q.a) + lf + 2, False, "exp.a_sq")  # u(|a| bits + l_frac + 2)
    return check_bits(round_shift(prod, lf) + q.c, lf + 3, True, "exp.L")   # ~[0.5, 1]: s(l_frac + 3)


def exp_int(x, q: ExpParams) -> np.ndarray:
    """exp(x) for x <= 0: x has q.in_frac fraction bits; result unsigned with q.out_frac fraction bits.

    Widths: n u(bits(n_clamp)); n*inv_mult u(bits(n_clamp)+bits(inv_mult)) (<= 48, checked at fit);
    z u(bits(z_max)) (z <= z_max since n <= n_clamp); p s(p_frac+1); L u(l_frac+1); out u(out_frac+1).
    Rounding: every shift is round-half-up except z (exact floor). Out-of-range: x < -n_clamp*2**-in_frac
    gives 0; exp(0) gives exactly 2**out_frac. Monotone non-decreasing in x (see module docstring).
    """
    x = as_int(x)
    assert np.all(x <= 0), "exp_int: inputs must be <= 0"
    g = q.p_frac - q.in_frac
    nb = bit_length(q.n_clamp)
    n = check_bits(np.minimum(-x, q.n_clamp), nb, False, "exp.n")                 # u(nb)
    zm = check_bits(n * q.inv_mult, nb + bit_length(q.inv_mult), False, "exp.n_inv")  # u(nb + bits(M))
    z = check_bits(zm >> q.inv_shift, bit_length(q.z_max), False, "exp.z")         # = floor(n 2^g / ln2)
    m = check_bits(n << g, nb + g, False, "exp.m")                                 # x at p_frac: u(nb + g)
    zl = check_bits(z * q.ln2, nb + g + 1, False, "exp.z_ln2")                     # <= m: u(nb + g + 1)
    p = check_bits(zl - m, q.p_frac + 1, True, "exp.p")                            # (-ln2_q, 0]: s(p_frac+1)
    lf = q.l_frac
    L = np.clip(_exp_poly_raw(p, q), 1 << (lf - 1), 1 << lf)                       # u(l_frac + 1)
    shift = z + q.guard                                                            # <= z_max + guard
    return check_bits(round_shift_var(L, shift), q.out_frac + 1, False, "exp.out")  # u(out_frac + 1)


def _exp_float_fit() -> tuple[float, float, float]:
    """Least-squares quadratic a(p+b)^2 + c for exp on (-ln2, 0] with the constraint L(0) = 1.

    L(p) - 1 = a p^2 + 2ab p is linear in (a, 2ab). Returns (a, b, c) (anchor: 0.371, 1.314, 0.360;
    I-BERT's hand-set 0.3585, 1.353, 0.344 has L(0) = 1.0003).
    """
    p = np.linspace(-math.log(2.0), 0.0, 4097)
    basis = np.stack([p * p, p], axis=1)
    (a, two_ab), *_ = np.linalg.lstsq(basis, np.exp(p) - 1.0, rcond=None)
    b = two_ab / (2.0 * a)
    return float(a), float(b), float(1.0 - a * b * b)


def _exp_frame(in_frac: int, out_frac: int) -> ExpParams:
    """The fixed-point frame (formats, ln2, exact 1/ln2 multiplier) with placeholder coefficients."""
    assert in_frac >= 0 and out_frac >= 1
    guard = EXP_GUARD
    p_frac = max(in_frac, out_frac + guard + 2)
    g = p_frac - in_frac
    ln2 = round(math.log(2.0) * (1 << p_frac))
    z_max = out_frac + 2
    n_clamp = -(-(z_max * ln2) // (1 << g))      # ceil: smallest n with n << g >= z_max * ln2
    inv_shift = 0
    while True:
        inv_mult = -(-(1 << (inv_shift + g)) // ln2)
        e = inv_mult * ln2 - (1 << (inv_shift + g))
        if n_clamp * e < (1 << inv_shift):
            break
        inv_shift += 1
    assert bit_length(n_clamp) + bit_length(inv_mult) <= 48
    n = np.arange(n_clamp + 1, dtype=np.int64)
    assert np.array_equal((n * inv_mult) >> inv_shift, (n << g) // ln2), "1/ln2 multiplier not exact"
    assert ((n_clamp * inv_mult) >> inv_shift) == z_max
    return ExpParams(in_frac, out_frac, guard, p_frac, ln2, inv_mult, inv_shift, n_clamp, z_max, 0, 0, 0)


def exp_domain(q: ExpParams) -> np.ndarray:
    """All input codes of the exp that can give a non-zero result: [-n_clamp, 0]."""
    return -np.arange(q.n_clamp + 1, dtype=np.int64)


def _exp_score(q: ExpParams, x: np.ndarray, want: np.ndarray) -> Score | None:
    if _exp_poly_raw(np.zeros(1, dtype=np.int64), q)[0] < (1 << q.l_frac):
        return None                       # exp(0) would not be exactly 1
    return abs_error_score(exp_int(x, q) * 2.0 ** -q.out_frac, want)


FIT_SAMPLES = 4096


@lru_cache(maxsize=None)
def fit_exp(in_frac: int, out_frac: int, search: bool = True) -> ExpParams:
    """Fit the exp unit for inputs with `in_frac` and outputs with `out_frac` fraction bits.

    search=False returns the rounded float fit (c raised by the few codes needed for exp(0) = 1).
    """
    frame = _exp_frame(in_frac, out_frac)
    a, b, c = _exp_float_fit()
    lf = frame.l_frac
    q0 = replace(frame, a=round(a * (1 << lf)), b=round(b * (1 << frame.p_frac)), c=round(c * (1 << lf)))
    deficit = (1 << lf) - int(_exp_poly_raw(np.zeros(1, dtype=np.int64), q0)[0])
    if deficit > 0:
        q0 = replace(q0, c=q0.c + deficit)
    if not search:
        return q0
    x = exp_domain(frame)
    if len(x) > FIT_SAMPLES:  # an even subsample of the codes keeps the search fast at wide inputs
        x = x[::-(-len(x) // FIT_SAMPLES)]
    want = np.exp(x * 2.0 ** -in_frac)
    best, _ = neighbour_search((q0.a, q0.b, q0.c),
                               lambda t: _exp_score(replace(frame, a=t[0], b=t[1], c=t[2]), x, want),
                               radius=1, max_step=1 << max(0, lf - 10))
    return replace(frame, a=best[0], b=best[1], c=best[2])


def exp_score(q: ExpParams) -> Score:
    """The fitting objective of `q`: (mean, max) abs error over every input code of the domain."""
    x = exp_domain(q)
    s = _exp_score(q, x, np.exp(x * 2.0 ** -q.in_frac))
    assert s is not None
    return s


# ----------------------------------------------------------------------------------------------
# softmax
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoftmaxParams(NLParams):
    exp: ExpParams   # exp of d = x - max (in_frac of the logits, out_frac = Fe)
    out_bits: int    # output: unsigned out_bits code, scale 2**-out_bits (1.0 saturates to 2**out_bits-1)
    recip_bits: int  # R: r = floor(2**R / s)
    max_len: int     # longest row the widths are sized for
    in_bits: int     # width of the input codes x (signed)

    @property
    def in_frac(self) -> int:
        return self.exp.in_frac


def fit_softmax(in_frac: int, out_bits: int, max_len: int = 256, in_bits: int = 16,
                exp_frac: int | None = None) -> SoftmaxParams:
    """Softmax over rows of <= max_len signed in_bits codes with in_frac fraction bits.

    Defaults: exp out_frac Fe = out_bits + ceil(log2 max_len); R = Fe + out_bits + 4 (see module doc).
    """
    assert 1 <= out_bits <= 16 and max_len >= 1
    fe = out_bits + max(0, (max_len - 1).bit_length()) if exp_frac is None else exp_frac
    return SoftmaxParams(fit_exp(in_frac, fe), out_bits, fe + out_bits + 4, max_len, in_bits)


def softmax_int(x, q: SoftmaxParams) -> np.ndarray:
    """Integer softmax over the last axis. Returns unsigned q.out_bits codes (scale 2**-out_bits).

    Widths: x s(in_bits); d = x - max s(in_bits+1), <= 0; e u(Fe+1); s = sum(e) exact,
    u(Fe + 1 + ceil(log2 max_len)), s >= 2**Fe (the max element gives exactly 2**Fe);
    r = floor(2**R / s) u(R - Fe + 1) (the one division per row); e*r u(R + 1);
    prob = saturate_unsigned(out_bits, round_half_up(e*r / 2**(R - out_bits))).
    """
    x = check_bits(x, q.in_bits, True, "softmax.x")
    n = x.shape[-1]
    assert 1 <= n <= q.max_len, f"softmax_int: row length {n} exceeds max_len {q.max_len}"
    fe, big_r = q.exp.out_frac, q.recip_bits
    d = check_bits(x - x.max(axis=-1, keepdims=True), q.in_bits + 1, True, "softmax.d")   # s(in_bits+1)
    e = check_bits(exp_int(d, q.exp), fe + 1, False, "softmax.e")                         # u(Fe+1)
    lb = max(0, (q.max_len - 1).bit_length())
    s = check_bits(e.sum(axis=-1, keepdims=True), fe + 1 + lb, False, "softmax.sum")      # u(Fe+1+lb)
    r = check_bits((1 << big_r) // s, big_r - fe + 1, False, "softmax.recip")             # u(R-Fe+1)
    er = check_bits(e * r, big_r + 1, False, "softmax.e_r")                               # u(R+1)
    return saturate(round_shift(er, big_r - q.out_bits), q.out_bits, signed=False)        # u(out_bits)


def softmax_unrounded(x, q: SoftmaxParams) -> np.ndarray:
    """e * r / 2**R as float: the integer unit's value before its output rounding (for reports)."""
    x = as_int(x)
    e = exp_int(x - x.max(axis=-1, keepdims=True), q.exp)
    r = (1 << q.recip_bits) // e.sum(axis=-1, keepdims=True)
    return (e * r) * 2.0 ** -q.recip_bits
