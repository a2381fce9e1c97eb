"""Helpers shared by the cocotb testbenches: test data, clock, lane packing, falling-edge driving.

Driving convention: inputs are written and outputs sampled on the FALLING clock edge, so every value
written is seen by the next rising edge and every registered output read is settled.
"""
from __future__ import annotations

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge


def tb_data() -> dict:
    path = os.environ.get("HLSGEN_TB_DATA")
    if not path:
        return {}
    with open(path) as fh:
        return json.load(fh)


def tb_write(out: dict) -> None:
    path = os.environ.get("HLSGEN_TB_OUT")
    if path:
        with open(path, "w") as fh:
            json.dump(out, fh)


def start_clock(dut, period_ns: int = 10):
    cocotb.start_soon(Clock(dut.clk, period_ns, unit="ns").start())


def pack(values, width: int) -> int:
    """Lane i of `width` bits holds values[i] (two's complement); lane 0 in the low bits."""
    mask = (1 << width) - 1
    out = 0
    for i, v in enumerate(values):
        out |= (int(v) & mask) << (i * width)
    return out


def unpack(word: int, width: int, lanes: int, signed: bool = True) -> list[int]:
    mask = (1 << width) - 1
    out = []
    for i in range(lanes):
        v = (word >> (i * width)) & mask
        if signed and v >> (width - 1):
            v -= 1 << width
        out.append(v)
    return out


def to_signed(v: int, width: int) -> int:
    v &= (1 << width) - 1
    return v - (1 << width) if v >> (width - 1) else v


def uint(sig) -> int:
    v = sig.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


async def falling(dut, n: int = 1):
    for _ in range(n):
        await FallingEdge(dut.clk)


async def stream(dut, beats: list[dict], outputs: tuple[str, ...], valid_in: str = "in_valid",
                 valid_out: str = "out_valid", drain: int = 64, ready: str | None = None) -> list[dict]:
    """Feed one beat (signal name -> int) per cycle with valid_in high, then idle; return the output
    signals (as unsigned ints) of every cycle valid_out was high, in order. With `ready`, a beat is
    only taken in cycles the DUT's ready output is high (sampled on the falling edge)."""
    got: list[dict] = []
    vin, vout = getattr(dut, valid_in), getattr(dut, valid_out)
    sigs = {name: getattr(dut, name) for name in outputs}
    handles: dict = {}
    rdy = getattr(dut, ready) if ready else None
    idle = gap = 0
    i = 0
    while i < len(beats) or idle < drain:
        await FallingEdge(dut.clk)
        if int(vout.value):
            got.append({n: uint(s) for n, s in sigs.items()})
            idle = 0
        if rdy is not None and i < len(beats) and not int(rdy.value):
            vin.value = 0
            continue
        if i < len(beats) and beats[i].get("_gap", 0) > gap:
            gap += 1                       # idle cycles before this beat (e.g. to drain a pipeline)
            vin.value = 0
            continue
        gap = 0
        if i < len(beats):
            for name, v in beats[i].items():
                if name == "_gap":
                    continue
                h = handles.get(name)
                if h is None:
                    h = handles[name] = getattr(dut, name)
                h.value = int(v)
            vin.value = 1
            i += 1
        else:
            vin.value = 0
            idle += 1
    return got
