"""The RTL twin's top (vit_top) at the port level: a generated digits project, bit-exact against the
golden model at the block and model levels, cycles within 5% of the cycle model per op type and in
total, tampered projects failing, the port-level cocotb testbench, and deit_tiny's first encoder block
at real shapes (197 tokens, width 192). Verilator builds are cached under .cache/verilator.
"""
from __future__ import annotations

import json
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hlsgen.cli import main as hlsgen_main
from sim.cosim import SimError, run_top_level
from hlsgen.emit_rtl import read_inputs, result_bytes

TOL = 0.05
_IM: dict = {}                 # project -> the IntModel its data files were made from


def _generate(out: Path, model: str, images: int, prune: bool = False) -> Path:
    from hlsgen.cmd_generate import generate
    g = generate(model=model, out=out, images=images, force=True, prune=prune)
    _IM[out] = g.project.lowered.im
    return out


@pytest.fixture(scope="session")
def digits_project(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp("rtl") / "digits", "digits", 4)


@pytest.fixture(scope="session")
def digits_sel_project(tmp_path_factory):
    return _generate(tmp_path_factory.mktemp("rtl") / "digits_sel", "digits", 4, prune=True)


def _check_cycles(lv):
    assert lv.cycle_ratio is not None and abs(lv.cycle_ratio - 1) < TOL, lv.as_dict()
    for op, r in lv.per_op.items():
        assert abs(r["ratio"] - 1) < TOL, (op, r)


def test_block_level_bit_exact_and_cycles(digits_project):
    lv = run_top_level(digits_project, "block", images=2)
    assert lv.bit_exact, lv.first_mismatch
    assert lv.images == 2
    assert set(lv.per_op) >= {"linear_binary", "attn_qk", "attn_av", "softmax", "layernorm", "linear_int8"}
    _check_cycles(lv)
    assert lv.cycles_per_s > 20000


@pytest.mark.slow
def test_model_level_bit_exact_and_cycles(digits_project, monkeypatch):
    import sim.cosim
    monkeypatch.setattr(sim.cosim, "HARNESS_CHUNK_CYCLES", 1)        # one image per harness run
    calls = []
    lv = run_top_level(digits_project, "model", images=3, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)] and lv.images == 3 and len(lv.details) == 3
    assert lv.bit_exact, lv.first_mismatch
    _check_cycles(lv)
    est = json.loads((digits_project / "report" / "estimates.json").read_text())
    assert abs(lv.sim_cycles / est["predicted"]["cycles_per_frame"] - 1) < TOL


def test_selectors_model_level(digits_sel_project):
    """The digits model with its three HeatViT token selectors: bit-exact logits and token counts per
    block, cycles (including the data-dependent selector ops) within 5% of the model at the token counts
    each image ran on."""
    lv = run_top_level(digits_sel_project, "model", images=3)
    assert lv.bit_exact, lv.first_mismatch
    assert "token_select" in lv.per_op
    _check_cycles(lv)
    n = 17
    assert any(min(d["tokens"]) < n for d in lv.details)             # tokens were pruned
    for d in lv.details:
        assert abs(d["cycles"] / d["model_cycles"] - 1) < TOL


def test_unit_level_cli(digits_sel_project, capsys):
    assert hlsgen_main(["cosim", str(digits_sel_project), "--level", "unit", "--json"]) == 0
    (lv,) = json.loads(capsys.readouterr().out)["levels"]
    assert lv["level"] == "unit" and lv["bit_exact"] and len(lv["details"]) >= 6


def test_cosim_cli_json(digits_project, capsys):
    assert hlsgen_main(["cosim", str(digits_project), "--level", "block", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (lv,) = out["levels"]
    for key in ("level", "bit_exact", "images", "sim_cycles", "model_cycles", "cycle_ratio", "build_s", "run_s"):
        assert key in lv
    assert lv["level"] == "block" and lv["bit_exact"] is True and lv["images"] == 1


def test_tampered_project_fails(digits_project, tmp_path, capsys):
    bad = tmp_path / "bad"
    shutil.copytree(digits_project, bad)
    blob = bytearray((bad / "data" / "weights.bin").read_bytes())
    layout = json.loads((bad / "data" / "layout.json").read_text())
    qkv = next(s for s in layout["sections"] if s["name"] == "blocks.0.qkv")
    blob[qkv["offset"] + 9] ^= 0x80                        # sign of channel 0s requantizer multiplier
    (bad / "data" / "weights.bin").write_bytes(bytes(blob))
    assert not run_top_level(bad, "block").bit_exact
    assert hlsgen_main(["cosim", str(bad), "--level", "block"]) == 1
    assert "differs from the golden model" in capsys.readouterr().err
    # a changed golden output fails the model level
    shutil.copy(digits_project / "data" / "weights.bin", bad / "data" / "weights.bin")
    gold = bytearray((bad / "data" / "golden.bin").read_bytes())
    gold[24] ^= 0x01                                       # image 0, logit 0
    (bad / "data" / "golden.bin").write_bytes(bytes(gold))
    assert not run_top_level(bad, "model", images=1).bit_exact


def test_external_rtl_path(digits_project, capsys):
    """`--rtl PATH` compiles the same port-level harness against other Verilog with the vit_top ports
    (what Vitis HLS exports); here it is checked against the twin's own sources."""
    assert hlsgen_main(["cosim", str(digits_project), "--level", "block", "--rtl", str(digits_project / "rtl"),
                        "--json"]) == 0
    (lv,) = json.loads(capsys.readouterr().out)["levels"]
    assert lv["bit_exact"] and lv["per_op"] == {} and abs(lv["cycle_ratio"] - 1) < TOL


def test_missing_rtl_is_a_user_error(tmp_path):
    with pytest.raises(SimError, match="not a generated hlsgen project|no RTL twin"):
        run_top_level(tmp_path, "block")


def test_cocotb_port_level_testbench(digits_project, tmp_path):
    """The cocotb testbench drives the top only through its ports (Python AXI memories, AXI-Lite host).
    Zero encoder blocks (+hg_blocks=0: patch embedding, norm, head) keeps the Python-driven run short."""
    from quant.golden import run_golden
    from sim.cosim import run_top_cocotb
    im = _IM[digits_project]
    sub = replace(im, blocks=[])
    codes = read_inputs(digits_project / "data" / "inputs.bin")[:1]
    s = im.spec
    gold = [result_bytes(run_golden(sub, c.reshape(s.in_chans, s.img_size, s.img_size)).logits, [], s.depth)
            for c in codes]
    prog = json.loads((digits_project / "rtl" / "program.json").read_text())
    r, _ = run_top_cocotb(digits_project, None, codes, gold, len(gold[0]), prog["board"]["bytes_per_cycle"],
                          prog["board"]["latency_cycles"], 0)
    assert not r["failures"], r["failures"]
    assert r["images"][0]["result"] == gold[0].hex()
    est = {x["name"]: x["cycles"] for x in json.loads((digits_project / "report" / "estimates.json").read_text())["per_layer"]}
    model = est["patch_embed"] + est["norm"] + est["head"]
    assert 0.9 < r["images"][0]["cycles"] / model < 1.5       # + the skipped blocks' descriptor fetches and the result write


@pytest.mark.slow
def test_deit_tiny_block_real_shapes(tmp_path_factory):
    """deit_tiny's first encoder block at real shapes (197 tokens, width 192), seeded weights, the
    explorer's 30 FPS design: bit-exact, per-op cycles within 5% of the model."""
    proj = _generate(tmp_path_factory.mktemp("rtl") / "deit_tiny", "deit_tiny", 1)
    lv = run_top_level(proj, "block", images=1)
    assert lv.bit_exact, lv.first_mismatch
    for op, r in lv.per_op.items():
        assert abs(r["ratio"] - 1) < TOL, (op, r)
    n = struct.unpack("<I", (proj / "rtl" / "block_expected.bin").read_bytes()[8:12])[0]
    assert n == 1
    assert np.isfinite(lv.cycles_per_s)


@pytest.mark.slow
def test_fmnist_model_level_28_byte_rows(tmp_path_factory):
    """fmnist's 28 x 28 image: 112-byte patch strips that straddle the 32-byte AXI beats (a beat is
    written into each strip it covers): bit-exact at the model level, cycles within 5% per op type."""
    proj = _generate(tmp_path_factory.mktemp("rtl") / "fmnist", "fmnist", 2)
    lv = run_top_level(proj, "model", images=2)
    assert lv.bit_exact, lv.first_mismatch
    _check_cycles(lv)
