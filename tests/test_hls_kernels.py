"""Every HLS kernel (hls_templates/hlsgen_*.h) bit-exact against the golden per-op function.

One C++ harness (hls_templates/harness/kernel_harness.cpp) is compiled once for the module with
widths that cover every parameter set used here; each test streams commands (kernel, parameters,
inputs) into it and compares the outputs with quant's golden functions: exhaustively for the
small-width units (GELU over every input code, exp over its whole domain), randomized plus edge
cases (minimum, maximum, saturating, ties, ragged tiles, n = 1 ...) for the rest.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from hlsgen import arch
from hlsgen.board import resolve_board
from hlsgen.design import DesignPoint, Parallelism
from hlsgen.emit import KERNEL_HEADERS
from hlsgen.emit_blob import Blob
from hlsgen.emit_hls import STEP_FIELDS, hls_params, weight_fields
from hlsgen.emit_lower import lower
from hlsgen.emit_params import (cfg_struct, exp_fields, flatten, gelu_cfg, gelu_fields, ln_cfg, ln_fields, rq_fields,
                                rsqrt_fields, softmax_cfg, softmax_fields)
from quant import golden
from quant.intmodel import LayerNormInt, LinearInt, export_int_model, make_requant
from quant.intops import requantize, round_shift, saturate
from quant.nonlinear import exp_int, fit_gelu, fit_layernorm, fit_softmax, gelu_int, softmax_int
from quant.spec import ViTSpec
from quant.vit import build_vit
from sim.aptypes import compile_cpp

REPO = Path(__file__).resolve().parent.parent
TPL = REPO / "hls_templates"
# the harness design: 197 tokens (long softmax rows), D 40, 5 heads of 8, M 80, 10 classes, patch_dim 12
SPEC = ViTSpec("harness", 28, 3, 2, 40, 1, 5, 2.0, 10)
D, H, HD, M, N = 40, 5, 8, 80, 197
PAR = Parallelism(pe=8, simd=8, gelu_lanes=2, att_pe=4, att_simd=4, i8_pe=4, i8_simd=4, softmax_lanes=4, ln_lanes=8,
                  select_lanes=1)

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


def _runtime(cfg: dict) -> dict:
    """Every coefficient a runtime value: the harness runs many parameter sets on one build."""
    return {k: (0 if k.startswith("FIXED_") else v) for k, v in cfg.items()}


def harness_cfg() -> str:
    model = build_vit(SPEC, (), seed=0)
    model.set_quant(8)
    model.set_weight_mode(binary=True)
    model.calibrate(torch.randn(4, 3, 28, 28, generator=torch.Generator().manual_seed(0)))
    im = export_int_model(model.eval())
    design = DesignPoint(SPEC, resolve_board("zcu102"), 200.0, 8, PAR)
    structs, _, _ = hls_params(lower(im, design))
    # the LayerNorm bias ROM as wide as the requantizer's bias: the harness runs any parameter set
    vit = re.sub(r"LN_BIAS_W = \d+;", f"LN_BIAS_W = {arch.BIAS_LIMIT_BITS};", dict(structs)["vit_cfg"])
    gp = gelu_params()
    gelu = _runtime({"IN_W": 16, "WF": max(p.work_frac for p in gp), "OUT_W": max(p.in_width - p.in_frac + p.out_frac
                                                                                   for p in gp),
                     **{f"{p}_{n}": 0 for n in ("IN_FRAC", "OUT_FRAC", "WORK_FRAC", "K", "B", "A") for p in ("FIXED", "V")}})
    sms = [softmax_cfg([p]) for p in softmax_params()]
    sm = {k: max(c[k] for c in sms) for k in sms[0]}
    sm.update({f"{p}_{n}": 0 for n in ("IN_FRAC", "OUT_FRAC", "GUARD", "P_FRAC", "LN2", "INV_MULT", "INV_SHIFT",
                                       "N_CLAMP", "Z_MAX", "A", "B", "CC", "OUT_BITS_P", "RECIP_BITS")
               for p in ("FIXED", "V")})
    ln = ln_cfg(ln_params())
    ln.update({f"{p}_{n}": 0 for n in ("EPS_CODE", "MEAN_MULT", "MEAN_SHIFT", "SQRT_DIM", "SQRT_DIM_FRAC", "SCALE_FRAC",
                                       "OUT_FRAC", "OUT_BITS_P") for p in ("FIXED", "V")})
    includes = "".join(f'#include "{h}"\n' for h in KERNEL_HEADERS if h not in ("hlsgen_common.h",))
    return ("#ifndef HARNESS_CFG_H\n#define HARNESS_CFG_H\n#include \"hlsgen_common.h\"\n" + includes
            + "namespace hlsgen {\n" + "\n".join([cfg_struct("gelu_cfg", gelu), cfg_struct("sm_cfg", sm),
                                                  cfg_struct("ln_cfg", ln), vit]) + "\n}\n#endif\n")


@pytest.fixture(scope="module")
def harness():
    sources = {"kernel_harness.cpp": (TPL / "harness" / "kernel_harness.cpp").read_text(),
               "harness_cfg.h": harness_cfg(), "hlsgen_arch.h": arch.cpp_header("harness")}
    for h in KERNEL_HEADERS:
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
    r = subprocess.run([str(exe), str(src), str(dst)], capture_output=True, text=True)
    assert r.returncode == 0, f"harness exit {r.returncode}: {r.stderr.strip()}"
    return Out(np.fromfile(dst, dtype="<i8"))


def blob_words(blob: bytes) -> list[int]:
    padded = blob + b"\0" * (-len(blob) % 8)
    return [8, len(blob)] + [int(v) for v in np.frombuffer(padded, dtype="<i8")]


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


def test_softmax_engine_rows_random_and_edges(harness, tmp_path):
    words, cases = [], []
    for p in softmax_params():
        lo, hi = -(1 << (p.in_bits - 1)), (1 << (p.in_bits - 1)) - 1
        for n in sorted({1, 2, 3, 5, p.max_len // 2, p.max_len}):
            rows = [RNG.integers(lo, hi + 1, n), RNG.integers(-(1 << p.in_frac), 1 << p.in_frac, n).clip(lo, hi),
                    np.full(n, hi), np.full(n, lo), np.where(np.arange(n) == n - 1, hi, lo),
                    np.where(np.arange(n) % 2 == 0, hi, lo), np.zeros(n, dtype=np.int64)]
            x = np.stack(rows)
            cases.append((p, x))
            words += [4, *flatten(softmax_fields(p)), len(x), n, *x.ravel().tolist()]
    out = run(harness, tmp_path, words)
    for p, x in cases:
        got = out.take(x.size).reshape(x.shape) % 256           # P holds unsigned 8-bit codes
        assert np.array_equal(got, softmax_int(x, p)), (p, x.shape)
        out.taps()


def _ln_rows() -> np.ndarray:
    rows = [RNG.integers(-32768, 32768, D), RNG.integers(-300, 300, D), RNG.integers(1000, 1010, D),
            np.full(D, 1234), np.full(D, -32768), np.full(D, 32767), np.where(np.arange(D) % 2, 32767, -32768),
            np.where(np.arange(D) == 7, 32767, 0), np.where(np.arange(D) == 0, -32768, 3), np.arange(D) - 20]
    rows += [RNG.normal(0, s, D).round().clip(-32768, 32767).astype(np.int64) for s in (1, 10, 1000, 20000)]
    return np.stack(rows)


@pytest.mark.parametrize("bits", [8, 6, 2])
def test_layernorm_engine_rows(harness, tmp_path, bits):
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


def test_packed_dsp_products_exhaustive(harness, tmp_path):
    """mul2/split2: every int8 weight pair x signed and unsigned activations, summed DSP_CHAIN deep."""
    out = run(harness, tmp_path, [6, 8, -128, -127, -1, 0, 1, 127, 128, 255])
    assert out.take(1)[0] == 0


def test_bit_primitives_match_plain_expressions(harness, tmp_path):
    out = run(harness, tmp_path, [10, 12345, 400])
    assert out.take(1)[0] == 0


# ---- matrix engines (through the weight DMA and realigner) -----------------------------------------------
def _acts(n, cols, k, extremes=True):
    lo, hi = -(1 << (k - 1)), (1 << (k - 1)) - 1
    a = RNG.integers(lo, hi + 1, (n, cols))
    if extremes and n >= 3:
        a[0], a[1] = lo, hi
    return a


def _step(**f) -> list[int]:
    e = {k: 0 for k in STEP_FIELDS}
    e.update({"tap": -1, "tap2": -1, "block": -1, **f})
    return [e[k] for k in STEP_FIELDS]


def _bin_case(name, K, O, k, out_bits, mult_scale):
    w = RNG.choice([-1, 1], (O, K))
    rq = make_requant(RNG.uniform(0.2, 1.0, O) * mult_scale, RNG.uniform(-40, 40, O), bits=out_bits)
    return LinearInt(name, w, rq, True)


I8_ROWS, I8_COLS = N - 1, 12     # the patch rows of the harness design (unused by the binary engine)


@pytest.mark.parametrize("k", [8, 6, 4, 2])
def test_linear_binary_engine(harness, tmp_path, k):
    n = N
    g = fit_gelu(2 * k, 2 * k - 3, 2 * k - 3)
    grq = make_requant(2.0 ** -g.out_frac / 0.03, bits=k)
    layers = {  # mode: (layer, src); saturating requantizers on purpose (mult_scale)
        0: (_bin_case("qkv", D, 3 * D, k, k, 4.0 / (1 << k)), 0),
        1: (_bin_case("proj", D, D, k, 16, 600.0), 0),
        2: (_bin_case("fc1", D, M, k, 2 * k, 1.0), 0),
        3: (_bin_case("fc2", M, D, k, 16, 300.0), 1),
    }
    blob = Blob(32)
    secs = {m: blob.add_binary(l.name, l.weight, l.rq) for m, (l, _) in layers.items()}
    words = blob_words(blob.finish())
    a, h = _acts(n, D, k), _acts(n, M, k)
    x = RNG.integers(-32768, 32768, (n, D))
    x[2] = 32767
    x[3] = -32768
    i8 = np.zeros((I8_ROWS, I8_COLS), dtype=np.int64)
    for mode, (lin, src) in layers.items():
        s = secs[mode]
        words += [7, *_step(op=arch.OP_BIN, **weight_fields(s.K, s.O, 0, s.bias_bytes, True, PAR.pe, 32),
                            w_word=s.offset // 32, mode={0: 0, 1: 1, 2: 2, 3: 1}[mode], src=src,
                            shift=lin.rq.shift, bits=lin.rq.bits, tap=10, tap2=11),
                  *gelu_fields(g), *rq_fields(grq), n, *a.ravel().tolist(), *h.ravel().tolist(), *x.ravel().tolist(),
                  I8_ROWS, I8_COLS, *i8.ravel().tolist()]
    out = run(harness, tmp_path, words)
    out.taps()
    for mode, (lin, src) in layers.items():
        got_qkv = out.take(n * 3 * D).reshape(n, 3 * D)
        got_h = out.take(n * M).reshape(n, M)
        got_x = out.take(N * D).reshape(N, D)
        out.take(10)
        taps = out.taps()
        y = golden.linear_binary(a if src == 0 else h, lin)
        t10 = taps_of(taps, 10)
        assert np.array_equal(np.array([[t10[(0, r, c)] for c in range(y.shape[1])] for r in range(n)]), y)
        if mode == 0:
            assert np.array_equal(got_qkv, y), "qkv"
        elif mode == 2:
            assert np.array_equal(got_h, golden.gelu(y, g, grq)), "fc1 + GELU"
        else:
            assert np.array_equal(got_x, golden.residual_add(x, y)), f"mode {mode}"


def test_linear_int8_engine_ragged_and_pos(harness, tmp_path):
    """The patch embedding (12 inputs, pos add into X rows 1..) and a ragged head (10 classes on PE 4)."""
    cases = []
    for K, O, pos, bits, mode in ((12, D, N - 1, 16, 0), (D, 10, 0, 16, 1)):
        w = RNG.integers(-127, 128, (O, K))
        w[0] = 127
        rq = make_requant(RNG.uniform(0.001, 0.02, O), RNG.uniform(-500, 500, O), bits=bits)
        p = RNG.integers(-32768, 32768, (O, pos)) if pos else None
        cases.append((K, O, pos, w, rq, p, mode))
    blob = Blob(32)
    secs = [blob.add_int8(f"l{i}", w, rq, p) for i, (_, _, _, w, rq, p, _) in enumerate(cases)]
    words = blob_words(blob.finish())
    inputs = []
    for (K, O, pos, w, rq, p, mode), s in zip(cases, secs):
        n = N - 1 if pos else 1
        xin = RNG.integers(-128, 128, (n, K))
        xin[0] = -128
        inputs.append(xin)
        words += [7, *_step(op=arch.OP_I8, **weight_fields(K, O, pos, s.bias_bytes, False, PAR.i8_pe, 32),
                            w_word=s.offset // 32, mode=mode, shift=rq.shift, bits=rq.bits, tap=7),
                  0, 0, 0, 0, 0, 0, 0, 0, 0, 8, n, *np.zeros(n * D, dtype=np.int64).tolist(),
                  *np.zeros(n * M, dtype=np.int64).tolist(), *np.zeros(N * D, dtype=np.int64).tolist(), n, K,
                  *xin.ravel().tolist()]
    out = run(harness, tmp_path, words)
    out.taps()                                        # (the blob command)
    for (K, O, pos, w, rq, p, mode), xin in zip(cases, inputs):
        n = len(xin)
        out.take(n * 3 * D)
        out.take(n * M)
        got_x = out.take(N * D).reshape(N, D)
        got_logits = out.take(10)
        out.taps()
        y = golden.linear_int8(xin, LinearInt("t", w, rq, False))
        if pos:
            assert np.array_equal(got_x[1:], golden.residual_add(y, p.T))
        else:
            assert np.array_equal(got_logits, y[0])


@pytest.mark.parametrize("k", [8, 6, 3])
def test_attention_head(harness, tmp_path, k):
    sm = fit_softmax(2 * k - 4, k, max_len=N + 1, in_bits=2 * k)
    qk = make_requant(0.05 * 2 ** (2 * k - 4) / (1 << (2 * (k - 1))), bits=2 * k)
    av = make_requant(3.0 / (1 << k), bits=k)
    words, cases = [], []
    for n, h in ((N, 0), (7, 4), (1, 2), (5, 1), (N - 3, 3)):
        qkv = _acts(n, 3 * D, k, extremes=n >= 3)
        cases.append((n, h, qkv))
        words += [9, *rq_fields(qk), *flatten(softmax_fields(sm)), *rq_fields(av), n, h, *qkv.ravel().tolist()]
    out = run(harness, tmp_path, words)
    for n, h, qkv in cases:
        got = out.take(n * D).reshape(n, D)
        taps = out.taps()
        q = qkv[:, h * HD:(h + 1) * HD]
        kk = qkv[:, D + h * HD:D + (h + 1) * HD]
        v = qkv[:, 2 * D + h * HD:2 * D + (h + 1) * HD]
        s = golden.attn_qk(q[None], kk[None], qk)[0]
        p = golden.softmax(s, sm)
        o = golden.attn_av(p[None], v[None], av)[0]
        t_s, t_p = taps_of(taps, 0), taps_of(taps, 1)
        assert all(t_s[(h, r, c)] == s[r, c] for r in range(n) for c in range(n)) and len(t_s) == n * n
        assert all(t_p[(h, r, c)] == p[r, c] for r in range(n) for c in range(n)) and len(t_p) == n * n
        assert np.array_equal(got[:, h * HD:(h + 1) * HD], o)
