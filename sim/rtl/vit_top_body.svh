// vit_top_body.svh: the body of the generated vit_top (hlsgen.emit_rtl.top_sv writes the ports).
// The design point lives in five generated includes next to it (hlsgen generate -> DIR/rtl/):
//   hg_arch.svh    the constants shared with the cycle model and the HLS C++ (hlsgen/arch.py)
//   hg_cfg.svh     sizes, parallelism and datapath widths (localparams)
//   hg_prog.svh    the layer schedule: one descriptor per op (prog(pc), layout in hg_ctrl.svh)
//   hg_tables.svh  per-op constants: softmax / GELU / scalar requantizer / LayerNorm parameters
//   hg_ln_rom.svh  the LayerNorm affine constants (read by hg_ln_rom)
// Simulation only: +hg_blocks=B runs the first B encoder blocks (the block-level test).
`include "hg_arch.svh"
`include "hg_cfg.svh"
`include "hg_prog.svh"
`include "hg_tables.svh"
    wire clk = ap_clk;
    wire rst = !ap_rst_n;

    logic        ap_start, ap_started, ap_done_p, ap_idle;
    logic [63:0] ptr_image, ptr_weights, ptr_result;
    hg_axil u_axil (
        .clk, .rst, .awvalid(s_axi_control_AWVALID), .awready(s_axi_control_AWREADY), .awaddr(s_axi_control_AWADDR),
        .wvalid(s_axi_control_WVALID), .wready(s_axi_control_WREADY), .wdata(s_axi_control_WDATA),
        .wstrb(s_axi_control_WSTRB), .bvalid(s_axi_control_BVALID), .bready(s_axi_control_BREADY),
        .bresp(s_axi_control_BRESP), .arvalid(s_axi_control_ARVALID), .arready(s_axi_control_ARREADY),
        .araddr(s_axi_control_ARADDR), .rvalid(s_axi_control_RVALID), .rready(s_axi_control_RREADY),
        .rdata(s_axi_control_RDATA), .rresp(s_axi_control_RRESP), .irq(interrupt),
        .ap_start, .ap_started, .ap_done_in(ap_done_p), .ap_idle, .ptr_image, .ptr_weights, .ptr_result);

`include "hg_ctrl.svh"
`include "hg_datapath.svh"
