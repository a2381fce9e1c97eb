"""`hlsgen generate` never loses or silently changes the user's work: it refuses a folder before doing
any work, flags that disagree with a design file, designs over the board's budget (unless asked), and
rebuilding a project from its design.yaml with other weights than it records."""
from __future__ import annotations

import time

import pytest
import torch
import yaml

from hlsgen import cmd_generate
from hlsgen.board import BOARDS_DIR
from hlsgen.cli import main
from quant.spec import resolve_spec
from quant.vit import build_vit

TINY = {"img_size": 8, "in_chans": 1, "patch_size": 4, "embed_dim": 16, "depth": 1, "num_heads": 2,
        "mlp_ratio": 2, "num_classes": 3}


def run(capsys, *argv):
    rc = main(list(argv))
    return rc, capsys.readouterr().err


def test_refuses_a_non_empty_folder_before_any_work(tmp_path, capsys, monkeypatch):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "mine.txt").write_text("x")

    def no_work(*a, **k):
        raise AssertionError("explored before refusing the output folder")

    monkeypatch.setattr(cmd_generate, "explore_design", no_work)
    t0 = time.time()
    rc, err = run(capsys, "generate", "--model", "digits", "-o", str(tmp_path / "p"))
    assert rc == 1 and "is not empty: use --force" in err and time.time() - t0 < 5


def test_flags_must_agree_with_the_design_file(tmp_path, capsys):
    design = tmp_path / "d.yaml"
    assert main(["explore", "--model", "digits", "--fps", "1000", "-o", str(design)]) == 0
    capsys.readouterr()
    for flags, msg in ((["--model", "deit_small"], "--model deit_small disagrees with the design file"),
                       (["--board", "zcu104"], "--board zcu104 disagrees with the design file"),
                       (["--fps", "50000"], "--fps 50000: the design file")):
        rc, err = run(capsys, "generate", "--design", str(design), *flags, "-o", str(tmp_path / "p"))
        assert rc == 1 and msg in err, err
    assert not (tmp_path / "p").exists()


def test_over_budget_design_is_refused_unless_allowed(tmp_path, capsys):
    board = yaml.safe_load((BOARDS_DIR / "zcu102" / "board.yaml").read_text())
    board["name"], board["resources"]["lut"] = "small102", 60000
    (tmp_path / "small102.yaml").write_text(yaml.safe_dump(board))
    design = tmp_path / "d.yaml"
    assert main(["explore", "--model", "digits", "--fps", "100", "--board", str(tmp_path / "small102.yaml"),
                 "-o", str(design)]) == 0
    data = yaml.safe_load(design.read_text())
    data["parallelism"].update(pe=64, simd=64)                       # a hand edit far beyond 42k usable LUTs
    design.write_text(yaml.safe_dump(data))
    capsys.readouterr()
    rc, err = run(capsys, "generate", "--design", str(design), "-o", str(tmp_path / "p"))
    assert rc == 2 and "needs more than the board's usable resources: LUT" in err and "--allow-over-budget" in err
    assert not (tmp_path / "p").exists()
    rc, err = run(capsys, "generate", "--design", str(design), "--allow-over-budget", "--images", "1",
                  "-o", str(tmp_path / "p"))
    assert rc == 0 and "warning: over budget" in err
    est = (tmp_path / "p" / "report" / "estimates.md").read_text()
    assert "Warning: over budget (--allow-over-budget): LUT" in est and "of device" in est


def test_design_yaml_records_the_weights_and_refuses_others(tmp_path, capsys):
    spec_file = tmp_path / "tiny.yaml"
    spec_file.write_text(yaml.safe_dump(TINY))
    spec = resolve_spec(str(spec_file))
    for name, seed in (("a.pth", 1), ("b.pth", 2)):
        torch.save(build_vit(spec, seed=seed).state_dict(), tmp_path / name)
    p1 = tmp_path / "p1"
    assert main(["generate", "--model", str(spec_file), "--fps", "100", "--weights", str(tmp_path / "a.pth"),
                 "-o", str(p1)]) == 0
    prov = yaml.safe_load((p1 / "design.yaml").read_text())["provenance"]
    assert prov["weights"]["file"] == "a.pth" and len(prov["weights"]["sha256"]) == 64
    assert "Gaussian-noise" in prov["calibration"]
    capsys.readouterr()
    rc, err = run(capsys, "generate", "--design", str(p1 / "design.yaml"), "-o", str(tmp_path / "p2"))
    assert rc == 1 and "was generated from weights a.pth" in err and "pass --weights a.pth" in err
    rc, err = run(capsys, "generate", "--design", str(p1 / "design.yaml"), "--weights", str(tmp_path / "b.pth"),
                  "-o", str(tmp_path / "p2"))
    assert rc == 1 and "is not the checkpoint the design file" in err
    assert main(["generate", "--design", str(p1 / "design.yaml"), "--weights", str(tmp_path / "a.pth"),
                 "-o", str(tmp_path / "p2")]) == 0
    for rel in ("design.yaml", "data/weights.bin", "src/vit_top.cpp"):
        assert (p1 / rel).read_bytes() == (tmp_path / "p2" / rel).read_bytes()


@pytest.mark.parametrize("force", [False, True])
def test_force_keeps_what_vitis_created(tmp_path, capsys, force):
    out = tmp_path / "p"
    assert main(["generate", "--model", "digits", "--images", "1", "-o", str(out)]) == 0
    (out / "vit_prj").mkdir()
    (out / "vit_prj" / "vitis_hls.log").write_text("synthesis results")
    capsys.readouterr()
    rc = main(["generate", "--model", "digits", "--images", "2", "-o", str(out)] + (["--force"] if force else []))
    assert rc == (0 if force else 1)
    assert (out / "vit_prj" / "vitis_hls.log").read_text() == "synthesis results"
