// hg_gelu: one lane of quant.nl_gelu.gelu_int (I-BERT polynomial erf, fitted coefficients):
//   ax = |x|; u = round(ax * k / 2^fi); v = min(u, b) - b; sq = round(v^2 / 2^W);
//   e = round(a * sq / 2^W) + 2^W; g = (x << W) + ax * e; out = round(g / 2^osh)
// with round = round-half-up ((x + 2^(s-1)) >>> s). k, b, a, fi, W (wf) and osh = fi + W + 1 - out_frac
// are runtime (per layer) values; IN_W, W, KB, BB, AB, OW compile-time maxima (hlsgen.emit_rtl.gelu_widths).
// 6 stages: |x|*k; round, clip, square; *a; round + 1; *|x| + x<<W; round.
module hg_gelu #(
    parameter int IN_W = 16,
    parameter int W    = 17,     // largest work_frac
    parameter int KB   = 17,
    parameter int BB   = 18,
    parameter int AB   = 17,     // bits of a including its sign
    parameter int OW   = 16,
    parameter int TAG_W = 1
) (
    input  logic                   clk,
    input  logic                   in_valid,
    input  logic [TAG_W-1:0]       in_tag,
    input  logic signed [IN_W-1:0] x,
    input  logic [KB-1:0]          kk,
    input  logic [BB-1:0]          bb,
    input  logic signed [AB-1:0]   aa,
    input  logic [5:0]             fi,
    input  logic [5:0]             wf,
    input  logic [6:0]             osh,
    output logic                   out_valid,
    output logic [TAG_W-1:0]       out_tag,
    output logic signed [OW-1:0]   out
);
    localparam int UW = IN_W + KB;           // |x| * k
    localparam int VW = BB + 1;              // v (signed)
    localparam int QW = 2 * BB;              // v^2
    localparam int EA = AB + QW;             // a * sq (signed)
    localparam int EW = W + 3;               // erf (signed)
    localparam int GW = IN_W + W + 4;        // g (signed)

    logic [5:0] v;
    logic [TAG_W-1:0] tg [7];
    assign tg[0] = in_tag;

    logic [IN_W-1:0]       ax0;
    assign ax0 = x[IN_W-1] ? IN_W'(-x) : IN_W'(x);

    // stage registers
    logic signed [IN_W-1:0] x1, x2, x3, x4;
    logic [IN_W-1:0]        a1, a2, a3, a4;
    logic [UW-1:0]          uk1;
    logic [QW-1:0]          q2;
    logic signed [EA-1:0]   ea3;
    logic signed [EW-1:0]   e4;
    logic signed [GW-1:0]   g5;
    logic [5:0]             fi1, wf1, wf2, wf3, wf4;
    logic [6:0]             os1, os2, os3, os4, os5;

    /* verilator lint_off UNUSEDSIGNAL */      // wide intermediates truncated on use
    logic [UW-1:0]          u2c;
    logic signed [VW-1:0]   v2c;
    logic [QW-1:0]          sq3c;
    logic signed [EA-1:0]   e4c;
    logic signed [GW-1:0]   o6c;
    /* verilator lint_on UNUSEDSIGNAL */
    logic signed [EA-1:0]   rc3;
    logic signed [GW-1:0]   rc5;
    always_comb begin
        rc3  = EA'((EA'(1) << wf3) >> 1);
        rc5  = GW'((GW'(1) << os5) >> 1);
        u2c  = (uk1 + ((UW'(1) << fi1) >> 1)) >> fi1;
        v2c  = (u2c > UW'(bb)) ? '0 : VW'(u2c) - VW'(bb);
        sq3c = (q2 + ((QW'(1) << wf2) >> 1)) >> wf2;
        e4c  = (ea3 + rc3) >>> wf3;
        o6c  = (g5 + rc5) >>> os5;
    end

    always_ff @(posedge clk) begin
        v <= {v[4:0], in_valid};
        for (int s = 1; s < 7; s++) tg[s] <= tg[s-1];
        // 1: |x| * k
        uk1 <= UW'(ax0) * UW'(kk);
        x1 <= x; a1 <= ax0; fi1 <= fi; wf1 <= wf; os1 <= osh;
        // 2: u = round(uk / 2^fi), v = min(u, b) - b, v^2
        q2 <= QW'(v2c * v2c);
        x2 <= x1; a2 <= a1; wf2 <= wf1; os2 <= os1;
        // 3: a * round(v^2 / 2^W)
        ea3 <= aa * $signed(EA'(sq3c));
        x3 <= x2; a3 <= a2; wf3 <= wf2; os3 <= os2;
        // 4: erf = round(a sq / 2^W) + 2^W
        e4 <= EW'(e4c) + (EW'(1) << wf3);
        x4 <= x3; a4 <= a3; wf4 <= wf3; os4 <= os3;
        // 5: g = (x << W) + |x| * erf
        g5 <= (GW'(x4) <<< wf4) + $signed(GW'(a4)) * GW'(e4);
        os5 <= os4;
        // 6: round
        out <= OW'(o6c);
    end
    assign out_valid = v[5];
    assign out_tag = tg[6];
endmodule
