"""Every HLS kernel (hls_templates/hlsgen_*.h) bit-exact against the golden per-op function.

One C++ harness (hls_templates/harness/kernel_harness.cpp) is compiled once for the module with
widths that cover every parameter set used here; each test streams commands (kernel, parameters,
inputs) into it and compares the outputs with quant's golden functions: exhaustively for the
small-width units (GELU over every input code, exp over its whole domain), randomized plus edge
cases (minimum, maximum, saturating, ties, ragged tiles, n = 1 ...) for the rest.
"""
from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from hlsgen.emit_blob import Blob
from hlsgen.emit_params import (cfg_struct, exp_fields, flatten, gelu_fields, ln_cfg, ln_fields, rq_fields,
                                rsqrt_fields, signed_bits, softmax_cfg, softmax_fields)
from quant import golden
from quant.intmodel import LayerNormInt, LinearInt, Requant, export_int_model, make_requant
from quant.intops import requantize, round_shift, saturate
from quant.nonlinear import exp_int, fit_gelu, fit_layernorm, fit_softmax, gelu_int, softmax_int
from quant.spec import SelectorPlacement, ViTSpec
from quant.vit import build_vit
from sim.aptypes import compile_cpp

REPO = Path(__file__).resolve().parent.parent
TPL = REPO / "hls_templates"
SPEC = ViTSpec("t40", 12, 3, 4, 40, 3, 5, 2.0, 10)      # D 40, 5 heads of 8, M 80, 10 tokens
D, H, HD, HID, M, N = 40, 5, 8, 4, 80, 10
PE, SIMD, ATT_PE, ATT_SIMD, I8_PE, I8_SIMD = 4, 8, 4, 4, 3, 16
ACT_COLS, QKV_OFF, I8_COLS, I8O_SIZE, SM_LEN = D + max(3 * D, M), D, 64, 64, 256

GELUS = [(16, 14), (16, 11), (16, 8), (12, 9), (8, 6), (4, 2)]                # (in_width, frac)
SOFTMAXES = [(16, 8, 198, 16), (13, 8, 11, 16), (9, 6, 18, 12), (6, 4, 11, 8), (2, 2, 5, 4)]  # frac, bits, len, in
LN_EPS = (1, 195, 5000)
RNG = np.random.default_rng(1234)


def gelu_params():
    return [fit_gelu(w, f, f) for w, f in GELUS]


def softmax_params():
    return [fit_softmax(f, b, max_len=n, in_bits=i) for f, b, n, i in SOFTMAXES]


def ln_params():
    return [fit_layernorm(D, eps_code=e) for e in LN_EPS]


def harness_cfg() -> str:
    gp = gelu_params()
    sms = [softmax_cfg([p]) for p in softmax_params()]
    sm = {k: max(c[k] for c in sms) for k in sms[0]} | {"LANES": 4}
    k = 8
    vit = {
        "AXI_W": 256, "N_MAX": N, "D": D, "HD": HD, "HEADS": H, "HID": HID, "M": M, "K_BITS": k, "W_BITS": 2 * k,
        "ACT_COLS": ACT_COLS, "A_OFF": 0, "O_OFF": 0, "QKV_OFF": QKV_OFF, "PE": PE, "SIMD": SIMD,
        "BK_MAX": max(D, M), "BO_MAX": max(3 * D, M), "BIN_ACC_W": signed_bits(M << (k - 1)),
        "BIN_PS_W": signed_bits(SIMD << (k - 1)), "ATT_PE": ATT_PE, "ATT_SIMD": ATT_SIMD,
        "QK_ACC_W": signed_bits(HD << (2 * k - 2)), "AV_ACC_W": signed_bits(N * 255 << (k - 1)),
        "I8_PE": I8_PE, "I8_SIMD": I8_SIMD, "I8_ROWS": N, "I8_COLS": I8_COLS, "I8_KMAX": I8_COLS, "I8_OMAX": D,
        "I8_ACC_W": signed_bits(I8_COLS * 128 * 127), "I8O_SIZE": I8O_SIZE,
        "SEL_SC_W": signed_bits(H * (1 << (2 * k - 1)) * 255), "SEL_TSUM_W": signed_bits(N << (k - 1)),
        "SEL_GSUM_W": signed_bits(N << (k - 1)), "SEL_TMEAN_W": 24, "SEL_GMEAN_W": 24,
        "SEL_PKG_W": signed_bits(N * 255 << 15), "RQ_ACC_W": 40, "SM_LEN": SM_LEN, "MEAN_SUM_W": 24,
        "MEAN_MULT_W": 24,
    }
    gelu = {"IN_W": 16, "WF": max(p.work_frac for p in gp), "OUT_W": max(p.in_width - p.in_frac + p.out_frac for p in gp)}
    parts = [cfg_struct("h_gelu_cfg", gelu), cfg_struct("h_sm_cfg", sm), cfg_struct("h_ln_cfg", ln_cfg(ln_params()) | {"LANES": 8}),
             cfg_struct("harness_cfg", vit, (("GELU", "h_gelu_cfg"), ("SM", "h_sm_cfg"), ("LN", "h_ln_cfg"),
                                             ("act_t", "ap_int<8>"), ("wide_t", "ap_int<16>"),
                                             ("prob_t", "ap_uint<8>")))]
    return ("#ifndef HARNESS_CFG_H\n#define HARNESS_CFG_H\n#include <ap_int.h>\nnamespace hlsgen {\n"
            + "\n".join(parts) + "\n}\n#endif\n")


@pytest.fixture(scope="module")
def harness():
    sources = {"kernel_harness.cpp": (TPL / "harness" / "kernel_harness.cpp").read_text(),
               "harness_cfg.h": harness_cfg()}
    for h in ("hlsgen_common.h", "hlsgen_nonlinear.h", "hlsgen_engines.h", "hlsgen_select.h"):
        sources[h] = (TPL / h).read_text()
    return compile_cpp(sources, "kernel_harness", ("-std=c++14", "-Wall", "-Wextra"))


class Out:
    def __init__(self, data: np.ndarray):
        self.data, self.pos = data, 0

    def take(self, n: int) -> np.ndarray:
        out = self.data[self.pos:self.pos + n]
        assert len(out) == n, "harness output too short"
        self.pos += n
        return out

    def taps(self) -> np.ndarray:
        n = int(self.take(1)[0])
        return self.take(5 * n).reshape(n, 5)


def run(exe, tmp_path, words) -> Out:
    src, dst = tmp_path / "in.bin", tmp_path / "out.bin"
    np.asarray(flatten(list(words) + [0]), dtype="<i8").tofile(src)
    subprocess.run([str(exe), str(src), str(dst)], check=True, capture_output=True)
    return Out(np.fromfile(dst, dtype="<i8"))


def blob_words(blob: bytes) -> list[int]:
    padded = blob + b"\0" * (-len(blob) % 8)
    return [6, len(blob)] + [int(v) for v in np.frombuffer(padded, dtype="<i8")]


def taps_of(taps: np.ndarray, layer: int) -> dict:
    return {(int(t[1]), int(t[2]), int(t[3])): int(t[4]) for t in taps if t[0] == layer}


# ---- requantizer, residual add, mean -------------------------------------------------------------------
def test_requantizer_random_and_edges(harness, tmp_path):
    n = 6000
    shift = RNG.integers(0, 41, n)
    bits = RNG.integers(2, 17, n)
    acc = RNG.integers(-(1 << 24), 1 << 24, n)
    mult = RNG.integers(-32767, 32768, n)
    # aim the pre-shift value around the output range (a quarter saturates), a third of them exact ties
    target = RNG.integers(-(1 << (bits - 1)) * 5 // 4, (1 << (bits - 1)) * 5 // 4 + 1)
    frac = np.where(RNG.random(n) < 0.33, np.where(shift > 0, 1 << np.maximum(shift - 1, 0), 0),
                    RNG.integers(0, 1 << 62, n) % (1 << shift))
    bias = target * (1 << shift) + frac - acc * mult
    keep = np.abs(bias) < (1 << 46)
    acc, mult, bias, shift, bits = acc[keep], mult[keep], bias[keep], shift[keep], bits[keep]
    # edges: exact ties at every shift (round half up, also negative), extreme saturation, shift 0
    s = np.arange(1, 41)
    edges = [(0, 1, (1 << (t - 1)) - (3 << t), t, 8) for t in s]                        # -2.5 -> -2
    edges += [(0, 1, 1 << (t - 1), t, 8) for t in s]                                     # 0.5 -> 1
    edges += [(1, 1, -(1 << (t - 1)) - 1, t, 8) for t in s]                              # -0.5 -> 0
    edges += [((1 << 30) - 1, 32767, (1 << 46) - 1, 0, 16), (-(1 << 30), 32767, -(1 << 46), 0, 16),
              (-(1 << 30), -32767, 0, 40, 2), (5, 7, 0, 0, 3), (-5, 7, 0, 0, 3), (0, 0, 0, 0, 2)]
    e = np.array(edges, dtype=np.int64)
    acc, mult, bias = np.r_[acc, e[:, 0]], np.r_[mult, e[:, 1]], np.r_[bias, e[:, 2]]
    shift, bits = np.r_[shift, e[:, 3]], np.r_[bits, e[:, 4]]
    out = run(harness, tmp_path, [1, len(acc)] + list(np.stack([acc, mult, bias, shift, bits], 1).ravel()))
    got = out.take(len(acc))
    want = [int(requantize(a, m, int(t), b, int(w))) for a, m, b, t, w in zip(acc, mult, bias, shift, bits)]
    assert np.array_equal(got, want)
    lim = (1 << (bits - 1)) - 1
    assert 0.05 < np.mean(np.abs(want) >= lim) < 0.5          # both saturating and in-range cases


def test_residual_add_and_mean(harness, tmp_path):
    a = np.r_[RNG.integers(-32768, 32768, 2000), [32767, -32768, 32767, -32768, 0]]
    b = np.r_[RNG.integers(-32768, 32768, 2000), [1, -1, 32767, -32768, 0]]
    s = np.r_[RNG.integers(-(1 << 20), 1 << 20, 2000), [(1 << 22) - 1, -(1 << 22)]]
    m = np.r_[RNG.integers(0, 1 << 20, 2000), [(1 << 23) - 1, (1 << 23) - 1]]
    sh = np.r_[RNG.integers(0, 30, 2000), [16, 16]]
    bits = np.r_[RNG.integers(2, 9, 2000), [8, 8]]
    out = run(harness, tmp_path, [12, len(a)] + list(np.stack([a, b], 1).ravel())
              + [11, len(s)] + list(np.stack([s, m, sh, bits], 1).ravel()))
    assert np.array_equal(out.take(len(a)), golden.residual_add(a, b))
    out.taps()
    want = [int(saturate(round_shift(x * y, int(z)), int(w))) for x, y, z, w in zip(s, m, sh, bits)]
    assert np.array_equal(out.take(len(s)), want)


# ---- nonlinear units ----------------------------------------------------------------------------------
def test_gelu_exhaustive(harness, tmp_path):
    words = []
    for q in gelu_params():
        codes = np.arange(-(1 << (q.in_width - 1)), 1 << (q.in_width - 1))
        words += [2, *gelu_fields(q), len(codes), *codes.tolist()]
    out = run(harness, tmp_path, words)
    for q in gelu_params():
        codes = np.arange(-(1 << (q.in_width - 1)), 1 << (q.in_width - 1))
        assert np.array_equal(out.take(len(codes)), gelu_int(codes, q)), q
        out.taps()


def test_exp_whole_domain(harness, tmp_path):
    words, cases = [], []
    for p in softmax_params():
        q = p.exp
        # every reachable d = x - max (|d| < 2**in_bits): the whole domain, past the clamp, the minimum
        d = np.r_[-np.arange(min(q.n_clamp + 8, 1 << p.in_bits)), 1 - (1 << p.in_bits)]
        cases.append((q, d))
        words += [3, *exp_fields(q), len(d), *d.tolist()]
    out = run(harness, tmp_path, words)
    for q, d in cases:
        assert np.array_equal(out.take(len(d)), exp_int(d, q)), q
        out.taps()


def test_softmax_rows_random_and_edges(harness, tmp_path):
    words, cases = [], []
    for p in softmax_params():
        lo, hi = -(1 << (p.in_bits - 1)), (1 << (p.in_bits - 1)) - 1
        for n in sorted({1, 2, 3, p.max_len // 2, p.max_len}):
            rows = [RNG.integers(lo, hi + 1, n), RNG.integers(-(1 << p.in_frac), 1 << p.in_frac, n).clip(lo, hi),
                    np.full(n, hi), np.full(n, lo), np.where(np.arange(n) == n - 1, hi, lo),
                    np.where(np.arange(n) % 2 == 0, hi, lo), np.zeros(n, dtype=np.int64)]
            x = np.stack(rows)
            cases.append((p, x))
            words += [4, *flatten(softmax_fields(p)), len(x), n, *x.ravel().tolist()]
    out = run(harness, tmp_path, words)
    for p, x in cases:
        assert np.array_equal(out.take(x.size).reshape(x.shape), softmax_int(x, p)), (p, x.shape)
        out.taps()


def _ln_rows() -> np.ndarray:
    rows = [RNG.integers(-32768, 32768, D), RNG.integers(-300, 300, D), RNG.integers(1000, 1010, D),
            np.full(D, 1234), np.full(D, -32768), np.full(D, 32767), np.where(np.arange(D) % 2, 32767, -32768),
            np.where(np.arange(D) == 7, 32767, 0), np.where(np.arange(D) == 0, -32768, 3), np.arange(D) - 20]
    rows += [RNG.normal(0, s, D).round().clip(-32768, 32767).astype(np.int64) for s in (1, 10, 1000, 20000)]
    return np.stack(rows)


@pytest.mark.parametrize("bits", [8, 6, 2])
def test_layernorm_rows(harness, tmp_path, bits):
    x = _ln_rows()
    words, cases = [], []
    for i, p in enumerate(ln_params()):
        gamma = RNG.uniform(-2, 2, D) if i else np.ones(D)
        rq = make_requant(gamma * 2.0 ** -p.out_frac / 0.05, RNG.uniform(-3, 3, D) * (i > 0), bits=bits)
        cases.append((p, rq))
        words += [5, *ln_fields(p), *flatten(rsqrt_fields(p.rsqrt)), rq.shift, rq.bits, *rq.mult.tolist(),
                  *rq.bias.tolist(), len(x), *x.ravel().tolist()]
    out = run(harness, tmp_path, words)
    for p, rq in cases:
        assert np.array_equal(out.take(x.size).reshape(x.shape), golden.layernorm(x, LayerNormInt(p, rq)))
        out.taps()


# ---- matrix engines -----------------------------------------------------------------------------------
def _acts(n, cols, k, extremes=True):
    lo, hi = -(1 << (k - 1)), (1 << (k - 1)) - 1
    a = RNG.integers(lo, hi + 1, (n, cols))
    if extremes and n >= 3:
        a[0], a[1] = lo, hi
    return a


def _bin_case(name, K, O, k, out_bits, mult_scale):
    w = RNG.choice([-1, 1], (O, K))
    rq = make_requant(RNG.uniform(0.2, 1.0, O) * mult_scale, RNG.uniform(-40, 40, O), bits=out_bits)
    return LinearInt(name, w, rq, True)


@pytest.mark.parametrize("k", [8, 6, 4, 2])
def test_linear_binary_engine(harness, tmp_path, k):
    n = N
    g = fit_gelu(2 * k, 2 * k - 3, 2 * k - 3)
    grq = make_requant(2.0 ** -g.out_frac / 0.03, bits=k)
    layers = {  # mode: (layer, in_off, out_off); saturating requantizers on purpose (mult_scale)
        0: (_bin_case("qkv", D, 3 * D, k, k, 4.0 / (1 << k)), 0, QKV_OFF),
        1: (_bin_case("proj", D, D, k, 16, 600.0), 0, 0),
        2: (_bin_case("fc1", D, M, k, 2 * k, 1.0), 0, QKV_OFF),
        3: (_bin_case("fc2", M, D, k, 16, 300.0), QKV_OFF, 0),
    }
    blob = Blob(32)
    secs = {m: blob.add_binary(l.name, l.weight, l.rq) for m, (l, _, _) in layers.items()}
    data = blob.finish()
    act = _acts(n, ACT_COLS, k)
    x = RNG.integers(-32768, 32768, (n, D))
    x[2] = 32767
    x[3] = -32768
    words = blob_words(data)
    for mode, (lin, i_off, o_off) in layers.items():
        out_mode = {0: 0, 1: 1, 2: 2, 3: 1}[mode]
        s = secs[mode]
        words += [7, s.offset, s.K, s.O, i_off, o_off, out_mode, lin.rq.shift, lin.rq.bits, s.bias_bytes, 10, 11,
                  *gelu_fields(g), *rq_fields(grq), n, *act.ravel().tolist(), *x.ravel().tolist()]
    out = run(harness, tmp_path, words)
    out.taps()
    for mode, (lin, i_off, o_off) in layers.items():
        got_act = out.take(n * ACT_COLS).reshape(n, ACT_COLS)
        got_x = out.take(n * D).reshape(n, D)
        taps = out.taps()
        y = golden.linear_binary(act[:, i_off:i_off + lin.weight.shape[1]], lin)
        assert np.array_equal(np.array([[taps_of(taps, 10)[(0, r, c)] for c in range(y.shape[1])] for r in range(n)]), y)
        want_act, want_x = act.copy(), x.copy()
        if mode == 0:
            want_act[:, o_off:o_off + y.shape[1]] = y
        elif mode == 2:
            want_act[:, o_off:o_off + y.shape[1]] = golden.gelu(y, g, grq)
        else:
            want_x = golden.residual_add(x, y)
        assert np.array_equal(got_act, want_act), f"mode {mode}"
        assert np.array_equal(got_x, want_x), f"mode {mode}"


def test_linear_int8_engine_ragged_and_pos(harness, tmp_path):
    cases = []   # (K, O, in_off, pos rows, out_bits, input range)
    for K, O, off, pos, bits in ((48, D, 0, N - 1, 16), (40, 10, 8, 0, 16), (8, HID, 24, 0, 12), (2 * HID, 1, 0, 0, 8),
                                 (64, 5, 0, 0, 4)):
        w = RNG.integers(-127, 128, (O, K))
        w[0] = 127
        rq = make_requant(RNG.uniform(0.001, 0.02, O), RNG.uniform(-500, 500, O), bits=bits)
        p = RNG.integers(-32768, 32768, (O, pos)) if pos else None
        cases.append((K, O, off, pos, w, rq, p))
    blob = Blob(32)
    secs = [blob.add_int8(f"l{i}", w, rq, p) for i, (_, _, _, _, w, rq, p) in enumerate(cases)]
    words = blob_words(blob.finish())
    inputs = []
    for (K, O, off, pos, w, rq, p), s in zip(cases, secs):
        n = N - 1 if pos else min(N, I8O_SIZE // O)
        xin = RNG.integers(-128, 128, (n, I8_COLS))
        xin[0] = -128
        inputs.append(xin)
        words += [8, s.offset, K, O, off, rq.shift, rq.bits, s.bias_bytes, pos, n, *xin.ravel().tolist(),
                  1 if pos else 0, O, 7]
    out = run(harness, tmp_path, words)
    out.taps()                                        # (the blob command)
    for (K, O, off, pos, w, rq, p), xin in zip(cases, inputs):
        got_x = out.take(N * D).reshape(N, D)
        got_o = out.take(I8O_SIZE)
        out.taps()
        y = golden.linear_int8(xin[:, off:off + K], LinearInt("t", w, rq, False))
        if pos:
            assert np.array_equal(got_x[1:], golden.residual_add(y, p.T))
        else:
            assert np.array_equal(got_o[:y.size].reshape(y.shape), y)


@pytest.mark.parametrize("k", [8, 6, 3])
def test_attention_head(harness, tmp_path, k):
    sm = fit_softmax(2 * k - 4, k, max_len=N + 1, in_bits=2 * k)
    qk = make_requant(0.05 * 2 ** (2 * k - 4) / (1 << (2 * (k - 1))), bits=2 * k)
    av = make_requant(3.0 / (1 << k), bits=k)
    words, cases = [], []
    for n, h in ((N, 0), (7, 4), (1, 2), (5, 1)):
        act = _acts(n, ACT_COLS, k, extremes=n >= 3)
        cases.append((n, h, act))
        words += [9, *rq_fields(qk), *flatten(softmax_fields(sm)), *rq_fields(av), n, h, *act.ravel().tolist()]
    out = run(harness, tmp_path, words)
    for n, h, act in cases:
        got = out.take(n * ACT_COLS).reshape(n, ACT_COLS)
        taps = out.taps()
        q = act[:, QKV_OFF + h * HD:QKV_OFF + (h + 1) * HD]
        kk = act[:, QKV_OFF + D + h * HD:QKV_OFF + D + (h + 1) * HD]
        v = act[:, QKV_OFF + 2 * D + h * HD:QKV_OFF + 2 * D + (h + 1) * HD]
        s = golden.attn_qk(q[None], kk[None], qk)[0]
        p = golden.softmax(s, sm)
        o = golden.attn_av(p[None], v[None], av)[0]
        t_s, t_p = taps_of(taps, 0), taps_of(taps, 1)
        assert all(t_s[(h, r, c)] == s[r, c] for r in range(n) for c in range(n)) and len(t_s) == n * n
        assert all(t_p[(h, r, c)] == p[r, c] for r in range(n) for c in range(n)) and len(t_p) == n * n
        want = act.copy()
        want[:, h * HD:(h + 1) * HD] = o
        assert np.array_equal(got, want)


# ---- token selector -----------------------------------------------------------------------------------
def _selector_model(bits: int, score_bias: float, seed: int):
    model = build_vit(SPEC, (SelectorPlacement(1, 0.5),), seed=seed)
    torch.manual_seed(seed)
    for name, prm in model.named_parameters():
        if name.endswith("weight") and prm.dim() > 1:
            prm.data.normal_(0, 0.2)
    model.selectors["1"].score.bias.data.fill_(score_bias)
    model.set_quant(bits)
    model.set_weight_mode(binary=True)
    g = torch.Generator().manual_seed(seed)
    model.calibrate(torch.randn(32, 3, 12, 12, generator=g))
    im = export_int_model(model.eval())
    xs = []
    for c in im.quantize_input(torch.randn(6, 3, 12, 12, generator=g).numpy()):
        xs.append(golden.encoder_block(golden.patch_embed(c, im), im.blocks[0]))
    return im, xs


def _selector_words(im, xs):
    sel = im.selectors[1]
    blob = Blob(32)
    local = [blob.add_int8(f"l{h}", sel.local.weight[h], _rq_slice(sel.local.rq, h * HID, HID)) for h in range(H)]
    score = [blob.add_int8(f"s{h}", sel.score.weight[h], _rq_slice(sel.score.rq, h, 1)) for h in range(H)]
    gate = blob.add_int8("gate", sel.gate.weight, sel.gate.rq)
    words = blob_words(blob.finish())
    i8 = lambda s, rq, off=0: [s.offset, s.K, s.O, off, rq.shift, rq.bits, s.bias_bytes, s.pos]  # noqa: E731
    head = [0, *gelu_fields(sel.local_gelu), *rq_fields(sel.local_rq), sel.global_mean.shift, sel.global_mean.bits,
            sel.token_mean.shift, sel.token_mean.bits, *flatten(softmax_fields(sel.gate_softmax)),
            *flatten(softmax_fields(sel.pkg_softmax)), *rq_fields(sel.pkg_rq), sel.prob_bits, 0, 1]
    for h in range(H):
        head += i8(local[h], sel.local.rq, h * HD)
    for h in range(H):
        head += i8(score[h], sel.score.rq)
    head += i8(gate, sel.gate.rq)
    head += [*sel.global_mean.mult.tolist(), *sel.token_mean.mult.tolist()]
    rq = sel.ln.rq
    head += [*ln_fields(sel.ln.params), *flatten(rsqrt_fields(sel.ln.params.rsqrt)), rq.shift, rq.bits,
             *np.broadcast_to(rq.mult, (D,)).tolist(), *np.broadcast_to(rq.bias, (D,)).tolist()]
    for x in xs:
        words += [10, *head, len(x), *np.asarray(x).ravel().tolist()]
    return words


def _rq_slice(rq: Requant, start: int, count: int) -> Requant:
    return replace(rq, mult=np.asarray(rq.mult)[start:start + count], bias=np.asarray(rq.bias)[start:start + count])


@pytest.mark.parametrize("bits,score_bias", [(8, 0.0), (6, 0.3), (4, 0.0), (8, -6.0), (6, 6.0)])
def test_token_selector(harness, tmp_path, bits, score_bias):
    im, xs = _selector_model(bits, score_bias, seed=bits)
    xs = xs + [xs[0][:2], xs[1][:3]]              # n = 2 (one scored token) and n = 3
    out = run(harness, tmp_path, _selector_words(im, xs))
    out.taps()                                        # (the blob command)
    pruned_any = False
    for x in xs:
        n_out = int(out.take(1)[0])
        taps = out.taps()
        want = golden.token_select(x, im.selectors[1])
        pruned_any |= not want.keep.all()
        t_sc, t_tok = taps_of(taps, 0), taps_of(taps, 1)
        assert [t_sc[(0, 0, i)] for i in range(len(want.scores))] == want.scores.tolist()
        assert n_out == len(want.tokens)
        assert len(t_tok) == want.tokens.size
        assert all(t_tok[(0, r, c)] == want.tokens[r, c] for r in range(n_out) for c in range(D))
    if score_bias <= 0:
        assert pruned_any, "the case should prune tokens"
