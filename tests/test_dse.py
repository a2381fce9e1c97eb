"""Explorer: anchors, the choice rule, resources never exceeded, infeasible reports, accuracy
cache, design yaml round trip and strict loading, sweep outputs and speed."""
import json
import time

import numpy as np
import pytest
import yaml

from hlsgen.board import resolve_board
from hlsgen.design import DesignPoint, Parallelism, design_from_dict, dump_design, load_design, save_design
from hlsgen.dse import (RULE_OF_THUMB, Explorer, accuracy_estimate, accuracy_text, explore, fastest, proxy_accuracy,
                        selector_configs)
from hlsgen.ops_resources import KEYS
from hlsgen.precision_sweep import run_sweep, write_sweep
from quant.accuracy_key import accuracy_path, default_data, weights_identity
from quant.spec import PRESETS, default_selectors, resolve_spec

ZCU102 = resolve_board("zcu102")
BASE, SMALL, DIGITS = PRESETS["deit_base"], PRESETS["deit_small"], PRESETS["digits"]


@pytest.fixture(scope="module")
def empty_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("acc")


def _fits(pred):
    return all(pred.resources[k] <= pred.available[k] for k in KEYS)


def test_vaqf_anchors(empty_cache):
    r8 = explore(BASE, ZCU102, 24.0, bits=[8], cache_dir=empty_cache)
    r6 = explore(BASE, ZCU102, 30.0, bits=[6], cache_dir=empty_cache)
    assert r8.feasible and r8.chosen.design.act_bits == 8 and r8.chosen.prediction.fps >= 24
    assert r6.feasible and r6.chosen.design.act_bits == 6 and r6.chosen.prediction.fps >= 30
    assert _fits(r8.chosen.prediction) and _fits(r6.chosen.prediction)


def test_choice_rule_highest_precision_then_fewest_resources(empty_cache):
    ex = Explorer(BASE, ZCU102)
    best = {b: ex.fps(ex.candidates(b).cycles[fastest(ex.candidates(b))]) for b in (8, 6)}
    assert best[6] > best[8]
    r = explore(BASE, ZCU102, best[8] * 0.99, cache_dir=empty_cache)
    assert r.chosen.design.act_bits == 8
    r = explore(BASE, ZCU102, (best[8] + best[6]) / 2, cache_dir=empty_cache)
    assert r.chosen.design.act_bits == 6                       # 8-bit cannot, 6-bit can
    assert [p.bits for p in r.per_precision] == [8, 6] and not r.per_precision[0].meets
    slow = explore(BASE, ZCU102, 5.0, cache_dir=empty_cache)   # easy target: a small design is chosen
    fast = r.per_precision[0].best.prediction
    assert slow.chosen.design.act_bits == 8
    assert max(slow.chosen.prediction.utilization().values()) < max(fast.utilization().values())
    assert slow.chosen.prediction.fps >= 5.0


@pytest.mark.parametrize("model, board, bits", [("deit_base", "zcu102", 8), ("deit_small", "zcu104", 6),
                                                ("digits", "zcu104", 4)])
def test_candidates_never_exceed_usable(model, board, bits):
    b = resolve_board(board)
    ex = Explorer(PRESETS[model], b)
    cands = ex.candidates(bits)
    assert cands.feasible.any()
    assert np.all(cands.res[cands.feasible] <= cands.avail + 1e-9)
    for i in list(np.nonzero(cands.feasible)[0][:: max(1, cands.feasible.sum() // 5)]) + [fastest(cands)]:
        p = ex.design(cands, i).predict()                    # the scalar model agrees with the search
        assert p.cycles == cands.cycles[i] and _fits(p)
        assert all(abs(p.resources[k] - cands.res[i][j]) < 1 for j, k in enumerate(KEYS))


def test_infeasible_reports_each_precision(empty_cache):
    r = explore(BASE, ZCU102, 1000.0, bits=[8, 4], cache_dir=empty_cache)
    assert not r.feasible
    msg = r.infeasible_message()
    assert "no design reaches 1000 FPS" in msg
    for b in (8, 4):
        assert f"{b}-bit: best" in msg
    assert "bound by" in msg and all(p.best.bound in ("LUT", "FF", "DSP", "BRAM", "URAM", "bandwidth", "parallelism")
                                     for p in r.per_precision)


def test_prune_raises_fps_and_prefers_accuracy(empty_cache):
    ex = Explorer(SMALL, ZCU102)
    dense = ex.fps(ex.candidates(8).cycles[fastest(ex.candidates(8))])
    target = dense * 1.15
    assert not explore(SMALL, ZCU102, target, bits=[8], cache_dir=empty_cache).feasible
    r = explore(SMALL, ZCU102, target, bits=[8], prune=True, cache_dir=empty_cache)
    assert r.feasible and r.chosen.design.selectors
    p = r.chosen.prediction
    assert p.fps >= target and p.fps_worst < p.fps and _fits(p)
    # no other selector setting that meets the target has a better accuracy estimate
    for cfg in selector_configs(SMALL):
        c = ex.candidates(8, cfg)
        f = fastest(c)
        if f is not None and ex.fps(c.cycles[f]) >= target:
            assert accuracy_estimate(SMALL, 8, cfg, empty_cache)[0] <= r.chosen.accuracy[0] + 1e-9


def test_accuracy_cache_and_proxy(tmp_path, capsys):
    assert proxy_accuracy(SMALL, 8, ()) > proxy_accuracy(SMALL, 6, ()) > proxy_accuracy(SMALL, 4, ())
    sel = default_selectors(SMALL.depth)
    key = (weights_identity(SMALL.name, None), default_data(SMALL.name))     # deit_small's seeded weights
    dense8, prune8 = accuracy_path(tmp_path, SMALL, 8, False, *key), accuracy_path(tmp_path, SMALL, 8, True, *key)
    dense6 = accuracy_path(tmp_path, SMALL, 6, False, *key)
    assert accuracy_estimate(SMALL, 8, sel, tmp_path) == (pytest.approx(proxy_accuracy(SMALL, 8, sel)), RULE_OF_THUMB)
    assert accuracy_text((0.99, RULE_OF_THUMB)) == "not measured (rule of thumb: 0.9900)"
    dense8.write_text(json.dumps({"accuracy": None, "images": 64,
                                                                  "vs_float": {"top1_agreement": 0.91}}))
    assert accuracy_estimate(SMALL, 8, (), tmp_path) == (
        0.91, "measured: top-1 agreement with float, random images, seed 2, 64 images")   # says what and on what
    v, src = accuracy_estimate(SMALL, 8, sel, tmp_path)
    assert src.startswith("measured dense") and "rule of thumb" in src and v < 0.91
    prune8.write_text(json.dumps({"accuracy": 0.8, "vs_float": {}, "images": 9}))
    assert accuracy_estimate(SMALL, 8, sel, tmp_path) == (pytest.approx(0.8), "measured: top-1 accuracy, random images, "
                                                          "seed 2, 9 images")   # default selectors
    lighter = selector_configs(SMALL)[1]                       # keeps more tokens than the default
    v, src = accuracy_estimate(SMALL, 8, lighter, tmp_path)
    assert v == pytest.approx(0.8, abs=0.02) and v > 0.8 and "shifted by the rule of thumb" in src
    prune8.write_text(json.dumps(
        {"accuracy": 0.85, "selectors": [{"block": s.block, "keep_ratio": s.keep_ratio} for s in lighter]}))
    assert accuracy_estimate(SMALL, 8, lighter, tmp_path) == (pytest.approx(0.85), "measured: top-1 accuracy, "
                                                              "random images, seed 2, image count not recorded")
    assert accuracy_estimate(SMALL, 8, sel, tmp_path)[0] < 0.85
    dense6.write_text("{not json")
    assert accuracy_estimate(SMALL, 6, (), tmp_path)[1] == RULE_OF_THUMB
    assert "malformed accuracy cache" in capsys.readouterr().err


def test_accuracy_of_one_checkpoint_is_not_reused_for_another(tmp_path):
    """The cache is keyed by the weights' content: evaluating deit_small with a checkpoint says nothing
    about the seeded deit_small, nor about another checkpoint, and the same file is found again."""
    from quant.fidelity import cache_result
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    a.write_bytes(b"checkpoint a")
    b.write_bytes(b"checkpoint b")
    result = {"model": "deit_small", "bits": 8, "pruned": False, "images": 16, "accuracy": 0.5,
              "vs_float": {"top1_agreement": 0.5}, "selectors": []}
    path = cache_result(result, SMALL, a, cache_dir=tmp_path / "acc")
    assert accuracy_estimate(SMALL, 8, (), tmp_path / "acc", weights=a)[0] == 0.5
    assert accuracy_estimate(SMALL, 8, (), tmp_path / "acc", weights=b)[1] == RULE_OF_THUMB
    assert accuracy_estimate(SMALL, 8, (), tmp_path / "acc")[1] == RULE_OF_THUMB              # seeded weights
    assert accuracy_estimate(resolve_spec("deit_tiny"), 8, (), tmp_path / "acc", weights=a)[1] == RULE_OF_THUMB
    assert path.name.startswith("deit_small_b8_dense_") and '"weights": "sha256:' in path.read_text()


def _design(**over):
    par = dict(pe=32, simd=64, gelu_lanes=8, att_pe=16, att_simd=16, i8_pe=16, i8_simd=16, softmax_lanes=16,
               ln_lanes=16, select_lanes=8)
    par.update(over)
    return DesignPoint(SMALL, ZCU102, 200.0, 6, Parallelism(**par), default_selectors(SMALL.depth))


def test_design_yaml_round_trip(tmp_path):
    d = _design()
    path = tmp_path / "design.yaml"
    save_design(d, path)
    back = load_design(path)
    assert back == d
    assert back.predict().cycles == d.predict().cycles
    assert dump_design(d) == dump_design(back)                 # deterministic
    custom = DesignPoint(PRESETS["digits"].__class__(**{**DIGITS.to_dict(), "name": "mine", "depth": 4}),
                         ZCU102, 150.0, 4, Parallelism(pe=8, simd=8, gelu_lanes=8, att_pe=4, att_simd=4, i8_pe=4,
                                                       i8_simd=4, softmax_lanes=4, ln_lanes=4, select_lanes=4))
    save_design(custom, path)
    assert isinstance(yaml.safe_load(path.read_text())["model"], dict)   # full spec, not a preset name
    assert load_design(path) == custom


@pytest.mark.parametrize("edit, pattern", [
    (lambda d: d.update(colour=1), "unknown key 'colour'"),
    (lambda d: d.pop("act_bits"), "missing key 'act_bits'"),
    (lambda d: d.update(act_bits=9), "'act_bits' must be an integer in 2..8"),
    (lambda d: d["parallelism"].update(pe=5), r"parallelism.*pe = 5 is not usable.*power of two dividing"),
    (lambda d: d["parallelism"].update(simd=3), r"simd = 3 is not usable.*power of two, or 3 x a power of two \(>= 6\)"),
    (lambda d: d["parallelism"].update(gelu_lanes=5), r"gelu_lanes = 5 is not usable"),
    (lambda d: d["parallelism"].update(foo=1), "unknown key 'foo'"),
    (lambda d: d["parallelism"].pop("ln_lanes"), "missing key 'ln_lanes'"),
    (lambda d: d["parallelism"].update(att_pe=0), "att_pe must be a positive integer"),
    (lambda d: d.update(part="xc7z020"), "key 'part'"),
    (lambda d: d.update(clock_mhz=900), "clock 900"),
    (lambda d: d.update(selectors=[{"block": 3}]), r"selectors\[0\]"),
    (lambda d: d.update(selectors=[{"block": 0, "keep_ratio": 0.5}]), "selector block 0"),
    (lambda d: d["predicted"].update(speed=1), "unknown key 'predicted.speed'"),
    (lambda d: d.update(model={"name": "x"}), "missing key 'model."),
    (lambda d: d.update(model="resnet50"), "unknown model 'resnet50'"),
    (lambda d: d.update(board="nowhere"), "unknown board 'nowhere'"),
])
def test_design_loading_is_strict(edit, pattern):
    data = _design().to_dict()
    edit(data)
    with pytest.raises(Exception, match=pattern) as err:
        design_from_dict(data, "d.yaml")
    from quant.errors import UserError
    assert isinstance(err.value, UserError)


def test_sweep_outputs(tmp_path):
    res = run_sweep(DIGITS, ZCU102, bits=(8, 4), prune=True, targets=(1000,))
    files = write_sweep(res, tmp_path)
    assert [f.name for f in files] == ["sweep.csv", "sweep.md", "sweep.png", "resources.png"]
    assert all(f.stat().st_size > 0 for f in files)
    lines = (tmp_path / "sweep.csv").read_text().splitlines()
    assert lines[0].startswith("act_bits,selectors,fps,") and len(lines) == 1 + 2 * len(selector_configs(DIGITS))
    md = (tmp_path / "sweep.md").read_text()
    assert "| act bits |" in md and "target 1000 FPS" in md
    assert any(r.pareto for r in res.rows)
    assert (tmp_path / "sweep.png").read_bytes()[:4] == b"\x89PNG"


def test_full_deit_base_sweep_is_fast():
    t0 = time.perf_counter()
    res = run_sweep(BASE, ZCU102, bits=(4, 5, 6, 8))
    assert time.perf_counter() - t0 < 2.0
    best = res.best_per_bits()
    assert best[8].prediction.fps >= 24 and best[6].prediction.fps >= 30
    assert best[4].prediction.fps >= best[6].prediction.fps >= best[8].prediction.fps


def test_a_smaller_sample_does_not_replace_a_larger_one(tmp_path):
    """`make demo` (1,000 images) after `evaluate` (10,000) keeps the 10,000-image measurement."""
    from quant.fidelity import cache_result
    big = {"bits": 8, "pruned": False, "images": 10000, "accuracy": 0.84, "vs_float": {"top1_agreement": 0.9}}
    path = cache_result(big, SMALL, cache_dir=tmp_path)
    cache_result({**big, "images": 20, "accuracy": 0.9}, SMALL, cache_dir=tmp_path)
    assert json.loads(path.read_text())["accuracy"] == 0.84
    cache_result({**big, "images": 10000, "accuracy": 0.85}, SMALL, cache_dir=tmp_path)
    assert json.loads(path.read_text())["accuracy"] == 0.85
