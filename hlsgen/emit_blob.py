"""The weight blob: the byte image of DDR the accelerator's `weights` AXI master reads.

Sections follow the execution order and each starts on an AXI word boundary. Channel records:

  binary layer (K in, O out):  O x [ ceil(K/8) bytes of weight bits | int16 mult | bias ]
      bit k of the weight row is bit k%8 of byte k/8 (LSB first); 1 means +1, 0 means -1.
  int8 layer (K in, O out):    O x [ K int8 weights | int16 mult | bias | pos x int16 ]
      `pos` > 0 only for the patch embedding: the channel's pos-embed column (patch rows 1..N-1),
      added (saturating int16) to the requantized output.
  raw int16 row:               the class-token row of the patch embedding (cls + pos[0]), D x int16.

mult is the requantizer's signed 16-bit multiplier, bias its signed bias in `bias_bytes` bytes
(4 when every bias of the layer fits int32, else 6: the 48-bit DSP post-adder). All fields are
little endian. Tiles of PE channels are consecutive records, so one tile is one DMA burst.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hlsgen.emit_params import BIAS_LIMIT_BITS, EmitError, check_rq_range
from quant.intmodel import Requant


@dataclass(frozen=True)
class Section:
    name: str
    kind: str          # "binary", "int8" or "int16_row"
    offset: int
    nbytes: int
    K: int = 0
    O: int = 0
    bias_bytes: int = 0
    pos: int = 0

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "offset": self.offset, "bytes": self.nbytes, "K": self.K,
                "O": self.O, "bias_bytes": self.bias_bytes, "pos": self.pos}


def bias_bytes_for(bias: np.ndarray) -> int:
    b = np.asarray(bias, dtype=np.int64)
    peak = int(np.abs(b).max(initial=0))
    if peak < 1 << 31:
        return 4
    if peak < 1 << (BIAS_LIMIT_BITS - 1):
        return 6
    raise EmitError(f"requantizer bias {peak} exceeds the {BIAS_LIMIT_BITS}-bit DSP post-adder")


def _le(values: np.ndarray, nbytes: int) -> np.ndarray:
    """[O] signed ints -> [O, nbytes] little-endian two's-complement bytes."""
    v = np.asarray(values, dtype=np.int64).astype("<i8").view(np.uint8).reshape(-1, 8)
    return v[:, :nbytes]


def _rq_columns(rq: Requant, O: int, name: str) -> tuple[np.ndarray, int]:
    check_rq_range(rq, name)
    mult = np.broadcast_to(np.asarray(rq.mult, dtype=np.int64).ravel(), (O,)) if np.size(rq.mult) == 1 else \
        np.asarray(rq.mult, dtype=np.int64).ravel()
    bias = np.broadcast_to(np.asarray(rq.bias, dtype=np.int64).ravel(), (O,)) if np.size(rq.bias) == 1 else \
        np.asarray(rq.bias, dtype=np.int64).ravel()
    if mult.shape != (O,) or bias.shape != (O,):
        raise EmitError(f"{name}: requantizer has {mult.size} channels for {O} outputs")
    bb = bias_bytes_for(bias)
    return np.concatenate([_le(mult, 2), _le(bias, bb)], axis=1), bb


def pack_binary(weight: np.ndarray, rq: Requant, name: str = "binary") -> tuple[bytes, int]:
    """Binary records of weight [O, K] in {-1, +1}; returns (bytes, bias_bytes)."""
    w = np.asarray(weight)
    if not np.all(np.abs(w) == 1):
        raise EmitError(f"{name}: binary layer weights must be +-1")
    bits = np.packbits((w > 0).astype(np.uint8), axis=1, bitorder="little")
    rqc, bb = _rq_columns(rq, w.shape[0], name)
    return np.concatenate([bits, rqc], axis=1).tobytes(), bb


def pack_int8(weight: np.ndarray, rq: Requant, pos: np.ndarray | None = None, name: str = "int8") -> tuple[bytes, int]:
    """int8 records of weight [O, K] (codes in [-128, 127]); pos [O, P] int16 columns or None."""
    w = np.asarray(weight, dtype=np.int64)
    if w.min(initial=0) < -128 or w.max(initial=0) > 127:
        raise EmitError(f"{name}: int8 weights out of range")
    cols = [np.ascontiguousarray(w.astype(np.int8)).view(np.uint8)]
    rqc, bb = _rq_columns(rq, w.shape[0], name)
    cols.append(rqc)
    if pos is not None:
        p = np.asarray(pos, dtype=np.int64)
        if p.min(initial=0) < -(1 << 15) or p.max(initial=0) >= 1 << 15:
            raise EmitError(f"{name}: pos-embed values out of int16")
        cols.append(np.ascontiguousarray(p.astype("<i2")).view(np.uint8).reshape(w.shape[0], -1))
    return np.concatenate(cols, axis=1).tobytes(), bb


@dataclass
class Blob:
    """An append-only byte image with word-aligned sections."""
    word_bytes: int
    data: bytearray = field(default_factory=bytearray)
    sections: list[Section] = field(default_factory=list)

    def _align(self) -> None:
        pad = (-len(self.data)) % self.word_bytes
        self.data.extend(b"\0" * pad)

    def add(self, name: str, kind: str, payload: bytes, **meta) -> Section:
        self._align()
        sec = Section(name, kind, len(self.data), len(payload), **meta)
        self.data.extend(payload)
        self.sections.append(sec)
        return sec

    def add_binary(self, name: str, weight, rq: Requant) -> Section:
        payload, bb = pack_binary(weight, rq, name)
        O, K = np.shape(weight)
        return self.add(name, "binary", payload, K=K, O=O, bias_bytes=bb)

    def add_int8(self, name: str, weight, rq: Requant, pos=None) -> Section:
        payload, bb = pack_int8(weight, rq, pos, name)
        O, K = np.shape(weight)
        return self.add(name, "int8", payload, K=K, O=O, bias_bytes=bb, pos=0 if pos is None else np.shape(pos)[1])

    def add_int16_row(self, name: str, row) -> Section:
        r = np.asarray(row, dtype=np.int64)
        return self.add(name, "int16_row", r.astype("<i2").tobytes(), O=r.size)

    def finish(self) -> bytes:
        self._align()
        return bytes(self.data)

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(name)
