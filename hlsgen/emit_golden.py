"""Test vectors of a generated project: input images and golden outputs, in compact binary files.

data/inputs.bin   b"HLSIMG01", u32 images, u32 bytes per image, then per image the int8 pixel
                  codes in (channel, row, column) order: exactly the bytes the accelerator's
                  `image` AXI master reads.
data/golden.bin   b"HLSGOLD1", u32 images, u32 layers, u32 classes, u32 depth, then per image:
                  int16 logits[classes], uint16 tokens[depth] (tokens each block ran on), and per
                  trace layer (the testbench's layer table order): u32 d0, d1, d2 (the golden
                  array's shape, padded on the left with 1s), u64 checksum, u32 full, then, if
                  full, the d0*d1*d2 values in the layer's storage type (int8 / uint8 / int16 /
                  int32, little endian, row major).
All integers little endian. The checksum of a layer is sum_i uint64(v_i) * mix(i) mod 2**64,
mix = splitmix64 of the flat index: order independent, so the testbench accumulates it as taps
arrive. Full values are stored in execution order (image 0 first) until the trace budget is
used up; later layers carry only the checksum (a mismatch there still names the layer).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from quant import golden
from quant.intmodel import IntModel
from quant.progress import progress

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_DT = {"b": "<i1", "B": "<u1", "h": "<i2", "i": "<i4"}


def splitmix64(i: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = np.asarray(i, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


@lru_cache(maxsize=4)
def _mix(n: int) -> np.ndarray:
    return splitmix64(np.arange(n, dtype=np.uint64))


def checksum(values: np.ndarray) -> int:
    v = np.asarray(values, dtype=np.int64).ravel().view(np.uint64)
    size = 1 << max(10, int(v.size - 1).bit_length())   # cache a power-of-two prefix
    with np.errstate(over="ignore"):
        return int(np.sum(v * _mix(size)[:v.size], dtype=np.uint64))


def shape3(a: np.ndarray) -> tuple[int, int, int]:
    s = (1, 1, 1) + tuple(np.shape(a))
    return tuple(int(x) for x in s[-3:])  # type: ignore[return-value]


def golden_trace(im: IntModel, pixels: np.ndarray) -> golden.GoldenResult:
    """run_golden with the trace, plus each selector's scores (blocks.{b}.selector.scores)."""
    r = golden.run_golden(im, pixels, keep_trace=True)
    for b, sel in im.selectors.items():
        x_in = r.trace[f"blocks.{b - 1}.residual2"]
        r.trace[f"blocks.{b}.selector.scores"] = golden.selector_scores(x_in[1:], sel)
    return r


@dataclass
class GoldenStats:
    images: int
    full_layers: int
    hashed_layers: int
    bytes: int
    tokens: list[list[int]]


def inputs_bytes(codes: np.ndarray) -> bytes:
    codes = np.asarray(codes, dtype=np.int64)
    n = codes.shape[0]
    per = int(np.prod(codes.shape[1:]))
    if codes.min(initial=0) < -128 or codes.max(initial=0) > 127:
        raise ValueError("input codes out of int8")
    return b"HLSIMG01" + struct.pack("<II", n, per) + codes.astype(np.int8).tobytes()


def golden_bytes(im: IntModel, codes: np.ndarray, layers, budget_bytes: int) -> tuple[bytes, GoldenStats]:
    s = im.spec
    out = [b"HLSGOLD1", struct.pack("<IIII", len(codes), len(layers), s.num_classes, s.depth)]
    left, full_n, hashed_n, tokens = budget_bytes, 0, 0, []
    exhausted = False
    for pixels in progress(codes, desc="golden trace"):
        r = golden_trace(im, pixels)
        tokens.append([int(t) for t in r.tokens_per_block])
        out.append(np.asarray(r.logits, dtype=np.int64).astype("<i2").tobytes())
        out.append(np.asarray(r.tokens_per_block, dtype=np.int64).astype("<u2").tobytes())
        for layer in layers:
            a = np.asarray(r.trace[layer.name], dtype=np.int64)
            info = np.iinfo(np.dtype(_DT[layer.dtype]))
            if a.size and (a.min() < info.min or a.max() > info.max):
                raise ValueError(f"golden layer {layer.name}: values outside its storage type {_DT[layer.dtype]}")
            nbytes = a.size * layer.nbytes
            full = not exhausted and nbytes <= left
            if not full:
                exhausted = True
            out.append(struct.pack("<IIIQI", *shape3(a), checksum(a), int(full)))
            if full:
                out.append(a.astype(_DT[layer.dtype]).tobytes())
                left -= nbytes
                full_n += 1
            else:
                hashed_n += 1
    data = b"".join(out)
    return data, GoldenStats(len(codes), full_n, hashed_n, len(data), tokens)
