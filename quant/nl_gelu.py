"""Integer GELU (I-BERT polynomial erf, HeatViT-style coefficients fitted with quantization in the loop).

The hardware definition (HLS C++ and RTL compute exactly this)::

    gelu(x) = x/2 * (1 + erf(x / sqrt2)),   erf(u) ~ sign(u) * [a (min(|u|, -b) + b)^2 + 1]

x is a signed ap_fixed<in_width, in_width - in_frac> code. With W = work_frac fraction bits:

    ax  = |x|                                         u(in_width)      (|-2**(W-1)| needs W bits)
    u   = round(ax * k / 2**in_frac)                  |x|/sqrt2 at W:  u(in_width - in_frac + W)
    v   = min(u, bb) - bb                             in [-bb, 0], bb = -b * 2**W > 0: s(W + 3)
    sq  = round(v * v / 2**W)                         (min(|u|,-b)+b)^2 at W: u(W + 4)
    E   = round(a * sq / 2**W) + 2**W                 erf(|u|) at W (a < 0): s(W + 2), in [1 + a b^2, 1]
    g   = (x << W) + ax * E                           x (1 + sign(x) E) at in_frac + W: s(in_width + W + 2)
    out = round(g / 2**(in_frac + W + 1 - out_frac))  gelu at out_frac fraction bits

All rounding is round-half-up (ties toward +inf, also for negative g). For |x| >= -b*sqrt2 (~2.5)
E is exactly 1, so gelu(x) = x (x > 0) or exactly 0 (x < 0). Output range: [min gelu, max x], i.e.
s(in_width - in_frac + out_frac); no saturation is needed.

Fit: the float least-squares (a, b) of the GELU over the input range (a uniform grid of at most
4096 input codes; for fixed b the optimal a is
closed form; b by a coarse grid plus golden-section refinement), k = 1/sqrt2, rounded to W bits;
then the neighbour search over the codes (k, b, a) minimising the mean abs error of gelu_int over
all 2**in_width input codes (tie-break: max abs error).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from quant.intops import check_bits, round_shift
from quant.nl_exp import NLParams, Score, abs_error_score, neighbour_search

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu_float(x) -> np.ndarray:
    """The exact (erf) GELU in float64 (reference for fits, reports and tests)."""
    x = np.asarray(x, dtype=np.float64)
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


@dataclass(frozen=True)
class GeluParams(NLParams):
    in_width: int    # input: signed ap_fixed<in_width, in_width - in_frac>
    in_frac: int
    out_frac: int    # output fraction bits
    work_frac: int   # W: fraction bits of u, v^2, erf and of the coefficients
    k: int           # 1/sqrt2 * 2**W
    b: int           # -b * 2**W  (stored positive: the clip point of |u|)
    a: int           # a * 2**W   (negative)


def gelu_int(x, q: GeluParams) -> np.ndarray:
    """GELU of signed in_width-bit codes with in_frac fraction bits -> signed codes with out_frac.

    Widths are in the module docstring and checked on every call (all <= 48 bits for in_width <= 16).
    """
    w, fi = q.work_frac, q.in_frac
    ib = q.in_width - fi                                   # integer bits of the input incl. sign
    x = check_bits(x, q.in_width, True, "gelu.x")
    ax = np.abs(x)                                                                  # u(in_width)
    uk = check_bits(ax * q.k, q.in_width + w, False, "gelu.ax_k")                   # u(in_width + W)
    u = check_bits(round_shift(uk, fi), ib + w, False, "gelu.u")                    # |x|/sqrt2: u(ib + W)
    v = check_bits(np.minimum(u, q.b) - q.b, w + 3, True, "gelu.v")                 # [-bb, 0]: s(W+3)
    sq = check_bits(round_shift(v * v, w), w + 4, False, "gelu.sq")                 # < 16: u(W+4)
    ea = check_bits(q.a * sq, 2 * w + 6, True, "gelu.a_sq")                         # s(2W + 6)
    e = check_bits(round_shift(ea, w) + (1 << w), w + 2, True, "gelu.erf")          # erf(|u|): s(W+2)
    g = check_bits((x << w) + ax * e, q.in_width + w + 2, True, "gelu.g")           # s(in_width+W+2)
    out = round_shift(g, fi + w + 1 - q.out_frac)                                   # [-0.17, max x]
    return check_bits(out, ib + q.out_frac, True, "gelu.out")                       # s(ib + out_frac)


def gelu_codes(q: GeluParams) -> np.ndarray:
    """Every input code of the unit: -2**(in_width-1) .. 2**(in_width-1) - 1."""
    return np.arange(-(1 << (q.in_width - 1)), 1 << (q.in_width - 1), dtype=np.int64)


def _ls_a(b: float, ax: np.ndarray, t: np.ndarray, u: np.ndarray) -> tuple[float, float]:
    """Closed-form least-squares a for a fixed clip point b (> 0 here): returns (a, sse)."""
    phi = 0.5 * ax * (np.minimum(u, b) - b) ** 2
    den = float(phi @ phi)
    a = float(phi @ t) / den if den > 0 else 0.0
    r = t - a * phi
    return a, float(r @ r)


def gelu_float_fit(xs: np.ndarray) -> tuple[float, float]:
    """Float least-squares (a, b) of the I-BERT GELU over the points xs (b returned negative)."""
    ax = np.abs(xs)
    u = ax / math.sqrt(2.0)
    # gelu(x) - x/2 - |x|/2 = |x|/2 (erf(|u|) - 1) = a * |x|/2 * (min(|u|, -b) + b)^2
    t = gelu_float(xs) - 0.5 * xs - 0.5 * ax
    grid = np.linspace(0.5, 4.0, 36)
    sse = [_ls_a(bb, ax, t, u)[1] for bb in grid]
    i = int(np.argmin(sse))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    phi = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(30):                                   # golden section on [lo, hi]
        m1, m2 = hi - phi * (hi - lo), lo + phi * (hi - lo)
        if _ls_a(m1, ax, t, u)[1] <= _ls_a(m2, ax, t, u)[1]:
            hi = m2
        else:
            lo = m1
    bb = 0.5 * (lo + hi)
    return _ls_a(bb, ax, t, u)[0], -bb


class _GeluObjective:
    """Exhaustive objective over all input codes, evaluated fast.

    Codes with |x| >= 3.0 have erf == 1 exactly (|u| >= the clip point) for every candidate whose
    clip point round(3.0 * k) >= b, so their outputs (x or 0) do not depend on the coefficients:
    their error sum and max are computed once; candidates that violate the condition are evaluated
    on all codes. Either way the score equals abs_error_score over all 2**in_width codes.
    """

    def __init__(self, frame: GeluParams):
        self.frame = frame
        x = gelu_codes(frame)
        self.n = x.size
        self.t = 3 << frame.in_frac
        inner = np.abs(x) < self.t
        self.x_all, self.want_all = x, gelu_float(x * 2.0 ** -frame.in_frac)
        self.x_in, self.want_in = x[inner], self.want_all[inner]
        xo = x[~inner]
        if xo.size:  # erf == 1: out = round((x + |x|) / 2) at out_frac, computed exactly as gelu_int does
            w = frame.work_frac
            g = (xo << w) + (np.abs(xo) << w)
            err = np.abs(round_shift(g, frame.in_frac + w + 1 - frame.out_frac) * 2.0 ** -frame.out_frac
                         - self.want_all[~inner])
            self.out_sum, self.out_max = float(err.sum()), float(err.max())
        else:
            self.out_sum, self.out_max = 0.0, 0.0

    def __call__(self, q: GeluParams) -> Score | None:
        if q.a >= 0 or q.b <= 0 or q.k <= 0 or q.a * q.b * q.b + (1 << (3 * q.work_frac)) < 0:
            return None                                # erf(0+) would be negative
        if int(round_shift(np.int64(self.t) * q.k, q.in_frac)) < q.b:
            return abs_error_score(gelu_int(self.x_all, q) * 2.0 ** -q.out_frac, self.want_all)
        err = np.abs(gelu_int(self.x_in, q) * 2.0 ** -q.out_frac - self.want_in)
        return (float(err.sum()) + self.out_sum) / self.n, max(float(err.max(initial=0.0)), self.out_max)


IBERT_A, IBERT_B = -0.2888, 1.769   # erf(u) ~ sign(u) [a (min(|u|, b) - b)^2 + 1]


@lru_cache(maxsize=None)
def fit_gelu(in_width: int, in_frac: int, out_frac: int, search: bool = True) -> GeluParams:
    """Fit the GELU unit for ap_fixed<in_width, in_width-in_frac> inputs and out_frac output bits.

    W = max(in_frac, out_frac) + 2. search=False returns the rounded float least-squares fit.
    Takes ~0.1-0.5 s for in_width = 16 (the objective is exhaustive over all input codes).
    """
    assert 2 <= in_width <= 20 and 0 <= in_frac < in_width and out_frac >= 0
    w = max(in_frac, out_frac) + 2
    frame = GeluParams(in_width, in_frac, out_frac, w, 0, 0, 0)
    xs = gelu_codes(frame)[:: 1 << max(0, in_width - 12)] * 2.0 ** -in_frac   # <= 4096 codes
    a, b = gelu_float_fit(xs)
    q0 = replace(frame, k=round((1 << w) / math.sqrt(2.0)), b=round(-b * (1 << w)), a=round(a * (1 << w)))
    if not search:
        return q0
    objective = _GeluObjective(frame)
    if objective(q0) is None:
        # A narrow input range can make the least-squares fit extrapolate to an erf that is
        # negative near 0; start from I-BERT's constants instead.
        q0 = replace(q0, b=round(IBERT_B * (1 << w)), a=round(IBERT_A * (1 << w)))
    best, _ = neighbour_search((q0.k, q0.b, q0.a),
                               lambda t: objective(replace(frame, k=t[0], b=t[1], a=t[2])),
                               radius=1, max_step=1 << max(0, w - 8))
    return replace(frame, k=best[0], b=best[1], a=best[2])


def gelu_score(q: GeluParams) -> Score:
    """The fitting objective of `q`: (mean, max) abs error over every input code (plain evaluation)."""
    x = gelu_codes(q)
    return abs_error_score(gelu_int(x, q) * 2.0 ** -q.out_frac, gelu_float(x * 2.0 ** -q.in_frac))
