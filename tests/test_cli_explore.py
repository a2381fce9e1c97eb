"""`hlsgen explore` / `hlsgen sweep` through hlsgen.cli.main: JSON keys, design file, exit codes and
error messages."""
import json

import pytest
import yaml

from hlsgen.board import BOARDS_DIR
from hlsgen.cli import main
from hlsgen.design import load_design

REQUIRED = {"model", "board", "clock_mhz", "act_bits", "feasible", "fps", "latency_ms", "cycles_per_frame",
            "resources", "available", "parallelism", "selectors", "per_layer"}


def run(capsys, *argv):
    try:
        rc = main(list(argv))
    except SystemExit as e:          # argparse usage errors (exit 1 for these subcommands)
        rc = e.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_explore_json_and_design_file(capsys, tmp_path):
    path = tmp_path / "design.yaml"
    rc, out, err = run(capsys, "explore", "--model", "deit_base", "--board", "zcu102", "--fps", "24", "--json",
                       "-o", str(path))
    assert rc == 0, err
    data = json.loads(out)
    assert REQUIRED <= set(data)
    assert data["feasible"] is True and data["act_bits"] == 8 and data["fps"] >= 24
    assert data["model"] == "deit_base" and data["board"] == "zcu102" and data["clock_mhz"] == 200
    for key in ("resources", "available"):
        assert {"lut", "ff", "dsp", "bram36"} <= set(data[key])
    assert all(data["resources"][k] <= data["available"][k] for k in ("lut", "ff", "dsp", "bram36"))
    assert data["selectors"] == []
    assert len(data["per_layer"]) == 1 + 12 * 9 + 2          # patch embedding, 9 ops per block (GELU, residuals fused), norm, head
    assert all({"name", "cycles", "bound"} <= set(r) and r["bound"] in ("compute", "memory")
               for r in data["per_layer"])
    assert sum(r["cycles"] for r in data["per_layer"]) == data["cycles_per_frame"]
    d = load_design(path)
    assert d.act_bits == 8 and d.parallelism.as_dict() == data["parallelism"]
    assert d.predict().cycles == data["cycles_per_frame"]


def test_explore_human_output_and_clock(capsys):
    # 40 FPS: the best 8-bit design is ~47 FPS at 150 MHz since the lane counts became powers of two
    rc, out, err = run(capsys, "explore", "--model", "deit_small", "--fps", "40", "--clock", "150",
                       "--bits", "8,6")
    assert rc == 0, err
    assert "at 150 MHz" in out and "chosen: 8-bit" in out and "parallelism: pe=" in out
    # the fastest 8-bit design has SIMD = 384 = 3 x 128, the largest lane count dividing gcd(384, 1536): explore says so
    assert ("at the lane rules' limit (HLS banking): simd=384 (a power of two, or 3 x a power of two (>= 6), "
            "dividing gcd(D, M))") in out


def test_lane_limits_in_json(capsys):
    rc, out, err = run(capsys, "explore", "--model", "digits", "--fps", "10000", "--bits", "6", "--json")
    assert rc == 0, err
    lim = {x["field"]: x for x in json.loads(out)["lane_limits"]}
    assert lim["att_simd"]["value"] == 16 and "head dim" in lim["att_simd"]["rule"]   # head dim 16
    assert "pe" not in lim                    # pe = 32 < 64, the largest power of two dividing gcd(64, 128)


def test_explore_prune_json(capsys):
    rc, out, err = run(capsys, "explore", "--model", "digits", "--fps", "10", "--prune", "--json", "--bits", "8")
    assert rc == 0, err
    data = json.loads(out)
    assert data["prune"] is True and "fps_worst" in data and "[1/" in err   # progress on stderr


def test_infeasible_exits_2_with_per_precision_bounds(capsys):
    rc, out, err = run(capsys, "explore", "--model", "deit_base", "--fps", "5000", "--bits", "8,6")
    assert rc == 2
    assert "no design reaches 5000 FPS" in err
    assert "8-bit: best" in err and "6-bit: best" in err and "bound by" in err
    rc, out, err = run(capsys, "explore", "--model", "deit_base", "--fps", "5000", "--bits", "8", "--json")
    assert rc == 2
    data = json.loads(out)
    assert data["feasible"] is False and data["per_precision"][0]["best_fps"] > 0
    assert data["per_precision"][0]["bound"]


@pytest.mark.parametrize("argv, pattern", [
    (["--fps", "24", "--bits", "9"], "--bits: 9 is outside"),
    (["--fps", "24", "--bits", "8,x"], "--bits: 'x' is not an integer"),
    (["--fps", "-3"], "--fps: must be a positive number"),
    (["--fps", "fast"], "--fps: 'fast' is not a number"),
    (["--fps", "24", "--board", "nope"], "unknown board 'nope'"),
    (["--fps", "24", "--clock", "900"], "clock 900"),
    (["--fps", "24", "--clock", "0"], "--clock: must be a positive number"),
    ([], "the following arguments are required: --fps"),
])
def test_bad_arguments_exit_1(capsys, argv, pattern):
    rc, out, err = run(capsys, "explore", "--model", "deit_tiny", *argv)
    assert rc == 1
    assert pattern in err


def test_usage_errors_exit_1():
    with pytest.raises(SystemExit) as e:
        main(["explore", "--fps", "3"])
    assert e.value.code == 1


def test_unknown_model_and_bad_board_file(capsys, tmp_path):
    rc, out, err = run(capsys, "explore", "--model", "resnet", "--fps", "1")
    assert rc == 1 and "unknown model 'resnet'" in err
    data = yaml.safe_load((BOARDS_DIR / "zcu102" / "board.yaml").read_text())
    data["resources"]["dsp"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    rc, out, err = run(capsys, "explore", "--model", "digits", "--fps", "1", "--board", str(bad))
    assert rc == 1 and "resources.dsp" in err and str(bad) in err


def test_custom_board_path(capsys, tmp_path):
    data = yaml.safe_load((BOARDS_DIR / "zcu102" / "board.yaml").read_text())
    data["name"] = "half102"
    data["resources"]["lut"] = 137040
    p = tmp_path / "half.yaml"
    p.write_text(yaml.safe_dump(data))
    rc, out, err = run(capsys, "explore", "--model", "deit_small", "--fps", "30", "--board", str(p), "--json")
    assert rc == 0, err
    assert json.loads(out)["board"] == "half102"


def test_sweep_command(capsys, tmp_path):
    rc, out, err = run(capsys, "sweep", "--model", "digits", "--board", "zcu104", "--bits", "8,4", "-o",
                       str(tmp_path / "sw"), "--targets", "5000")
    assert rc == 0, err
    for name in ("sweep.csv", "sweep.md", "sweep.png", "resources.png"):
        assert (tmp_path / "sw" / name).is_file()
    assert "[1/2]" in err and "[2/2]" in err
    assert "| act bits |" in out
    rc, out, err = run(capsys, "sweep", "--model", "digits", "--bits", "1", "-o", str(tmp_path / "x"))
    assert rc == 1 and "--bits" in err
