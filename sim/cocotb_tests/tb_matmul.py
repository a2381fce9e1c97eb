"""hg_bin_core / hg_dsp_core: tiled Y = X . W^T, bit-exact against the exact integer product.

The testbench walks the engine's loop nest (tile of PE output channels, row, step of SIMD inputs) at
II = 1, as the engines' controllers do, and checks every PE result of every (tile, row).
Data: kind ('binary' | 'dsp'), PE, SIMD, AW, BW, ACC_W, x [rows][K], w [O][K] (binary: +-1).
"""
import cocotb
import numpy as np

from sim.cocotb_tests.tbutil import pack, start_clock, stream, tb_data, tb_write, unpack


@cocotb.test()
async def matmul_bit_exact(dut):
    d = tb_data()
    start_clock(dut)
    pe, simd, aw, bw, acc_w = d["PE"], d["SIMD"], d["AW"], d["BW"], d["ACC_W"]
    x, w = np.array(d["x"], dtype=np.int64), np.array(d["w"], dtype=np.int64)
    rows, K = x.shape
    O = w.shape[0]
    assert K % simd == 0 and O % pe == 0
    steps = K // simd
    beats, tags = [], []
    for t in range(O // pe):
        wt = w[t * pe:(t + 1) * pe]
        for r in range(rows):
            for s in range(steps):
                xs = x[r, s * simd:(s + 1) * simd]
                ws = wt[:, s * simd:(s + 1) * simd]
                if d["kind"] == "binary":
                    wbits = pack((ws.reshape(-1) > 0).astype(int), 1)
                else:
                    wbits = pack(ws.reshape(-1), bw)
                beats.append({"x": pack(xs, aw), "w": wbits, "in_first": int(s == 0),
                              "in_last": int(s == steps - 1), "in_tag": (t * rows + r) & 0xFFFF})
            tags.append((t, r))
    got = await stream(dut, beats, ("y", "out_tag"))
    assert len(got) == len(tags), f"{len(got)} results for {len(tags)} (tile, row) pairs"
    want = x @ w.T
    for g, (t, r) in zip(got, tags):
        assert g["out_tag"] == (t * rows + r) & 0xFFFF, "results out of order"
        y = unpack(g["y"], acc_w, pe)
        exp = want[r, t * pe:(t + 1) * pe].tolist()
        assert y == exp, f"tile {t} row {r}: rtl {y} golden {exp}"
    tb_write({"checked": len(tags) * pe, "cycles": len(beats)})
