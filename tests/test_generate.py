"""`hlsgen generate`: the project's files, determinism, atomic writes, the weight blob and the golden
data formats, strict templates, and a warning-free compile of the emitted C++."""
from __future__ import annotations

import json
import re
import struct
import subprocess
from pathlib import Path

import jinja2
import numpy as np
import pytest
import torch

from hlsgen import emit
from hlsgen.board import resolve_board
from hlsgen.cli import main
from hlsgen.design import DesignPoint, Parallelism, load_design
from hlsgen.emit_golden import checksum, golden_trace
from hlsgen.outdir import MANIFEST, write_project
from quant.errors import UserError
from quant.intmodel import export_int_model
from quant.spec import SelectorPlacement, ViTSpec
from quant.vit import build_vit
from sim.aptypes import aptypes_include_dir
from sim.cosim import SimError, run_top_level

SPEC = ViTSpec("t40", 12, 3, 4, 40, 3, 5, 2.0, 10)
SELECTORS = (SelectorPlacement(1, 0.7), SelectorPlacement(2, 0.49))


def small_model(bits: int, selectors=SELECTORS, score_bias: float = 0.0, seed: int = 0, images: int = 12,
                spec: ViTSpec = SPEC):
    """A calibrated t40 model (weights wide enough to use every range) whose selectors prune."""
    model = build_vit(spec, tuple(selectors), seed=seed)
    torch.manual_seed(seed)
    for name, p in model.named_parameters():
        if name.endswith("weight") and p.dim() > 1:
            p.data.normal_(0, 0.2)
    for s in model.selectors.values():
        s.score.bias.data.fill_(score_bias)
    model.set_quant(bits)
    model.set_weight_mode(binary=True)
    g = torch.Generator().manual_seed(seed)
    model.calibrate(torch.randn(32, 3, 12, 12, generator=g))
    im = export_int_model(model.eval())
    return im, im.quantize_input(torch.randn(images, 3, 12, 12, generator=g).numpy())


def small_design(bits: int, selectors=SELECTORS) -> DesignPoint:
    # ragged tiles on purpose: 10 tokens on PE 4 / SIMD 4 attention, 10 classes and 5 head gates on int8 PE 4
    par = Parallelism(pe=8, simd=8, gelu_lanes=2, att_pe=4, att_simd=4, i8_pe=4, i8_simd=4, softmax_lanes=2,
                      ln_lanes=8, select_lanes=2)
    return DesignPoint(SPEC, resolve_board("zcu102"), 200.0, bits, par, tuple(selectors))


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_project():
    im, codes = small_model(8)
    return im, codes, emit.build_project(im, small_design(8), codes, trace_mb=0.004)


def test_a_design_without_twin_says_so(tmp_path):
    """The twin's DMAs are 256 bits wide: a 128-bit board gets the HLS project and a note, no rtl/."""
    im, codes = small_model(8, images=1)
    d = small_design(8)
    d = DesignPoint(d.spec, resolve_board("zcu104"), d.clock_mhz, d.act_bits, d.parallelism, d.selectors)
    proj = emit.build_project(im, d, codes, trace_mb=0.004)
    out = write_project(proj.files, tmp_path / "p")
    assert not (out / "rtl" / "vit_top.sv").exists() and proj.notes and "128-bit AXI" in proj.notes[0]
    with pytest.raises(SimError, match="no RTL twin: .*128-bit AXI"):
        run_top_level(out, "block")


def test_project_layout_and_contents(small_project, tmp_path):
    im, codes, proj = small_project
    out = write_project(proj.files, tmp_path / "p")
    names = set(tree(out))
    for f in ("design.yaml", "README.md", "INTERFACE.md", "run_hls.tcl", "src/vit_top.cpp", "src/vit_top.h",
              "src/vit_params.h", "src/hlsgen_common.h", "src/hlsgen_nonlinear.h", "src/hlsgen_binary.h",
              "src/hlsgen_select.h", "tb/tb_vit.cpp", "data/weights.bin", "data/layout.json", "data/inputs.bin",
              "data/golden.bin", "data/manifest.json", "report/estimates.json", "report/estimates.md"):
        assert f in names, f
    d = load_design(out / "design.yaml")
    assert d.parallelism == small_design(8).parallelism and d.selectors == SELECTORS
    est = json.loads((out / "report/estimates.json").read_text())
    assert est["predicted"]["cycles_per_frame"] == d.predict().cycles and est["per_layer"]
    tcl = (out / "run_hls.tcl").read_text()
    assert "set part  xczu9eg-ffvb1156-2-e" in tcl and "200MHz" in tcl and 'csim_design -argv "[pwd]/data"' in tcl
    iface = (out / "INTERFACE.md").read_text()
    for reg in ("0x00", "0x04", "0x08", "0x0C", "0x10", "0x1C", "0x28"):
        assert f"| {reg} |" in iface
    top = (out / "src/vit_top.cpp").read_text()
    for pragma in ("m_axi port = image", "m_axi port = weights", "m_axi port = result", "s_axilite port = return"):
        assert pragma in top
    # t40's 36-byte patch strips straddle the 32-byte AXI words: the twin writes a word into each
    assert "rtl/vit_top.sv" in names and not proj.notes
    for h in emit.KERNEL_HEADERS:       # kernels are copied verbatim, not generated
        assert (out / "src" / h).read_text() == (emit.TEMPLATES_DIR / h).read_text()
    # kernels: no float, no hls:: math, no dynamic allocation
    src = "\n".join((out / "src" / h).read_text() for h in (*emit.KERNEL_HEADERS, "vit_top.cpp", "vit_params.h"))
    code = re.sub(r"//.*", "", src)
    for bad in ("float", "double", "malloc", "new ", "std::vector", "#include <cmath>"):
        assert bad not in code, bad
    assert not re.search(r"hls::(?!stream\b)", code), "hls:: other than hls::stream"


def test_generate_is_deterministic_without_paths(tmp_path):
    a, b = tmp_path / "a", tmp_path / "deeper" / "b"
    for out in (a, b):
        assert main(["generate", "--model", "digits", "--images", "3", "-o", str(out)]) == 0
    ta, tb = tree(a), tree(b)
    assert {"rtl/vit_top.sv", "rtl/hg_prog.svh", "rtl/program.json", "rtl/block_expected.bin"} <= ta.keys()
    assert ta.keys() == tb.keys()
    assert [k for k in ta if ta[k] != tb[k]] == []
    for k, v in ta.items():
        assert str(tmp_path).encode() not in v, k
    assert main(["generate", "--model", "digits", "--images", "3", "-o", str(a)]) == 1      # not empty
    assert main(["generate", "--model", "digits", "--images", "3", "-o", str(a), "--force"]) == 0
    assert tree(a) == ta
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]                       # no temp left


def test_generate_from_design_yaml_and_errors(tmp_path, capsys):
    design = tmp_path / "d.yaml"
    assert main(["explore", "--model", "digits", "--fps", "50", "-o", str(design)]) == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["generate", "--design", str(design), "--images", "2", "-o", str(empty)]) == 0
    assert load_design(empty / "design.yaml").parallelism == load_design(design).parallelism
    capsys.readouterr()
    assert main(["generate", "--design", str(design), "--prune", "-o", str(tmp_path / "x")]) == 1
    assert "no token selectors" in capsys.readouterr().err
    assert main(["generate", "--model", "nope", "-o", str(tmp_path / "y")]) == 1
    assert main(["generate", "--model", "digits", "--fps", "1e9", "-o", str(tmp_path / "z")]) == 2
    assert not (tmp_path / "x").exists() and not (tmp_path / "z").exists()


def test_write_is_atomic(tmp_path, monkeypatch):
    files = {"a.txt": b"1", "sub/b.txt": b"2", "sub/c.txt": b"3"}
    out = write_project(files, tmp_path / "p")
    calls = []
    real = Path.write_bytes

    def failing(self, data):
        calls.append(self)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    with pytest.raises(OSError):
        write_project({"a.txt": b"new", "sub/b.txt": b"new"}, out, force=True)
    monkeypatch.undo()
    assert {k: v for k, v in tree(out).items() if k != MANIFEST} == files       # old project intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]                  # temp folder removed


def test_force_replaces_only_what_hlsgen_wrote(tmp_path):
    out = write_project({"a.txt": b"1", "old/x.txt": b"2", "src/s.cpp": b"3"}, tmp_path / "p")
    (out / "vit_prj").mkdir()
    (out / "vit_prj" / "solution.log").write_text("hours of synthesis")        # what vitis_hls created
    (out / "src" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="is not empty: use --force"):
        write_project({"a.txt": b"new"}, out)
    write_project({"a.txt": b"new", "src/s.cpp": b"4"}, out, force=True)
    t = tree(out)
    assert t["vit_prj/solution.log"] == b"hours of synthesis" and t["src/notes.txt"] == b"mine"
    assert t["a.txt"] == b"new" and t["src/s.cpp"] == b"4"
    assert "old/x.txt" not in t and not (out / "old").exists()              # hlsgen's file it no longer writes
    # an edited generated file, or a user file where hlsgen writes: refused, named, nothing changed
    (out / "a.txt").write_bytes(b"edited")
    before = tree(out)
    with pytest.raises(UserError, match=r"a\.txt was changed since hlsgen wrote it"):
        write_project({"a.txt": b"newer"}, out, force=True)
    (out / "a.txt").write_bytes(b"new")
    with pytest.raises(UserError, match=r"notes\.txt is not a file hlsgen wrote"):
        write_project({"a.txt": b"x", "src/notes.txt": b"x"}, out, force=True)
    assert tree(out) == {**before, "a.txt": b"new"}


def test_templates_are_strict():
    env = emit.template_env()
    assert env.undefined is jinja2.StrictUndefined
    with pytest.raises(jinja2.UndefinedError):
        env.get_template("vit_top.h.j2").render({})


def test_weight_blob_decodes_to_the_model(small_project):
    im, _, proj = small_project
    blob, lw = proj.files["data/weights.bin"], proj.lowered
    assert len(blob) % 32 == 0
    for s in lw.sections:
        assert s.offset % 32 == 0
    sec = {s.name: s for s in lw.sections}
    s = sec["blocks.1.fc2"]
    K, O, bb = s.K, s.O, s.bias_bytes
    rec = np.frombuffer(blob[s.offset:s.offset + s.nbytes], np.uint8).reshape(O, K // 8 + 2 + bb)
    bits = np.unpackbits(rec[:, :K // 8], axis=1, bitorder="little")
    assert np.array_equal(np.where(bits == 1, 1, -1), im.blocks[1].fc2.weight)
    assert np.array_equal(rec[:, K // 8:K // 8 + 2].copy().view("<i2").ravel(), im.blocks[1].fc2.rq.mult)
    s = sec["patch_embed"]
    w = 48 + 2 + s.bias_bytes + 2 * (SPEC.num_tokens - 1)
    rec = np.frombuffer(blob[s.offset:s.offset + s.nbytes], np.uint8).reshape(SPEC.embed_dim, w)
    assert np.array_equal(rec[:, :48].view(np.int8), im.patch.weight)
    assert np.array_equal(rec[:, w - 2 * (SPEC.num_tokens - 1):].copy().view("<i2"), im.pos[1:].T)
    cls = sec["patch_embed.cls"]
    assert np.array_equal(np.frombuffer(blob[cls.offset:cls.offset + 2 * SPEC.embed_dim], "<i2"), im.pos[0])


def test_golden_file_format(small_project):
    im, codes, proj = small_project
    data, layers = proj.files["data/golden.bin"], proj.lowered.layers
    assert data[:8] == b"HLSGOLD1"
    n, nl, classes, depth = struct.unpack_from("<IIII", data, 8)
    assert (n, nl, classes, depth) == (len(codes), len(layers), SPEC.num_classes, SPEC.depth)
    pos, r = 24, golden_trace(im, codes[0])
    assert np.array_equal(np.frombuffer(data, "<i2", classes, pos), r.logits)
    pos += 2 * classes
    assert list(np.frombuffer(data, "<u2", depth, pos)) == r.tokens_per_block
    pos += 2 * depth
    full_seen = hashed_seen = 0
    for layer in layers:
        d0, d1, d2, h, full = struct.unpack_from("<IIIQI", data, pos)
        pos += 24
        a = r.trace[layer.name]
        assert (d0 * d1 * d2, h) == (a.size, checksum(a)), layer.name
        if full:
            vals = np.frombuffer(data, {"b": "<i1", "B": "<u1", "h": "<i2", "i": "<i4"}[layer.dtype], a.size, pos)
            assert np.array_equal(vals, a.ravel())
            pos += a.size * layer.nbytes
            full_seen += 1
        else:
            hashed_seen += 1
    assert full_seen and hashed_seen          # the small budget splits image 0 into both kinds
    assert [l.name for l in layers][:4] == ["patch_embed", "blocks.0.ln1", "blocks.0.qkv", "blocks.0.attn_qk"]
    assert "blocks.1.selector" in [l.name for l in layers]


def test_emitted_cpp_compiles_without_warnings(small_project, tmp_path):
    """g++ -Wall -Wextra on the top and the testbench: no warning in our code (ap_types is a system header)."""
    _, _, proj = small_project
    out = write_project(proj.files, tmp_path / "p")
    inc = aptypes_include_dir()
    for unit in ("src/vit_top.cpp", "tb/tb_vit.cpp"):
        r = subprocess.run(["g++", "-std=c++14", "-O2", "-Wall", "-Wextra", "-isystem", str(inc), "-c",
                            str(out / unit), "-o", str(tmp_path / "x.o")], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        ours = [l for l in r.stderr.splitlines() if "warning:" in l and str(inc) not in l]
        assert ours == [], "\n".join(ours)


def test_expected_keep_ratios_are_the_measured_keep_rates():
    """generate --prune on a trained model: the expected case uses what the selectors keep on the
    calibration data (digits: 0.70 / 0.57 / 0.54 of the patch tokens), not the training targets
    (0.7 / 0.49 / 0.343, which over-predicted digits at 1001 FPS against 942 simulated)."""
    import numpy as np

    from hlsgen.cmd_generate import KEEP_CALIB_IMAGES, _model_selectors
    from hlsgen.schedule import build_schedule
    from quant.checkpoint import load_model
    from quant.digits import load_split
    from quant.golden import run_golden_batch
    from quant.intmodel import export_int_model
    from quant.spec import PRESETS
    from quant.zoo import shipped_checkpoint
    spec = PRESETS["digits"]
    sels = _model_selectors("digits", spec, None)
    m, _ = load_model(shipped_checkpoint("digits", 8, True, train_if_missing=False))
    assert [s.block for s in sels] == [p.block for p in m.placements]
    assert any(abs(s.keep_ratio - p.keep_ratio) > 0.05 for s, p in zip(sels, m.placements))
    _, counts = run_golden_batch(export_int_model(m), load_split().x_train[:KEEP_CALIB_IMAGES].numpy())
    measured = np.asarray(counts, dtype=float).mean(axis=0)
    expected = build_schedule(spec, sels, "expected").tokens
    assert np.all(np.abs(np.asarray(expected) - measured) <= 0.5), (expected, measured)
