"""Model specifications: the shape of a ViT, independent of its weights.

A spec is what the hardware side needs to size engines; weights live elsewhere.
Presets follow DeiT (Touvron et al.); custom specs come from a small yaml file.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml

from quant.errors import UserError


class SpecError(UserError, ValueError):
    """A model spec or quantization setting that cannot be used; the message names the culprit."""


MAX_EMBED_DIM = 4096     # quant.nl_layernorm.fit_layernorm's range


@dataclass(frozen=True)
class ViTSpec:
    name: str
    img_size: int
    in_chans: int
    patch_size: int
    embed_dim: int
    depth: int
    num_heads: int
    mlp_ratio: float
    num_classes: int

    def __post_init__(self) -> None:
        for f in ("img_size", "in_chans", "patch_size", "embed_dim", "depth", "num_heads", "num_classes"):
            value = getattr(self, f)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise SpecError(f"model spec '{self.name}': {f} must be a positive integer, got {value!r}")
        if self.img_size % self.patch_size:
            raise SpecError(f"model spec '{self.name}': img_size {self.img_size} is not a multiple of "
                            f"patch_size {self.patch_size}")
        if self.embed_dim > MAX_EMBED_DIM:
            raise SpecError(f"model spec '{self.name}': embed_dim {self.embed_dim} exceeds {MAX_EMBED_DIM} "
                            "(the integer LayerNorm's widths)")
        if self.embed_dim % self.num_heads:
            raise SpecError(f"model spec '{self.name}': embed_dim {self.embed_dim} is not a multiple of "
                            f"num_heads {self.num_heads}")
        if not (isinstance(self.mlp_ratio, (int, float)) and self.mlp_ratio > 0):
            raise SpecError(f"model spec '{self.name}': mlp_ratio must be > 0, got {self.mlp_ratio!r}")
        if (self.embed_dim * self.mlp_ratio) % 1:
            raise SpecError(f"model spec '{self.name}': embed_dim*mlp_ratio must be an integer")

    @property
    def grid(self) -> int:
        return self.img_size // self.patch_size

    @property
    def num_patches(self) -> int:
        return self.grid * self.grid

    @property
    def num_tokens(self) -> int:
        """Patches plus the class token."""
        return self.num_patches + 1

    @property
    def head_dim(self) -> int:
        return self.embed_dim // self.num_heads

    @property
    def mlp_dim(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    @property
    def patch_dim(self) -> int:
        return self.in_chans * self.patch_size * self.patch_size

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _deit(name: str, dim: int, heads: int) -> ViTSpec:
    return ViTSpec(name, 224, 3, 16, dim, 12, heads, 4.0, 1000)


PRESETS: dict[str, ViTSpec] = {
    "deit_tiny": _deit("deit_tiny", 192, 3),
    "deit_small": _deit("deit_small", 384, 6),
    "deit_base": _deit("deit_base", 768, 12),
    # Trained on scikit-learn's 8x8 digits; checkpoint ships in quant/data/.
    "digits": ViTSpec("digits", 8, 1, 2, 64, 6, 4, 2.0, 10),
    # Fashion-MNIST at 28x28, patch 4: 49 patches + class token = 50 tokens (quant.fmnist).
    "fmnist": ViTSpec("fmnist", 28, 1, 4, 96, 6, 3, 2.0, 10),
}

_INT_KEYS = ("img_size", "in_chans", "patch_size", "embed_dim", "depth", "num_heads", "num_classes")
_YAML_KEYS = set(_INT_KEYS) | {"name", "mlp_ratio"}


def load_spec_yaml(path: str | Path) -> ViTSpec:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise SpecError(f"model spec file not found: {path}") from None
    except yaml.YAMLError as e:
        raise SpecError(f"{path}: not valid yaml ({e})") from None
    if not isinstance(data, dict):
        raise SpecError(f"{path}: expected a mapping of spec keys, got {type(data).__name__}")
    unknown = set(data) - _YAML_KEYS
    if unknown:
        raise SpecError(f"{path}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_YAML_KEYS)}")
    missing = (set(_INT_KEYS) | {"mlp_ratio"}) - set(data)
    if missing:
        raise SpecError(f"{path}: missing key(s) {sorted(missing)}")
    for key in _INT_KEYS:
        if not isinstance(data[key], int) or isinstance(data[key], bool):
            raise SpecError(f"{path}: key '{key}' must be an integer, got {data[key]!r}")
    if not isinstance(data["mlp_ratio"], (int, float)) or isinstance(data["mlp_ratio"], bool):
        raise SpecError(f"{path}: key 'mlp_ratio' must be a number, got {data['mlp_ratio']!r}")
    name = str(data.get("name", path.stem))
    try:
        return ViTSpec(name=name, mlp_ratio=float(data["mlp_ratio"]), **{k: data[k] for k in _INT_KEYS})
    except SpecError as e:
        raise SpecError(f"{path}: {e}") from None


def resolve_spec(model: "str | ViTSpec") -> ViTSpec:
    """A preset name or a path to a spec yaml (a ViTSpec is returned as it is)."""
    if isinstance(model, ViTSpec):
        return model
    if model in PRESETS:
        return PRESETS[model]
    if model.endswith((".yaml", ".yml")) or Path(model).exists():
        return load_spec_yaml(model)
    raise SpecError(f"unknown model '{model}': use one of {sorted(PRESETS)} or a spec .yaml file")


ACT_BITS_RANGE = range(2, 9)


def check_act_bits(bits: int) -> int:
    if not isinstance(bits, int) or bits not in ACT_BITS_RANGE:
        raise SpecError(f"activation bits must be an integer in 2..8, got {bits!r}")
    return bits


@dataclass(frozen=True)
class SelectorPlacement:
    """A token selector inserted before `block` (0-based) with a cumulative keep ratio target."""
    block: int
    keep_ratio: float


def default_selectors(depth: int) -> tuple[SelectorPlacement, ...]:
    """HeatViT's default: before the 4th, 7th and 10th of 12 blocks, keep 0.7, 0.49, 0.343 cumulative.

    Shallower or deeper models keep the same relative positions.
    """
    ratios = (0.7, 0.49, 0.343)
    blocks = [round(b * depth / 12) for b in (3, 6, 9)]
    out, seen = [], set()
    for b, r in zip(blocks, ratios):
        if 0 < b < depth and b not in seen:
            seen.add(b)
            out.append(SelectorPlacement(b, r))
    return tuple(out)
