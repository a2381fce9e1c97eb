"""yosys `synth_xilinx -family xcup` on RTL units: the flow, the cell counting, memory inference (block
RAM for deep buffers) and the per-lane DSP usage the resource model assumes."""
from __future__ import annotations

import pytest

from hlsgen.ops_resources import twin_buffer
from sim.cosim import rtl_sources
from sim.synth import buffer_group, count_cells, synth, synth_buffer

KEYS = ("lut", "ff", "dsp", "bram36", "lutram")


def test_count_cells_rules():
    c = count_cells({"LUT2": 3, "LUT6": 2, "RAM32M16": 1, "SRL16E": 2, "FDRE": 5, "FDSE": 1, "DSP48E2": 2,
                     "RAMB36E2": 1, "RAMB18E2": 3, "CARRY4": 9})
    assert c == {"lut": 3 + 2 + 8 + 2, "ff": 6, "dsp": 2, "bram36": 2.5, "lutram": 8}


def test_requantizer_is_one_dsp_and_cached():
    r = synth("hg_requant", rtl_sources("hg_requant.sv"), {"ACC_W": 20, "SH_MIN": 11, "SH_MAX": 17, "BIAS_W": 32})
    assert r["dsp"] == 1 and 50 < r["lut"] < 1000 and r["bram36"] == 0
    again = synth("hg_requant", rtl_sources("hg_requant.sv"), {"ACC_W": 20, "SH_MIN": 11, "SH_MAX": 17, "BIAS_W": 32})
    assert again["cached"] and again["lut"] == r["lut"]


def test_deep_buffer_maps_to_block_ram():
    r = synth("hg_ram", rtl_sources("hg_ram.sv"), {"EW": 8, "NE": 8, "DEPTH": 1024})
    assert r["bram36"] >= 1 and r["lut"] < 200


def test_packed_dsp_lanes_two_products_per_dsp():
    """PE x SIMD = 4 x 4 int8 MACs on ceil(PE/2) x SIMD = 8 DSP48E2 (WP486 packing)."""
    r = synth("hg_dsp_core", rtl_sources("hg_dsp_core.sv"), {"PE": 4, "SIMD": 4, "AW": 8, "BW": 8, "ACC_W": 20})
    assert r["dsp"] == 8


@pytest.mark.slow
@pytest.mark.parametrize("ew,ne,depth", [(8, 48, 32), (16, 32, 64), (16, 32, 256), (8, 32, 1024)])
def test_buffer_synthesized_by_groups_equals_the_whole(ew, ne, depth):
    """`hlsgen synth` scales one element group of a buffer (LUTRAM when shallow, block RAM when deep):
    the scaled counts must be the whole buffer's, and the model of the twin's buffers (twin_buffer) too."""
    params = {"EW": ew, "NE": ne, "DEPTH": depth}
    assert buffer_group(params)[1] > 1                       # the grouped path, not the whole
    grouped = synth_buffer(rtl_sources("hg_ram.sv"), params)
    whole = synth("hg_ram", rtl_sources("hg_ram.sv"), params)
    assert {k: grouped[k] for k in KEYS} == {k: whole[k] for k in KEYS}
    assert grouped["cells"] == whole["cells"]
    model = twin_buffer(ew, ne, depth)
    assert {k: model[k] for k in ("lut", "ff", "bram36")} == {k: whole[k] for k in ("lut", "ff", "bram36")}


@pytest.mark.slow
@pytest.mark.parametrize("ew,ne,depth", [(8, 576, 256), (16, 192, 256), (8, 768, 64)])
def test_twin_buffer_model_at_deit_scale(ew, ne, depth):
    """deit_tiny's QKV and residual buffers (197 tokens: 256 words) and a 64-word one, by groups."""
    grouped = synth_buffer(rtl_sources("hg_ram.sv"), {"EW": ew, "NE": ne, "DEPTH": depth})
    model = twin_buffer(ew, ne, depth)
    assert {k: model[k] for k in ("lut", "ff", "bram36")} == {k: grouped[k] for k in ("lut", "ff", "bram36")}


def test_broken_yowasp_cache_is_a_clear_error(tmp_path, monkeypatch):
    from sim.synth import SynthError, yowasp_cache_dir
    link = tmp_path / "yowasp"
    link.symlink_to(tmp_path / "missing")
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(link))
    with pytest.raises(SynthError, match="YOWASP_CACHE_DIR .*yowasp exists but is not a folder"):
        yowasp_cache_dir()


@pytest.mark.slow
def test_attention_products_pack_two_per_dsp():
    """hg_dsp_core with the attention engine's operands (9-bit x: a signed Q or unsigned P code; signed
    8-bit K / V) and its low field of 2k + 2 = 18 bits: PE 2 x SIMD 4 takes 4 DSP48E2, two products
    each, as the model counts. The field one bit wider (the 28-bit packed operand the twin had) splits
    every pair over two DSPs: 8."""
    base = {"PE": 2, "SIMD": 4, "AW": 9, "BW": 8, "ACC_W": 24, "TAG_W": 1}
    src = rtl_sources("hg_dsp_core.sv")
    assert synth("hg_dsp_core", src, {**base, "SH": 18})["dsp"] == 4
    assert synth("hg_dsp_core", src, {**base, "SH": 19})["dsp"] == 8
