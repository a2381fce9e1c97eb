"""Cycle and resource formulas on small hand-computed cases, monotonicity in the lane counts, and the
layer schedule (op names, golden functions, token counts with selectors)."""
import numpy as np
import pytest

from hlsgen.board import resolve_board
from hlsgen.design import PAR_FIELDS, DesignPoint, Parallelism, allowed_values
from hlsgen.arch import TILE_HANDOFF, Ctx, cdiv, clog2, pipeline
from hlsgen.ops import (GOLDEN_NAMES, OP_TYPES, AttnAV, AttnQK, ImageLoad, LayerNorm, LinearBinary, LinearInt8,
                        Softmax, op_bound, report_type, token_select_steps)
from hlsgen.ops_resources import (ENGINES, Dims, binary_lut_per_lane, engine_glue, int8_engine, mem_cost,
                                   uram_cost)
from hlsgen.schedule import ScheduleError, build_schedule, macs_per_frame, op_names, trace_keys
from quant.spec import PRESETS, SelectorPlacement, default_selectors

ONES = {f: 1 for f in PAR_FIELDS}


def ctx(bpc=1000.0, lat=0, k=8, **par):
    return Ctx(k, {**ONES, **par}, bpc, lat)


def cycles(op, c):
    return int(sum(np.asarray(p.cycles) for p in op.parts(c)))


def test_helpers():
    assert cdiv(7, 2) == 4 and cdiv(8, 2) == 4
    assert [clog2(x) for x in (1, 2, 3, 4, 5, 64, 65)] == [0, 1, 2, 2, 3, 6, 7]
    assert list(clog2(np.array([1, 8, 9]))) == [0, 3, 4]
    h = TILE_HANDOFF                                     # every load hands its bank over
    assert pipeline(1, 10, 4) == 4 + h + 10              # single tile: load, compute
    assert pipeline(3, 10, 4) == 4 + h + 10 + 10 + 10    # compute-bound: loads hidden
    assert pipeline(3, 2, 5) == 3 * (5 + h) + 2          # memory-bound: loads back to back
    assert pipeline(3, 2, 5, 1) == 2 * (5 + h) + max(2, 1 + h) + 2   # smaller ragged last tile


def test_linear_binary_hand_computed():
    op = LinearBinary("x", rows=4, K=16, O=8)
    # pe=4, simd=8: 2 tiles, 4 tokens x 2 steps = 8 cycles per tile; tile = 4 ch x (2 B + 6 B) = 32 B
    # at 2 B/cycle + 3 latency = 19 cycles -> memory bound; depth = 2+3+1+1+4+1 = 12; overhead 8
    c = ctx(bpc=2.0, lat=3, pe=4, simd=8)
    h = TILE_HANDOFF
    assert cycles(op, c) == 8 + (19 + h + 19 + h + 8) + 12
    assert op_bound(op.parts(c)) == "memory"
    c = ctx(bpc=100.0, lat=3, pe=4, simd=8)     # load 1 + 3 = 4 cycles: compute bound
    assert cycles(op, c) == 8 + (4 + h + 8 + 8) + 12
    assert op_bound(op.parts(c)) == "compute"
    assert cycles(LinearBinary("x", 4, 16, 8, "int16"), c) == 8 + 20 + h + 12 + 1   # + residual adder stage
    assert op.weight_bytes() == 8 * (2 + 6)
    assert op.requantizer().golden == "requantize" and op.requantizer().channels == 8


def test_linear_int8_hand_computed():
    # head-like: 1 row, K=10, O=5 classes on pe=2 (ragged: 3 tiles, last has 1 channel), simd=4
    op = LinearInt8("head", rows=1, K=10, O=5)
    c = ctx(bpc=4.0, lat=2, i8_pe=2, i8_simd=4)
    per_ch = 10 + 6
    l, l_last, comp = cdiv(2 * per_ch, 4) + 2 + TILE_HANDOFF, cdiv(1 * per_ch, 4) + 2 + TILE_HANDOFF, 1 * 3
    depth = 2 + 3 + (4 - 1) + 1 + 0 + 1 + 4 + 1      # read, mult, chain of 4, unpack, tree(1), acc, req, write
    assert cycles(op, c) == 8 + (l + 1 * max(comp, l) + max(comp, l_last) + comp) + depth
    assert op_bound(op.parts(c)) == "memory"
    pre = LinearInt8("pe", rows=2, K=4, O=2, extra_bytes_per_ch=6)
    c = ctx(bpc=8.0, lat=1, i8_pe=2, i8_simd=4)
    tile = cdiv(2 * (4 + 6 + 6), 8) + 1 + TILE_HANDOFF
    assert cycles(pre, c) == 8 + tile + 2 + (2 + 3 + 3 + 1 + 0 + 1 + 4 + 1 + 1)
    assert cycles(ImageLoad("pe", 40), c) == cdiv(40, 8) + 1 + TILE_HANDOFF


def test_attention_hand_computed():
    qk = AttnQK("qk", nq=5, nk=5, d=8, head=1)
    c = ctx(att_pe=2, att_simd=4)
    # 3 key tiles (2,2,1), 2 steps over d; load = keys x steps, compute = 5 queries x 2 steps
    per_head = 8 + (4 + TILE_HANDOFF + max(10, 4) + max(10, 2) + 10) + (2 + 3 + 3 + 1 + 0 + 1 + 4 + 1)
    assert cycles(qk, c) == per_head
    av = AttnAV("av", nq=5, nk=5, d=8)
    c = ctx(att_pe=4, att_simd=2)
    # 2 channel tiles, compute 5 x ceil(5/2) = 15, load 5 token rows; depth: chain of 2
    assert cycles(av, c) == 8 + (5 + TILE_HANDOFF + 15 + 15) + (2 + 3 + 1 + 1 + 0 + 1 + 4 + 1)


def test_nonlinear_hand_computed():
    # softmax: per head 8 + (rows + 2) * ceil(10/4) + (2 + 2*2 + 8 + 12 + 2 + 1)
    assert cycles(Softmax("s", rows=3, width=10), ctx(softmax_lanes=4)) == 8 + 5 * 3 + 29
    # layernorm: 8 + (rows + 1) * ceil(16/4) + (2 + 2 + 2 + 12 + 2 + 4 + 1)
    assert cycles(LayerNorm("l", rows=3, dim=16), ctx(ln_lanes=4)) == 8 + 4 * 4 + 25
    # fused GELU: 8 outputs per step but 2 lanes -> 4 cycles instead of 1 per (token, tile) step
    fc1 = LinearBinary("fc1", rows=2, K=8, O=8, out="gelu")
    c = ctx(pe=8, simd=8, gelu_lanes=2)          # 1 tile, load = 1 cycle
    gelu = [p for p in fc1.parts(c) if p.engine == "gelu"]
    assert len(gelu) == 1 and gelu[0].cycles == ((1 + 2 * 4) - (1 + 2 * 1)) + 8
    enough = [p for p in fc1.parts(ctx(pe=8, simd=8, gelu_lanes=8)) if p.engine == "gelu"]
    assert enough[0].cycles == 8                  # enough lanes: depth only


def test_token_selector_worst_vs_expected():
    c = ctx(lat=5, pe=8, simd=8, gelu_lanes=8, att_pe=8, att_simd=8, i8_pe=8, i8_simd=8, softmax_lanes=8,
            ln_lanes=8, select_lanes=8)
    def steps(pruned):
        return token_select_steps("blocks.3.selector", n_in=197, n_pruned=pruned, dim=384, heads=6)

    def total(st):
        return sum(cycles(s, c) for s in st)
    worst, expected, none = steps(196), steps(59), steps(0)
    assert total(worst) > total(expected) > total(none) > 0
    assert {p.engine for s in worst for p in s.parts(c)} == {"layernorm", "int8", "gelu", "select", "softmax",
                                                             "attention"}
    # nothing pruned: the package softmax, package token and compaction steps exist but cost nothing
    assert [s.name for s in none] == [s.name for s in worst] and len(none) == 1 + 6 + 2 + 6 + 4 + 3
    assert sum(cycles(s, c) for s in none if s.engine == "attention") == 0
    assert {report_type(s) for s in worst} == {"token_select"}


def test_memory_mapping():
    assert mem_cost(72, 512)["bram36"] == 1
    assert mem_cost(73, 512)["bram36"] == 1.5          # 3 x RAMB18 as 36 x 512
    assert mem_cost(16, 2048)["bram36"] == 1
    assert mem_cost(8, 100)["bram36"] == 0.5           # one RAMB18 as 9 x 2048
    assert mem_cost(14, 32) == {"lut": 8, "ff": 0, "dsp": 0, "bram36": 0.0, "uram": 0}
    assert mem_cost(100, 64)["lut"] == 15 * 8
    assert mem_cost(0, 10)["bram36"] == 0 and mem_cost(0, 10)["lut"] == 0
    b = resolve_board("zcu102")
    wide = mem_cost(8192, 12, b)                       # shallow and wide: the scarcer resource decides
    assert (wide["lut"] == 0) != (wide["bram36"] == 0)
    assert uram_cost(8, 197 * 3072) == cdiv(cdiv(8 * 197 * 3072, 72), 4096)


def test_resource_formulas():
    assert binary_lut_per_lane(8) == pytest.approx(12.8)
    assert binary_lut_per_lane(4) == pytest.approx(6.8)
    assert binary_lut_per_lane(6) == pytest.approx(9.8)
    dims = Dims.of(PRESETS["deit_base"])
    r = int8_engine(ctx(i8_pe=3, i8_simd=4), dims)
    # two products per DSP48E2 + one requantizer per PE (the twin's two DMA address multiplies, ENGINE_GLUE's
    # fixed term, are not in the HLS design: its steps carry the tile sizes)
    assert r["dsp"] == 2 * 4 + 3
    assert engine_glue("int8", ctx(i8_pe=3, i8_simd=4), dims, twin=True)["dsp"] == 2
    c = ctx(k=8, pe=64, simd=64, gelu_lanes=8)
    binary = ENGINES["binary"](c, dims)
    assert binary["lut"] >= 64 * 64 * 12.8 and binary["dsp"] == 64


# ---- monotonicity --------------------------------------------------------------------------------------
def _pow2_upto(vals, limit):
    return [v for v in vals if v & (v - 1) == 0 and v <= limit]


@pytest.mark.parametrize("model", ["deit_base", "deit_small", "digits"])
@pytest.mark.parametrize("base", [1, 4, 16])
def test_more_lanes_never_slower_and_never_smaller(model, base):
    """Over power-of-two lane counts up to the dimension they split: every op's cycles are
    non-increasing and every engine's LUT/FF/DSP non-decreasing. (Memory mapping is not monotone:
    the same bits in a wider, shallower RAM can take a different number of BRAMs.)"""
    spec = PRESETS[model]
    sched = build_schedule(spec, default_selectors(spec.depth), "worst")
    dims = Dims.of(spec, default_selectors(spec.depth))
    # softmax rows are N wide, the selector's head-gate row H wide (wider trees than rows add depth)
    limits = {"att_pe": spec.head_dim, "att_simd": spec.head_dim, "softmax_lanes": spec.num_heads}
    for field in PAR_FIELDS:
        vals = (_pow2_upto([1, 2, 4, 8, 16], base) if field == "gelu_lanes"
                else _pow2_upto(allowed_values(field, spec), limits.get(field, 10 ** 6)))
        par = {f: np.full(len(vals), min(base, max(_pow2_upto(allowed_values(f, spec, pe=base), base) or [1])))
               for f in PAR_FIELDS}
        par[field] = np.array(vals)
        if field in ("pe", "simd"):
            par["gelu_lanes"] = par["pe"]              # GELU keeps up: no stall
        for k in (4, 8):
            c = Ctx(k, par, 18.0, 50)
            for op in sched.ops:
                cyc = sum(np.asarray(p.cycles) for p in op.parts(c)) * np.ones(len(vals))
                assert np.all(np.diff(cyc) <= 0), (field, op.name, vals, cyc)
            for name, fn in ENGINES.items():
                r = fn(c, dims)
                for key in ("lut", "ff", "dsp"):
                    v = np.asarray(r[key]) * np.ones(len(vals))
                    assert np.all(np.diff(v) >= 0), (field, name, key, vals, v)


# ---- schedule --------------------------------------------------------------------------------------------
def test_schedule_names_golden_and_tokens():
    spec = PRESETS["deit_small"]
    sel = default_selectors(spec.depth)
    exp = build_schedule(spec, sel, "expected")
    worst = build_schedule(spec, sel, "worst")
    dense = build_schedule(spec)
    names = op_names(dense.ops)
    assert names[0] == "patch_embed" and names[-2:] == ["norm", "head"]       # golden trace keys
    assert names[1:10] == [f"blocks.0.{n}" for n in ("ln1", "qkv", "attn_qk", "softmax", "attn_av", "proj",
                                                     "ln2", "fc1", "fc2")]
    # GELU and the residual adds are fused: their traces come from fc1 / proj / fc2
    assert trace_keys(dense.ops)[1:13] == [f"blocks.0.{n}" for n in (
        "ln1", "qkv", "attn_qk", "softmax", "attn_av", "proj", "residual1", "ln2", "fc1", "gelu", "fc2", "residual2")]
    # attention runs head by head: qk(h), softmax(h), av(h)
    block0 = [(type(op).__name__, getattr(op, "head", None)) for op in dense.ops if op.name.startswith("blocks.0.attn")
              or op.name == "blocks.0.softmax"]
    assert block0 == [(t, h) for h in range(spec.num_heads) for t in ("AttnQK", "Softmax", "AttnAV")]
    assert [n for n in op_names(exp.ops) if ".selector" in n] == ["blocks.3.selector", "blocks.6.selector",
                                                                  "blocks.9.selector"]
    assert len(op_names(dense.ops)) == 1 + 12 * 9 + 2
    assert [op.name for op in exp.ops] == [op.name for op in worst.ops]
    assert {op.golden for op in exp.ops} | {"requantize", "gelu", "residual_add"} == set(GOLDEN_NAMES)
    assert all(t.golden in GOLDEN_NAMES and t.engine for t in OP_TYPES)
    # expected: 1 + round(r * 196) + 1 tokens after each selector; worst: nothing pruned, no package
    assert exp.tokens == (197,) * 3 + (139,) * 3 + (98,) * 3 + (69,) * 3
    assert worst.tokens == (197,) * 12
    assert dense.tokens == (197,) * 12
    sel_ln = [op for op in exp.ops if op.name.endswith(".selector") and isinstance(op, LayerNorm)]
    pkg = [op for op in exp.ops if type(op).__name__ == "PackageToken"]
    # scored = all but the class token (the previous package token included), pruned = scored - kept
    assert [(op.rows + 1, p.n_pruned) for op, p in zip(sel_ln, pkg)] == [(197, 59), (139, 42), (98, 30)]
    assert macs_per_frame(PRESETS["deit_base"])["binary"] == pytest.approx(16.7e9, rel=0.01)


@pytest.mark.parametrize("sel, pattern", [
    ([SelectorPlacement(0, 0.7)], "integer in 1..11"),
    ([SelectorPlacement(12, 0.7)], "integer in 1..11"),
    ([SelectorPlacement(5, 0.7), SelectorPlacement(3, 0.5)], "strictly increasing"),
    ([SelectorPlacement(3, 0.5), SelectorPlacement(5, 0.7)], "must not increase"),
    ([SelectorPlacement(3, 0.0)], r"in \(0, 1\]"),
    ([SelectorPlacement(3, 0.001)], "keeps no token"),
])
def test_bad_selectors(sel, pattern):
    with pytest.raises(ScheduleError, match=pattern):
        build_schedule(PRESETS["deit_small"], sel)


def test_op_contract_on_a_design_point():
    spec = PRESETS["digits"]
    par = Parallelism(pe=8, simd=8, gelu_lanes=4, att_pe=4, att_simd=4, i8_pe=4, i8_simd=4, softmax_lanes=8,
                      ln_lanes=8, select_lanes=4)
    d = DesignPoint(spec, resolve_board("zcu102"), 200.0, 6, par, default_selectors(spec.depth))
    p = d.predict()
    ops = d.schedule("expected").ops
    assert sum(op.cycles(d) for op in ops) == p.cycles
    assert sum(op.cycles(d) for op in d.schedule("worst").ops) == p.cycles_worst > p.cycles
    assert all(op.bound(d) in ("compute", "memory") for op in ops)
    d8 = DesignPoint(spec, d.board, 200.0, 8, par, d.selectors)
    assert d8.predict().cycles == p.cycles                     # cycles do not depend on activation bits
    assert d8.predict().resources["lut"] > p.resources["lut"]
    r = ops[1].resources(d)
    assert set(r) == {"lut", "ff", "dsp", "bram36", "uram"}
    assert ops[1].requantizer().resources(d)["dsp"] == par.i8_pe
