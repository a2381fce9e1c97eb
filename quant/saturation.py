"""Saturation counters for the golden model: how many values each quantizer clipped.

Off by default (no cost). `with counting() as sat:` around golden runs turns them on; every
`intops.saturate` then adds its clipped and total element counts to the layer named by the innermost
`with layer(name):` (the golden model's trace names, e.g. "blocks.3.fc1"). A clipped value is one
the integer datapath could not represent: a scale calibrated too small, an outlier channel.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Saturations:
    counts: dict[str, list[int]] = field(default_factory=dict)   # layer -> [clipped, total]

    def add(self, name: str, clipped: int, total: int) -> None:
        c = self.counts.setdefault(name, [0, 0])
        c[0] += clipped
        c[1] += total

    def by_layer(self) -> dict[str, dict]:
        return {k: {"clipped": c, "values": n, "rate": c / n if n else 0.0} for k, (c, n) in sorted(self.counts.items())}

    def by_kind(self) -> dict[str, dict]:
        """Summed over blocks: 'fc1' for every blocks.<i>.fc1, 'selector' for every selector..."""
        kinds = Saturations()
        for k, (c, n) in self.counts.items():
            kinds.add(re.sub(r"^blocks\.\d+\.", "", k), c, n)
        return kinds.by_layer()

    def top(self, n: int = 5) -> list[tuple[str, dict]]:
        rows = [(k, v) for k, v in self.by_layer().items() if v["clipped"]]
        return sorted(rows, key=lambda kv: (-kv[1]["rate"], kv[0]))[:n]


_active: Saturations | None = None
_layer = "?"


@contextmanager
def counting():
    global _active
    outer, _active = _active, Saturations()
    try:
        yield _active
    finally:
        _active = outer


@contextmanager
def layer(name: str):
    global _layer
    outer, _layer = _layer, name
    try:
        yield
    finally:
        _layer = outer


def record(x: np.ndarray, lo: int, hi: int) -> None:
    if _active is not None:
        _active.add(_layer, int(np.count_nonzero((x < lo) | (x > hi))), int(x.size))
