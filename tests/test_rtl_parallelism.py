"""The cycle model holds at every parallelism: the whole digits model on the RTL twin at designs the
explorer picks for very different frame rates (1 to 32 PEs, 1 to 16 lanes per vector unit, 8 and 6 bits),
bit-exact, each op type's simulated cycles within 5% of the model."""
from __future__ import annotations

import pytest

from hlsgen.cli import main
from sim.cosim import run_top_level

TOL = 0.05
DESIGNS = [("1000fps-8bit", "1000", "8"), ("10000fps-6bit", "10000", "6")]


@pytest.mark.slow
@pytest.mark.parametrize("name, fps, bits", DESIGNS, ids=[d[0] for d in DESIGNS])
def test_cycles_per_op_type_at_parallelism(tmp_path, capsys, name, fps, bits):
    design = tmp_path / "design.yaml"
    assert main(["explore", "--model", "digits", "--fps", fps, "--bits", bits, "-o", str(design)]) == 0
    assert main(["generate", "--design", str(design), "--images", "2", "-o", str(tmp_path / "p")]) == 0
    capsys.readouterr()
    lv = run_top_level(tmp_path / "p", "model", images=2)
    assert lv.bit_exact, lv.first_mismatch
    assert abs(lv.cycle_ratio - 1) < TOL, lv.as_dict()
    assert {"linear_binary", "linear_int8", "attn_qk", "attn_av", "softmax", "layernorm"} <= set(lv.per_op)
    for op, r in lv.per_op.items():
        assert abs(r["ratio"] - 1) < TOL, (name, op, r)
