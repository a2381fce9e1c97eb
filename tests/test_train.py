"""Training entry points run and do what they claim (tiny budgets: correctness, not accuracy)."""
import copy

import torch

from quant.digits import Split, load_split
from quant.spec import PRESETS, SelectorPlacement
from quant.train import TrainConfig, fit, quantization_aware, train_selectors
from quant.vit import build_vit


def _subset(n=256) -> Split:
    d = load_split()
    return Split(d.x_train[:n], d.y_train[:n], d.x_test[:64], d.y_test[:64])


def test_digits_split_is_fixed():
    d = load_split()
    assert (len(d.x_train), len(d.x_test)) == (1347, 450)
    assert d.x_train.shape[1:] == (1, 8, 8) and float(d.x_train.min()) == -1.0
    assert int(d.y_test[:10].sum()) == int(load_split().y_test[:10].sum())


def test_float_training_lowers_the_loss():
    torch.manual_seed(0)
    model, data = build_vit(PRESETS["digits"], seed=0), _subset()
    loss = torch.nn.functional.cross_entropy
    with torch.no_grad():
        before = float(loss(model.eval()(data.x_train), data.y_train))
    fit(model, data, TrainConfig(epochs=3, lr=1e-3), "t")
    with torch.no_grad():
        after = float(loss(model.eval()(data.x_train), data.y_train))
    assert after < before


def test_qat_ends_with_binary_weights_and_calibrated_scales():
    model, data = build_vit(PRESETS["digits"], seed=0), _subset()
    quantization_aware(model, data, bits=6, epochs=3)
    assert model.act_bits == 6 and model.blocks[0].attn.qkv.weight_mode == "binary"
    w = model.blocks[0].mlp.fc1.quant_weight()
    assert torch.allclose(w.abs(), w.abs().amax(1, keepdim=True).expand_as(w))  # +-alpha per row
    assert all(q.mode == "quant" for q in model.act_quants())


def test_selector_training_pulls_keep_ratio_to_target():
    model, data = build_vit(PRESETS["digits"], seed=0), _subset()
    placement = (SelectorPlacement(2, 0.5),)
    untrained = copy.deepcopy(model)
    untrained.add_selector(placement[0])
    train_selectors(model, data, placement, epochs_per_stage=4)

    def kept(m):
        m.eval()
        with torch.no_grad():
            _, stats = m.forward_with_stats(data.x_test)
        return sum(c[0] for c in stats["tokens_per_block"]) / len(data.x_test)

    # a fresh selector keeps everything (17 tokens); training moves it towards 0.5 * 16 + 2
    assert kept(untrained) == 17
    assert kept(model) < 15


def test_backbone_finetune_sees_the_inference_decisions_and_leaves_selectors_alone():
    """finetune_with_selectors trains on score > 0 exactly (no Gumbel noise), does not move the
    selectors, and keeps the activation scales it started with."""
    from quant.train import finetune_with_selectors
    model, data = build_vit(PRESETS["digits"], seed=0), _subset(128)
    model.add_selector(SelectorPlacement(2, 0.5))
    model.set_quant(8)
    model.set_weight_mode(binary=True)
    model.calibrate(data.x_train)
    sel = model.selectors["2"]
    scores = torch.linspace(-2, 2, 41)[None]
    sel.deterministic = True
    def decides_as_inference():   # the straight-through sum is within an ulp of the hard decision
        return torch.allclose(sel.sample_keep(scores), (scores > 0).float(), atol=1e-6)
    assert decides_as_inference()
    sel.deterministic = False
    assert not all(decides_as_inference() for _ in range(5))
    before = copy.deepcopy(sel.state_dict())
    scales = [float(q.scale) for q in model.act_quants()]
    backbone = model.blocks[0].mlp.fc1.weight.clone()
    finetune_with_selectors(model, data, epochs=1)
    assert all(torch.equal(before[k], v) for k, v in sel.state_dict().items())
    assert [float(q.scale) for q in model.act_quants()] == scales
    assert not torch.equal(backbone, model.blocks[0].mlp.fc1.weight) and not sel.deterministic
