"""Fidelity of the integer golden model against the PyTorch float and fake-quant models.

Two references keep two errors apart: golden vs fake-quant is the error of integer arithmetic
(polynomials, requantizer rounding); fake-quant vs float is the error of quantization itself.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from quant import saturation
from quant.golden import run_golden_batch
from quant.intmodel import export_int_model
from quant.zoo import Prepared
from quant.paths import CACHE_ROOT

ACCURACY_CACHE = CACHE_ROOT / "accuracy"


@dataclass
class Agreement:
    top1_agreement: float
    max_abs_logit_err: float
    cosine: float


SATURATION_TOP = 5      # layers listed by evaluate (all of them are in --json)


def compare(logits: np.ndarray, ref: np.ndarray) -> Agreement:
    cos = (logits * ref).sum(1) / np.maximum(np.linalg.norm(logits, axis=1) * np.linalg.norm(ref, axis=1), 1e-12)
    return Agreement(float((logits.argmax(1) == ref.argmax(1)).mean()),
                     float(np.abs(logits - ref).max()), float(cos.mean()))


def _accuracy(logits: np.ndarray, labels) -> float | None:
    return None if labels is None else float((logits.argmax(1) == labels.numpy()).mean())


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@torch.no_grad()
def evaluate(p: Prepared, model_name: str, bits: int, pruned: bool) -> dict:
    t0 = time.time()
    float_logits = p.float(p.images).double().numpy()
    fq_logits_t, stats = p.quant.forward_with_stats(p.images)
    fq_logits = fq_logits_t.double().numpy()
    t1 = time.time()
    im = export_int_model(p.quant)
    t2 = time.time()
    with saturation.counting() as sat:
        codes, counts = run_golden_batch(im, p.images.numpy())
    golden = codes.astype(np.float64) * im.logit_scale
    t3 = time.time()
    _log(f"  float + fake-quant {t1 - t0:.1f}s, export {t2 - t1:.1f}s, golden {t3 - t2:.1f}s "
         f"({len(p.images)} images)")
    per_block = np.array(counts, dtype=float).mean(0) if counts and counts[0] else \
        np.full(p.spec.depth, p.spec.num_tokens, dtype=float)
    return {
        "model": model_name,
        "bits": bits,
        "pruned": pruned,
        "images": int(len(p.images)),
        "data": p.data or None,
        "calibration": p.calibration,
        "accuracy": _accuracy(golden, p.labels),
        "fakequant_accuracy": _accuracy(fq_logits, p.labels),
        "float_accuracy": _accuracy(float_logits, p.labels),
        "kept_tokens_mean": float(per_block.mean()),
        "tokens_per_block_mean": [round(float(v), 3) for v in per_block],
        "num_tokens": p.spec.num_tokens,
        "selectors": [{"block": s.block, "keep_ratio": s.keep_ratio} for s in p.quant.placements],
        "vs_float": asdict(compare(golden, float_logits)),
        "vs_fakequant": asdict(compare(golden, fq_logits)),
        "fakequant_vs_float": asdict(compare(fq_logits, float_logits)),
        "saturation": {"top": [{"layer": k, **v} for k, v in sat.top(SATURATION_TOP)],
                       "by_kind": sat.by_kind(), "by_layer": sat.by_layer()},
        "seconds": round(t3 - t0, 2),
    }


def cache_result(result: dict, spec, weights=None, cache_dir: Path | None = None) -> Path:
    """Measured accuracy for the explorer's choice rule (read back by hlsgen.dse), keyed by what it
    depends on (quant.accuracy_key): spec, weights content, bits, dense/pruned, data set."""
    from quant.accuracy_key import accuracy_path, default_data, weights_identity
    wid = weights_identity(spec.name, weights)
    data = result.get("data") or default_data(spec.name)
    path = accuracy_path(cache_dir or ACCURACY_CACHE, spec, result["bits"], result["pruned"], wid, data)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:        # a quick look at a few images does not replace a measurement on more of the same data
        if json.loads(path.read_text()).get("images", 0) > result["images"]:
            return path
    except (OSError, ValueError, AttributeError):
        pass
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**result, "weights": wid, "data": data}, indent=2, sort_keys=True) + "\n")
    tmp.replace(path)
    return path


def format_report(r: dict) -> str:
    from quant.accuracy_key import default_data

    def fmt(v):
        return "  n/a " if v is None else f"{v:.4f}"

    selectors = ", ".join(f"block {s['block']} keep {s['keep_ratio']}" for s in r["selectors"])
    lines = [
        f"model {r['model']}  |  {r['bits']}-bit activations, binary encoder weights"
        + (f"  |  selectors {selectors}" if r["pruned"] else ""),
        f"images: {r['images']} ({r.get('data') or default_data(Path(r['model']).stem)})",
        f"calibration: {r.get('calibration') or '-'}",
        "",
        f"{'':24}{'top-1 agree':>12}{'max |logit err|':>17}{'cosine':>9}",
    ]
    for label, key in (("golden vs float", "vs_float"), ("golden vs fake-quant", "vs_fakequant"),
                       ("fake-quant vs float", "fakequant_vs_float")):
        a = r[key]
        lines.append(f"{label:24}{a['top1_agreement']:>12.4f}{a['max_abs_logit_err']:>17.4f}{a['cosine']:>9.4f}")
    if r["accuracy"] is not None:
        lines += ["", f"accuracy: golden {fmt(r['accuracy'])}   fake-quant {fmt(r['fakequant_accuracy'])}   "
                      f"float {fmt(r['float_accuracy'])}"]
    if r["pruned"]:
        lines.append(f"tokens per block (mean): {' '.join(f'{v:.1f}' for v in r['tokens_per_block_mean'])}"
                     f"   (mean {r['kept_tokens_mean']:.2f} of {r['num_tokens']})")
    return "\n".join(lines + saturation_lines(r.get("saturation")))


def saturation_lines(sat: dict | None) -> list[str]:
    """The quantizers that clipped most (golden model), or that none did."""
    if not sat:
        return []
    total = sum(v["clipped"] for v in sat["by_kind"].values())
    if not total:
        return ["", "saturation: no quantizer clipped a value"]
    lines = ["", f"saturation: {total:,} values clipped; worst layers (clipped / values):"]
    lines += [f"  {t['layer']:24}{t['clipped']:>12,} / {t['values']:<12,}{t['rate']:>9.3%}" for t in sat["top"]]
    return lines
