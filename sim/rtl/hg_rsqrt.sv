// hg_rsqrt: integer reciprocal square root of quant.nl_layernorm.rsqrt_int (piecewise quadratic).
//   v >= 1 (0 -> 1), msb = floor(log2 v), m = v normalised to MAN fraction bits, parity = msb & 1,
//   k = msb >> 1; idx = parity * 2^SEG + top SEG bits of m's fraction, t = the rest (MAN - SEG bits);
//   h = c1 + round(c2 t / 2^tf); y = c0 + round(h t / 2^tf); r = round(y / 2^(CF - RF)).
// 1/sqrt(v) ~ r * 2^-(RF + k). The coefficient ROM (hg_rsqrt_rom.svh) is generated from
// quant.nl_layernorm.fit_rsqrt() (hlsgen.emit_rtl.rsqrt_rom_svh). Latency 8: leading-one detect,
// normalise, ROM, c2*t, +c1, h*t, +c0, round.
module hg_rsqrt #(
    parameter int VB  = 47,
    parameter int MAN = 16,
    parameter int SEG = 4,
    parameter int RF  = 16,
    parameter int CF  = 19,
    parameter int TAG_W = 1
) (
    input  logic              clk,
    input  logic              in_valid,
    input  logic [TAG_W-1:0]  in_tag,
    input  logic [VB-1:0]     v,
    output logic              out_valid,
    output logic [TAG_W-1:0]  out_tag,
    output logic [RF:0]       r,
    output logic [4:0]        k
);
`include "hg_rsqrt_rom.svh"
    localparam int TF = MAN - SEG;
    localparam int CW = CF + 3;                  // coefficient and Horner width (signed)

    logic [7:0]       vd;
    logic [TAG_W-1:0] tg [9];
    logic [4:0]       kd [8];
    assign tg[0] = in_tag;

    // 1: leading one
    logic [VB-1:0] v0, v1;
    logic [5:0]    msb0, msb1;
    assign v0 = (v == '0) ? VB'(1) : v;
    always_comb begin
        msb0 = '0;
        for (int i = 0; i < VB; i++) if (v0[i]) msb0 = 6'(i);
    end
    // 2: normalise
    logic [VB+MAN-1:0] mw;
    logic [MAN-1:0]    m2;                       // fraction bits (the leading one is implicit)
    logic              par2;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [VB+MAN-1:0] mwr;
    /* verilator lint_on UNUSEDSIGNAL */
    assign mw  = (msb1 < 6'(MAN)) ? ((VB+MAN)'(v1) << (6'(MAN) - msb1)) : (VB+MAN)'(v1);
    assign mwr = (msb1 > 6'(MAN)) ? (mw >> (msb1 - 6'(MAN))) : mw;
    // 3: ROM
    logic [SEG:0]          idx;
    logic signed [CW-1:0]  c0_3, c1_3, c2_3, c0_4, c1_4, c0_5, c0_6;
    logic signed [CW-1:0]  t3, t4, t5;
    assign idx = {par2, m2[TF +: SEG]};
    // 4..8: Horner
    logic signed [2*CW-1:0] c2t4, ht6;
    logic signed [CW-1:0]   h5, y7;
    logic signed [CW-1:0]   rc;
    assign rc = CW'((CW'(1) << TF) >> 1);
    logic signed [CW-1:0]   rr;
    assign rr = CW'((CW'(1) << (CF - RF)) >> 1);
    /* verilator lint_off UNUSEDSIGNAL */
    logic signed [2*CW-1:0] h5c, y7c;
    logic signed [CW-1:0]   r8c;
    /* verilator lint_on UNUSEDSIGNAL */
    assign h5c = (c2t4 + (2*CW)'(rc)) >>> TF;
    assign y7c = (ht6 + (2*CW)'(rc)) >>> TF;
    assign r8c = (y7 + rr) >>> (CF - RF);

    always_ff @(posedge clk) begin
        vd <= {vd[6:0], in_valid};
        for (int s = 1; s < 9; s++) tg[s] <= tg[s-1];
        for (int s = 2; s < 8; s++) kd[s] <= kd[s-1];
        v1 <= v0; msb1 <= msb0;                                                   // 1
        m2 <= mwr[MAN-1:0]; par2 <= msb1[0]; kd[1] <= msb1[5:1];                   // 2
        c0_3 <= rom_c0(idx); c1_3 <= rom_c1(idx); c2_3 <= rom_c2(idx);             // 3
        t3 <= CW'(m2[TF-1:0]);
        c2t4 <= c2_3 * t3; c1_4 <= c1_3; c0_4 <= c0_3; t4 <= t3;                  // 4
        h5 <= c1_4 + CW'(h5c); c0_5 <= c0_4; t5 <= t4;                            // 5
        ht6 <= h5 * t5; c0_6 <= c0_5;                                             // 6
        y7 <= c0_6 + CW'(y7c);                                                    // 7
        r <= (RF+1)'(r8c);                                                        // 8
    end
    assign k = kd[7];
    assign out_valid = vd[7];
    assign out_tag = tg[8];
endmodule
