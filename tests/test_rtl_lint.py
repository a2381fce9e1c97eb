"""The RTL library is clean under `verilator --lint-only -Wall`: every unit at several parameter sets,
and the generated top of a design point (the digits default design)."""
from __future__ import annotations

import subprocess

import pytest

from sim.cosim import RTL_DIR, tool_env, verilator_version
from hlsgen.emit_rtl import LIB_FILES

UNITS = [
    ("hg_requant.sv", {}), ("hg_requant.sv", {"ACC_W": 12, "SH_MIN": 11, "SH_MAX": 17}),
    ("hg_bin_core.sv", {}), ("hg_bin_core.sv", {"SIMD": 1, "PE": 3}), ("hg_bin_core.sv", {"SIMD": 64, "PE": 16}),
    ("hg_dsp_core.sv", {}), ("hg_dsp_core.sv", {"PE": 1, "SIMD": 1}), ("hg_dsp_core.sv", {"PE": 3, "SIMD": 16}),
    ("hg_exp.sv", {}), ("hg_gelu.sv", {}), ("hg_gelu.sv", {"IN_W": 12, "W": 11}), ("hg_rsqrt.sv", {}),
    ("hg_recip.sv", {}), ("hg_fifo.sv", {}), ("hg_resadd.sv", {"L": 4}), ("hg_score.sv", {}), ("hg_score.sv", {"L": 1}),
    ("hg_ram.sv", {}), ("hg_rdma.sv", {}), ("hg_realign.sv", {}), ("hg_consts.sv", {}), ("hg_mm_seq.sv", {}),
    ("hg_axil.sv", {}), ("hg_wdma.sv", {}),
]
DEPS = {"hg_softmax.sv": ["hg_exp.sv", "hg_fifo.sv", "hg_recip.sv"],
        "hg_layernorm.sv": ["hg_rsqrt.sv", "hg_fifo.sv", "hg_requant.sv"],
        "hg_wtiles.sv": ["hg_ram.sv", "hg_consts.sv"],
        "hg_sel_engine.sv": ["hg_gelu.sv", "hg_score.sv", "hg_requant.sv"],
        "hg_pkg_engine.sv": ["hg_ram.sv", "hg_mm_seq.sv", "hg_dsp_core.sv", "hg_requant.sv"]}
UNITS += [("hg_softmax.sv", {}), ("hg_softmax.sv", {"L": 1}), ("hg_layernorm.sv", {}), ("hg_layernorm.sv", {"L": 1}),
          ("hg_wtiles.sv", {}), ("hg_wtiles.sv", {"RD2": 1, "TWB": 512}), ("hg_sel_engine.sv", {}),
          ("hg_sel_engine.sv", {"L": 1, "GL": 2}), ("hg_pkg_engine.sv", {}), ("hg_pkg_engine.sv", {"PE": 4, "SIMD": 4})]


def _lint(files, top, params, incdir) -> str:
    cmd = ["verilator", "--lint-only", "-Wall", f"-I{incdir}", "--top-module", top,
           *[f"-G{k}={v}" for k, v in params.items()], *map(str, files)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=tool_env())
    return proc.stdout + proc.stderr if proc.returncode else ""


@pytest.mark.parametrize("name, params", UNITS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(UNITS)])
def test_unit_lint_clean(name, params):
    verilator_version()
    files = [RTL_DIR / name, *(RTL_DIR / d for d in DEPS.get(name, []))]
    out = _lint(files, name[:-3], params, RTL_DIR)
    assert out == "", out


@pytest.mark.parametrize("prune", [False, True], ids=["dense", "selectors"])
def test_generated_top_lint_clean(tmp_path, prune):
    from hlsgen.cmd_generate import generate
    g = generate(model="digits", out=tmp_path / "p", images=1, prune=prune)
    rtl = tmp_path / "p" / "rtl"
    out = _lint([rtl / "vit_top.sv", *(rtl / f for f in LIB_FILES)], "vit_top", {}, rtl)
    assert out == "", out
    from hlsgen.emit_rtl import rtl_files                     # deterministic: the same files again
    again = rtl_files(g.design, g.project.lowered.im)
    assert all((tmp_path / "p" / rel).read_bytes() == data for rel, data in again.items())
