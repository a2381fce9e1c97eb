"""The plain-PyTorch ViT is timm's: same keys, same outputs, loads timm/DeiT checkpoints."""
import pytest
import torch
import torch.nn.functional as F

from quant.checkpoint import CheckpointError, load_model, save_model
from quant.spec import PRESETS, ViTSpec
from quant.vit import build_vit

SMALL = ViTSpec("small", 32, 3, 8, 48, 2, 3, 4.0, 7)


def timm_keys(depth: int) -> set[str]:
    keys = {"cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
            "norm.weight", "norm.bias", "head.weight", "head.bias"}
    for i in range(depth):
        for part in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"):
            keys |= {f"blocks.{i}.{part}.weight", f"blocks.{i}.{part}.bias"}
    return keys


def timm_reference(sd: dict, spec: ViTSpec, img: torch.Tensor) -> torch.Tensor:
    """timm's VisionTransformer.forward for DeiT, written from its source with functional ops."""
    B, D, H = img.shape[0], spec.embed_dim, spec.num_heads
    x = F.conv2d(img, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=spec.patch_size)
    x = torch.cat([sd["cls_token"].expand(B, -1, -1), x.flatten(2).transpose(1, 2)], 1) + sd["pos_embed"]
    for i in range(spec.depth):
        p = f"blocks.{i}."
        h = F.layer_norm(x, (D,), sd[p + "norm1.weight"], sd[p + "norm1.bias"], 1e-6)
        q, k, v = F.linear(h, sd[p + "attn.qkv.weight"], sd[p + "attn.qkv.bias"]) \
            .reshape(B, -1, 3, H, D // H).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, -1, D)
        x = x + F.linear(a, sd[p + "attn.proj.weight"], sd[p + "attn.proj.bias"])
        h = F.layer_norm(x, (D,), sd[p + "norm2.weight"], sd[p + "norm2.bias"], 1e-6)
        h = F.linear(F.gelu(F.linear(h, sd[p + "mlp.fc1.weight"], sd[p + "mlp.fc1.bias"])),
                     sd[p + "mlp.fc2.weight"], sd[p + "mlp.fc2.bias"])
        x = x + h
    x = F.layer_norm(x, (D,), sd["norm.weight"], sd["norm.bias"], 1e-6)
    return F.linear(x[:, 0], sd["head.weight"], sd["head.bias"])


def float_state(model) -> dict:
    return {k: v for k, v in model.state_dict().items() if not k.endswith("_q.scale")}


def test_state_dict_keys_are_timms():
    model = build_vit(PRESETS["deit_tiny"])
    assert set(float_state(model)) == timm_keys(12)
    assert model.state_dict()["pos_embed"].shape == (1, 197, 192)


def test_forward_matches_timm_reference():
    model = build_vit(SMALL, seed=3).eval()
    torch.manual_seed(0)
    for p in model.parameters():  # non-trivial weights: trunc-normal init is too small to test much
        p.data.normal_(0, 0.3)
    img = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = timm_reference(float_state(model), SMALL, img)
        assert torch.allclose(model(img), ref, atol=1e-4, rtol=1e-4)


def test_seeded_init_is_deterministic():
    a, b = build_vit(SMALL, seed=5), build_vit(SMALL, seed=5)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.parametrize("fmt", ["pth_wrapped", "pth", "safetensors"])
def test_foreign_checkpoints_load_unchanged(tmp_path, fmt):
    from safetensors.torch import save_file
    src = build_vit(SMALL, seed=7)
    sd = float_state(src)
    if fmt == "safetensors":
        path = tmp_path / "w.safetensors"
        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))
    else:
        path = tmp_path / "w.pth"
        torch.save({"model": sd} if fmt == "pth_wrapped" else sd, path)
    model, _ = load_model(path, SMALL)
    img = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(img), src.eval()(img))


def test_checkpoint_errors_name_the_problem(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "none.pth", SMALL)
    sd = float_state(build_vit(SMALL))
    sd["blocks.0.extra.weight"] = torch.zeros(1)
    torch.save(sd, tmp_path / "extra.pth")
    with pytest.raises(CheckpointError, match="unexpected: \\['blocks.0.extra.weight'\\]"):
        load_model(tmp_path / "extra.pth", SMALL)
    sd = float_state(build_vit(SMALL))
    sd["head.weight"] = torch.zeros(3, 48)
    torch.save(sd, tmp_path / "shape.pth")
    with pytest.raises(CheckpointError, match="head.weight has shape"):
        load_model(tmp_path / "shape.pth", SMALL)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_model(tmp_path / "junk.pth", SMALL)
    sd = float_state(build_vit(SMALL))            # timm's distilled DeiT: named, not "keys do not match"
    sd["dist_token"], sd["head_dist.weight"] = torch.zeros(1, 1, 48), torch.zeros(3, 48)
    torch.save(sd, tmp_path / "distilled.pth")
    with pytest.raises(CheckpointError, match="a distilled DeiT checkpoint \\(dist_token, head_dist.weight\\)"):
        load_model(tmp_path / "distilled.pth", SMALL)


def test_own_checkpoint_roundtrip_keeps_quantization(tmp_path):
    model = build_vit(SMALL, seed=1)
    model.set_quant(6)
    model.set_weight_mode(binary=True)
    model.calibrate(torch.randn(8, 3, 32, 32))
    model.eval()
    save_model(model, tmp_path / "q.pt")
    again, _ = load_model(tmp_path / "q.pt")
    img = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(again(img), model(img))
    assert again.act_bits == 6
