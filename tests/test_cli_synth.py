"""`hlsgen synth DIR --json`: the contract (objects synth, model and available, each with lut, ff, dsp
and bram36), totals that are the sum of the parts, the board's capacity, and a clear error without a twin."""
from __future__ import annotations

import json

import pytest

from hlsgen.board import resolve_board
from hlsgen.cli import main

KEYS = ("lut", "ff", "dsp", "bram36")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "p"
    # a low frame rate gives the smallest digits design: the quickest yosys runs
    assert main(["generate", "--model", "digits", "--fps", "50", "--images", "1", "-o", str(out)]) == 0
    return out


@pytest.mark.slow
def test_synth_json_contract(project, capsys):
    """The quick rows only (the whole twin is about 1.5 minutes of yosys: bench/bench_synth.py --project)."""
    capsys.readouterr()
    assert main(["synth", str(project), "--json", "--jobs", "2", "--parts", "softmax,layernorm,infrastructure"]) == 0
    res = json.loads(capsys.readouterr().out)
    for obj in ("synth", "model", "available"):
        assert set(KEYS) <= set(res[obj]), obj
    board = resolve_board("zcu102")
    assert res["available"] == {k: pytest.approx(board.resources[k]) for k in KEYS}
    for k in KEYS:
        assert res["synth"][k] == pytest.approx(sum(p["synth"][k] for p in res["parts"].values()))
    assert set(res["parts"]) == {"softmax", "layernorm", "infrastructure"}
    for k in KEYS:
        assert res["model"][k] == pytest.approx(sum(p["model"][k] for p in res["parts"].values()))
    assert res["synth"]["lut"] > 1000 and res["synth"]["dsp"] > 0 and res["model"]["lut"] > 0


def test_synth_unknown_part_is_a_clear_error(project, capsys):
    assert main(["synth", str(project), "--parts", "softmax,nosuch"]) == 1
    err = capsys.readouterr().err
    assert "nosuch" in err and "binary" in err and "softmax" not in err.split(":")[0]


def test_synth_without_twin_is_a_clear_error(tmp_path, capsys):
    assert main(["synth", str(tmp_path)]) == 1
    assert "no RTL twin" in capsys.readouterr().err
