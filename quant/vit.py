"""A plain-PyTorch ViT/DeiT with timm's state-dict keys, plus VAQF fake-quantization points.

Keys match timm's `VisionTransformer` (patch_embed.proj, cls_token, pos_embed, blocks.{i}.norm1,
.attn.qkv, .attn.proj, .norm2, .mlp.fc1, .mlp.fc2, norm, head), so DeiT checkpoints load unchanged.
Quantization points (`*_q` modules) and token selectors add keys of their own, which a timm
checkpoint simply lacks (see quant.checkpoint).

Forward in float mode is exactly timm's (LayerNorm eps 1e-6, exact-erf GELU, softmax attention).
`set_quant(bits)` switches on the fake-quant points, `set_weight_mode` binarizes the encoder
linears (VAQF) and makes patch embedding / head 8-bit.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from quant.fakequant import ActQuant, QLinear, act_quants
from quant.ragged import same_length
from quant.selector import TokenSelector, fold_into_package
from quant.spec import SelectorPlacement, ViTSpec, check_act_bits

LN_EPS = 1e-6


class PatchEmbed(nn.Module):
    def __init__(self, spec: ViTSpec):
        super().__init__()
        self.proj = nn.Conv2d(spec.in_chans, spec.embed_dim, spec.patch_size, spec.patch_size)
        self.weight_mode = "float"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from quant.fakequant import int8_weights

        w = int8_weights(self.proj.weight) if self.weight_mode == "int8" else self.proj.weight
        x = nn.functional.conv2d(x, w, self.proj.bias, stride=self.proj.stride)
        return x.flatten(2).transpose(1, 2)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = QLinear(dim, dim * 3)
        self.proj = QLinear(dim, dim)
        self.q_q, self.k_q, self.v_q = ActQuant(), ActQuant(), ActQuant()
        self.score_q = ActQuant("pow2")            # softmax input, ap_fixed<2k, I>
        self.prob_q = ActQuant("fixed", signed=False)  # probabilities, unsigned k-bit, scale 2^-k
        self.av_q = ActQuant()                     # proj input

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = self.q_q(qkv[0]), self.k_q(qkv[1]), self.v_q(qkv[2])
        scores = self.score_q((q @ k.transpose(-2, -1)) * self.scale)
        if key_mask is not None:
            # Training with soft token removal: a pruned token is no key for anyone but itself.
            allowed = key_mask[:, None, None, :] | torch.eye(N, dtype=torch.bool, device=x.device)
            scores = scores.masked_fill(~allowed, float("-inf"))
        attn = self.prob_q(scores.softmax(dim=-1))
        out = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(self.av_q(out))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = QLinear(dim, hidden)
        self.fc2 = QLinear(hidden, dim)
        self.gelu_in_q = ActQuant("pow2")   # ap_fixed<2k, I> into the GELU unit
        self.gelu_out_q = ActQuant()        # fc2 input

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.gelu_in_q(self.fc1(x))
        return self.fc2(self.gelu_out_q(nn.functional.gelu(h)))


class Block(nn.Module):
    def __init__(self, spec: ViTSpec):
        super().__init__()
        d = spec.embed_dim
        self.norm1 = nn.LayerNorm(d, eps=LN_EPS)
        self.attn = Attention(d, spec.num_heads)
        self.norm2 = nn.LayerNorm(d, eps=LN_EPS)
        self.mlp = Mlp(d, spec.mlp_dim)
        self.ln1_q, self.ln2_q = ActQuant(), ActQuant()

    def forward(self, x: torch.Tensor, res_q: ActQuant, key_mask=None) -> torch.Tensor:
        x = res_q(x + res_q(self.attn(self.ln1_q(self.norm1(x)), key_mask)))
        return res_q(x + res_q(self.mlp(self.ln2_q(self.norm2(x)))))


class VisionTransformer(nn.Module):
    def __init__(self, spec: ViTSpec, selectors: tuple[SelectorPlacement, ...] = ()):
        super().__init__()
        self.spec = spec
        d = spec.embed_dim
        self.patch_embed = PatchEmbed(spec)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, spec.num_tokens, d))
        self.blocks = nn.ModuleList(Block(spec) for _ in range(spec.depth))
        self.norm = nn.LayerNorm(d, eps=LN_EPS)
        self.head = QLinear(d, spec.num_classes)
        self.in_q = ActQuant()    # input pixels, 8-bit
        self.res_q = ActQuant()   # residual stream, 16-bit, one scale for the whole model
        self.norm_q = ActQuant()  # head input
        self.logit_q = ActQuant()  # logits, 16-bit: one common scale for all classes
        self.selectors = nn.ModuleDict()
        self.placements: list[SelectorPlacement] = []
        self.act_bits: int | None = None
        for p in selectors:
            self.add_selector(p)
        self._init_weights()

    # ---- construction -------------------------------------------------------------------
    def _init_weights(self) -> None:
        """timm's init: trunc-normal(0.02) linears, zero biases, unit LayerNorms."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def add_selector(self, placement: SelectorPlacement) -> TokenSelector:
        if not 0 < placement.block < self.spec.depth:
            raise ValueError(f"selector block {placement.block} out of range 1..{self.spec.depth - 1}")
        sel = TokenSelector(self.spec.embed_dim, self.spec.num_heads)
        self.selectors[str(placement.block)] = sel
        self.placements = sorted([*self.placements, placement], key=lambda p: p.block)
        if self.act_bits is not None:
            sel.set_bits(self.act_bits)
            for q in act_quants(sel):
                q.mode = "observe"  # until the next calibrate()
        if self.blocks[0].attn.qkv.weight_mode == "binary":
            sel.set_weight_mode("int8")
        return sel

    # ---- quantization switches ----------------------------------------------------------
    def act_quants(self) -> list[ActQuant]:
        return act_quants(self)

    def set_quant(self, bits: int | None) -> None:
        """bits=None: float activations. Otherwise k-bit activations (k in 2..8); call calibrate()."""
        self.act_bits = None if bits is None else check_act_bits(bits)
        for q in self.act_quants():
            q.mode = "off"
        if bits is None:
            return
        for blk in self.blocks:
            for q in (blk.ln1_q, blk.ln2_q, blk.attn.q_q, blk.attn.k_q, blk.attn.v_q, blk.attn.av_q,
                      blk.mlp.gelu_out_q, blk.attn.prob_q):
                q.bits = bits
            blk.attn.score_q.bits = blk.mlp.gelu_in_q.bits = 2 * bits
        self.in_q.bits = 8
        self.res_q.bits = 16
        self.norm_q.bits = bits
        self.logit_q.bits = 16
        for sel in self.selectors.values():
            sel.set_bits(bits)

    def set_weight_mode(self, binary: bool) -> None:
        """VAQF: encoder linears binary; patch embedding, head and selectors 8-bit."""
        for blk in self.blocks:
            for lin in (blk.attn.qkv, blk.attn.proj, blk.mlp.fc1, blk.mlp.fc2):
                lin.weight_mode = "binary" if binary else "float"
        mode8 = "int8" if binary else "float"
        self.patch_embed.weight_mode = self.head.weight_mode = mode8
        for sel in self.selectors.values():
            sel.set_weight_mode(mode8)

    @torch.no_grad()
    def calibrate(self, images: torch.Tensor, batch: int = 64, masked: bool = False,
                  only: list[ActQuant] | None = None) -> None:
        """Observe activations on sample images, then fix every scale (or only those of `only`:
        the others keep the scales the weights were trained with).

        masked=True observes the batched training path (token masks instead of removal): the
        same selector logits, much faster than per-image removal; used between training epochs.
        """
        assert self.act_bits is not None, "set_quant(bits) first"
        was_training = self.training
        self.train(masked and bool(self.selectors))
        observed = self.act_quants() if only is None else only
        for q in observed:
            q.mode = "observe"
        for i in range(0, len(images), batch):
            self(images[i:i + batch])
        for q in observed:
            q.finish_calibration()
        self.train(was_training)

    # ---- forward ------------------------------------------------------------------------
    def embed(self, img: torch.Tensor) -> torch.Tensor:
        x = self.res_q(self.patch_embed(self.in_q(img)))
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return self.res_q(torch.cat([cls, x], dim=1) + self.res_q(self.pos_embed))

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        return self.logit_q(self.head(self.norm_q(self.norm(x[:, 0]))))

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.forward_with_stats(img)[0]

    def forward_with_stats(self, img: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Logits and token statistics. Training uses masks; eval removes tokens for real."""
        if self.selectors and self.training:
            return self._forward_masked(self.embed(img))
        if self.selectors:
            return self._forward_hard(img)
        x = self.embed(img)
        for blk in self.blocks:
            x = blk(x, self.res_q)
        return self.classify(x), {}

    def _forward_hard(self, img: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Eval with real token removal. Each image keeps its own tokens, so after a selector the
        batch is ragged: images with the same token count run each block together."""
        xs = list(self.embed(img).unbind(0))               # one [N, D] token list per image
        counts: list[list[int]] = [[] for _ in xs]
        for i, blk in enumerate(self.blocks):
            if str(i) in self.selectors:
                sel = self.selectors[str(i)]
                for idx in same_length(xs):
                    group = torch.stack([xs[j] for j in idx])
                    for j, x, sc in zip(idx, group, sel(group[:, 1:])):
                        xs[j] = self._select_one(sel, x, sc)
                for c, x in zip(counts, xs):
                    c.append(x.shape[0])
            for idx in same_length(xs):
                for j, y in zip(idx, blk(torch.stack([xs[j] for j in idx]), self.res_q).unbind(0)):
                    xs[j] = y
        return self.classify(torch.stack([x[:1] for x in xs])), {"tokens_per_block": counts}

    def _select_one(self, sel: TokenSelector, x: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        """Hard selection for one image x [N, D] with its tokens' scores [N - 1]: keep tokens with
        score > 0, fold the rest into the package token."""
        keep = scores > 0
        if bool(keep.all()):
            return x
        pkg = fold_into_package(sel, x[1:][~keep], scores[~keep], self.res_q)
        return torch.cat([x[:1], x[1:][keep], pkg[None]], dim=0)

    def _forward_masked(self, x: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Training: tokens stay in place, a mask removes them from attention; package tokens
        are appended (present only when something was pruned)."""
        B = x.shape[0]
        mask = torch.ones(B, x.shape[1], dtype=x.dtype, device=x.device)  # 1 = token alive
        n_patches = self.spec.num_patches
        ratios = []
        for i, blk in enumerate(self.blocks):
            if str(i) in self.selectors:
                sel = self.selectors[str(i)]
                scores = sel(x[:, 1:], mask[:, 1:])
                keep = sel.sample_keep(scores) * mask[:, 1:]
                pruned = mask[:, 1:] - keep
                w = sel.package_weights(scores, pruned)
                pkg = (w[..., None] * x[:, 1:]).sum(1, keepdim=True)
                present = (pruned.sum(1, keepdim=True) > 0).to(x.dtype)
                x = torch.cat([x, self.res_q(pkg)], dim=1)
                mask = torch.cat([mask[:, :1], keep, present], dim=1)
                ratios.append(keep[:, :n_patches].sum(1) / n_patches)
            x = blk(x, self.res_q, key_mask=mask > 0.5)
        return self.classify(x), {"keep_ratios": ratios}


def build_vit(spec: ViTSpec, selectors: tuple[SelectorPlacement, ...] = (), seed: int = 0) -> VisionTransformer:
    """A ViT with a seeded initialisation (the weights a user gets without a checkpoint)."""
    g = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        return VisionTransformer(spec, selectors)
    finally:
        torch.random.set_rng_state(g)


def attention_scale(head_dim: int) -> float:
    return 1.0 / math.sqrt(head_dim)
