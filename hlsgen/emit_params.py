"""Parameter structs and static widths of the HLS kernel library (hls_templates/hlsgen_*.h).

Two views of the same integers:
  * `*_fields(...)` give the field values of a C++ parameter struct, in declaration order, as
    (nested) lists of ints: `cinit` renders them as a C aggregate initializer for the generated
    ROM tables, `flatten` as the int64 stream the kernel test harness reads;
  * `*_cfg(...)` give the static widths (template constants) of a shared unit: the width the golden
    model states for each intermediate (quant/nl_*.py, check_bits), maximised over every instance
    the unit runs. Wider than necessary is numerically identical; narrower would wrap, and the C
    simulation range checks would catch it.

The field orders here and the struct declarations in the headers must agree; the kernel tests
exercise every struct through the harness.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from quant.intmodel import Requant
from quant.nl_exp import ExpParams, SoftmaxParams
from quant.nl_gelu import GeluParams
from quant.nl_layernorm import MEAN_FRAC, V_BITS, LayerNormParams, RsqrtParams

RSQRT_TABLE = 32          # hlsgen_common.h: 2 parities x 2**seg_bits, seg_bits <= 4
MULT_BITS = 16            # requantizer multiplier (signed)
BIAS_LIMIT_BITS = 48      # requantizer bias: the DSP48E2 post-adder


class EmitError(ValueError):
    """A model constant the hardware format cannot hold (the message names it)."""


def bitlen(v: int) -> int:
    return int(abs(int(v))).bit_length()


def clog2(n: int) -> int:
    return max(0, (int(n) - 1).bit_length())


def signed_bits(maxabs: int) -> int:
    """Width of a two's-complement word holding every value in [-maxabs, maxabs]."""
    return bitlen(maxabs) + 1


# ---- C rendering -----------------------------------------------------------------------------------
def clit(v) -> str:
    v = int(v)
    return f"{v}LL" if not -(1 << 31) <= v < (1 << 31) else str(v)


def cinit(fields) -> str:
    """Nested lists of ints -> a C aggregate initializer."""
    if isinstance(fields, (list, tuple)):
        return "{" + ", ".join(cinit(f) for f in fields) + "}"
    return clit(fields)


def flatten(fields) -> list[int]:
    if isinstance(fields, (list, tuple)):
        return [x for f in fields for x in flatten(f)]
    return [int(fields)]


# ---- struct fields ---------------------------------------------------------------------------------
def rq_fields(rq: Requant) -> list[int]:
    """rq_t: a per-tensor requantizer {mult, bias, shift, bits}."""
    mult, bias = np.ravel(rq.mult), np.ravel(rq.bias)
    if mult.size != 1 or bias.size != 1:
        raise EmitError(f"expected a per-tensor requantizer, got {mult.size} channels")
    if not rq.signed:
        raise EmitError("unsigned requantizer outputs are not supported by the kernels")
    check_rq_range(rq, "requantizer")
    return [int(mult[0]), int(bias[0]), int(rq.shift), int(rq.bits)]


def check_rq_range(rq: Requant, name: str) -> None:
    if np.abs(np.asarray(rq.mult)).max(initial=0) >= 1 << (MULT_BITS - 1):
        raise EmitError(f"{name}: requantizer multiplier exceeds int{MULT_BITS}")
    if int(np.abs(np.asarray(rq.bias)).max(initial=0)) >= 1 << (BIAS_LIMIT_BITS - 1):
        raise EmitError(f"{name}: requantizer bias exceeds the {BIAS_LIMIT_BITS}-bit DSP post-adder")
    if not 0 <= rq.shift <= 62:
        raise EmitError(f"{name}: requantizer shift {rq.shift} out of range")


def gelu_fields(q: GeluParams) -> list[int]:
    return [q.in_frac, q.out_frac, q.work_frac, q.k, q.b, q.a]


def exp_fields(q: ExpParams) -> list[int]:
    return [q.in_frac, q.out_frac, q.guard, q.p_frac, q.ln2, q.inv_mult, q.inv_shift, q.n_clamp, q.z_max,
            q.a, q.b, q.c]


def softmax_fields(q: SoftmaxParams) -> list:
    return [exp_fields(q.exp), q.out_bits, q.recip_bits]


def rsqrt_fields(r: RsqrtParams) -> list:
    n = len(r.c0)
    if r.seg_bits > 4 or n > RSQRT_TABLE:
        raise EmitError(f"rsqrt: {n} table entries exceed the kernel's {RSQRT_TABLE}")
    pad = [0] * (RSQRT_TABLE - n)
    return [r.man_frac, r.seg_bits, r.out_frac, r.coef_frac, list(r.c0) + pad, list(r.c1) + pad, list(r.c2) + pad]


def ln_fields(q: LayerNormParams) -> list[int]:
    return [q.eps_code, q.mean_mult, q.mean_shift, q.sqrt_dim, q.sqrt_dim_frac, q.scale_frac, q.out_frac,
            q.out_bits]


# ---- static widths (the C++ config structs) --------------------------------------------------------
def gelu_cfg(params: Iterable[GeluParams]) -> dict:
    ps = list(params)
    in_w = {p.in_width for p in ps}
    if len(in_w) != 1:
        raise EmitError(f"GELU instances with different input widths {sorted(in_w)}")
    return {"IN_W": in_w.pop(), "WF": max(p.work_frac for p in ps),
            "OUT_W": max(p.in_width - p.in_frac + p.out_frac for p in ps)}


def softmax_cfg(params: Iterable[SoftmaxParams]) -> dict:
    ps = list(params)
    in_w = max(p.in_bits for p in ps)
    out_bits = {p.out_bits for p in ps}
    if len(out_bits) != 1:
        raise EmitError(f"softmax instances with different output widths {sorted(out_bits)}")
    e = [p.exp for p in ps]
    return {
        "IN_W": in_w, "D_W": in_w + 1,
        "NB": max(bitlen(q.n_clamp) for q in e), "MB": max(bitlen(q.inv_mult) for q in e),
        "ZB": max(bitlen(q.z_max) for q in e), "GB": max(q.p_frac - q.in_frac for q in e),
        "PF": max(q.p_frac for q in e), "LF": max(q.l_frac for q in e), "AB": max(bitlen(q.a) for q in e),
        "OF": max(q.out_frac for q in e),
        "S_W": max(p.exp.out_frac + 1 + clog2(p.max_len) for p in ps),
        "R_W": max(p.recip_bits - p.exp.out_frac + 1 for p in ps),
        "RB": max(p.recip_bits for p in ps), "OUT_BITS": out_bits.pop(),
    }


def ln_cfg(params: Iterable[LayerNormParams]) -> dict:
    ps = list(params)
    dims, ins, rs = {p.dim for p in ps}, {p.in_bits for p in ps}, {p.rsqrt for p in ps}
    if len(dims) != 1 or len(ins) != 1 or ins != {16}:
        raise EmitError(f"LayerNorm instances must share one dim and 16-bit inputs, got dims {sorted(dims)}, "
                        f"input widths {sorted(ins)}")
    if len(rs) != 1:
        raise EmitError("LayerNorm instances use different rsqrt tables")
    r = rs.pop()
    cw = r.coef_frac + 2
    for name in ("c0", "c1", "c2"):
        if any(bitlen(c) + 1 > cw for c in getattr(r, name)):
            raise EmitError(f"rsqrt coefficient {name} does not fit {cw} bits")
    if any(p.mean_shift <= MEAN_FRAC for p in ps):
        raise EmitError(f"LayerNorm mean_shift {min(p.mean_shift for p in ps)} must exceed the mean's "
                        f"{MEAN_FRAC} fraction bits")
    dim = dims.pop()
    return {"DIM": dim, "IN_W": 16, "LB": clog2(dim), "MS": max(p.mean_shift for p in ps), "MUF": MEAN_FRAC,
            "MM_W": max(bitlen(p.mean_mult) for p in ps), "V_W": V_BITS, "MF": r.man_frac, "CF": r.coef_frac,
            "ROF": r.out_frac, "SQD_W": max(bitlen(p.sqrt_dim) for p in ps),
            "SF": max(p.scale_frac for p in ps), "OUT_W": max(p.out_bits for p in ps)}


# field names of the parameter structs (hlsgen_nonlinear.h), in declaration order, as the config
# names them (FIXED_<NAME>, V_<NAME>: HLSGEN_P)
GELU_NAMES = ("IN_FRAC", "OUT_FRAC", "WORK_FRAC", "K", "B", "A")
SOFTMAX_NAMES = ("IN_FRAC", "OUT_FRAC", "GUARD", "P_FRAC", "LN2", "INV_MULT", "INV_SHIFT", "N_CLAMP", "Z_MAX", "A",
                 "B", "CC", "OUT_BITS_P", "RECIP_BITS")
LN_NAMES = ("EPS_CODE", "MEAN_MULT", "MEAN_SHIFT", "SQRT_DIM", "SQRT_DIM_FRAC", "SCALE_FRAC", "OUT_FRAC", "OUT_BITS_P")


def fixed_fields(names: Sequence[str], instances: Sequence[Sequence]) -> dict:
    """FIXED_x = 1 and V_x = the value where every instance of a shared unit has the same value of
    field x (the kernel then shifts and multiplies by a constant), else FIXED_x = 0."""
    out = {}
    rows = [flatten(r) for r in instances]
    for i, name in enumerate(names):
        vals = {r[i] for r in rows}
        out[f"FIXED_{name}"] = int(len(vals) == 1)
        out[f"V_{name}"] = rows[0][i] if len(vals) == 1 else 0
    return out


def cfg_struct(name: str, values: dict, typedefs: Sequence[tuple[str, str]] = ()) -> str:
    """A C++ struct of static const ints (and typedefs): one unit's template configuration."""
    lines = [f"struct {name} {{"]
    lines += [f"    static const {'int' if -(1 << 31) <= int(v) < (1 << 31) else 'long long'} {k} = {clit(v)};"
              for k, v in values.items()]
    lines += [f"    typedef {t} {n};" for n, t in typedefs]
    lines.append("};")
    return "\n".join(lines)
