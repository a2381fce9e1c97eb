"""A binary engine of 3 x 2^n SIMD lanes (DeiT widths are 3 x 2^n: DeiT-Tiny reads 192 inputs per step
instead of 64). The buffers bank by the gcd / lcm of their access widths, the weight records are read
as 3-word super-words of several steps; HLS C simulation and the RTL twin stay bit-exact with cycles
within 5% of the model, and a banking that would straddle spans is refused."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from hlsgen import arch, emit
from hlsgen.board import resolve_board
from hlsgen.buffers import Buffer, binary_record_words, binary_weight_words, buffers
from hlsgen.cli import main
from hlsgen.design import DesignPoint, Parallelism, allowed_values, is_simd_lanes
from hlsgen.emit_params import EmitError
from hlsgen.outdir import write_project
from sim.aptypes import compile_cpp
from quant.spec import PRESETS, SelectorPlacement, ViTSpec
from sim.cosim import run_top_level
from sim.csim_cycles import RESULT_WRITE
from tests.test_csim_cycles import csim_json
from tests.test_generate import small_model

# 10 tokens, D = 48, M = 96, head dim 12: SIMD may be 6, 12, 24, 48 besides the powers of two
SPEC48 = ViTSpec("t48", 12, 3, 4, 48, 2, 4, 2.0, 10)
SEL48 = (SelectorPlacement(1, 0.7),)
# ln_lanes 16 beside SIMD 24: A's span is lcm(16, 24, 4) = 48, wider than either (the old max rule gave 24)
PAR24 = Parallelism(pe=4, simd=24, gelu_lanes=2, att_pe=4, att_simd=4, i8_pe=2, i8_simd=2, softmax_lanes=2,
                    ln_lanes=16, select_lanes=2)
PAR48 = Parallelism(pe=8, simd=48, gelu_lanes=4, att_pe=4, att_simd=2, i8_pe=4, i8_simd=4, softmax_lanes=4,
                    ln_lanes=8, select_lanes=1)


def _project(tmp_path, par, sels, images=4):
    im, codes = small_model(8, sels, images=images, spec=SPEC48)
    d = DesignPoint(SPEC48, resolve_board("zcu102"), 200.0, 8, par, sels)
    return write_project(emit.build_project(im, d, codes, trace_mb=1).files, tmp_path / "p"), im, codes, d


def test_simd_values():
    assert [v for v in range(1, 400) if is_simd_lanes(v)] == [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192,
                                                                256, 384]
    assert allowed_values("simd", PRESETS["deit_tiny"]) == [1, 2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 192]
    assert allowed_values("simd", PRESETS["digits"]) == [1, 2, 4, 8, 16, 32, 64]
    assert allowed_values("pe", PRESETS["deit_tiny"]) == [1, 2, 4, 8, 16, 32, 64]


def test_weight_super_words():
    # (LW bits, words per super-word, steps per super-word) on the 256-bit AXI of the zcu102
    assert binary_weight_words(192, 256) == (768, 3, 4)
    assert binary_weight_words(24, 256) == (768, 3, 32)
    assert binary_weight_words(16, 256) == (256, 1, 16)      # powers of two as before
    assert binary_weight_words(512, 256) == (512, 2, 1)
    # K = 48 bits of weights + 6 constant bytes fit one word, but the super-word read spans three
    assert binary_record_words(48, 12, 24, 256) == 3
    assert binary_record_words(768, 102, 192, 256) == 4      # deit_tiny fc2: the record's 4 words cover the super-word


def test_buffer_span_is_the_lcm_and_a_straddling_one_is_refused(monkeypatch):
    a = buffers(SPEC48, 8, PAR24.as_dict(), True)["A"]
    assert (a.W, a.span, a.NB) == (4, 48, 12) and a.misfits() == []
    monkeypatch.setattr(Buffer, "span", property(lambda self: max(x.lanes for x in self.accesses)))
    assert any("layernorm" in m for m in buffers(SPEC48, 8, PAR24.as_dict(), True)["A"].misfits())
    im, codes = small_model(8, SEL48, images=1, spec=SPEC48)
    with pytest.raises(EmitError, match="buffer banking: A: layernorm write of 16 lanes"):
        emit.build_project(im, DesignPoint(SPEC48, resolve_board("zcu102"), 200.0, 8, PAR24, SEL48), codes)


@pytest.fixture(scope="module")
def project24(tmp_path_factory):
    return _project(tmp_path_factory.mktemp("simd24"), PAR24, SEL48)[0]


def test_csim_bit_exact_and_cycles_at_simd_24_with_selectors(project24, capsys):
    out = project24
    assert main(["check", str(out)]) == 0
    capsys.readouterr()
    r = csim_json(out, capsys, 4)
    assert r["bit_exact"], r["first_mismatch"]
    for kind, c in r["cycles"].items():     # the result write (no step of the model) is 0.4% of this small frame
        assert kind == RESULT_WRITE or abs(c["ratio"] - 1) <= 0.05, (kind, c)


@pytest.mark.slow
def test_twin_bit_exact_and_cycles_at_simd_48(tmp_path):
    out, *_ = _project(tmp_path, PAR48, (), images=2)
    lv = run_top_level(out, "model", images=2)
    assert lv.bit_exact, lv.first_mismatch
    for op, r in lv.per_op.items():
        assert abs(r["ratio"] - 1) < 0.05, (op, r)


UDIV_TEST = r"""
#include <cstdio>
#include "hlsgen_bits.h"
using namespace hlsgen;
template <int D> int check() {
    int bad = 0;
    for (int x = 0; x < (1 << 16); x++) bad += udiv<D>(x) != x / D || umod<D>(x) != x % D;
    return bad;
}
int main() {
    const int bad = check<1>() + check<3>() + check<6>() + check<12>() + check<16>() + check<48>() + check<96>() +
                    check<192>() + check<384>() + check<768>() + check<1536>() + check<256>();
    std::printf("%d\n", bad);
    return bad != 0;
}
"""


def test_udiv_is_exact_on_every_16_bit_operand(tmp_path):
    """Columns and record words divide by 2^m or 3 x 2^m with a shift and a multiply (no divider core):
    exact for every operand below 2^16."""
    tpl = Path(__file__).resolve().parent.parent / "hls_templates"
    sources = {"udiv_test.cpp": UDIV_TEST, "hlsgen_arch.h": arch.cpp_header("udiv test"),
               **{h: (tpl / h).read_text() for h in ("hlsgen_common.h", "hlsgen_bits.h")}}
    exe = compile_cpp(sources, "udiv_test")
    out = subprocess.run([str(exe)], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "0", out.stdout + out.stderr


def test_check_refuses_a_cyclic_partition_by_three(project24, tmp_path, capsys):
    """A cyclic factor that is not a power of two is a modulo and a division per access in Vitis: the
    binary engine's weight banks are therefore a dimension of their own; planted in the attention tile."""
    out = Path(shutil.copytree(project24, tmp_path / "p"))
    att = out / "src" / "hlsgen_attention.h"
    text = att.read_text()
    assert "cyclic factor = C::ATT_SIMD dim = 3" in text
    att.write_text(text.replace("cyclic factor = C::ATT_SIMD dim = 3", "cyclic factor = 3 dim = 3"))
    capsys.readouterr()
    assert main(["check", str(out)]) == 1
    assert "cyclic factor 3 is not a power of two" in capsys.readouterr().out
