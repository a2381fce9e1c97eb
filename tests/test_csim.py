"""`hlsgen csim`: generated projects compiled with g++ + ap_types run bit-exact against the golden model
(every traced layer of every image), builds are cached, and tampered projects fail."""
from __future__ import annotations

import json
import shutil
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hlsgen import emit
from hlsgen.board import resolve_board
from hlsgen.cli import main
from hlsgen.cmd_generate import explore_design
from hlsgen.outdir import write_project
from quant.intmodel import export_int_model
from quant.spec import PRESETS
from sim.csim import CsimError, run_csim
from hlsgen.shipped_project import shipped_project
from tests.test_generate import small_design, small_model


@pytest.fixture(scope="module")
def project8(tmp_path_factory):
    im, codes = small_model(8, images=16)
    proj = emit.build_project(im, small_design(8), codes, trace_mb=0.01)
    return write_project(proj.files, tmp_path_factory.mktemp("csim") / "p8"), proj


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def test_small_model_with_selectors_bit_exact_and_build_cached(project8):
    out, proj = project8
    tokens = {tuple(t) for t in proj.golden.tokens}
    assert len(tokens) > 2 and min(min(t) for t in tokens) < 10     # data-dependent pruning happens
    r = run_csim(out)
    assert r.bit_exact, r.output
    assert (r.images, r.exact) == (16, 16)
    again = run_csim(out)
    assert again.bit_exact and again.build_cached and again.exe == r.exe


def test_exact_width_accumulators(project8):
    """The synthesis datapath: MAC accumulators as exact-width ap_int (not native ints) in C simulation."""
    r = run_csim(project8[0], max_images=6, exact_acc=True)
    assert r.bit_exact and r.images == 6, r.output


@pytest.mark.parametrize("bits,bias", [(2, 0.0)])
def test_small_model_other_precisions(tmp_path, bits, bias):
    im, codes = small_model(bits, score_bias=bias, seed=bits, images=12)
    proj = emit.build_project(im, small_design(bits), codes, trace_mb=1)
    r = run_csim(write_project(proj.files, tmp_path / "p"))
    assert r.bit_exact, r.output


def test_flipped_weight_bit_fails_at_that_layer(project8, tmp_path, capsys):
    out = _copy(project8[0], tmp_path / "t")
    sec = {s["name"]: s for s in json.loads((out / "data/layout.json").read_text())["sections"]}["blocks.0.qkv"]
    blob = bytearray((out / "data/weights.bin").read_bytes())
    blob[sec["offset"]] ^= 0x01                      # weight (channel 0, input 0) of block 0's qkv
    (out / "data/weights.bin").write_bytes(bytes(blob))
    r = run_csim(out)
    assert not r.bit_exact and r.returncode == 1 and r.mismatched > 0
    assert "layer blocks.0.qkv, index [" in r.first_mismatch and "expected" in r.first_mismatch
    assert main(["csim", str(out)]) == 1
    err = capsys.readouterr().err
    assert "differ from the golden model" in err and "blocks.0.qkv" in err


def _golden_layer_offsets(out: Path, image: int = 0):
    """(layer name -> (header offset, values offset)) of one image in golden.bin."""
    data = (out / "data/golden.bin").read_bytes()
    layout = json.loads((out / "data/layout.json").read_text())
    n, nl, classes, depth = struct.unpack_from("<IIII", data, 8)
    pos = 24
    sizes = {"b": 1, "B": 1, "h": 2, "i": 4}
    for im in range(image + 1):
        logits = pos
        pos += 2 * classes + 2 * depth
        offs = {}
        for layer in layout["trace_layers"]:
            d0, d1, d2, _, full = struct.unpack_from("<IIIQI", data, pos)
            offs[layer["name"]] = (pos, pos + 24 if full else None)
            pos += 24 + (d0 * d1 * d2 * sizes[layer["dtype"]] if full else 0)
    return data, logits, offs


def test_changed_golden_values_fail(project8, tmp_path):
    # a traced value stored in full: reported with its index, expected and got
    out = _copy(project8[0], tmp_path / "a")
    data, _, offs = _golden_layer_offsets(out)
    b = bytearray(data)
    b[offs["blocks.0.softmax"][1] + 5] ^= 0x01
    (out / "data/golden.bin").write_bytes(bytes(b))
    r = run_csim(out)
    assert not r.bit_exact and r.first_mismatch.startswith("image 0, layer blocks.0.softmax, index [0, 0, 5]")

    # a layer stored as a checksum only (beyond the trace budget)
    out = _copy(project8[0], tmp_path / "b")
    data, _, offs = _golden_layer_offsets(out, image=3)
    hashed = [k for k, (_, v) in offs.items() if v is None]
    b = bytearray(data)
    b[offs[hashed[-1]][0] + 12] ^= 0x80
    (out / "data/golden.bin").write_bytes(bytes(b))
    r = run_csim(out)
    assert not r.bit_exact and f"image 3, layer {hashed[-1]}: checksum differs" in r.first_mismatch

    # the final output (logits on the result port)
    out = _copy(project8[0], tmp_path / "c")
    data, logits, offs = _golden_layer_offsets(out, image=2)
    b = bytearray(data)
    struct.pack_into("<h", b, logits + 2 * 3, struct.unpack_from("<h", b, logits + 2 * 3)[0] + 1)
    # (the head layer's trace still matches: the result-port check catches it)
    (out / "data/golden.bin").write_bytes(bytes(b))
    r = run_csim(out)
    assert not r.bit_exact and r.first_mismatch.startswith("image 2, result port, logits[3]")


def test_csim_command(project8, tmp_path, capsys):
    assert main(["csim", str(project8[0]), "--images", "4"]) == 0
    text = capsys.readouterr().out
    assert "bit-exact: 4 of 4 images" in text and "result: BIT-EXACT" in text and "cached build" in text
    assert main(["csim", str(tmp_path)]) == 1
    assert "not a generated hlsgen project" in capsys.readouterr().err


def test_corrupt_data_file_is_an_error(project8, tmp_path):
    out = _copy(project8[0], tmp_path / "t")
    (out / "data/golden.bin").write_bytes((out / "data/golden.bin").read_bytes()[:100])
    with pytest.raises(CsimError, match="truncated"):
        run_csim(out)


# ---- the models the issue names ------------------------------------------------------------------------
def _shipped_project(model: str, bits: int, prune: bool, out: Path, images: int | None = None) -> tuple[Path, int]:
    """A built-in model's shipped checkpoint at a 30 FPS ZCU102 design, on its test split."""
    path, n, _ = shipped_project(model, bits, prune, out, images=images)
    return path, n


@pytest.mark.slow
@pytest.mark.parametrize("bits", [8, 6])
@pytest.mark.parametrize("prune", [False, True])
def test_digits_whole_test_split_bit_exact(tmp_path, bits, prune):
    out, n = _shipped_project("digits", bits, prune, tmp_path / "p")
    assert n == 450
    r = run_csim(out)
    assert r.bit_exact and r.exact == 450, r.output


@pytest.mark.slow
@pytest.mark.parametrize("bits, prune", [(8, True), (6, False)])
def test_fmnist_test_images_bit_exact(tmp_path, bits, prune):
    """Both precisions and both selector states, 64 test images each (bench/bench_fmnist.py runs all
    four settings on 1,000; CI's 30 minutes do not fit them)."""
    out, n = _shipped_project("fmnist", bits, prune, tmp_path / "p", images=64)
    r = run_csim(out)
    assert r.bit_exact and r.exact == n == 64, r.output


@pytest.mark.slow
@pytest.mark.parametrize("bits", [8, 6])
def test_deit_tiny_whole_image_bit_exact(tmp_path, bits):
    from quant.zoo import prepare_model
    design, _ = explore_design(PRESETS["deit_tiny"], resolve_board("zcu102"), 30.0)
    design = replace(design, act_bits=bits)
    prep = prepare_model("deit_tiny", bits, images=1)
    im = export_int_model(prep.quant)
    codes = im.quantize_input(prep.images.numpy())
    assert codes.shape == (1, 3, 224, 224)
    proj = emit.build_project(im, design, codes, trace_mb=4)
    r = run_csim(write_project(proj.files, tmp_path / "p"))
    assert r.bit_exact and r.exact == 1, r.output
    assert proj.golden.hashed_layers > 0 and np.all(np.array(proj.golden.tokens) == 197)


def test_write_cursor_off_its_column_is_caught(project8, tmp_path):
    """Planted: the LayerNorm's write cursor into A advances two groups per beat instead of one. The C
    simulation stops at the write with the cursor check's message instead of reporting a mismatch later."""
    out = _copy(project8[0], tmp_path / "c")
    rows = out / "src" / "hlsgen_rows.h"
    text = rows.read_text()
    good = "group_cursor_next<typename C::GA, C::LN_LANES, 1>(aw, asel);"
    assert text.count(good) == 1
    rows.write_text(text.replace(good, good.replace(", 1>", ", 2>")))
    from sim.csim import CsimError
    with pytest.raises(CsimError, match="exit 3.*C simulation stopped: hlsgen: write cursor is not at its column"):
        run_csim(out)
