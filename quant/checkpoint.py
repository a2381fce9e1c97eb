"""Loading and saving ViT weights.

Foreign checkpoints (timm / DeiT `.pth` or `.safetensors`) hold only the float weights; their
keys must match ours exactly, except for the keys of our quantizers and selectors, which they
lack. hlsgen's own checkpoints also record the quantization state (bits, binary weights,
calibrated scales, selector placements), so a QAT model reloads ready to run.
"""
from __future__ import annotations

from pathlib import Path

import torch

from quant.errors import UserError
from quant.spec import SelectorPlacement, ViTSpec
from quant.vit import VisionTransformer, build_vit

FORMAT = "hlsgen-vit/1"


class CheckpointError(UserError):
    pass


def _read(path: Path) -> dict:
    if not path.exists():
        raise CheckpointError(f"checkpoint not found: {path}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file
        return load_file(str(path))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a corrupt file
        raise CheckpointError(f"{path}: cannot read checkpoint ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path}: expected a state dict, got {type(obj).__name__}")
    return obj


def _own_keys(model: VisionTransformer) -> set[str]:
    """Keys a foreign (float) checkpoint does not have: quantizer scales and selectors."""
    return {k for k in model.state_dict() if k.endswith("_q.scale") or k.startswith("selectors.")}


def load_float_weights(model: VisionTransformer, state: dict, source: str) -> None:
    for wrapper in ("model", "state_dict", "model_state"):
        if wrapper in state and isinstance(state[wrapper], dict):
            state = state[wrapper]
    distilled = sorted(k for k in state if k == "dist_token" or k.startswith("head_dist."))
    if distilled:
        # timm's distilled DeiT has a second token through every block (N + 1 tokens, pos_embed one
        # row longer): a different accelerator, not a different set of weights.
        raise CheckpointError(f"{source}: a distilled DeiT checkpoint ({', '.join(distilled)}): hlsgen's ViT has "
                              f"no distillation token; use the non-distilled checkpoint (deit_*_patch16_224)")
    expected = set(model.state_dict())
    unexpected = sorted(set(state) - expected)
    missing = sorted(expected - set(state) - _own_keys(model))
    if unexpected or missing:
        raise CheckpointError(
            f"{source}: keys do not match the {model.spec.name} spec "
            f"(unexpected: {unexpected[:6]}{'...' if len(unexpected) > 6 else ''}; "
            f"missing: {missing[:6]}{'...' if len(missing) > 6 else ''})")
    own = model.state_dict()
    for k, v in state.items():
        if tuple(v.shape) != tuple(own[k].shape):
            raise CheckpointError(f"{source}: {k} has shape {tuple(v.shape)}, the spec needs {tuple(own[k].shape)}")
    model.load_state_dict(state, strict=False)


def save_model(model: VisionTransformer, path: Path, meta: dict | None = None, half: bool = False) -> None:
    sd = {k: (v.half() if half and v.is_floating_point() and not k.endswith("scale") else v)
          for k, v in model.state_dict().items()}
    payload = {
        "format": FORMAT,
        "spec": model.spec.to_dict(),
        "selectors": [[p.block, p.keep_ratio] for p in model.placements],
        "act_bits": model.act_bits,
        "binary": model.blocks[0].attn.qkv.weight_mode == "binary",
        "meta": meta or {},
        "state_dict": sd,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_model(path: str | Path, spec: ViTSpec | None = None) -> tuple[VisionTransformer, dict]:
    """Load an hlsgen checkpoint, or a foreign float checkpoint onto `spec`. Returns (model, meta)."""
    path = Path(path)
    obj = _read(path)
    if obj.get("format") != FORMAT:
        if spec is None:
            raise CheckpointError(f"{path}: a foreign checkpoint needs a model spec (--model)")
        model = build_vit(spec)
        load_float_weights(model, obj, str(path))
        return model.eval(), {}
    own_spec = ViTSpec(**obj["spec"])
    if spec is not None and spec.to_dict() | {"name": ""} != own_spec.to_dict() | {"name": ""}:
        raise CheckpointError(f"{path}: checkpoint is for spec {own_spec}, not {spec}")
    model = build_vit(own_spec, tuple(SelectorPlacement(b, r) for b, r in obj["selectors"]))
    if obj["act_bits"] is not None:
        model.set_quant(obj["act_bits"])
    model.set_weight_mode(obj["binary"])
    model.load_state_dict({k: v.float() for k, v in obj["state_dict"].items()})
    if obj["act_bits"] is not None:
        for q in model.act_quants():
            q.mode = "quant"
    return model.eval(), obj.get("meta", {})
