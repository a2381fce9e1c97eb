"""RTL unit library (sim/rtl) under cocotb + Verilator, bit-exact against quant's golden per-op functions.

Exhaustive over every input code where the input is 12 bits or narrower (requantizer, 12-bit GELU, the
whole exp domain, every rsqrt mantissa in the slow test), randomized plus edge cases otherwise. The
golden values are computed here from quant's functions; the testbenches (sim/cocotb_tests) stream the
stimuli one beat per cycle and compare in order. Builds are cached under .cache/verilator.
"""
from __future__ import annotations

import numpy as np
import pytest

from quant.golden import attn_av, attn_qk, layernorm, linear_binary, linear_int8, residual_add
from quant.intmodel import LayerNormInt, LinearInt, Requant, make_requant
from quant.intops import requantize
from quant.nl_exp import exp_domain, exp_int, fit_softmax, softmax_int
from quant.nl_gelu import fit_gelu, gelu_codes, gelu_int
from quant.nl_layernorm import fit_layernorm, fit_rsqrt, rsqrt_int
from sim.cocotb_tests.tbutil import pack
from sim.cosim import run_cocotb, rtl_sources
from hlsgen.emit_rtl import (exp_ports, exp_widths, gelu_ports, gelu_widths, layernorm_ports, layernorm_widths,
                          round_bias, rsqrt_rom_svh, softmax_ports, softmax_widths)

STREAM = "sim.cocotb_tests.tb_stream"
rng = np.random.default_rng(2024)


def _mask(v: int, bits: int) -> int:
    return int(v) & ((1 << bits) - 1)


def _run(top, files, params, data, module=STREAM):
    r = run_cocotb(top, rtl_sources(*files), module, parameters=params, data=data)
    r.raise_on_failure()
    return r


def _gapped(sets):
    """Concatenate beat lists of different parameter sets with an idle gap between them: the runtime
    constants of a unit change only between ops, when its pipeline has drained."""
    out = []
    for beats in sets:
        if out and beats:
            beats[0] = {**beats[0], "_gap": 300}
        out += beats
    return out


# ---- requantizer ----------------------------------------------------------------------------------
def _requant_data(acc_w, cases, accs):
    beats, want = [], []
    for mult, bias, shift, bits, sgn in cases:
        exp = requantize(accs, mult, shift, bias, bits, sgn)
        br = int(round_bias(bias, shift))
        beats += [{"acc": _mask(a, acc_w), "mult": _mask(mult, 16), "bias_r": _mask(br, 48), "shift": shift,
                   "bits": bits, "out_signed": int(sgn)} for a in accs]
        want += [{"out": int(e)} for e in exp]
    return {"beats": beats, "outputs": ["out"], "want": want, "widths": {"out": 16}, "signed": {"out": True}}


REQ_CASES = [(17727, 3578312, 17, 8, True), (-32768, -(1 << 40), 40, 16, True), (32767, 0, 0, 4, True),
             (1, 5, 1, 8, False), (20936, -2576404, 19, 6, True), (12345, 777, 12, 16, False), (-3, 0, 2, 2, True)]


def test_requant_exhaustive_12bit():
    accs = np.arange(-2048, 2048)
    data = _requant_data(12, REQ_CASES, accs)
    data["signed"] = {}
    # unsigned outputs compare as raw codes, signed ones sign-extended: decode per case in the want list
    for w, b in zip(data["want"], data["beats"]):
        w["out"] = w["out"] & 0xFFFF
    r = _run("hg_requant", ["hg_requant.sv"], {"ACC_W": 12, "OUT_W": 16}, data)
    assert r.outputs["checked"] == len(REQ_CASES) * 4096


def test_requant_wide_random():
    accs = np.concatenate([[-(1 << 23), (1 << 23) - 1, 0, -1, 1], rng.integers(-(1 << 23), 1 << 23, 3000)])
    data = _requant_data(24, REQ_CASES, accs)
    data["signed"] = {}
    for w in data["want"]:
        w["out"] &= 0xFFFF
    _run("hg_requant", ["hg_requant.sv"], {"ACC_W": 24, "OUT_W": 16}, data)


def test_residual_add_edges():
    a = np.concatenate([rng.integers(-32768, 32768, 2000), [32767, -32768, 32767, -32768, 0]])
    b = np.concatenate([rng.integers(-32768, 32768, 2000), [32767, -32768, 1, -1, 0]])
    y = residual_add(a, b).reshape(-1, 1)
    a, b = a.reshape(-1, 1), b.reshape(-1, 1)
    beats = [{"a": pack(x, 16), "b": pack(z, 16)} for x, z in zip(a, b)]
    want = [{"y": [int(v) for v in row]} for row in y]
    _run("hg_resadd", ["hg_resadd.sv"], {"L": 1}, {"beats": beats, "outputs": ["y"], "want": want, "widths": {},
                                                    "signed": {"y": True}, "lanes": {"y": [16, 1]}})


# ---- matrix engines -------------------------------------------------------------------------------
def _matmul(kind, pe, simd, aw, bw, x, w, acc_w):
    top = "hg_bin_core" if kind == "binary" else "hg_dsp_core"
    params = {"PE": pe, "SIMD": simd, "ACC_W": acc_w, "TAG_W": 16,
              **({"KW": aw} if kind == "binary" else {"AW": aw, "BW": bw})}
    data = {"kind": kind, "PE": pe, "SIMD": simd, "AW": aw, "BW": bw, "ACC_W": acc_w, "x": x.tolist(), "w": w.tolist()}
    return _run(top, [top + ".sv"], params, data, "sim.cocotb_tests.tb_matmul")


@pytest.mark.parametrize("pe, simd, k", [(4, 8, 8), (3, 16, 4), (2, 1, 6), (2, 24, 8), (3, 6, 4)])
def test_binary_engine_matches_linear_binary(pe, simd, k):
    """Gate-and-add lanes: X . W^T for W in {-1,+1}; composed with the requantizer it is linear_binary.
    SIMD 24 and 6 (3 x 2^n): adder trees with an odd node out at some level."""
    rows, K, O = 6, 64 if 64 % simd == 0 else 4 * simd, 3 * pe
    lo, hi = -(1 << (k - 1)), 1 << (k - 1)
    x = rng.integers(lo, hi, (rows, K))
    x[0], x[1] = lo, hi - 1
    w = rng.choice([-1, 1], (O, K))
    w[0] = 1
    acc_w = k + 7 + 1
    _matmul("binary", pe, simd, k, 1, x, w, acc_w)
    layer = LinearInt("t", w, make_requant(rng.uniform(0.01, 0.1, O), rng.uniform(-3, 3, O), bits=k), True)
    assert np.array_equal(linear_binary(x, layer), layer.rq(x @ w.T))   # the composition the engine computes


@pytest.mark.parametrize("what, pe, simd", [("int8", 4, 8), ("int8", 3, 4), ("qk", 4, 4), ("av", 2, 8),
                                            ("package", 2, 4)])
def test_dsp_engine(what, pe, simd):
    """Packed two-products-per-DSP48E2 lanes (WP486): int8 weights, k-bit Q.K^T, unsigned-probability A.V,
    and the selector's package token (unsigned k-bit weights x int16 tokens)."""
    k, rows, K = 8, 5, 32
    if what == "int8":
        aw, bw = 8, 8
        x, w = rng.integers(-128, 128, (rows, K)), rng.integers(-127, 128, (pe * 3, K))
        x[0], w[0] = -128, -127
    elif what == "qk":
        aw, bw = k, k
        x, w = rng.integers(-128, 128, (rows, K)), rng.integers(-128, 128, (pe * 3, K))
        x[0], w[0] = -128, -128
    elif what == "av":
        aw, bw = k + 1, k
        x, w = rng.integers(0, 256, (rows, K)), rng.integers(-128, 128, (pe * 3, K))
        x[0], w[0] = 255, -128
    else:
        aw, bw = k + 1, 16
        x, w = rng.integers(0, 256, (rows, K)), rng.integers(-32768, 32768, (pe * 3, K))
        x[0], w[0] = 255, -32768
    _matmul("dsp", pe, simd, aw, bw, x, w, aw + bw + 7)
    # the per-op golden functions are these products followed by their requantizers
    rq = Requant(np.array([19251]), np.array([0]), 21, 8)
    assert np.array_equal(attn_av(x[None], w.T[None], rq)[0], rq(x @ w.T))
    assert np.array_equal(attn_qk(x[None], w[None], rq)[0], rq(x @ w.T))
    lin = LinearInt("t", w, rq, False)
    if what == "int8":
        assert np.array_equal(linear_int8(x, lin), rq(x @ w.T))


# ---- nonlinear units ------------------------------------------------------------------------------
SM_PARAMS = [fit_softmax(11, 8, 18, 16), fit_softmax(12, 8, 18, 16), fit_softmax(5, 4, 198, 8)]


def test_exp_whole_domain():
    """Every input code of the exp's domain [-n_clamp, 0] plus the clamped region, two layers' params."""
    ps = SM_PARAMS[:2]
    W = exp_widths([p.exp for p in ps], 16)
    sets, want = [], []
    for p in ps:
        e = p.exp
        d = np.concatenate([exp_domain(e), -np.arange(e.n_clamp + 1, e.n_clamp + 40), [-(1 << 16)]])
        ports = exp_ports(e)
        ports["c"] = _mask(ports["c"], W["LF"] + 3)
        sets.append([{"d": _mask(x, W["DW"]), **ports} for x in d])
        want += [{"out": int(v)} for v in exp_int(d, e)]
    _run("hg_exp", ["hg_exp.sv"], W, {"beats": _gapped(sets), "outputs": ["out"], "want": want,
                                      "widths": {"out": W["LF"] + 1}, "signed": {}})


def _softmax_data(ps, L, nmax, row_sets):
    W = softmax_widths(ps, L, nmax)
    sets, want = [], []
    for p, rows in row_sets:
        ports = softmax_ports(p)
        ports["c"] = _mask(ports["c"], W["LF"] + 3)
        beats = []
        for x, y in zip(rows, softmax_int(rows, p)):
            n = len(x)
            for s in range(0, n, L):
                m = min(L, n - s)
                beats.append({"in_x": pack(list(x[s:s + m]) + [0] * (L - m), W["IW"]), "in_mask": (1 << m) - 1,
                              "in_last": int(s + L >= n), **ports})
                want.append({"out_p": [int(v) for v in y[s:s + m]] + [0] * (L - m), "out_last": int(s + L >= n)})
        sets.append(beats)
    data = {"beats": _gapped(sets), "outputs": ["out_p", "out_last"], "want": want, "widths": {"out_last": 1},
            "signed": {}, "lanes": {"out_p": [W["OB"], L]}, "ready": "in_ready", "reset": True, "drain": 120}
    return W, data


def test_softmax_rows():
    """Rows of the digits attention (17 tokens, 8 lanes, ragged last beat) with saturated and constant rows."""
    p1, p2 = SM_PARAMS[:2]
    r1 = rng.integers(-3000, 3000, (17, 17))
    r1[0], r1[1], r1[2, :5] = 32767, -32768, -32768
    r2 = rng.integers(-20000, 20000, (17, 17))
    W, data = _softmax_data([p1, p2], 8, 18, [(p1, r1), (p2, r2)])
    _run("hg_softmax", ["hg_softmax.sv", "hg_exp.sv", "hg_fifo.sv", "hg_recip.sv"], W, data)


@pytest.mark.slow
def test_softmax_deit_rows():
    """197-wide rows (deit), 4-bit probabilities, 16 lanes."""
    p = SM_PARAMS[2]
    W, data = _softmax_data([p], 16, 198, [(p, rng.integers(-128, 128, (24, 197)))])
    _run("hg_softmax", ["hg_softmax.sv", "hg_exp.sv", "hg_fifo.sv", "hg_recip.sv"], W, data)


@pytest.mark.parametrize("width", [12, 16])
def test_gelu(width):
    """12-bit inputs (6-bit activations): every code; 16-bit: edges, the non-trivial region, random."""
    ps = [fit_gelu(12, 9, 9), fit_gelu(12, 8, 8)] if width == 12 else [fit_gelu(16, 13, 13), fit_gelu(16, 14, 14)]
    W = gelu_widths(ps)
    sets, want = [], []
    for p in ps:
        x = gelu_codes(p)
        if width > 12:
            x = np.concatenate([x[:200], x[-200:], rng.choice(x, 3000), np.arange(-2000, 2000)])
        ports = gelu_ports(p)
        ports["aa"] = _mask(ports["aa"], W["AB"])
        sets.append([{"x": _mask(v, width), **ports} for v in x])
        want += [{"out": int(v)} for v in gelu_int(x, p)]
    _run("hg_gelu", ["hg_gelu.sv"], W, {"beats": _gapped(sets), "outputs": ["out"], "want": want,
                                        "widths": {"out": W["OW"]}, "signed": {"out": True}})


def test_rsqrt_rom_is_current():
    from sim.cosim import RTL_DIR
    assert (RTL_DIR / "hg_rsqrt_rom.svh").read_text() == rsqrt_rom_svh(fit_rsqrt()), \
        "regenerate sim/rtl/hg_rsqrt_rom.svh with hlsgen.emit_rtl.rsqrt_rom_svh(fit_rsqrt())"


def _rsqrt_run(v):
    rr, k = rsqrt_int(v, fit_rsqrt())
    beats = [{"v": int(x)} for x in v]
    want = [{"r": int(a), "k": int(b)} for a, b in zip(rr, k)]
    _run("hg_rsqrt", ["hg_rsqrt.sv"], {}, {"beats": beats, "outputs": ["r", "k"], "want": want, "widths": {},
                                           "signed": {}})


def test_rsqrt_edges_random():
    v = np.concatenate([np.arange(0, 3000), 1 << np.arange(0, 47), (1 << np.arange(1, 48)) - 1,
                        rng.integers(1, 1 << 47, 4000)])
    _rsqrt_run(v)


@pytest.mark.slow
def test_rsqrt_every_mantissa():
    """v in [2^16, 2^18) normalises to every (mantissa, parity) pair exactly once."""
    _rsqrt_run(np.arange(1 << 16, 1 << 18))


@pytest.mark.parametrize("dim, L, k", [(64, 8, 8), (192, 16, 6)])
def test_layernorm(dim, L, k):
    """Integer LayerNorm + per-channel affine requantizer vs quant.golden.layernorm, rows from zero /
    constant / one-outlier to full-range."""
    p = fit_layernorm(dim, 16, 10, 411 if dim == 64 else 3)
    rq = make_requant(rng.uniform(0.5, 1.5, dim) * 2 ** -6, rng.uniform(-2, 2, dim) * 16, bits=k)
    ln = LayerNormInt(p, rq)
    W = {**layernorm_widths([p], L), "KQ": k, "MULT_W": 16, "BIAS_W": 32}
    n = 24
    x = (rng.standard_normal((n, dim)) * rng.uniform(5, 20000, (n, 1))).clip(-32768, 32767).astype(np.int64)
    x[0], x[1], x[2] = 0, 32767, -32768
    x[3] = rng.integers(-3, 3, dim)
    x[4], x[4, 0] = 100, 32767
    y = layernorm(x, ln)
    ports = {**layernorm_ports(p), "rq_shift": rq.shift, "rq_bits": k}
    nb = dim // L
    beats = [{"in_x": pack(x[r, b * L:(b + 1) * L], 16), "in_last": int(b == nb - 1), **ports}
             for r in range(n) for b in range(nb)]
    want = [{"out_y": [int(v) for v in y[r, b * L:(b + 1) * L]]} for r in range(n) for b in range(nb)]
    roms = [{"addr": "coef_idx", "data": {"coef_mult": [pack(rq.mult[b * L:(b + 1) * L], 16) for b in range(nb)],
                                          "coef_bias": [pack(round_bias(rq.bias, rq.shift)[b * L:(b + 1) * L], 32)
                                                        for b in range(nb)]}}]
    _run("hg_layernorm", ["hg_layernorm.sv", "hg_rsqrt.sv", "hg_fifo.sv", "hg_requant.sv"], W,
         {"beats": beats, "outputs": ["out_y"], "want": want, "widths": {}, "signed": {"out_y": True},
          "lanes": {"out_y": [k, L]}, "ready": "in_ready", "reset": True, "roms": roms, "drain": 120})


# ---- token selector pieces ------------------------------------------------------------------------
def test_selector_score_and_keep():
    """score = sum_h z_h g_h and keep = score > 0 (quant.golden.selector_scores / token_select)."""
    L, H, n = 2, 4, 60
    z = rng.integers(-32768, 32768, (n, H))
    g = rng.integers(0, 256, H)
    z[0] = 0
    z[1] = -32768
    z[2] = 32767
    score = (z * g[None]).sum(-1)
    beats = [{"z": pack(z[t, b * L:(b + 1) * L], 16), "g": pack(g[b * L:(b + 1) * L], 8), "in_mask": 3,
              "in_last": int(b == H // L - 1)} for t in range(n) for b in range(H // L)]
    want = [{"score": int(s), "keep": int(s > 0)} for s in score]
    _run("hg_score", ["hg_score.sv"], {"L": L, "ZW": 16, "GW": 8, "SW": 32},
         {"beats": beats, "outputs": ["score", "keep"], "want": want, "widths": {"score": 32},
          "signed": {"score": True}, "reset": True})
