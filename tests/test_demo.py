"""`hlsgen demo` (what `make demo` runs) end to end on a few Fashion-MNIST images: fidelity table, the default
ZCU102 project generated, C-simulated and its first encoder block co-simulated, and the closing summary."""
from __future__ import annotations

import pytest

from hlsgen.cli import main


@pytest.mark.slow
def test_demo_ends_with_a_passing_summary(tmp_path, capsys):
    assert main(["demo", "--images", "20", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    summary = out[out.index("== hlsgen demo summary"):].splitlines()
    assert len(summary) <= 15                                    # readable in ten seconds
    lines = {line.split("  ")[1].strip(): line for line in summary[1:] if line.startswith("  ")}
    assert "BIT-EXACT" in lines["C simulation"] and "BIT-EXACT" in lines["RTL cosim, block 0"]
    assert "fmnist 8-bit" in lines and lines["result"].endswith("PASS")
    assert (tmp_path / "demo" / "rtl" / "vit_top.sv").is_file()
