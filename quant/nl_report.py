"""Error tables of the integer nonlinear units in the formats the model uses (python -m quant.nl_report).

For activation precision k:

* GELU: input ap_fixed<2k, 4> (all 2**(2k) codes), unit output at 2k-4 fraction bits, then the output
  requantizer to a signed k-bit code with scale 4 / (2**(k-1) - 1) (range [-4.03, 4.0]).
* exp: the softmax's exp (out_frac = k + 8) over every non-positive difference code d = x - max of
  two ap_fixed<2k, 6> codes, i.e. d in [-(2**(2k) - 1), 0] at 2k-6 fraction bits.
* softmax: ap_fixed<2k, 6> rows of lengths 17 and 197 (per row: mean ~ U[-8, 8], std ~ U[0.5, 4]),
  output out_bits = k (scale 2**-k, 1.0 saturates to 1 - 2**-k).
* LayerNorm: random int16 rows (dims 48, 192, 768; per row mean ~ U[-4096, 4096], std log-uniform in
  [256, 8192] codes), eps = 1 code**2; output at 10 fraction bits, then requantized to a signed k-bit
  code with scale 4 / (2**(k-1) - 1).

Columns: unit_* = the integer unit before output quantization vs the float function; q_* = after the
output quantization vs the float function clipped to the output's representable range (clipping is a
property of the format, not of the unit); q_ideal_max = the float function rounded straight to the same
output grid (the best any unit can do), so q_max - q_ideal_max is what the integer unit adds.
"""
from __future__ import annotations

import math

import numpy as np

from quant.intops import requantize
from quant.nl_exp import exp_int, fit_softmax, softmax_int, softmax_unrounded
from quant.nl_gelu import fit_gelu, gelu_codes, gelu_float, gelu_int
from quant.nl_layernorm import (fit_layernorm, fit_rsqrt, fit_rsqrt_newton, layernorm_float, layernorm_int,
                                measure_rsqrt)

SEED = 2024
LN_OUT_FRAC = 10
REQ_SHIFT = 24


def _act_scale(k: int) -> float:
    return 4.0 / ((1 << (k - 1)) - 1)


def _requant(codes, frac: int, scale: float, k: int) -> np.ndarray:
    """Output requantizer (intops.requantize): codes at `frac` fraction bits -> signed k-bit codes."""
    mult = round((1 << REQ_SHIFT) / (scale * (1 << frac)))
    return requantize(codes, mult, REQ_SHIFT, 0, k, signed=True)


def _stats(got, want) -> tuple[float, float]:
    err = np.abs(np.asarray(got, dtype=np.float64) - want)
    return float(err.max()), float(err.mean())


def _row(unit, k, input_fmt, input_range, samples, out_fmt, unit_err, q=None) -> dict:
    row = {"unit": unit, "k": k, "input": input_fmt, "input_range": input_range, "samples": samples,
           "output": out_fmt, "unit_max_abs": unit_err[0], "unit_mean_abs": unit_err[1],
           "q_max_abs": None, "q_mean_abs": None, "q_ideal_max_abs": None, "q_lsb": None}
    if q is not None:
        (row["q_max_abs"], row["q_mean_abs"]), row["q_ideal_max_abs"], row["q_lsb"] = q
    return row


def _quantized(unit_codes, frac, want, scale, k):
    """(max, mean) after requantization, ideal max, lsb; reference clipped to the output range."""
    lo, hi = -(1 << (k - 1)) * scale, ((1 << (k - 1)) - 1) * scale
    ref = np.clip(want, lo, hi)
    got = _requant(unit_codes, frac, scale, k) * scale
    ideal = np.clip(np.floor(want / scale + 0.5), -(1 << (k - 1)), (1 << (k - 1)) - 1) * scale
    return _stats(got, ref), float(np.abs(ideal - ref).max()), scale


def _gelu_rows(k: int) -> list[dict]:
    w, f = 2 * k, 2 * k - 4
    q = fit_gelu(w, f, f)
    x = gelu_codes(q)
    want = gelu_float(x * 2.0 ** -f)
    y = gelu_int(x, q)
    s = _act_scale(k)
    rng = f"[{x[0] * 2.0 ** -f:g}, {x[-1] * 2.0 ** -f:g}] all {x.size} codes"
    return [_row("gelu", k, f"ap_fixed<{w},4>", rng, x.size, f"s{k} scale 4/{(1 << (k - 1)) - 1}",
                 _stats(y * 2.0 ** -f, want), _quantized(y, f, want, s, k))]


def _softmax_rows(k: int, rng: np.random.Generator) -> list[dict]:
    w, f = 2 * k, 2 * k - 6
    q = fit_softmax(f, k, in_bits=w)
    d = -np.arange(1 << w, dtype=np.int64)                     # every d = x - max of two codes
    e = exp_int(d, q.exp)
    fe = q.exp.out_frac
    rows = [_row("exp", k, f"d = x - max, x ap_fixed<{w},6>", f"[{d[-1] * 2.0 ** -f:g}, 0] all {d.size} codes",
                 d.size, f"u{fe + 1} frac {fe}", _stats(e * 2.0 ** -fe, np.exp(d * 2.0 ** -f)))]
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    for n in (17, 197):
        nrows = 256
        mean = rng.uniform(-8, 8, (nrows, 1))
        std = rng.uniform(0.5, 4.0, (nrows, 1))
        x = np.clip(np.round((mean + std * rng.standard_normal((nrows, n))) * 2.0 ** f), lo, hi).astype(np.int64)
        xf = x * 2.0 ** -f
        ex = np.exp(xf - xf.max(axis=-1, keepdims=True))
        want = ex / ex.sum(axis=-1, keepdims=True)
        p = softmax_int(x, q)
        ideal = np.minimum(np.floor(want * (1 << k) + 0.5), (1 << k) - 1) * 2.0 ** -k
        rows.append(_row(f"softmax[{n}]", k, f"ap_fixed<{w},6>",
                         f"{nrows} rows, x in [{xf.min():.2f}, {xf.max():.2f}]", x.size, f"u{k} scale 2^-{k}",
                         _stats(softmax_unrounded(x, q), want),
                         (_stats(p * 2.0 ** -k, want), float(np.abs(ideal - want).max()), 2.0 ** -k)))
    return rows


def _layernorm_rows(k: int, rng: np.random.Generator) -> list[dict]:
    rows = []
    s = _act_scale(k)
    for dim in (48, 192, 768):
        q = fit_layernorm(dim, out_frac=LN_OUT_FRAC)
        nrows = 128
        mean = rng.uniform(-4096, 4096, (nrows, 1))
        std = np.exp(rng.uniform(math.log(256), math.log(8192), (nrows, 1)))
        x = np.clip(np.round(mean + std * rng.standard_normal((nrows, dim))), -32768, 32767).astype(np.int64)
        want = layernorm_float(x, q.eps_code)
        y = layernorm_int(x, q)
        rows.append(_row(f"layernorm[{dim}]", k, "int16", f"{nrows} rows, std in [256, 8192] codes", x.size,
                         f"s{k} scale 4/{(1 << (k - 1)) - 1}", _stats(y * 2.0 ** -LN_OUT_FRAC, want),
                         _quantized(y, LN_OUT_FRAC, want, s, k)))
    return rows


def error_table(bits=(6, 8)) -> list[dict]:
    """One dict per (unit, k): formats, input range covered, and the error columns (module docstring)."""
    out = []
    for k in bits:
        rng = np.random.default_rng(SEED + k)
        out += _gelu_rows(k) + _softmax_rows(k, rng) + _layernorm_rows(k, rng)
    return out


def _fmt(v) -> str:
    return "—" if v is None else f"{v:.2e}" if isinstance(v, float) else str(v)


def format_error_table(rows) -> str:
    """Markdown table of error_table() rows."""
    cols = ["unit", "k", "input", "input_range", "output", "unit_max_abs", "unit_mean_abs", "q_max_abs",
            "q_mean_abs", "q_ideal_max_abs", "q_lsb"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def rsqrt_table() -> list[dict]:
    """Measured error (exhaustive over all mantissas, in output LSB = 2**-16) and cost of the rsqrt options."""
    rows = []
    for seg in (0, 2, 3, 4):
        rows.append({"variant": f"poly seg_bits={seg}", **measure_rsqrt(fit_rsqrt(seg))})
    for it in (1, 2, 3):
        rows.append({"variant": f"newton iterations={it}", **measure_rsqrt(fit_rsqrt_newton(it))})
    return rows


def format_rsqrt_table(rows) -> str:
    cols = ["variant", "multiplies", "table_entries", "max_lsb", "mean_lsb", "max_rel"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        lines.append("| " + " | ".join(f"{r[c]:.3g}" if isinstance(r[c], float) else str(r[c]) for c in cols)
                     + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_error_table(error_table()))
    print()
    print(format_rsqrt_table(rsqrt_table()))
