// hg_exp: one lane of the integer exp of quant.nl_exp.exp_int, for d <= 0 (d = x - row max).
//   n = min(-d, n_clamp); z = (n * inv_mult) >> inv_shift; p = z * ln2 - (n << g);
//   L = clamp(round(a * round((p + b)^2 / 2^sqs) / 2^lf) + c, 2^(lf-1), 2^lf); out = round(L / 2^(z+guard))
// All rounding is round-half-up (x + 2^(s-1)) >>> s, s = 0 passes. Coefficients and shifts are runtime
// inputs (per layer); widths are compile-time maxima computed by hlsgen.emit_rtl from the layers' params:
// DW input, NB = bits(n_clamp), IMB = bits(inv_mult), PF = max p_frac, LF = max l_frac, AB = bits(a),
// ZB = bits(z_max). Latency 8 (hlsgen.ops.EXP_DEPTH). in_tag rides along.
module hg_exp #(
    parameter int DW = 17,
    parameter int NB = 17,
    parameter int IMB = 21,
    parameter int PF = 17,
    parameter int LF = 15,
    parameter int AB = 14,
    parameter int ZB = 5,
    parameter int TAG_W = 1
) (
    input  logic                   clk,
    input  logic                   in_valid,
    input  logic [TAG_W-1:0]       in_tag,
    input  logic signed [DW-1:0]   d,
    input  logic [NB-1:0]          n_clamp,
    input  logic [IMB-1:0]         inv_mult,
    input  logic [5:0]             inv_shift,
    input  logic [5:0]             g,
    input  logic [PF:0]            ln2,
    input  logic [PF+1:0]          b,
    input  logic [AB-1:0]          a,
    input  logic signed [LF+2:0]   c,
    input  logic [6:0]             sqs,        // 2 * p_frac - l_frac
    input  logic [5:0]             lf,
    input  logic [2:0]             guard,
    output logic                   out_valid,
    output logic [TAG_W-1:0]       out_tag,
    output logic [LF:0]            out
);
    localparam int MW = ZB + PF + 2;           // n << g and z * ln2
    localparam int PW = PF + 2;                // p (signed), p + b (unsigned)
    localparam int QW = 2 * PW;                // (p + b)^2
    localparam int SW = LF + 3;                // sq
    localparam int RW = AB + SW;               // a * sq
    localparam int LW = LF + 4;                // L (signed)

    logic [7:0] v;
    logic [TAG_W-1:0] tg [9];

    // 1: n
    logic [DW:0]    nd;
    logic [NB-1:0]  n1;
    assign nd = -((DW+1)'(d));
    // 2: n * inv_mult, n << g
    logic [NB+IMB-1:0] zm2;
    logic [MW-1:0]     m2, m3;
    // 3: z
    logic [ZB-1:0]  z3, z4, z5, z6;
    // 4: p
    logic signed [PW-1:0] p4;
    // 5: (p + b)^2
    logic [PW-1:0]  pb5;
    logic [QW-1:0]  q5;
    // 6: a * sq
    /* verilator lint_off UNUSEDSIGNAL */    // wide intermediates truncated on use
    logic [QW-1:0]  sq6w;
    logic [RW-1:0]  r6;
    // 7: L
    logic [RW-1:0]  l7w;
    /* verilator lint_on UNUSEDSIGNAL */
    logic signed [LW-1:0] l7, l7c;
    localparam logic signed [LW-1:0] ONE = 1;

    // per-stage copies of the runtime shifts that are used late
    logic [5:0] lf_d [8];
    logic [2:0] gd_d [8];
    assign lf_d[0] = lf;
    assign gd_d[0] = guard;
    assign tg[0] = in_tag;

    always_comb begin
        pb5  = PW'(p4) + PW'(b);
        sq6w = (q5 + ((QW'(1) << sqs) >> 1)) >> sqs;
        l7w  = (r6 + ((RW'(1) << lf_d[6]) >> 1)) >> lf_d[6];
        l7   = LW'(l7w) + LW'(c);
        if (l7 < (ONE <<< (lf_d[6] - 6'd1)))  l7c = ONE <<< (lf_d[6] - 6'd1);
        else if (l7 > (ONE <<< lf_d[6]))      l7c = ONE <<< lf_d[6];
        else                                      l7c = l7;
    end

    logic [LW+ZB+7:0] l8;
    logic [ZB+2:0]    sh8;
    always_ff @(posedge clk) begin
        v <= {v[6:0], in_valid};
        for (int s = 1; s < 8; s++) begin
            lf_d[s] <= lf_d[s-1]; gd_d[s] <= gd_d[s-1];
        end
        for (int s = 1; s < 9; s++) tg[s] <= tg[s-1];
        n1  <= (nd > (DW+1)'(n_clamp)) ? n_clamp : NB'(nd);
        zm2 <= n1 * inv_mult;
        m2  <= MW'(n1) << g;
        z3  <= ZB'(zm2 >> inv_shift);
        m3  <= m2;
        p4  <= PW'(MW'(z3) * MW'(ln2) - m3);
        z4  <= z3;
        q5  <= QW'(pb5) * QW'(pb5);
        z5  <= z4;
        r6  <= RW'(a) * RW'(sq6w);
        z6  <= z5;
        l8  <= (LW+ZB+8)'(l7c);
        sh8 <= (ZB+3)'(z6) + (ZB+3)'(gd_d[6]);
        out <= (LF+1)'((l8 + (((LW+ZB+8)'(1) << sh8) >> 1)) >> sh8);
    end
    assign out_valid = v[7];
    assign out_tag = tg[8];
endmodule
