"""Port-level cocotb testbench of the accelerator top (vit_top): it talks to the DUT only through the
ports of INTERFACE.md, so it runs unchanged against the twin or against the Verilog Vitis HLS exports.

It plays the memory system (AXI4 slave memories behind m_axi_gmem_in / gmem_w / gmem_out with the board's
DDR timing: first beat `lat` cycles after a burst request, then `bpc` bytes per cycle) and the host (an
AXI4-Lite master on s_axi_control: pointers, ap_start, wait for the interrupt, read back ap_done).

Data: weights (path), images (list of hex strings, one per image), expected (hex result buffers),
bpc, lat, plusargs handled by the runner. Writes cycles and results to HLSGEN_TB_OUT.
"""
import collections

import cocotb
from cocotb.triggers import FallingEdge

from sim.cocotb_tests.tbutil import start_clock, tb_data, tb_write, uint

IMG_BASE, W_BASE, RES_BASE = 0x10000000, 0x20000000, 0x30000000
BEAT = 32


class Memory:
    def __init__(self):
        self.regions = {}

    def read_beat(self, addr: int) -> int:
        for base, buf in self.regions.items():
            if base <= addr < base + len(buf):
                off = addr - base
                return int.from_bytes(bytes(buf[off:off + BEAT]).ljust(BEAT, b"\0"), "little")
        return 0

    def write(self, addr: int, data: int, strb: int) -> None:
        for base, buf in self.regions.items():
            if base <= addr < base + len(buf):
                off = addr - base
                for j in range(BEAT):
                    if (strb >> j) & 1 and off + j < len(buf):
                        buf[off + j] = (data >> (8 * j)) & 0xFF


class ReadPort:
    """AXI4 read slave with a request queue, a fixed latency and a sustained byte rate. step() runs on
    every falling edge: it applies the handshakes of the rising edge just passed, drives the outputs for
    the next one and records which handshakes that edge will perform (inputs are stable by then)."""

    def __init__(self, dut, prefix, mem, bpc, lat):
        self.s = {n: getattr(dut, f"{prefix}_{n}") for n in ("ARVALID", "ARREADY", "ARADDR", "ARLEN", "RVALID",
                                                             "RREADY", "RDATA", "RLAST", "RRESP", "RID")}
        self.mem, self.bpc, self.lat = mem, bpc, lat
        self.q = collections.deque()
        self.credit, self.beat = float(BEAT), 0
        self.fire_r, self.ar = False, None
        self.s["ARREADY"].value = 1
        self.s["RVALID"].value = 0
        self.s["RRESP"].value = 0
        self.s["RID"].value = 0

    def step(self, cyc):
        s = self.s
        if self.fire_r:
            self.credit -= BEAT
            self.beat += 1
            if self.beat == self.q[0][1]:
                self.q.popleft()
                self.beat = 0
        if self.ar is not None:
            self.q.append((*self.ar, cyc + self.lat))
        self.credit = min(self.credit + self.bpc, BEAT + self.bpc)
        rvalid = bool(self.q) and cyc + 1 >= self.q[0][2] and self.credit >= BEAT
        if rvalid:
            s["RDATA"].value = self.mem.read_beat(self.q[0][0] + self.beat * BEAT)
            s["RLAST"].value = int(self.beat == self.q[0][1] - 1)
        s["RVALID"].value = int(rvalid)
        self.fire_r = rvalid and bool(uint(s["RREADY"]))
        self.ar = (uint(s["ARADDR"]), uint(s["ARLEN"]) + 1) if uint(s["ARVALID"]) else None


class WritePort:
    def __init__(self, dut, prefix, mem):
        self.s = {n: getattr(dut, f"{prefix}_{n}") for n in ("AWVALID", "AWREADY", "AWADDR", "WVALID", "WREADY",
                                                             "WDATA", "WSTRB", "WLAST", "BVALID", "BREADY", "BRESP",
                                                             "BID")}
        self.mem, self.addr, self.beat, self.have, self.bdelay = mem, 0, 0, False, -1
        self.fire_aw = self.fire_w = self.fire_b = None
        for n, v in (("AWREADY", 1), ("WREADY", 0), ("BVALID", 0), ("BRESP", 0), ("BID", 0)):
            self.s[n].value = v

    def step(self):
        s = self.s
        if self.fire_aw is not None:
            self.have, self.addr, self.beat = True, self.fire_aw, 0
        if self.fire_w is not None:
            data, strb, last = self.fire_w
            self.mem.write(self.addr + self.beat * BEAT, data, strb)
            self.beat += 1
            if last:
                self.bdelay = 4
        bvalid = bool(uint(s["BVALID"])) and not self.fire_b
        if self.bdelay >= 0:
            self.bdelay -= 1
            if self.bdelay < 0:
                bvalid, self.have = True, False
        awready, wready = int(not self.have and self.fire_aw is None), int(self.have)
        s["BVALID"].value = int(bvalid)
        s["AWREADY"].value = awready
        s["WREADY"].value = wready
        self.fire_b = bvalid and bool(uint(s["BREADY"]))
        self.fire_aw = uint(s["AWADDR"]) if awready and uint(s["AWVALID"]) else None
        self.fire_w = ((uint(s["WDATA"]), uint(s["WSTRB"]), uint(s["WLAST"]))
                       if wready and uint(s["WVALID"]) else None)


async def lite_write(dut, addr, data):
    """AXI4-Lite write: ready signals are read on the falling edge (the value the next rising edge sees)."""
    dut.s_axi_control_AWVALID.value = 1
    dut.s_axi_control_AWADDR.value = addr
    dut.s_axi_control_WVALID.value = 1
    dut.s_axi_control_WDATA.value = data
    dut.s_axi_control_WSTRB.value = 0xF
    dut.s_axi_control_BREADY.value = 1
    aw = w = False
    for _ in range(1000):
        fa = not aw and bool(uint(dut.s_axi_control_AWREADY))
        fw = not w and bool(uint(dut.s_axi_control_WREADY))
        await FallingEdge(dut.ap_clk)
        if fa:
            aw = True
            dut.s_axi_control_AWVALID.value = 0
        if fw:
            w = True
            dut.s_axi_control_WVALID.value = 0
        if aw and w:
            break
    for _ in range(1000):
        if uint(dut.s_axi_control_BVALID):
            break
        await FallingEdge(dut.ap_clk)
    else:
        raise AssertionError(f"AXI-Lite write 0x{addr:02x}: no BVALID")
    await FallingEdge(dut.ap_clk)
    dut.s_axi_control_BREADY.value = 0


async def lite_read(dut, addr):
    dut.s_axi_control_ARVALID.value = 1
    dut.s_axi_control_ARADDR.value = addr
    dut.s_axi_control_RREADY.value = 1
    for _ in range(1000):
        fa = bool(uint(dut.s_axi_control_ARREADY))
        await FallingEdge(dut.ap_clk)
        if fa:
            break
    dut.s_axi_control_ARVALID.value = 0
    for _ in range(1000):
        if uint(dut.s_axi_control_RVALID):
            break
        await FallingEdge(dut.ap_clk)
    v = uint(dut.s_axi_control_RDATA)
    await FallingEdge(dut.ap_clk)
    dut.s_axi_control_RREADY.value = 0
    return v


@cocotb.test()
async def top_bit_exact(dut):
    d = tb_data()
    cocotb.start_soon(start_clock_hls(dut))
    mem = Memory()
    with open(d["weights"], "rb") as fh:
        weights = bytearray(fh.read())
    weights += b"\0" * (-len(weights) % BEAT)
    image = bytearray(-(-d["img_bytes"] // BEAT) * BEAT)
    result = bytearray(-(-d["res_bytes"] // BEAT) * BEAT)
    mem.regions = {IMG_BASE: image, W_BASE: weights, RES_BASE: result}
    for n in ("AWVALID", "WVALID", "ARVALID", "RREADY", "BREADY"):
        getattr(dut, f"s_axi_control_{n}").value = 0
    ports = [ReadPort(dut, "m_axi_gmem_in", mem, d["bpc"], d["lat"]),
             ReadPort(dut, "m_axi_gmem_w", mem, d["bpc"], d["lat"])]
    wport = WritePort(dut, "m_axi_gmem_out", mem)
    cyc = [0]

    async def memory():
        while True:
            await FallingEdge(dut.ap_clk)
            cyc[0] += 1
            for p in ports:
                p.step(cyc[0])
            wport.step()

    dut.ap_rst_n.value = 0
    for _ in range(10):
        await FallingEdge(dut.ap_clk)
    dut.ap_rst_n.value = 1
    cocotb.start_soon(memory())
    for _ in range(4):
        await FallingEdge(dut.ap_clk)
    for a, v in ((0x04, 1), (0x08, 1), (0x10, IMG_BASE), (0x14, 0), (0x1C, W_BASE), (0x20, 0), (0x28, RES_BASE),
                 (0x2C, 0)):
        await lite_write(dut, a, v)
    out = []
    for i, (img_hex, exp_hex) in enumerate(zip(d["images"], d["expected"])):
        image[:d["img_bytes"]] = bytes.fromhex(img_hex)
        result[:] = b"\0" * len(result)
        await lite_write(dut, 0x00, 1)
        c0 = cyc[0]
        while not uint(dut.interrupt):
            await FallingEdge(dut.ap_clk)
            assert cyc[0] - c0 < d.get("max_cycles", 50_000_000), f"image {i}: no ap_done after {cyc[0] - c0} cycles"
            if (cyc[0] - c0) % 200000 == 0:
                dut._log.info(f"image {i}: {cyc[0] - c0} cycles")
        cycles = cyc[0] - c0
        ctrl = await lite_read(dut, 0x00)
        await lite_write(dut, 0x0C, 1)
        got = bytes(result[:d["res_bytes"]]).hex()
        out.append({"cycles": cycles, "result": got, "done": (ctrl >> 1) & 1})
        assert (ctrl >> 1) & 1, f"image {i}: ap_done not set in the control register"
        assert got == exp_hex, f"image {i}: result {got} != golden {exp_hex}"
    tb_write({"images": out})


async def start_clock_hls(dut):
    from cocotb.clock import Clock
    await Clock(dut.ap_clk, 10, unit="ns").start()


__all__ = ["start_clock"]
