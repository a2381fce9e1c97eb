"""The Python API (hlsgen.explore / generate / sweep / evaluate, Project): the results the CLI prints as
JSON, from the same code path, and the documented exceptions."""
from __future__ import annotations

import json

import pytest

import hlsgen
from hlsgen.cli import main
from hlsgen.dse import InfeasibleError
from hlsgen.outdir import ProjectExistsError
from quant.errors import UserError


def test_explore_matches_the_cli_json(capsys, tmp_path):
    r = hlsgen.explore("digits", board="zcu102", fps=1000)
    assert r.feasible and r.fps >= 1000 and r.act_bits == 8 and r.parallelism == r.design.parallelism.as_dict()
    assert main(["explore", "--model", "digits", "--fps", "1000", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == r.as_dict()
    with pytest.raises(InfeasibleError) as e:
        hlsgen.explore("digits", fps=1e9, bits=[8])
    assert e.value.exit_code == 2 and e.value.result.feasible is False and e.value.result.per_precision
    with pytest.raises(UserError, match="unknown model"):
        hlsgen.explore("nope")
    assert r.save(tmp_path / "d.yaml").is_file()


def test_generate_and_project_methods(tmp_path):
    r = hlsgen.explore("digits", fps=1000)
    prj = hlsgen.generate(r, tmp_path / "p", images=2)
    assert isinstance(prj, hlsgen.Project) and prj.design.parallelism == r.design.parallelism
    assert (prj.path / "design.yaml").is_file() and prj.check()["errors"] == []
    rep = prj.csim(images=1)
    assert rep.bit_exact and rep.images == 1 and abs(rep.cycles["total"]["ratio"] - 1) < 0.05
    assert hlsgen.Project.open(prj.path).design == prj.design
    with pytest.raises(ProjectExistsError):
        hlsgen.generate(r, tmp_path / "p")
    with pytest.raises(UserError, match="no such project directory"):
        hlsgen.Project.open(tmp_path / "nowhere")
    with pytest.raises(UserError, match="level must be one of"):
        prj.cosim(level="chip")


def test_sweep_and_evaluate(tmp_path):
    res = hlsgen.sweep("digits", bits=[8, 6], out_dir=tmp_path / "sw")
    assert {r.bits for r in res.rows} == {8, 6} and (tmp_path / "sw" / "sweep.csv").is_file()
    ev = hlsgen.evaluate("digits", bits=8, images=4, cache=False)
    assert ev["images"] == 4 and 0 <= ev["vs_float"]["top1_agreement"] <= 1
