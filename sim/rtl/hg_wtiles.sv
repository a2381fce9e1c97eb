// hg_wtiles: the double-buffered weight tile store of a matmul engine fed from the weight blob.
// The realigned record chunks (hg_realign) of tile t land in bank t % 2: record p (output channel p
// of the tile) is lane p, stored as 32-byte words of record bytes (one RAM, PE lanes side by side,
// byte write enables). hg_consts picks each record's requantizer constants into per-bank registers.
// Read side: word `rword` of bank `rbank` for all lanes at once (1-cycle synchronous read); with
// RD2 a second port reads word `rword2` of the constants' bank `cbank` (the int8 engine's pos column).
// Writes to a bank wait (wr_ready low) until the outputs of the tile that last used it have drained.
module hg_wtiles #(
    parameter int PE = 4,
    parameter int TWB = 256,          // bits per lane per word (>= 256)
    parameter int WPR = 4,            // words per record and bank
    parameter int RBW = 16,
    parameter int NRW = 10,
    parameter int BIAS_W = 48,
    parameter int DRAIN = 16,
    parameter int RD2 = 0             // 1: a second read port (a copy of the RAM)
) (
    input  logic                   clk,
    input  logic                   rst,
    // load side
    input  logic                   load_start,      // a new tile load begins (latches bank)
    input  logic                   load_bank,
    input  logic [RBW-1:0]         wbytes,          // weight bytes per record (constants follow)
    input  logic [2:0]             bbytes,
    input  logic [5:0]             shift,
    input  logic                   c_valid,
    output logic                   c_ready,
    input  logic [NRW-1:0]         c_rec,
    input  logic [RBW-6:0]         c_word,
    input  logic [255:0]           c_data,
    input  logic [31:0]            c_be,
    input  logic                   c_last,
    input  logic                   c2_valid,        // a second chunk: record c_rec + 1, word 0
    input  logic [255:0]           c2_data,
    input  logic [31:0]            c2_be,
    output logic                   load_done,
    output logic                   load_done_bank,
    // compute side
    input  logic                   release_bank_v,  // a tile finished computing on bank release_bank
    input  logic                   release_bank,
    input  logic                   rbank,
    input  logic [$clog2(WPR)-1:0] rword,
    output logic [PE*TWB-1:0]      rdata,
    input  logic [$clog2(WPR)-1:0] rword2,
    output logic [PE*TWB-1:0]      rdata2,
    // constants of a bank (read at the requantizer)
    input  logic                   cbank,
    output logic [PE*16-1:0]       c_mult,
    output logic [PE*BIAS_W-1:0]   c_bias_r
);
    localparam int WB = TWB / 8;                      // bytes per lane word
    localparam int SUB = TWB / 256;                   // 32-byte chunks per lane word
    localparam int AWD = $clog2(2 * WPR);

    logic lbank;
    logic [4:0] drain [2];
    always_ff @(posedge clk) begin
        if (load_start) lbank <= load_bank;
        for (int b = 0; b < 2; b++) begin
            if (rst) drain[b] <= '0;
            else if (release_bank_v && release_bank == b[0]) drain[b] <= 5'(DRAIN);
            else if (drain[b] != 0) drain[b] <= drain[b] - 5'd1;
        end
    end
    assign c_ready = (drain[lbank] == 0);
    wire wr = c_valid && c_ready;

    // chunk -> lane word: lane = rec, word = c_word / SUB, byte offset (c_word % SUB) * 32
    logic [PE*WB-1:0]  wen;
    logic [PE*TWB-1:0] wdat;
    logic [AWD-1:0]    waddr;
    logic [RBW-6:0] sub;
    assign sub = (SUB == 1) ? '0 : c_word % (RBW-5)'(SUB);
    always_comb begin
        wen = '0;
        wdat = '0;
        for (int p = 0; p < PE; p++) begin
            for (int j = 0; j < WB; j++) begin
                wdat[p*TWB + j*8 +: 8] = (c2_valid && c_rec + NRW'(1) == NRW'(p)) ? c2_data[(j % 32)*8 +: 8]
                                                                                   : c_data[(j % 32)*8 +: 8];
                if (c_rec == NRW'(p) && (RBW-5)'(j / 32) == sub && c_be[j % 32]) wen[p*WB + j] = 1'b1;
                if (c2_valid && c_rec + NRW'(1) == NRW'(p) && (RBW-5)'(j / 32) == sub && c2_be[j % 32])
                    wen[p*WB + j] = 1'b1;
            end
        end
        waddr = (lbank ? AWD'(WPR) : AWD'(0)) + AWD'(c_word / (RBW-5)'(SUB));
    end
    hg_ram #(.EW(8), .NE(PE*WB), .DEPTH(1 << AWD)) u_mem (
        .clk, .we(wr), .waddr, .wen, .wdata(wdat),
        .raddr(rbank ? AWD'(WPR) + AWD'(rword) : AWD'(rword)), .rdata(rdata));
    generate
        if (RD2 != 0) begin : g_rd2
            hg_ram #(.EW(8), .NE(PE*WB), .DEPTH(1 << AWD)) u_mem2 (
                .clk, .we(wr), .waddr, .wen, .wdata(wdat),
                .raddr(cbank ? AWD'(WPR) + AWD'(rword2) : AWD'(rword2)), .rdata(rdata2));
        end else begin : g_nord2
            assign rdata2 = '0;
            /* verilator lint_off UNUSEDSIGNAL */
            wire unused_rw2 = |rword2;
            /* verilator lint_on UNUSEDSIGNAL */
        end
    endgenerate

    // requantizer constants (two extractors: the second chunk's record)
    logic          cv, cv2;
    logic [NRW-1:0] crec, crec2;
    logic signed [15:0] cm, cm2;
    logic signed [BIAS_W-1:0] cb, cb2;
    hg_consts #(.RBW(RBW), .NRW(NRW), .BIAS_W(BIAS_W)) u_consts (
        .clk, .wbytes, .bbytes, .shift, .in_valid(wr), .in_rec(c_rec), .in_word(c_word), .in_data(c_data),
        .out_valid(cv), .out_rec(crec), .out_mult(cm), .out_bias_r(cb));
    hg_consts #(.RBW(RBW), .NRW(NRW), .BIAS_W(BIAS_W)) u_consts2 (
        .clk, .wbytes, .bbytes, .shift, .in_valid(wr && c2_valid), .in_rec(c_rec + NRW'(1)), .in_word('0),
        .in_data(c2_data), .out_valid(cv2), .out_rec(crec2), .out_mult(cm2), .out_bias_r(cb2));
    logic [15:0]       mreg [2][PE];
    logic [BIAS_W-1:0] breg [2][PE];
    logic              cbk;                     // bank of the constants in flight (2 cycles behind)
    logic [1:0]        bkd;
    always_ff @(posedge clk) begin
        bkd <= {bkd[0], lbank};
        for (int p = 0; p < PE; p++) begin
            if (cv && crec == NRW'(p)) begin
                mreg[cbk][p] <= cm;
                breg[cbk][p] <= cb;
            end
            if (cv2 && crec2 == NRW'(p)) begin
                mreg[cbk][p] <= cm2;
                breg[cbk][p] <= cb2;
            end
        end
    end
    assign cbk = bkd[1];
    always_comb begin
        for (int p = 0; p < PE; p++) begin
            c_mult[p*16 +: 16] = mreg[cbank][p];
            c_bias_r[p*BIAS_W +: BIAS_W] = breg[cbank][p];
        end
    end
    // done one cycle after the last chunk is written: the compute may start; the constants land two
    // cycles later, well before the first result reaches the requantizers
    logic dl;
    always_ff @(posedge clk) begin
        if (rst) dl <= 1'b0;
        else dl <= wr && c_last;
    end
    assign load_done = dl;
    assign load_done_bank = lbank;
endmodule
