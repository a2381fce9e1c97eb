"""One description of the micro-architecture, three renderings (cycle model, HLS C++, RTL twin).

The steps of a frame (hlsgen.schedule.frame_ops) are the one program: these tests check that the
cycle model and both emitters render that program and nothing else, that every field of every step
is read by each of them (a field one rendering ignores is a drift waiting to happen), and that the
shared constants (hlsgen/arch.py) reach the generated C++ and SystemVerilog unchanged.

Step fields are of two kinds. Shape and tiling fields (rows, K, O, out, ...) must be read by the
model and both emitters. Routing fields (where rows come from and results go, which head, which
constant table, the weight section, the second trace) say how an emitter wires a step; the model
costs the concrete shapes instead and reads them only where they change the cycles.
"""
from __future__ import annotations

import re
from dataclasses import fields

import numpy as np
import pytest

from hlsgen import arch
from hlsgen.board import resolve_board
from hlsgen.design import DesignPoint, Parallelism
from hlsgen.emit_lower import lower
from hlsgen.emit_rtl import RtlEmitError, config, program
from hlsgen.ops import OP_TYPES
from quant.intmodel import export_int_model
from quant.paths import RTL_LIB_DIR, TEMPLATES_DIR
from quant.spec import PRESETS, default_selectors
from quant.zoo import prepare_model

TRACE_LABELS = {"name", "tap2"}      # golden trace keys: the HLS taps them, the twin checks results only
ROUTING = {"name", "rows_from", "src", "dst", "head", "icol", "r0", "table", "index", "use", "section", "tap2"}


class Recorder:
    """Wraps steps so that reading one of their dataclass fields is logged as (consumer, class, field)."""

    def __init__(self):
        self.log: set = set()
        self.consumer = ""

    def wrap(self, step):
        rec, names = self, {f.name for f in fields(step)}
        base = type(step)

        class Tracked(base):
            def __getattribute__(self, attr):
                if attr in names:
                    rec.log.add((rec.consumer, base.__name__, attr))
                return object.__getattribute__(self, attr)

        Tracked.__name__ = base.__name__
        obj = object.__new__(Tracked)
        for f in fields(step):
            object.__setattr__(obj, f.name, getattr(step, f.name))
        return obj

    def read(self, consumer, cls) -> set:
        return {f for c, k, f in self.log if c == consumer and k == cls}


@pytest.fixture(scope="module")
def digits_prune():
    spec = PRESETS["digits"]
    par = Parallelism(pe=2, simd=16, gelu_lanes=1, att_pe=2, att_simd=4, i8_pe=2, i8_simd=4, softmax_lanes=2,
                      ln_lanes=2, select_lanes=2)
    d = DesignPoint(spec, resolve_board("zcu102"), 200.0, 8, par, default_selectors(spec.depth))
    prep = prepare_model("digits", 8, prune=True, images=2)
    return d, export_int_model(prep.quant)


def test_every_step_field_is_read_by_the_model_and_the_twin(digits_prune):
    design, im = digits_prune
    rec = Recorder()
    steps = [rec.wrap(s) for s in design.schedule("worst").ops]
    rec.consumer = "model"
    ctx = design.ctx()
    for s in steps:
        s.parts(ctx)
        s.weight_bytes()
        s.traces()
    rec.consumer = "rtl"
    descs = program(im, lower(im, design), steps)
    assert len(descs) == len(steps) + 2                     # + the result write and the end
    seen = {type(s).__name__ for s in steps}
    assert seen == {t.__name__ for t in OP_TYPES if t.__name__ != "Requantize"}, "a step type is not exercised"
    for s in {type(s) for s in steps}:
        names = {f.name for f in fields(s)}
        shape = names - ROUTING
        assert shape <= rec.read("model", s.__name__), (s.__name__, "model ignores", shape - rec.read("model", s.__name__))
        unread = names - TRACE_LABELS - rec.read("rtl", s.__name__)
        assert not unread, f"the RTL emitter ignores {s.__name__}.{sorted(unread)}"


def test_the_twin_runs_the_models_program(digits_prune):
    design, im = digits_prune
    steps = design.schedule("worst").ops
    descs = program(im, lower(im, design), steps)
    assert [d.name for d in descs[:-2]] == [s.name for s in steps]
    assert [d.f["op"] for d in descs[:-2]] == [s.code for s in steps]


def test_parallelism_fields_have_one_name(digits_prune):
    design, im = digits_prune
    cfg = config(design, im, lower(im, design))
    for name, value in design.parallelism.as_dict().items():
        assert cfg[name.upper()] == value                   # the design.yaml name, upper case, in hg_cfg.svh
    engines = (RTL_LIB_DIR / "hg_engines.svh").read_text()
    for old in ("IPE", "ISIMD", "APE", "ASIMD", "SML", "LNL", "SELL"):
        assert not re.search(rf"\({old}\)", engines), f"hg_engines.svh still uses the old name {old}"


def test_shared_constants_are_rendered_not_copied():
    consts = arch.constants()
    sv, cpp = arch.sv_package("x"), arch.cpp_header("x")
    for name, value in consts.items():
        assert re.search(rf"localparam int {name} = {value};", sv)
        assert re.search(rf"const int {name} = {value};", cpp)
    # no hand-written source redefines a shared constant with a literal of its own
    for path in [*RTL_LIB_DIR.glob("*.sv"), *RTL_LIB_DIR.glob("*.svh"), *TEMPLATES_DIR.glob("*.h"),
                 *TEMPLATES_DIR.glob("*.j2")]:
        text = path.read_text()
        for name in consts:
            assert not re.search(rf"(localparam\s+int|const\s+int|enum\s*\{{[^}}]*)\b{name}\s*=\s*\d", text), \
                f"{path.name} defines {name} itself"
    ctrl = (RTL_LIB_DIR / "hg_ctrl.svh").read_text()
    assert "OP_GAP = OP_OVERHEAD - CTRL_CYCLES" in ctrl


def test_the_twin_refuses_a_board_it_cannot_serve(digits_prune):
    design, im = digits_prune
    zcu104 = resolve_board("zcu104")
    assert zcu104.memory.axi_width_bits != 256
    d104 = DesignPoint(design.spec, zcu104, 200.0, 8, design.parallelism, design.selectors)
    with pytest.raises(RtlEmitError, match="128-bit AXI"):
        config(d104, im, lower(im, d104))


def test_recorder_catches_an_ignored_field(digits_prune):
    """The field check can fail: a consumer that skips a field is reported."""
    design, _ = digits_prune
    rec = Recorder()
    step = rec.wrap(next(s for s in design.schedule("worst").ops if type(s).__name__ == "LinearBinary"))
    rec.consumer = "lazy"
    _ = step.rows, step.K                     # reads two fields, ignores O, out, src ...
    assert {"O", "out", "src"} & ({f.name for f in fields(step)} - rec.read("lazy", "LinearBinary"))
    assert np.all(step.parts(design.ctx())[0].cycles > 0)


def test_every_step_field_is_read_by_the_hls_emitter(digits_prune):
    """The HLS program table (PROG) is rendered from the same steps, reading every field of each."""
    from hlsgen.emit_hls import step_entry
    design, im = digits_prune
    lw = lower(im, design)
    rec = Recorder()
    rec.consumer = "hls"
    steps = [rec.wrap(s) for s in design.schedule("worst").ops]
    entries = [step_entry(s, lw, design.board.memory.axi_width_bits // 8) for s in steps]
    assert [e["op"] for e in entries] == [s.code for s in steps]
    for s in {type(s) for s in steps}:
        unread = {f.name for f in fields(s)} - rec.read("hls", s.__name__)
        assert not unread, f"the HLS emitter ignores {s.__name__}.{sorted(unread)}"


def test_the_hls_top_runs_the_models_program(digits_prune):
    """PROG in the generated vit_params.h holds one entry per step of the model's program, in order."""
    from hlsgen.emit_hls import STEP_FIELDS, hls_params
    design, im = digits_prune
    _, consts, tables = hls_params(lower(im, design))
    steps = design.schedule("worst").ops
    assert consts["PROG_LEN"] == len(steps)
    prog = next(init for decl, init, _ in tables if "PROG[" in decl)
    ops = [int(x) for x in re.findall(r"\{(-?\d+),", prog)]
    assert ops == [s.code for s in steps]
    struct = re.search(r"struct step_t \{(.*?)\};", (TEMPLATES_DIR / "hlsgen_step.h").read_text(), re.S).group(1)
    members = [m for decl in re.findall(r"^\s*int ([^;]+);", struct, re.M) for m in re.split(r",\s*", decl)]
    assert members == list(STEP_FIELDS), "PROG's initializer order is step_t's member order"


def test_the_hls_emitter_refuses_a_shape_its_cpp_would_not_compute(digits_prune):
    from dataclasses import replace

    from hlsgen.emit_hls import EmitError, step_entry
    design, im = digits_prune
    lw = lower(im, design)
    ln = next(s for s in design.schedule("worst").ops if type(s).__name__ == "LayerNorm")
    with pytest.raises(EmitError, match="dim = 64, the step says 32"):
        step_entry(replace(ln, dim=32), lw, 32)


def test_row_fifos_are_the_models_and_leave_room_for_the_statistics(digits_prune):
    """The softmax / LayerNorm row FIFOs of the C++ are the ones the resource model prices, and hold two
    rows plus ROW_FIFO_SLACK: a row's values must not wait for room while its statistics (a divider, an
    rsqrt chain, deeper in Vitis than their LATENCY targets, ~35-50 cycles) are still in flight, or the
    row pipeline deadlocks."""
    from hlsgen.buffers import engine_buffers, row_fifo_depths
    from hlsgen.emit import render_sources
    design, im = digits_prune
    params = render_sources(lower(im, design))["src/vit_params.h"]
    p = design.parallelism
    want = row_fifo_depths(design.spec, p.softmax_lanes, p.ln_lanes)
    assert {k: int(re.search(rf"\b{k}\s*=\s*(\d+)", params).group(1)) for k in want} == want
    assert want["LN_FIFO"] == 2 * design.spec.embed_dim // p.ln_lanes + arch.ROW_FIFO_SLACK
    assert arch.ROW_FIFO_SLACK >= 50
    bufs = engine_buffers(design.spec, design.act_bits, p.as_dict(), 256)
    assert bufs["LayerNorm row FIFO"][2] == want["LN_FIFO"] and bufs["softmax exp FIFO"][2] == want["SM_FIFO"]
