"""Fake-quantization in PyTorch: the float-arithmetic twin of the integer golden model.

Rounding everywhere is round-half-up (floor(x + 0.5)), the rounding of the hardware's
requantizers, so fake-quant and golden differ only by integer arithmetic, not by convention.
Gradients pass straight through (STE) inside the clipping range.
"""
from __future__ import annotations

import math

import torch
from torch import nn


def round_half_up(x: torch.Tensor) -> torch.Tensor:
    return torch.floor(x + 0.5)


def ste(x: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Forward q, backward identity."""
    return x + (q - x).detach()


def quantize(x: torch.Tensor, scale: torch.Tensor | float, lo: int, hi: int) -> torch.Tensor:
    """Fake-quantize to integer codes in [lo, hi] times scale, with STE."""
    q = torch.clamp(round_half_up(x / scale), lo, hi) * scale
    return ste(x, q)


class ActQuant(nn.Module):
    """An activation quantization point: k-bit codes with a calibrated per-tensor scale.

    kind:
      "linear"  arbitrary scale from calibration (matmul inputs; the requantizer absorbs it);
      "pow2"    power-of-two scale (fixed-point input of a nonlinear unit: ap_fixed<bits, I>);
      "fixed"   scale given at construction (softmax probabilities: 2**-bits, unsigned).
    State: `scale` buffer; `bits` may be changed with set_bits (re-calibrate afterwards).
    Modes: off (identity), observe (collect samples for calibration), quant.
    """

    def __init__(self, kind: str = "linear", signed: bool = True, fixed_scale: float | None = None):
        super().__init__()
        assert kind in ("linear", "pow2", "fixed")
        self.kind, self.signed = kind, signed
        self.bits = 8
        self.mode = "off"
        self.fixed_scale = fixed_scale
        self.register_buffer("scale", torch.tensor(1.0))
        self._samples: list[torch.Tensor] = []
        self._max = 0.0

    def extra_repr(self) -> str:
        return f"kind={self.kind}, bits={self.bits}, signed={self.signed}, mode={self.mode}"

    @property
    def lo(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def int_bits(self) -> int:
        """For pow2 quantizers: the I of ap_fixed<bits, I>."""
        return self.bits + round(math.log2(float(self.scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "off":
            return x
        if self.mode == "observe":
            flat = x.detach().abs().flatten()
            self._max = max(self._max, float(flat.max()))
            if flat.numel() > 4096:
                idx = torch.randint(0, flat.numel(), (4096,), generator=_sample_gen)
                flat = flat[idx]
            self._samples.append(flat)
            return x
        return quantize(x, self.scale, self.lo, self.hi)

    def finish_calibration(self) -> None:
        if self.kind == "fixed":
            self.scale.fill_(self.fixed_scale if self.fixed_scale is not None else 2.0 ** -self.bits)
        elif self.kind == "pow2":
            # Smallest power-of-two range that holds the observed max: no clipping at all,
            # because nonlinear units (GELU, softmax) are sensitive to a clipped tail.
            # At least one integer bit (I >= 1): the units' fixed-point frames assume it.
            top = max(self._max, 1e-8)
            min_scale = 2.0 ** (1 - self.bits)
            self.scale.fill_(max(min_scale, 2.0 ** math.ceil(math.log2(top / self.hi))))
        else:
            self.scale.fill_(_mse_scale(torch.cat(self._samples) if self._samples else torch.ones(1),
                                        self._max, self.hi))
        self._samples, self._max = [], 0.0
        self.mode = "quant"


_sample_gen = torch.Generator().manual_seed(0)


def act_quants(module: nn.Module) -> list[ActQuant]:
    """Every activation quantization point inside module."""
    return [m for m in module.modules() if isinstance(m, ActQuant)]


def _mse_scale(absvals: torch.Tensor, vmax: float, levels: int) -> float:
    """Clip value minimising the quantization MSE over calibration samples (searched on a grid)."""
    vmax = max(vmax, 1e-8)
    if absvals.numel() > 16384:  # a subsample estimates the MSE well enough, and fast
        absvals = absvals[torch.randperm(absvals.numel(), generator=_sample_gen)[:16384]]
    scales = vmax * torch.linspace(0.3, 1.0, 36)[:, None] / levels          # [36, 1]
    q = torch.clamp(torch.floor(absvals[None] / scales + 0.5), 0, levels) * scales
    return float(scales[int(((q - absvals[None]) ** 2).mean(1).argmin())])


def binarize(w: torch.Tensor) -> torch.Tensor:
    """VAQF binary weights: sign(W) (0 -> +1) times one scale per output channel, mean |W|.

    STE with clipping: gradient flows where |W| <= 1.
    """
    alpha = w.abs().mean(dim=1, keepdim=True)
    b = torch.where(w >= 0, 1.0, -1.0) * alpha
    clipped = torch.clamp(w, -1.0, 1.0)
    return clipped + (b - clipped).detach()


def int8_weights(w: torch.Tensor) -> torch.Tensor:
    """Symmetric 8-bit weights, one scale per output channel (max |W| / 127)."""
    flat = w.flatten(1)
    scale = flat.abs().amax(dim=1).clamp_min(1e-12) / 127.0
    shape = (-1,) + (1,) * (w.dim() - 1)
    q = torch.clamp(round_half_up(w / scale.view(shape)), -127, 127) * scale.view(shape)
    return ste(w, q)


class QLinear(nn.Linear):
    """nn.Linear (same state-dict keys as timm) whose weight can be binarized or made 8-bit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.weight_mode = "float"  # float | binary | int8
        self._cached: tuple | None = None

    def quant_weight(self) -> torch.Tensor:
        if self.weight_mode == "float":
            return self.weight
        # Inference calls this once per image on pruned (per-image) paths: cache it until the
        # weight changes (in-place updates bump the tensor's version).
        key = (self.weight_mode, self.weight._version, self.weight.data_ptr())
        if not torch.is_grad_enabled() and self._cached is not None and self._cached[0] == key:
            return self._cached[1]
        q = binarize(self.weight) if self.weight_mode == "binary" else int8_weights(self.weight)
        if not torch.is_grad_enabled():
            self._cached = (key, q.detach())
        return q

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.quant_weight(), self.bias)
