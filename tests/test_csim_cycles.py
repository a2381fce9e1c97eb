"""`hlsgen csim --json`: the cycles the C++ takes (loop trips counted in C simulation, II and depth from
`hlsgen check`) agree with the cycle model per op type within 5%, on digits designs with and without
token selectors at two parallelisms and on the deit_tiny default; a planted slower loop is caught."""
from __future__ import annotations

import json
import shutil

import pytest

from hlsgen.cli import main
from hlsgen.cmd_generate import generate
from sim.csim_cycles import RESULT_WRITE, parse_profile

TOL = 0.05


def csim_json(project, capsys, images: int) -> dict:
    rc = main(["csim", str(project), "--images", str(images), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == (0 if out["bit_exact"] else 1)
    return out


def assert_within(out: dict, tol: float = TOL) -> None:
    assert out["bit_exact"], out["first_mismatch"]
    for kind, r in out["cycles"].items():
        if kind == RESULT_WRITE:          # no step of the model (one DDR write per frame)
            assert r["csim"] < 0.001 * out["cycles"]["total"]["csim"]
            continue
        assert r["model"] > 0 and abs(r["ratio"] - 1) <= tol, (kind, r)


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    return generate("digits", "zcu102", 30.0, images=20, out=tmp_path_factory.mktemp("cyc") / "digits").out


@pytest.mark.parametrize("fps, prune", [(30.0, False), (1000.0, False), (30.0, True), (400.0, True)])
def test_digits_cycles_match_the_model(tmp_path, capsys, fps, prune):
    g = generate("digits", "zcu102", fps, prune=prune, images=12, out=tmp_path / "p")
    out = csim_json(g.out, capsys, 12)
    assert out["images"] == 12
    assert_within(out)
    assert out["fps"]["csim"] == pytest.approx(out["fps"]["model"], rel=TOL)


@pytest.mark.slow
def test_deit_tiny_default_cycles_match_the_model(tmp_path, capsys):
    g = generate("deit_tiny", "zcu102", 30.0, images=1, out=tmp_path / "p")
    assert_within(csim_json(g.out, capsys, 1))


def test_a_slower_loop_is_caught(digits, tmp_path, capsys):
    """The softmax row pipelines at II = 2: C simulation still matches bit for bit, the cycle count does not."""
    dst = tmp_path / "slow"
    shutil.copytree(digits, dst)
    rows = dst / "src" / "hlsgen_rows.h"
    text = rows.read_text()
    assert "HLS PIPELINE II = 1" in text
    rows.write_text(text.replace("HLS PIPELINE II = 1", "HLS PIPELINE II = 2"))
    out = csim_json(dst, capsys, 2)
    assert out["bit_exact"]
    assert out["cycles"]["softmax"]["ratio"] > 1.5 and out["cycles"]["layernorm"]["ratio"] > 1.5
    assert abs(out["cycles"]["attn_qk"]["ratio"] - 1) <= TOL


def test_profile_format():
    text = "image 0\nloop 3 1 10 2 2\nregion 2 4 0 1:5:1:1 2:7:1:1\ntokens 17 17\nimage 1\nsite 0 a.h 3\nsite 1 b.h 9\n"
    images, sites = parse_profile(text)
    assert len(images) == 2 and images[0].loops == [(3, 1, 10, 2, 2)] and images[0].tokens == [17, 17]
    assert images[0].regions == [(2, 4, 0, [(1, 5, 1, 1), (2, 7, 1, 1)])] and sites == {0: ("a.h", 3), 1: ("b.h", 9)}
