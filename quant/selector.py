"""HeatViT's attention-based multi-head token selector, in a form the hardware engines can run.

For the n non-class tokens x (n x D), split in H heads of d = D/H channels:
  y        = LayerNorm(x)                                   -> k-bit
  local_h  = GELU(W1_h y_h + b1_h)                          (d -> d/2, per head) -> k-bit
  global_h = mean over alive tokens of local_h              -> k-bit, same scale as local
  z_h      = W2_h [local_h ; global_h] + b2_h               (d -> 1): keep-minus-prune logit of head h
  g        = softmax(Wg mean(y) + bg)                       head importance, H weights
  score    = sum_h g_h z_h;  keep a token iff score > 0
Training samples the keep decision with a hard Gumbel-sigmoid (straight-through); inference
compares the score with zero. Pruned tokens are folded into one package token, a weighted
average whose weights are a softmax of their scores (the softmax unit reused). All linears
here use 8-bit weights on the 8-bit engine; activations are k-bit like the encoder.
"""
from __future__ import annotations

import torch
from torch import nn

from quant.fakequant import ActQuant, QLinear, int8_weights

LN_EPS = 1e-6


class GroupedLinear(nn.Module):
    """H independent linears (block-diagonal), weight [H, out, in], bias [H, out]."""

    def __init__(self, groups: int, fan_in: int, fan_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(groups, fan_out, fan_in))
        self.bias = nn.Parameter(torch.zeros(groups, fan_out))
        nn.init.trunc_normal_(self.weight, std=0.02)
        self.weight_mode = "float"

    def quant_weight(self) -> torch.Tensor:
        if self.weight_mode != "int8":
            return self.weight
        g, o, i = self.weight.shape
        return int8_weights(self.weight.reshape(g * o, i)).reshape(g, o, i)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x [..., H, in] -> [..., H, out]"""
        return torch.einsum("...hi,hoi->...ho", x, self.quant_weight()) + self.bias


class TokenSelector(nn.Module):
    def __init__(self, dim: int, heads: int, tau: float = 1.0):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        hidden = max(self.head_dim // 2, 1)
        self.tau = tau
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.local = GroupedLinear(heads, self.head_dim, hidden)
        self.score = GroupedLinear(heads, 2 * hidden, 1)
        self.gate = QLinear(dim, heads)
        nn.init.trunc_normal_(self.gate.weight, std=0.02)
        nn.init.zeros_(self.gate.bias)
        # Bias the first decisions towards keeping, so a fresh selector starts near identity.
        nn.init.constant_(self.score.bias, 0.5)
        # True once the selector is trained and calibrated: training then decides exactly as
        # inference does (score > 0, no Gumbel noise), so the backbone adapts to those decisions.
        self.deterministic = False
        self.norm_q = ActQuant()                         # LN output, k-bit
        self.local_in_q = ActQuant("pow2")               # GELU input, ap_fixed<2k, I>
        # Local features and their mean share one k-bit scale, so the scoring linear sees one input.
        self.local_q = ActQuant()
        self.mean_q = ActQuant()                         # mean token into the gate, k-bit
        self.z_q = ActQuant("pow2")                      # per-head logits, ap_fixed<2k, I>
        self.gate_in_q = ActQuant("pow2")                # head-gate softmax input
        self.gate_p_q = ActQuant("fixed", signed=False)  # head weights, unsigned k-bit
        self.pkg_in_q = ActQuant("pow2")                 # package softmax input
        self.pkg_p_q = ActQuant("fixed", signed=False)   # package weights, unsigned k-bit

    def set_bits(self, bits: int) -> None:
        for q in (self.norm_q, self.local_q, self.mean_q, self.gate_p_q, self.pkg_p_q):
            q.bits = bits
        for q in (self.local_in_q, self.z_q, self.gate_in_q, self.pkg_in_q):
            q.bits = 2 * bits

    def set_weight_mode(self, mode: str) -> None:
        self.local.weight_mode = self.score.weight_mode = self.gate.weight_mode = mode

    def forward(self, x: torch.Tensor, alive: torch.Tensor | None = None) -> torch.Tensor:
        """Scores [B, n] for tokens x [B, n, D]; `alive` [B, n] masks tokens already pruned."""
        B, n, D = x.shape
        if alive is None:
            alive = torch.ones(B, n, dtype=x.dtype, device=x.device)
        y = self.norm_q(self.norm(x))
        yh = y.reshape(B, n, self.heads, self.head_dim)
        local = self.local_q(nn.functional.gelu(self.local_in_q(self.local(yh))))   # [B,n,H,h]
        w = alive[..., None, None]
        count = w.sum(1).clamp_min(1.0)
        glob = self.local_q((local * w).sum(1) / count)                           # [B,H,h]
        feats = torch.cat([local, glob[:, None].expand_as(local)], dim=-1)
        z = self.z_q(self.score(feats)[..., 0])                                      # [B,n,H]
        mean_tok = self.mean_q((y * alive[..., None]).sum(1) / count[:, 0])         # [B,D]
        g = self.gate_p_q(torch.softmax(self.gate_in_q(self.gate(mean_tok)), dim=-1))  # [B,H]
        return (z * g[:, None, :]).sum(-1)

    def sample_keep(self, scores: torch.Tensor) -> torch.Tensor:
        """Hard Gumbel-sigmoid keep decisions with straight-through gradients."""
        if self.deterministic:
            soft = torch.sigmoid(scores / self.tau)
            return (scores > 0).to(scores.dtype) + soft - soft.detach()
        u1, u2 = torch.rand_like(scores).clamp(1e-9, 1.0), torch.rand_like(scores).clamp(1e-9, 1.0)
        noise = torch.log(torch.log(u2) / torch.log(u1))  # g1 - g2 of two Gumbel samples
        soft = torch.sigmoid((scores + noise) / self.tau)
        hard = (soft > 0.5).to(scores.dtype)
        return hard + soft - soft.detach()

    def package_weights(self, scores: torch.Tensor, pruned: torch.Tensor) -> torch.Tensor:
        """Softmax over the pruned tokens' scores (zero weight elsewhere). [B, n]"""
        s = self.pkg_in_q(scores).masked_fill(pruned <= 0, float("-inf"))
        w = torch.nan_to_num(torch.softmax(s, dim=1), nan=0.0)
        return self.pkg_p_q(w) * pruned


def fold_into_package(sel: TokenSelector, pruned_x: torch.Tensor, pruned_scores: torch.Tensor,
                      res_q: ActQuant) -> torch.Tensor:
    """One image: the package token [D] from pruned tokens [m, D] and their scores [m]."""
    w = sel.package_weights(pruned_scores[None], torch.ones_like(pruned_scores)[None])[0]
    return res_q((w[:, None] * pruned_x).sum(0))
