"""The integer golden model: per-op semantics on hand-computed cases, and agreement with the
fake-quant PyTorch model it was exported from."""
import numpy as np
import pytest
import torch

from quant import golden
from quant.intmodel import LinearInt, export_int_model, make_requant
from quant.spec import SelectorPlacement, ViTSpec
from quant.vit import build_vit

SMALL = ViTSpec("small", 16, 3, 4, 48, 3, 3, 2.0, 10)


def test_requantizer_rounds_half_up_and_saturates():
    rq = make_requant([0.5, 0.25], [0.0, 1.0], bits=4)
    out = rq(np.array([[3, 3], [-3, -3], [100, -100]]))
    # 3*0.5=1.5 -> 2; 3*0.25+1=1.75 -> 2; -1.5 -> -1 (half up); -0.75+1=0.25 -> 0; clamps at 7 / -8
    assert out.tolist() == [[2, 2], [-1, 0], [7, -8]]


def test_linear_binary_hand_case():
    w = np.array([[1, -1, 1], [-1, -1, 1]])
    layer = LinearInt("t", w, make_requant([1.0, 1.0], bits=8), True)
    assert golden.linear_binary(np.array([[1, 2, 3]]), layer).tolist() == [[2, 0]]


def test_residual_add_saturates_at_int16():
    assert golden.residual_add([32000, -32000], [1000, -1000]).tolist() == [32767, -32768]


def _calibrated(bits, selectors=(), seed=0):
    model = build_vit(SMALL, tuple(SelectorPlacement(b, r) for b, r in selectors), seed=seed)
    torch.manual_seed(seed)
    for name, p in model.named_parameters():  # weights large enough to exercise every range
        if name.endswith("weight") and p.dim() > 1:
            p.data.normal_(0, 0.2)
    model.set_quant(bits)
    model.set_weight_mode(binary=True)
    g = torch.Generator().manual_seed(seed)
    model.calibrate(torch.randn(32, 3, 16, 16, generator=g))
    return model.eval(), torch.randn(16, 3, 16, 16, generator=g)


@pytest.mark.parametrize("bits", [8, 6, 4])
def test_golden_tracks_fakequant(bits):
    model, images = _calibrated(bits)
    im = export_int_model(model)
    codes, _ = golden.run_golden_batch(im, images.numpy())
    gold = codes * im.logit_scale
    with torch.no_grad():
        fq = model(images).double().numpy()
    cos = (gold * fq).sum(1) / (np.linalg.norm(gold, axis=1) * np.linalg.norm(fq, axis=1))
    # A random-weight model amplifies every one-code difference; the trained digits model
    # is the accuracy yardstick. These bounds catch a broken op, not a polynomial's error.
    assert cos.mean() > {8: 0.995, 6: 0.98, 4: 0.85}[bits], cos.mean()
    assert cos.min() > {8: 0.99, 6: 0.9, 4: 0.5}[bits], cos.min()


def test_golden_is_deterministic_and_integer():
    model, images = _calibrated(8)
    im = export_int_model(model)
    a = golden.run_golden(im, im.quantize_input(images[:1].numpy())[0], keep_trace=True)
    b = golden.run_golden(im, im.quantize_input(images[:1].numpy())[0])
    assert np.array_equal(a.logits, b.logits) and a.logits.dtype == np.int64
    assert set(a.trace) >= {"patch_embed", "blocks.0.qkv", "blocks.2.residual2", "head"}
    assert -128 <= a.trace["blocks.0.qkv"].min() and a.trace["blocks.0.qkv"].max() <= 127


def test_token_selector_keeps_cls_and_folds_pruned_tokens():
    model, images = _calibrated(8, selectors=[(1, 0.5)])
    sel_t = model.selectors["1"]
    with torch.no_grad():  # push scores around zero so that some tokens go each way
        sel_t.score.bias.fill_(0.0)
    model.calibrate(images)
    im = export_int_model(model)
    x = golden.patch_embed(im.quantize_input(images[:1].numpy())[0], im)
    x = golden.encoder_block(x, im.blocks[0])
    s = golden.token_select(x, im.selectors[1])
    kept = int(s.keep.sum())
    assert np.array_equal(s.tokens[0], x[0])  # class token first, untouched
    assert np.array_equal(s.tokens[1:1 + kept], x[1:][s.keep])
    if kept < len(s.keep):
        pkg = s.tokens[-1]
        pruned = x[1:][~s.keep]
        assert s.tokens.shape[0] == kept + 2
        # a weighted average lies inside the range of what it averages (one LSB of rounding)
        assert np.all(pkg >= pruned.min(0) - 1) and np.all(pkg <= pruned.max(0) + 1)


def test_golden_token_counts_match_fakequant_selection():
    model, images = _calibrated(8, selectors=[(1, 0.5), (2, 0.3)], seed=4)
    with torch.no_grad():
        for s in model.selectors.values():
            s.score.bias.fill_(0.0)
    model.calibrate(images)
    im = export_int_model(model)
    _, counts = golden.run_golden_batch(im, images.numpy())
    with torch.no_grad():
        _, stats = model.forward_with_stats(images)
    torch_counts = [c[-1] for c in stats["tokens_per_block"]]
    golden_counts = [c[-1] for c in counts]
    agree = np.mean(np.array(torch_counts) == np.array(golden_counts))
    assert agree >= 0.5, (torch_counts, golden_counts)


def _tiny_int_model(depth: int, bits: int, selectors=(), seed: int = 0, images: int = 8):
    """(IntModel, float images) of a calibrated 8 x 8 model with seeded weights."""
    model = build_vit(ViTSpec("t_tiny", 8, 1, 2, 32, depth, 2, 2.0, 10), tuple(selectors), seed=seed)
    for s in model.selectors.values():
        s.score.bias.data.fill_(0.0)            # with these weights, images keep different token counts
    model.set_quant(bits)
    model.set_weight_mode(binary=True)
    g = torch.Generator().manual_seed(seed + 2)
    model.calibrate(torch.randn(16, 1, 8, 8, generator=g))
    return export_int_model(model.eval()), torch.randn(images, 1, 8, 8, generator=g).numpy()


def test_batched_golden_equals_image_by_image():
    """run_golden_batch runs chunks of images through each op at once (grouped by token count after
    a selector): the same codes and token counts as run_golden on each image."""
    im, images = _tiny_int_model(4, 6, (SelectorPlacement(1, 0.5), SelectorPlacement(2, 0.5)), seed=3, images=40)
    codes, counts = golden.run_golden_batch(im, images)
    one = [golden.run_golden(im, c) for c in im.quantize_input(images)]
    assert len({tuple(c) for c in counts}) > 1
    assert counts == [r.tokens_per_block for r in one]
    assert np.array_equal(codes, np.stack([r.logits for r in one]))


def test_saturation_counters_name_the_layer_that_clips():
    """A requantizer whose scale is 8x too small (planted in blocks.1.fc1) is among the top offenders
    quant.saturation reports, with far more clipped values than the same model without it."""
    import copy

    from quant import saturation
    im, images = _tiny_int_model(3, 8, seed=1)
    with saturation.counting() as base:
        golden.run_golden_batch(im, images)
    bad = copy.deepcopy(im)
    bad.blocks[1].fc1.rq.mult[...] *= 8               # the frozen dataclass's array, in place
    with saturation.counting() as sat:
        golden.run_golden_batch(bad, images)
    top = dict(sat.top(2))            # fc1 and the GELU behind it (its input codes now run high)
    assert "blocks.1.fc1" in top and top["blocks.1.fc1"]["rate"] > 0.1
    assert base.by_layer()["blocks.1.fc1"]["rate"] < 0.05
    assert set(sat.by_kind()) >= {"input", "patch_embed", "qkv", "softmax", "gelu", "residual2", "head"}
    assert saturation._active is None                      # off again outside the block


def test_keep_calibration_gives_inference_the_target_keep_ratios():
    """Selectors whose scores are all positive keep every token at inference; the bias shift of
    quant.keep_calibration makes the hard decision keep the targets (0.5 of the patches, then 0.5 of those)."""
    from quant.keep_calibration import calibrate_keep_rates
    model = build_vit(ViTSpec("t_keep", 8, 1, 2, 32, 4, 2, 2.0, 10),
                      (SelectorPlacement(1, 0.5), SelectorPlacement(2, 0.25)), seed=4)
    for s in model.selectors.values():
        s.score.bias.data.fill_(5.0)                          # keeps everything
    model.set_quant(8)
    model.set_weight_mode(binary=True)
    x = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(1))
    model.calibrate(x)
    model.eval()
    with torch.no_grad():
        assert all(c == [17, 17] for c in model.forward_with_stats(x)[1]["tokens_per_block"])
    shares = calibrate_keep_rates(model, x)
    assert shares == pytest.approx([0.5, 0.5], abs=0.03)
    with torch.no_grad():
        counts = np.array(model.forward_with_stats(x)[1]["tokens_per_block"])
    assert counts[:, 0].mean() == pytest.approx(1 + 8 + 1, abs=1.0)   # cls + half the 16 patches + package
