"""Tests of the integer nonlinear units (quant.nonlinear): exhaustive where the input space is small.

Error bounds are derived from the data path (see each test) from quantities measured on the fitted
coefficients, so they stay valid when a fit moves a coefficient by a code.
"""
from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from quant.intops import check_bits, msb_index, round_shift_var
from quant.nl_layernorm import MEAN_FRAC
from quant.nonlinear import (ExpParams, GeluParams, LayerNormParams, exp_int, exp_score,
                             fit_exp, fit_gelu, fit_layernorm, fit_rsqrt, fit_rsqrt_newton, fit_softmax, gelu_codes,
                             gelu_float, gelu_int, gelu_score, layernorm_float, layernorm_int, measure_rsqrt,
                             rsqrt_int, rsqrt_newton_int, softmax_int)
from quant.nl_report import error_table, format_error_table

KS = (4, 6, 8)


def softmax_exp(k: int) -> ExpParams:
    """The exp as used by softmax at precision k: ap_fixed<2k,6> logits, Fe = k + 8."""
    return fit_softmax(2 * k - 6, k, in_bits=2 * k).exp


def gelu_params(k: int) -> GeluParams:
    return fit_gelu(2 * k, 2 * k - 4, 2 * k - 4)


# ------------------------------------------------------------------------------------------------ helpers

def test_intops_additions():
    x = np.array([1, 2, 3, 4, 255, 256, (1 << 47) - 1, 1 << 47], dtype=np.int64)
    assert msb_index(x).tolist() == [int(v).bit_length() - 1 for v in x.tolist()]
    assert round_shift_var(np.array([5, 5, -5, 6, 7]), np.array([0, 1, 1, 2, 1])).tolist() == [5, 3, -2, 2, 4]
    check_bits(np.array([-(1 << 47), (1 << 47) - 1]), 48)
    with pytest.raises(AssertionError):
        check_bits(np.array([1 << 47]), 48)
    with pytest.raises(AssertionError):
        check_bits(np.array([0]), 49)          # no intermediate may be declared wider than 48 bits
    with pytest.raises(AssertionError):
        check_bits(np.array([-1]), 8, signed=False)


def test_params_are_frozen_plain_ints():
    for q in (softmax_exp(8), gelu_params(8), fit_softmax(10, 8), fit_layernorm(768), fit_rsqrt_newton(2)):
        d = q.to_dict()
        json.dumps(d)                       # plain ints / lists / nested dicts only

        def ints(v):
            return all(ints(t) for t in v.values()) if isinstance(v, dict) else \
                all(type(t) is int for t in v) if isinstance(v, list) else type(v) is int
        assert ints(d), d
        with pytest.raises(dataclasses.FrozenInstanceError):
            q.out_frac = 3  # type: ignore[misc]


def test_fits_are_deterministic():
    fit_exp.cache_clear()
    fit_gelu.cache_clear()
    a, b = fit_exp(6, 14), fit_gelu(12, 8, 8)
    fit_exp.cache_clear()
    fit_gelu.cache_clear()
    assert fit_exp(6, 14) == a and fit_gelu(12, 8, 8) == b


# ------------------------------------------------------------------------------------------------ exp

def exp_bound(q: ExpParams) -> float:
    """|exp_int(x) - exp(x)| <= eps_poly + 2**-l_frac + 2**-(p_frac+2) + 2**-(out_frac+1).

    exp(x) = 2**-z exp(p_true), p_true = x + z ln2; the unit computes 2**-z L(p), p = x + z ln2_q:
    * eps_poly: max |clamp(a(p+b)^2 + c) - exp(p)| on [-ln2_q, 0] with the real-valued quantized
      coefficients (evaluated on a dense grid below; clamping to [0.5, 1] only reduces it);
    * 2**-l_frac: the two roundings to l_frac bits inside L ((p+b)^2 and a*sq; a < 1);
    * 2**-(p_frac+2): |p - p_true| = z |ln2_q - ln2| <= z 2**-(p_frac+1), times 2**-z <= 1/2;
    * 2**-(out_frac+1): the final round-half-up shift. The 2**-z factor only shrinks the first terms.
    """
    lf = q.l_frac
    p = np.linspace(-q.ln2 * 2.0 ** -q.p_frac, 0.0, 20001)
    L = np.clip(q.a * 2.0 ** -lf * (p + q.b * 2.0 ** -q.p_frac) ** 2 + q.c * 2.0 ** -lf, 0.5, 1.0)
    eps_poly = float(np.abs(L - np.exp(p)).max())
    # I-BERT's quadratic: 2.1e-3 with its hand-set (a, b, c); coefficient codes have l_frac bits
    assert eps_poly < 3e-3 + 2 * 2.0 ** -lf
    return eps_poly + 2.0 ** -lf + 2.0 ** -(q.p_frac + 2) + 2.0 ** -(q.out_frac + 1)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("out_frac", ["softmax", "k"])
def test_exp_exhaustive(k, out_frac):
    q = softmax_exp(k) if out_frac == "softmax" else fit_exp(2 * k - 6, k)
    d = -np.arange(1 << (2 * k), dtype=np.int64)            # every d = x - max of two ap_fixed<2k,6> codes
    y = exp_int(d, q)
    want = np.exp(d * 2.0 ** -q.in_frac)
    err = np.abs(y * 2.0 ** -q.out_frac - want)
    assert err.max() <= exp_bound(q) * (1 + 1e-9)
    assert y[0] == 1 << q.out_frac                           # exp(0) is exactly 1
    assert np.all(np.diff(y) <= 0)                           # monotone non-decreasing in x (d decreasing)
    assert np.all(y[d < -q.n_clamp] == 0)
    # the exact floor of the 1/ln2 multiply over the whole domain
    n = np.arange(q.n_clamp + 1, dtype=np.int64)
    assert np.array_equal((n * q.inv_mult) >> q.inv_shift, (n << (q.p_frac - q.in_frac)) // q.ln2)


def test_exp_far_inputs_and_width():
    q = softmax_exp(8)
    x = -np.array([0, 1, q.n_clamp - 1, q.n_clamp, q.n_clamp + 1, 1 << 30, 1 << 46], dtype=np.int64)
    y = exp_int(x, q)
    assert y[0] == 1 << q.out_frac and np.all(y[3:] == 0)
    with pytest.raises(AssertionError):
        exp_int(np.array([1]), q)                            # inputs must be <= 0


# ------------------------------------------------------------------------------------------------ GELU

def gelu_real(x, q: GeluParams) -> np.ndarray:
    """The I-BERT GELU in real arithmetic with the quantized coefficients (the model being fitted)."""
    w = 2.0 ** -q.work_frac
    xs = x * 2.0 ** -q.in_frac
    u = np.abs(xs) * q.k * w
    e = q.a * w * (np.minimum(u, q.b * w) - q.b * w) ** 2 + 1.0
    return 0.5 * xs * (1.0 + np.sign(xs) * e)


@pytest.mark.parametrize("k", KS)
def test_gelu_exhaustive(k):
    """|gelu_int - gelu| <= eps_model + 2**-out_frac, and |gelu_int - model| <= 2**-out_frac.

    Fixed-point part (W = out_frac + 2 fraction bits for u, v^2, erf): u rounds by <= 2**-(W+1);
    v^2 moves by <= 2|v| 2**-(W+1) + 2**-(W+1) <= 2.5 * 2**-W (|v| <= 1.8); times |a| < 0.35 plus the
    erf rounding 2**-(W+1): |dE| <= 1.4 * 2**-W; gelu moves by |x|/2 |dE| with |x| <= 2.6 where E < 1
    (beyond the clip point E == 1 exactly): 1.8 * 2**-W = 0.45 LSB; plus the output rounding 0.5 LSB.
    eps_model is the I-BERT approximation error with the quantized coefficients (~0.02, measured).
    """
    q = gelu_params(k)
    assert q.work_frac == q.out_frac + 2
    x = gelu_codes(q)
    assert x.size == 1 << (2 * k)
    got = gelu_int(x, q) * 2.0 ** -q.out_frac
    model = gelu_real(x, q)
    want = gelu_float(x * 2.0 ** -q.in_frac)
    lsb = 2.0 ** -q.out_frac
    assert np.abs(got - model).max() <= lsb
    eps_model = float(np.abs(model - want).max())
    assert eps_model < 0.03                                  # I-BERT: 0.018 with a=-0.2888, b=-1.769
    assert np.abs(got - want).max() <= eps_model + lsb
    # beyond the clip point the unit is exactly x (x > 0) or 0 (x < 0)
    far = np.abs(x * 2.0 ** -q.in_frac) >= 3.0
    assert np.array_equal(gelu_int(x[far], q), np.where(x[far] > 0, x[far] << (q.out_frac - q.in_frac), 0))


# ------------------------------------------------------------------------------------------------ fits

@pytest.mark.parametrize("k", KS)
def test_quantization_in_the_loop_no_worse(k):
    e_fit, e_rnd = fit_exp(2 * k - 6, k + 8), fit_exp(2 * k - 6, k + 8, search=False)
    assert exp_score(e_fit) <= exp_score(e_rnd)
    g_fit, g_rnd = gelu_params(k), fit_gelu(2 * k, 2 * k - 4, 2 * k - 4, search=False)
    assert gelu_score(g_fit) <= gelu_score(g_rnd)


def test_rsqrt_fit_no_worse():
    a, b = measure_rsqrt(fit_rsqrt()), measure_rsqrt(fit_rsqrt(search=False))
    assert (a["mean_abs"], a["max_abs"]) <= (b["mean_abs"], b["max_abs"])


# ------------------------------------------------------------------------------------------------ softmax

def softmax_float(xf):
    e = np.exp(xf - xf.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def random_logits(rng, k, rows, n, spread=(0.5, 4.0)):
    f = 2 * k - 6
    mean = rng.uniform(-8, 8, (rows, 1))
    std = rng.uniform(*spread, (rows, 1))
    lo, hi = -(1 << (2 * k - 1)), (1 << (2 * k - 1)) - 1
    return np.clip(np.round((mean + std * rng.standard_normal((rows, n))) * 2.0 ** f), lo, hi).astype(np.int64)


@pytest.mark.parametrize("k", KS)
def test_softmax_sum_and_accuracy(k):
    """Row sums and element errors.

    Each probability is rounded (<= 1/2 LSB) after a reciprocal whose floor costs < 1/16 LSB, so a
    row of n sums to 2**out_bits within n * 9/16 (random rounding: ~sqrt(n) on average).
    Element error, first order: e_i = t_i (1 + rho_i) + eta_i with |rho_i| <= rho (polynomial and
    ln2 error relative to L >= 1/2) and |eta_i| <= h = 2**-(Fe+1); then
    |e_i/s - t_i/T| <= 2 rho p_i + h (1 + n p_i), so in LSB: 9/16 + 2**out_bits (2 rho + h (1 + n)).
    """
    q = fit_softmax(2 * k - 6, k, in_bits=2 * k)
    e = q.exp
    rho = 2 * (exp_bound(e) - 2.0 ** -(e.out_frac + 1)) + e.z_max * 2.0 ** -(e.p_frac + 1)
    rng = np.random.default_rng(k)
    for n in (1, 2, 17, 197, 256):
        x = random_logits(rng, k, 64, n)
        p = softmax_int(x, q)
        assert p.min() >= 0 and p.max() <= (1 << k) - 1
        dev = np.abs(p.sum(axis=-1) - (1 << k))
        assert dev.max() <= math.ceil(n * 9 / 16) + 1
        assert dev.mean() <= 1 + math.sqrt(n)
        want = softmax_float(x * 2.0 ** -(2 * k - 6))
        bound = 9 / 16 + (1 << k) * (2 * rho + 2.0 ** -(e.out_frac + 1) * (1 + n))
        err = np.abs(p - np.minimum(want * (1 << k), (1 << k) - 1))   # 1.0 saturates to 2**k - 1
        assert err.max() <= bound, (n, err.max(), bound)


@pytest.mark.parametrize("k", KS)
def test_softmax_shift_invariance(k):
    q = fit_softmax(2 * k - 6, k, in_bits=2 * k)
    rng = np.random.default_rng(100 + k)
    x = random_logits(rng, k, 32, 197, spread=(0.3, 2.0))
    x = np.clip(x, -(1 << (2 * k - 2)), (1 << (2 * k - 2)) - 1)    # leave room for the shift
    base = softmax_int(x, q)
    for c in (1, -3, 1 << (2 * k - 4), -(1 << (2 * k - 3))):
        assert np.array_equal(softmax_int(x + c, q), base)


def test_softmax_edge_rows():
    q = fit_softmax(10, 8)
    assert softmax_int(np.array([[5]]), q).tolist() == [[255]]        # 1.0 saturates to 2**8 - 1
    p = softmax_int(np.zeros((1, 256), dtype=np.int64), q)            # uniform row of max_len
    assert np.all(p == 1)
    lo, hi = -(1 << 15), (1 << 15) - 1
    p = softmax_int(np.array([[hi] + [lo] * 255]), q)                 # extreme spread
    assert p[0, 0] == 255 and np.all(p[0, 1:] == 0)
    with pytest.raises(AssertionError):
        softmax_int(np.zeros((1, 257), dtype=np.int64), q)


# ------------------------------------------------------------------------------------------------ rsqrt

def test_rsqrt_all_mantissas():
    """Exhaustive over all 2 * 2**16 mantissas: the default (piecewise quadratic, 16 segments per
    octave) is within 1 output LSB (0.5 from the final rounding + < 0.3 approximation/coefficients),
    so relative error < 2**-16 / 0.5; two Newton iterations also reach 1 LSB."""
    a = measure_rsqrt(fit_rsqrt())
    assert a["max_lsb"] <= 1.0 and a["mean_lsb"] <= 0.3 and a["multiplies"] == 2
    assert a["max_rel"] <= 2.0 ** -15
    b = measure_rsqrt(fit_rsqrt_newton(2))
    assert b["max_lsb"] <= 1.0 and b["multiplies"] == 7


def test_rsqrt_full_range():
    """End to end over v in [1, 2**47): the mantissa truncation adds < 2**-16 relative in m, i.e.
    < 2**-17 in 1/sqrt(m); total relative error < max_rel + 2**-17 (+ rounding slack)."""
    q = fit_rsqrt()
    rng = np.random.default_rng(7)
    v = np.concatenate([np.arange(1, 5000), (1 << np.arange(47)), (1 << np.arange(1, 48)) - 1,
                        np.exp(rng.uniform(0, 47 * math.log(2), 20000)).astype(np.int64)]).astype(np.int64)
    v = np.clip(v, 1, (1 << 47) - 1)
    for fn, p in ((rsqrt_int, q), (rsqrt_newton_int, fit_rsqrt_newton(2))):
        r, k = fn(v, p)
        got = r * 2.0 ** -(p.out_frac + k.astype(np.float64))
        rel = np.abs(got * np.sqrt(v.astype(np.float64)) - 1.0)
        assert rel.max() <= measure_rsqrt(p)["max_rel"] + 2.0 ** -17 + 2.0 ** -20
    r, k = rsqrt_int(np.array([0]), q)                         # v = 0 behaves as v = 1
    assert r.tolist() == rsqrt_int(np.array([1]), q)[0].tolist() and k.tolist() == [0]


# ------------------------------------------------------------------------------------------------ LayerNorm

def ln_bound(q: LayerNormParams, x) -> np.ndarray:
    """Per-element bound: |ref| phi + delta / sigma' + 2**-(out_frac+1).

    y_int = (x - muF / 2**MF) f with f = (1 + phi_i) / sigma', sigma' = sqrt(var + eps), so
    y_int - ref = ((x - mean) phi + delta (1 + phi)) / sigma' with delta = mean - muF / 2**MF,
    |delta| <= 2**-(MF+1) + |sx| |mean_mult - 2**mean_shift / dim| / 2**mean_shift (+ the correction
    b's rounding, 2**-20 of a code); |phi| <= rsqrt max_rel + 2**-17 (mantissa truncation) + 2**-17
    (sqrt(dim) constant) + 2**-18 (f rounding) + the variance's error over 2 sigma'**2: delta**2
    (the sum of squares around muF instead of the mean), 2 |d| / 2**MF delta (e2's approximation,
    |d| / 2**MF <= 1) and 0.5 / dim (e2's rounding); plus the output rounding.
    """
    xf = np.asarray(x, dtype=np.float64)
    ref = layernorm_float(xf, q.eps_code)
    sig2 = ((xf - xf.mean(-1, keepdims=True)) ** 2).mean(-1, keepdims=True) + q.eps_code
    sx = np.abs(xf.sum(-1, keepdims=True))
    delta = 2.0 ** -(MEAN_FRAC + 1) + sx * abs(q.mean_mult - 2.0 ** q.mean_shift / q.dim) * 2.0 ** -q.mean_shift + 2.0 ** -20
    phi = (measure_rsqrt(q.rsqrt)["max_rel"] + 2.0 ** -16 + 2.0 ** -18
           + (delta ** 2 + 2 * delta + 0.5 / q.dim) / (2 * sig2))
    return np.abs(ref) * phi + delta * (1 + phi) / np.sqrt(sig2) + 2.0 ** -(q.out_frac + 1) + 1e-12


@pytest.mark.parametrize("dim", [32, 48, 192, 768, 3072])
def test_layernorm_random_rows(dim):
    q = fit_layernorm(dim)
    rng = np.random.default_rng(dim)
    rows = 64
    mean = rng.uniform(-8000, 8000, (rows, 1))
    std = np.exp(rng.uniform(math.log(4), math.log(12000), (rows, 1)))
    x = np.clip(np.round(mean + std * rng.standard_normal((rows, dim))), -32768, 32767).astype(np.int64)
    y = layernorm_int(x, q) * 2.0 ** -q.out_frac
    lim = ((1 << (q.out_bits - 1)) - 1) * 2.0 ** -q.out_frac
    ref = np.clip(layernorm_float(x, q.eps_code), -lim - 2.0 ** -q.out_frac, lim)
    assert np.all(np.abs(y - ref) <= ln_bound(q, x))
    assert np.abs(y - ref).max() <= 2 * 2.0 ** -q.out_frac   # small rows too (std 4 codes and up)


@pytest.mark.parametrize("dim", [192, 768])
def test_layernorm_small_rows(dim):
    """Rows of 8-256 codes std, what a pretrained ViT's LayerNorms see when one outlier channel sets the
    residual's scale: within one output LSB of float (centring on the integer mean cost 3e-2 at 8)."""
    q = fit_layernorm(dim)
    rng = np.random.default_rng(dim + 1)
    for std in (8, 32, 85, 256):
        x = np.round(rng.normal(rng.normal(0, 4 * std, (256, 1)), std, (256, dim))).astype(np.int64)
        err = np.abs(layernorm_int(x, q) * 2.0 ** -q.out_frac - layernorm_float(x, q.eps_code))
        assert err.max() <= 2.0 ** -q.out_frac, (std, err.max())


def test_layernorm_edge_rows():
    q = fit_layernorm(3072)
    hi, lo = 32767, -32768
    x = np.full((6, 3072), hi, dtype=np.int64)
    x[1] = lo
    x[2] = 123                                                # constant rows -> exactly 0 (eps > 0)
    x[3, ::2] = lo                                            # alternating extremes -> +-1
    x[4] = lo
    x[4, 0] = hi                                              # one outlier: 55.4 sigma, saturates
    x[5] = np.arange(3072) % 2 * 2 - 1                        # +-1: tiny sigma, eps matters
    y = layernorm_int(x, q)
    assert np.all(y[1:3] == 0)                                # a constant row's mean is exact but at +32767,
    assert np.all(np.abs(y[0]) <= 16)                         # where mean_mult's error is 0.016 codes (eps 1)
    assert set(y[3].tolist()) == {-(1 << q.out_frac), 1 << q.out_frac}
    assert y[4, 0] == (1 << (q.out_bits - 1)) - 1
    assert np.all(np.abs(y - np.clip(layernorm_float(x, q.eps_code) * (1 << q.out_frac), -(1 << 15), (1 << 15) - 1))
                  <= ln_bound(q, x) * (1 << q.out_frac))
    q0 = fit_layernorm(48, eps_code=0)                        # eps 0, constant row: v = 0 -> output 0
    assert np.all(layernorm_int(np.full((2, 48), -7), q0) == 0)
    with pytest.raises(AssertionError):
        layernorm_int(np.full((1, 48), 1 << 15), q0)          # input outside int16


# ------------------------------------------------------------------------------------------------ widths

def test_intermediates_within_48_bits():
    """Every intermediate is declared with check_bits (which refuses > 48 bits and values outside the
    declared width); drive every unit with its extreme inputs so the widest values are checked."""
    for k in KS:
        e = softmax_exp(k)
        exp_int(-np.array([0, 1, e.n_clamp, (1 << 47) - 1]), e)
        g = gelu_params(k)
        gelu_int(np.array([-(1 << (2 * k - 1)), (1 << (2 * k - 1)) - 1, 0, -1, 1]), g)
        s = fit_softmax(2 * k - 6, k, in_bits=2 * k)
        row = np.full((1, 256), (1 << (2 * k - 1)) - 1)
        softmax_int(row, s)
        row[0, 1:] = -(1 << (2 * k - 1))
        softmax_int(row, s)
    q = fit_layernorm(4096)
    x = np.full((2, 4096), -32768)
    x[0, ::2] = 32767
    layernorm_int(x, q)


# ------------------------------------------------------------------------------------------------ report

def test_error_table_smoke():
    rows = error_table(bits=(4,))
    units = [r["unit"] for r in rows]
    assert units == ["gelu", "exp", "softmax[17]", "softmax[197]", "layernorm[48]", "layernorm[192]",
                     "layernorm[768]"]
    for r in rows:
        assert r["unit_max_abs"] >= r["unit_mean_abs"] >= 0
        if r["q_max_abs"] is not None:                        # the unit adds at most ~1 LSB to ideal rounding
            assert r["q_max_abs"] <= r["q_ideal_max_abs"] + 1.01 * r["q_lsb"]
    md = format_error_table(rows)
    assert md.count("\n") == len(rows) + 1 and "| gelu | 4 |" in md
