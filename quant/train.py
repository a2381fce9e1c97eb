"""Training entry points for the digits model: float training, VAQF progressive QAT,
and HeatViT latency-aware multi-stage selector training. All run on the CPU in minutes.

Determinism: every run seeds its own generator; the same command gives the same checkpoint
on the same machine (torch CPU kernels are deterministic for these ops).
"""
from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import torch
from torch import nn

from quant.digits import Split, augment
from quant.spec import SelectorPlacement
from quant.vit import VisionTransformer


CALIB_SUBSET = 256


@dataclass
class TrainConfig:
    epochs: int
    lr: float
    batch: int = 64
    weight_decay: float = 0.05
    keep_loss_weight: float = 5.0
    selector_lr_mult: float = 20.0
    seed: int = 0


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@torch.no_grad()
def accuracy(model: VisionTransformer, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float((model(x).argmax(1) == y).float().mean())


def fit(model: VisionTransformer, data: Split, cfg: TrainConfig, label: str,
        keep_targets: list[float] | None = None, measure_test: bool = True) -> float | None:
    """AdamW with cosine decay; optional keep-ratio loss pulling each selector to its target.
    Returns the test accuracy at the end (None with measure_test=False: a stage measured later)."""
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    # Selectors learn from scratch on top of a trained backbone: give them a larger step.
    sel_params = [p for p in model.selectors.parameters() if p.requires_grad]
    sel_ids = {id(p) for p in sel_params}
    rest = [p for p in model.parameters() if id(p) not in sel_ids and p.requires_grad]
    groups = [{"params": rest, "lr": cfg.lr}]
    if sel_params:
        groups.append({"params": sel_params, "lr": cfg.lr * cfg.selector_lr_mult})
    opt = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    n = len(data.x_train)
    steps = cfg.epochs * math.ceil(n / cfg.batch)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s / steps, 1.0))))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    t0 = time.time()
    for epoch in range(cfg.epochs):
        model.train()
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, cfg.batch):
            idx = perm[i:i + cfg.batch]
            logits, stats = model.forward_with_stats(augment(data.x_train[idx], gen))
            loss = loss_fn(logits, data.y_train[idx])
            if keep_targets:
                ratios = stats["keep_ratios"]
                loss = loss + cfg.keep_loss_weight * sum(
                    (r.mean() - t) ** 2 for r, t in zip(ratios, keep_targets))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        if model.act_bits is not None and keep_targets:
            # Selector logits grow while training; scales fixed at insertion would clip them, and a
            # later calibration would then change the keep decisions. Track them every epoch.
            model.calibrate(data.x_train[:CALIB_SUBSET], masked=True)
        # a line per epoch; the (slower) test accuracy five times per run
        measure = (epoch + 1) % max(1, cfg.epochs // 5) == 0 or epoch + 1 == cfg.epochs
        # With selectors, inference runs image by image: measure accuracy at the end only.
        last = epoch + 1 == cfg.epochs
        acc = (accuracy(model, data.x_test, data.y_test)
               if measure_test and measure and (last or not keep_targets) else None)
        keep = ""
        if keep_targets:
            keep = "  keep " + " ".join(f"{r.mean().item():.2f}" for r in stats["keep_ratios"])
        _log(f"  [{label}] epoch {epoch + 1}/{cfg.epochs}  loss {loss.item():.3f}"
             + (f"  test acc {acc:.4f}" if acc is not None else "") + f"{keep}  ({time.time() - t0:.0f}s)")
    return acc


def train_float(model: VisionTransformer, data: Split, epochs: int = 120) -> float:
    return fit(model, data, TrainConfig(epochs=epochs, lr=5e-4), "float")


def quantization_aware(model: VisionTransformer, data: Split, bits: int, epochs: int = 30,
                       final_calibration: bool = True) -> float:
    """VAQF progressive QAT: k-bit activations first (float weights), then binary weights.
    final_calibration=False keeps the scales the binary weights were trained with (a fresh
    calibration of the finished weights cost fmnist a point at 8 bits)."""
    model.set_quant(bits)
    model.calibrate(data.x_train)
    fit(model, data, TrainConfig(epochs=epochs // 3, lr=3e-4), f"{bits}-bit act")
    model.set_weight_mode(binary=True)
    model.calibrate(data.x_train)
    fit(model, data, TrainConfig(epochs=epochs, lr=1e-3, seed=1), f"{bits}-bit act + binary W")
    if final_calibration:
        model.calibrate(data.x_train)  # final scales for the weights the model ended with
    return accuracy(model, data.x_test, data.y_test)


def train_selectors(model: VisionTransformer, data: Split, placements: tuple[SelectorPlacement, ...],
                    epochs_per_stage: int = 15) -> float:
    """HeatViT multi-stage: insert selectors one by one (shallow first), each stage fine-tuning
    the backbone and the new selector with a loss pulling every cumulative keep ratio to its target."""
    targets: list[float] = []
    ordered = sorted(placements, key=lambda p: p.block)
    for stage, p in enumerate(ordered):
        # Earlier selectors are frozen: trained jointly, the classification loss drives them to
        # keep every token (their Gumbel-sigmoid saturates and stops learning) while the later
        # ones overshoot their targets.
        for sel in model.selectors.values():
            sel.requires_grad_(False)
        model.add_selector(p)
        targets.append(p.keep_ratio)
        if model.act_bits is not None:
            model.calibrate(data.x_train[:CALIB_SUBSET], masked=True)
        # the test accuracy of the finished model only (image-by-image token removal is slow)
        fit(model, data, TrainConfig(epochs=epochs_per_stage, lr=5e-4, seed=10 + stage),
            f"selector stage {stage + 1} (block {p.block}, keep {p.keep_ratio})", keep_targets=targets,
            measure_test=False)
    if model.act_bits is not None:
        model.calibrate(data.x_train)
    return accuracy(model, data.x_test, data.y_test)


def finetune_with_selectors(model: VisionTransformer, data: Split, epochs: int, lr: float = 1e-4) -> None:
    """After keep-rate calibration: the backbone learns the calibrated selectors' decisions.
    Selectors are frozen and decide as at inference (score > 0, no Gumbel noise); activation
    scales stay fixed (the backbone adapts to them)."""
    for sel in model.selectors.values():
        sel.requires_grad_(False)
        sel.deterministic = True
    try:
        fit(model, data, TrainConfig(epochs=epochs, lr=lr, seed=20), "backbone with calibrated selectors",
            measure_test=False)
    finally:
        for sel in model.selectors.values():
            sel.deterministic = False
