"""`hlsgen evaluate`: bad input gives one clear line and a non-zero exit; good input gives the JSON contract."""
import json

import pytest

from hlsgen.cli import main

SPEC = ("img_size: 16\nin_chans: 3\npatch_size: 4\nembed_dim: 48\ndepth: 2\nnum_heads: 3\n"
        "mlp_ratio: 2\nnum_classes: 10\n")


@pytest.mark.parametrize("argv, needle", [
    (["--model", "deit_huge", "--bits", "8"], "unknown model 'deit_huge'"),
    (["--model", "deit_tiny", "--bits", "9"], "2..8, got 9"),
    (["--model", "deit_tiny", "--bits", "1"], "2..8, got 1"),
    (["--model", "deit_tiny", "--bits", "8", "--weights", "nowhere.pth"], "checkpoint not found: nowhere.pth"),
    (["--model", "deit_tiny", "--bits", "8", "--images", "0"], "--images must be >= 1"),
])
def test_bad_input_is_named(capsys, argv, needle):
    assert main(["evaluate", *argv]) == 1
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_malformed_spec_yaml(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("img_size: [\n")
    assert main(["evaluate", "--model", str(bad), "--bits", "8"]) == 1
    assert "bad.yaml: not valid yaml" in capsys.readouterr().err


def test_json_contract_on_a_custom_spec(tmp_path, capsys):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(SPEC)
    assert main(["evaluate", "--model", str(spec), "--bits", "6", "--images", "3", "--prune", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("model", "bits", "pruned", "images", "accuracy", "float_accuracy", "kept_tokens_mean"):
        assert key in out
    for ref in ("vs_float", "vs_fakequant"):
        assert set(out[ref]) >= {"top1_agreement", "max_abs_logit_err", "cosine"}
    assert out["bits"] == 6 and out["pruned"] is True and out["images"] == 3
    assert out["accuracy"] is None  # random images carry no labels
    assert 0.9 < out["vs_fakequant"]["cosine"] <= 1.0 + 1e-9
