"""Fit the per-lane constants of hlsgen/ops_resources.py to yosys synthesis of the RTL twin's units.

    python bench/calibration/fit.py [units.json] [--out fit.json]

Input: bench/calibration/units.json (bench/bench_synth.py). For every unit kind the model's formula
shape is kept and its constants are refitted by least squares (non-negative), e.g. softmax
LUT = L * (a k + b) + c. Prints, per unit and resource, the model's error before and after, and the
constants to write into ops_resources.py; writes them to fit.json. A constant is only worth changing
where the model is off by more than 25%: yosys is not Vivado (no DSP register / cascade absorption,
CARRY4 on xcup), so these are trends, not sign-off numbers.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))


def lsq(rows: list[list[float]], y: list[float]) -> np.ndarray:
    """Non-negative least squares by clipping and refitting the active set (tiny problems)."""
    A, b = np.asarray(rows, dtype=float), np.asarray(y, dtype=float)
    active = np.ones(A.shape[1], dtype=bool)
    for _ in range(A.shape[1]):
        x = np.zeros(A.shape[1])
        x[active] = np.linalg.lstsq(A[:, active], b, rcond=None)[0]
        if (x >= 0).all():
            return x
        active &= x > 0
    return np.clip(x, 0, None)


def err(pred, meas) -> float:
    """Mean absolute relative error."""
    p, m = np.asarray(pred, float), np.asarray(meas, float)
    return float(np.mean(np.abs(p - m) / np.maximum(m, 1)))


# unit kind -> (feature function of the record's config, formula text) per resource
def _features(rec):
    c, p = rec["config"], rec["params"]
    u = rec["unit"]
    if u == "binary_lanes":
        pe, simd, k = c["pe"], c["simd"], c["k"]
        acc = p["ACC_W"]
        lanes = pe * simd + simd
        return {"lut": ([lanes * k, lanes, pe * acc], "lanes (k a + b) + c pe acc  [binary_lut_per_lane = a k + b]"),
                "ff": ([lanes * k, lanes, pe * acc], "lanes (k a + b) + c pe acc")}
    if u == "dsp_lanes":
        pe, simd, k = c["pe"], c["simd"], c["k"]
        dsps = math.ceil(pe / 2) * simd
        return {"lut": ([dsps * k, dsps, pe], "dsps (a k + b) + c pe"), "ff": ([dsps * k, dsps, pe], "dsps (a k + b) + c pe")}
    if u == "requant":
        return {"lut": ([1], "a per lane"), "ff": ([1], "a per lane")}
    if u == "gelu_lane":
        k = c["k"]
        return {"lut": ([k, 1], "a k + b per lane"), "ff": ([k, 1], "a k + b per lane"), "dsp": ([1], "a per lane")}
    if u == "softmax":
        L, k = c["lanes"], c["k"]
        return {"lut": ([L * k, L, 1], "L (a k + b) + c"), "ff": ([L * k, L, 1], "L (a k + b) + c"),
                "dsp": ([L, 1], "a L + b")}
    if u == "layernorm":
        L = c["lanes"]
        return {"lut": ([L, 1], "a L + b"), "ff": ([L, 1], "a L + b"), "dsp": ([L, 1], "a L + b")}
    return {}


def fit(records: list[dict]) -> dict:
    out = {}
    for unit in sorted({r["unit"] for r in records}):
        recs = [r for r in records if r["unit"] == unit]
        res = {}
        for key in ("lut", "ff", "dsp"):
            feats = [_features(r).get(key) for r in recs]
            if not feats or feats[0] is None:
                continue
            X = [f[0] for f in feats]
            y = [r["synth"][key] for r in recs]
            coef = lsq(X, y)
            pred = np.asarray(X, float) @ coef
            res[key] = {"formula": feats[0][1], "coef": [round(float(v), 3) for v in coef],
                        "model_error": round(err([r["model"][key] for r in recs], y), 3),
                        "fitted_error": round(err(pred, y), 3),
                        "synth": y, "model": [r["model"][key] for r in recs]}
        out[unit] = res
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("units", nargs="?", default=str(HERE / "units.json"))
    ap.add_argument("--out", default=str(HERE / "fit.json"))
    args = ap.parse_args(argv)
    records = json.loads(Path(args.units).read_text())["records"]
    res = fit(records)
    print(f"{'unit':14s} {'res':4s} {'model err':>10s} {'fitted err':>11s}  formula = coefficients")
    for unit, r in res.items():
        for key, f in r.items():
            flag = "  <- recalibrate" if f["model_error"] > 0.25 else ""
            print(f"{unit:14s} {key:4s} {f['model_error']:10.0%} {f['fitted_error']:11.0%}  {f['formula']} = "
                  f"{f['coef']}{flag}")
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"-> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
