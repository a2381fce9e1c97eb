"""Generic streaming testbench: one input beat per cycle, outputs compared in order, bit-exact.

Data: beats [list of {port: int}], outputs [port names], want [list of {port: int | [lane ints]}]
(golden values computed by the caller from quant's golden functions), widths {port: bits},
signed {port: bool}; optional: roms [{addr: port, data: {port: [word per address]}}] (synchronous-read
memories: the word of the address seen in one cycle is driven in the next), lanes {port: [lane width, lanes]} to compare a packed word lane by
lane, ready (name of the DUT's ready output), reset (pulse rst first), valid_in / valid_out names.
Reports the first mismatch with its output index.
"""
import cocotb
from cocotb.triggers import FallingEdge

from sim.cocotb_tests.tbutil import falling, start_clock, stream, tb_data, tb_write, to_signed, uint, unpack


def _decode(v: int, name: str, d: dict):
    sgn = bool(d["signed"].get(name))
    if name in d.get("lanes", {}):
        lw, n = d["lanes"][name]
        return unpack(v, lw, n, sgn)
    return to_signed(v, d["widths"][name]) if sgn else v


async def rom(dut, spec: dict):
    addr = getattr(dut, spec["addr"])
    ports = {name: (getattr(dut, name), words) for name, words in spec["data"].items()}
    pending = None
    while True:
        await FallingEdge(dut.clk)
        if pending is not None:
            for h, words in ports.values():
                h.value = int(words[pending]) if pending < len(words) else 0
        pending = uint(addr)


@cocotb.test()
async def stream_bit_exact(dut):
    d = tb_data()
    start_clock(dut)
    if d.get("reset"):
        dut.rst.value = 1
        await falling(dut, 3)
        dut.rst.value = 0
    for spec in d.get("roms", []):
        cocotb.start_soon(rom(dut, spec))
    outs = tuple(d["outputs"])
    got = await stream(dut, d["beats"], outs, d.get("valid_in", "in_valid"), d.get("valid_out", "out_valid"),
                       drain=d.get("drain", 64), ready=d.get("ready"))
    want = d["want"]
    assert len(got) == len(want), f"{len(got)} outputs for {len(want)} expected"
    for i, (g, w) in enumerate(zip(got, want)):
        for name in outs:
            if name in w:
                v = _decode(g[name], name, d)
                assert v == w[name], f"output {i} port {name}: rtl {v} golden {w[name]}"
    tb_write({"checked": len(want), "beats": len(d["beats"])})
