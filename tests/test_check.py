"""`hlsgen check`: every rule fails on a planted breakage (a small function appended to the top source),
naming the rule and the line; the preset projects pass; the loop table and the structural resources
agree with the models; the report is cached by content."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hlsgen import emit
from hlsgen.check_project import check_dir, run_check
from hlsgen.cli import main
from hlsgen.cmd_check import compare_resources
from hlsgen.cmd_generate import generate
from hlsgen.design import load_design
from hlsgen.outdir import write_project
from sim.aptypes import aptypes_include_dir
from tests.test_generate import small_design, small_model

INC = aptypes_include_dir()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A small project with selectors and every lane count >= 2 (written without generate's own check)."""
    im, codes = small_model(8)
    design = small_design(8)
    out = tmp_path_factory.mktemp("chk") / "p"
    write_project(emit.build_project(im, design, codes[:2]).files, out)
    return out


def planted(project: Path, tmp_path: Path, code: str) -> tuple[Path, int]:
    """A copy of the project with `code` appended to src/vit_top.cpp; the first line of `code` there."""
    dst = tmp_path / "planted"
    shutil.copytree(project, dst)
    top = dst / "src" / "vit_top.cpp"
    text = top.read_text()
    top.write_text(text + "\n" + code)
    return dst, text.count("\n") + 2


def check(project: Path) -> dict:
    return run_check(project / "src", load_design(project / "design.yaml"), INC)


def found(report: dict, rule: str) -> list[tuple[str, int]]:
    return [(e["file"], e["line"]) for e in report["errors"] if e["rule"] == rule]


def test_generated_project_passes(project):
    report = check(project)
    assert report["errors"] == [] and report["warnings"] == [], report["errors"] + report["warnings"]
    assert report["loops"] and all(lp["ii"] == 1 for lp in report["loops"])
    assert all(lp["depth"] for lp in report["loops"]), "every pipelined loop states its depth"
    assert set(report["engines"].values()) == {1}, report["engines"]


PLANTS = {
    # rule: (code, line of the finding relative to the code's first line)
    "bank-static": ("""\
void plant(int idx, int out[8]) {
    static int buf[64];
#pragma HLS ARRAY_PARTITION variable = buf cyclic factor = 8
    for (int i = 0; i < 8; i++) {
#pragma HLS PIPELINE II = 1
        HLSGEN_TRIP(i == 0, i == 0);
        for (int s = 0; s < 8; s++) {
#pragma HLS UNROLL
            out[s] += buf[idx + s];
        }
    }
}
""", 8),
    "bank-ports": ("""\
void plant(int out[6]) {
    static int buf[96];
#pragma HLS ARRAY_PARTITION variable = buf cyclic factor = 2
    for (int i = 0; i < 16; i++) {
#pragma HLS PIPELINE II = 1
        HLSGEN_TRIP(i == 0, i == 0);
        for (int s = 0; s < 6; s++) {
#pragma HLS UNROLL
            out[s] = buf[6 * i + s];
        }
    }
}
""", 3),
    "dataflow-canonical": ("""\
void plant_a(hls::stream<int>& o) { o.write(1); }
void plant_b(hls::stream<int>& i, int* r) { *r = i.read(); }
void plant(int c, int* r) {
#pragma HLS DATAFLOW
    hls::stream<int> s;
    if (c) plant_a(s);
    plant_b(s, r);
}
""", 5),
    "engine-instances": ("""\
void plant_engine(int* x) {
    HLSGEN_ENGINE(plant)
    *x += 1;
}
void plant(int* x) {
    plant_engine(x);
    plant_engine(x);
}
""", 6),
    "maxi-conditional": ("""\
void plant(const ap_uint<64>* mem, int n, hls::stream<ap_uint<64> >& o) {
#pragma HLS INTERFACE m_axi port = mem offset = slave bundle = gmem_p
    for (int i = 0; i < 64; i++) {
#pragma HLS PIPELINE II = 1
        HLSGEN_TRIP(i == 0, i == 0);
        if (i < n) o.write(mem[i]);
    }
}
""", 5),
    "loop-counted": ("""\
void plant(int out[4]) {
    for (int i = 0; i < 4; i++) {
#pragma HLS PIPELINE II = 1
        out[i] = i;
    }
}
""", 1),
}


@pytest.mark.parametrize("rule", sorted(PLANTS))
def test_each_rule_catches_its_planted_breakage(project, tmp_path, rule):
    code, rel = PLANTS[rule]
    dst, first = planted(project, tmp_path, code)
    report = check(dst)
    assert set(found(report, rule)) == {("vit_top.cpp", first + rel)}, report["errors"]
    assert {e["rule"] for e in report["errors"]} == {rule}, report["errors"]


def test_bank_ports_counts_exclusive_branches_once(project, tmp_path):
    """Two reads of one bank in the two branches of a condition share a port: no error."""
    dst, _ = planted(project, tmp_path, """\
void plant(int c, int out[2]) {
    static int buf[64];
#pragma HLS ARRAY_PARTITION variable = buf cyclic factor = 2
    for (int i = 0; i < 16; i++) {
#pragma HLS PIPELINE II = 1
        HLSGEN_TRIP(i == 0, i == 0);
        for (int s = 0; s < 2; s++) {
#pragma HLS UNROLL
            if (c) out[s] = buf[4 * i + s] + buf[4 * i + 2 + s];
            else out[s] = buf[4 * i + s];
        }
    }
}
""")
    assert check(dst)["errors"] == []


def test_memory_dependence_warns_on_an_undeclared_read_modify_write(project, tmp_path):
    code = """\
void plant(int c) {
    static int buf[64];
    for (int i = 1; i < 64; i++) {
#pragma HLS PIPELINE II = 1
        HLSGEN_TRIP(i == 1, i == 1);
        buf[i] = buf[i - 1] + c;
    }
}
"""
    dst, first = planted(project, tmp_path, code)
    report = check(dst)
    assert report["errors"] == []
    assert [(w["rule"], w["line"]) for w in report["warnings"]] == [("memory-dependence", first + 2)]
    declared = code.replace("#pragma HLS PIPELINE II = 1", "#pragma HLS PIPELINE II = 1\n#pragma HLS DEPENDENCE variable = buf inter false")
    dst2, _ = planted(project, tmp_path / "b", declared)
    assert check(dst2)["warnings"] == []


def test_parallelism_used_catches_a_lane_count_the_cpp_ignores(project, tmp_path):
    """LayerNorm lanes hard-wired to 1 in the kernels: design.yaml's ln_lanes (8) builds nothing."""
    dst = tmp_path / "p"
    shutil.copytree(project, dst)
    for f in (dst / "src").glob("hlsgen_*.h"):
        f.write_text(f.read_text().replace("C::LN_LANES", "1"))
    report = check(dst)
    line = next(i for i, l in enumerate((dst / "design.yaml").read_text().splitlines(), 1) if "ln_lanes:" in l)
    assert found(report, "parallelism-used") == [("design.yaml", line)], report["errors"]


def test_cli_json_and_exit_codes(project, tmp_path, capsys):
    assert main(["check", str(project), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == [] and {"function", "file", "line", "trip_count", "ii", "depth"} <= set(out["loops"][0])
    dst, first = planted(project, tmp_path, PLANTS["loop-counted"][0])
    assert main(["check", str(dst), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["errors"][0]["line"] == first + 1
    assert main(["check", str(dst)]) == 1
    assert "[loop-counted] vit_top.cpp" in capsys.readouterr().out
    assert main(["check", str(tmp_path)]) == 1
    assert "not a project" in capsys.readouterr().err


def test_report_is_cached_by_content(project, tmp_path):
    design = load_design(project / "design.yaml")
    first = check_dir(project, design, INC)
    assert check_dir(project, design, INC) == first
    dst, _ = planted(project, tmp_path, PLANTS["loop-counted"][0])
    assert check_dir(dst, design, INC)["errors"], "a changed source must not reuse the cached report"


def test_structural_resources_match_the_model(project):
    design = load_design(project / "design.yaml")
    report = check(project)
    for key, r in compare_resources(report, design).items():
        assert 0.75 <= r["ratio"] <= 1.25, (key, r)


@pytest.mark.parametrize("model, prune, fps", [("digits", False, 30.0), ("digits", True, 30.0),
                                                ("deit_tiny", False, 30.0)])
def test_presets_pass_and_match_the_resource_model(tmp_path, model, prune, fps):
    g = generate(model, "zcu102", fps, prune=prune, images=1, out=tmp_path / "prj")
    report = json.loads((g.out / "report" / "check.json").read_text())
    assert report["errors"] == []
    for key, r in report["resources"]["model"].items():
        assert 0.75 <= r["ratio"] <= 1.25, (model, key, r)


@pytest.mark.slow
def test_deit_base_24fps_passes(tmp_path):
    g = generate("deit_base", "zcu102", 24.0, images=1, out=tmp_path / "prj")
    report = json.loads((g.out / "report" / "check.json").read_text())
    assert report["errors"] == []
    for key, r in report["resources"]["model"].items():
        assert 0.75 <= r["ratio"] <= 1.25, (key, r)
