// hg_layernorm: L-lane integer LayerNorm (quant.nl_layernorm.layernorm_int) followed by the per-channel
// gamma/beta requantizer (quant.golden.layernorm = ln.rq(layernorm_int(x))). A 2-stage row pipeline:
//   1 statistics: lane trees of x and x^2, row sums sx, sxx; then
//       muF = sat(round(sx * mean_mult / 2^(mean_shift - MUF))), mu = sat_IB(round(muF / 2^MUF)),
//       d = mu 2^MUF - muF, e2 = round(dim d^2 / 2^(2 MUF)),
//       v  = max(sxx - 2 mu sx + dim mu^2 - e2, 0) + dim*eps   (sum (x - mu)^2 is exact),
//       (r, k) = rsqrt(v) (hg_rsqrt), f = round(r * sqrt_dim / 2^fsh), b = round(d f / 2^MUF)
//   2 normalise: y = sat_OB(round(((x - mu) * f + b) / 2^(ysh + k))), then hg_requant lanes with the
//       channel's (mult, bias + rounding constant) and the layer's shift / output bits.
// The row's beats wait in FIFO1 while its statistics are computed; rows stream back to back.
// Coefficients: coef_idx is the beat index (within the row) of the beat that enters the requantizers
// in the NEXT cycle; coef_mult / coef_bias must then hold that beat's L channels' constants (a
// synchronous-read memory addressed by coef_idx does exactly this). dim must be a multiple of L.
module hg_layernorm #(
    parameter int L = 8, parameter int IB = 16, parameter int OB = 16, parameter int DMAX = 64,
    parameter int MMB = 26, parameter int SDB = 20, parameter int FF = 16,
    parameter int MAN = 16, parameter int SEG = 4, parameter int RF = 16, parameter int CF = 19,
    parameter int KQ = 8, parameter int MULT_W = 16, parameter int BIAS_W = 32, parameter int MUF = 8
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 in_valid,
    output logic                 in_ready,
    input  logic [L*IB-1:0]      in_x,
    input  logic                 in_last,
    input  logic [12:0]          dim,
    input  logic [MMB-1:0]       mean_mult,
    input  logic [5:0]           mean_shift,
    input  logic [31:0]          eps_term,
    input  logic [SDB-1:0]       sqrt_dim,
    input  logic [5:0]           fsh,
    input  logic [5:0]           ysh,
    input  logic [5:0]           rq_shift,
    input  logic [4:0]           rq_bits,
    output logic [$clog2(DMAX/L+1)-1:0] coef_idx,
    input  logic [L*MULT_W-1:0]  coef_mult,
    input  logic [L*BIAS_W-1:0]  coef_bias,
    output logic                 out_valid,
    output logic [L*KQ-1:0]      out_y,
    output logic                 out_last
);
    localparam int LV  = $clog2(L);
    localparam int LB  = $clog2(DMAX);
    localparam int SXW = IB + LB + 1;                  // sum x (signed)
    localparam int SQW = 2 * IB + LB;                  // sum x^2 (unsigned)
    localparam int VW  = 2 * IB + LB + 4;              // variance arithmetic (signed)
    localparam int BPR = DMAX / L;
    localparam int D1  = 1 << $clog2(2 * BPR + 32);
    localparam int FW  = FF + 7;                       // f
    localparam int CW  = IB + 1 + FW;                  // (x - mu) * f + b
    localparam int BW  = FF + 8;                       // b
    localparam int DW  = MUF + 1;                      // d
    localparam int IXW = $clog2(BPR + 1);

    // ---------------- stage 1: statistics ----------------
    logic f1_full, f1_empty, f1_pop;
    logic [L*IB:0] f1_dout;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [$clog2(D1):0] f1_cnt;
    /* verilator lint_on UNUSEDSIGNAL */
    assign in_ready = !f1_full;
    wire take = in_valid && in_ready;
    hg_fifo #(.W(L*IB+1), .DEPTH(D1)) u_f1 (.clk, .rst, .push(take), .din({in_last, in_x}), .pop(f1_pop),
        .dout(f1_dout), .empty(f1_empty), .full(f1_full), .count(f1_cnt));

    logic signed [SXW-1:0] tx [LV+1][L];
    logic [SQW-1:0]        tq [LV+1][L];
    logic                  tv [LV+1];
    logic                  tl [LV+1];
    genvar i, l;
    generate
        for (i = 0; i < L; i++) begin : g_l0
            logic signed [IB-1:0] xi;
            assign xi = in_x[i*IB +: IB];
            always_ff @(posedge clk) begin
                tx[0][i] <= SXW'(xi);
                tq[0][i] <= SQW'(xi * xi);
            end
        end
        for (l = 0; l < LV; l++) begin : g_lv
            for (i = 0; i < (L >> (l + 1)); i++) begin : g_n
                always_ff @(posedge clk) begin
                    tx[l+1][i] <= tx[l][2*i] + tx[l][2*i+1];
                    tq[l+1][i] <= tq[l][2*i] + tq[l][2*i+1];
                end
            end
            for (i = (L >> (l + 1)); i < L; i++) begin : g_z
                assign tx[l+1][i] = '0;
                assign tq[l+1][i] = '0;
            end
            always_ff @(posedge clk) begin tv[l+1] <= tv[l]; tl[l+1] <= tl[l]; end
        end
    endgenerate
    always_ff @(posedge clk) begin tv[0] <= take; tl[0] <= in_last; end

    logic signed [SXW-1:0] sx;
    logic [SQW-1:0]        sxx;
    logic                  rfirst, row_done;
    always_ff @(posedge clk) begin
        if (rst) begin
            rfirst <= 1'b1; row_done <= 1'b0;
        end else begin
            row_done <= tv[LV] && tl[LV];
            if (tv[LV]) begin
                sx  <= (rfirst ? '0 : sx) + tx[LV][0];
                sxx <= (rfirst ? '0 : sxx) + tq[LV][0];
                rfirst <= tl[LV];
            end
        end
    end

    // mean, variance
    localparam int MW = SXW + MMB;
    logic signed [MW-1:0]   smm;
    logic signed [MW-1:0]   smr;
    logic signed [IB-1:0]   mu1, mu_sat;
    logic signed [DW-1:0]   d_c, d1, d2;
    logic signed [SXW-1:0]  sx1;
    logic [SQW-1:0]         sxx1;
    logic                   st1v, st2v;
    logic [VW-1:0]          v2;
    logic signed [IB-1:0]   mu2;
    localparam logic signed [MW-1:0] MUMAX = MW'((1 << (IB - 1)) - 1);
    localparam logic signed [MW-1:0] MUMIN = -(MW'(1 << (IB - 1)));
    assign smm = sx * $signed(MW'(mean_mult));
    // the mean at MUF fraction bits, clamped to s(IB + MUF); mu its rounding, clamped to s(IB)
    localparam logic signed [MW-1:0] MFMAX = MW'((1 << (IB + MUF - 1)) - 1);
    localparam logic signed [MW-1:0] MFMIN = -(MW'(1 << (IB + MUF - 1)));
    logic signed [MW-1:0] muf, mur;
    assign smr = (smm + $signed(MW'((MW'(1) << (mean_shift - 6'(MUF))) >> 1))) >>> (mean_shift - 6'(MUF));
    assign muf = (smr > MFMAX) ? MFMAX : (smr < MFMIN) ? MFMIN : smr;
    assign mur = (muf + $signed(MW'(1 << (MUF - 1)))) >>> MUF;
    assign mu_sat = (mur > MUMAX) ? MUMAX[IB-1:0] : (mur < MUMIN) ? MUMIN[IB-1:0] : mur[IB-1:0];
    assign d_c = DW'((MW'(mu_sat) <<< MUF) - muf);
    // the exact sum of squares around mu, moved to muF by e2 and clamped at 0 (constant rows)
    localparam int E2W = 2 * MUF + 14;
    logic [E2W-1:0] e2;
    logic signed [VW-1:0] vsum, vpos;
    assign e2 = (E2W'(dim) * E2W'(d1 * d1) + E2W'(1 << (2 * MUF - 1))) >> (2 * MUF);
    assign vsum = $signed(VW'(sxx1)) - ((VW'(mu1) * VW'(sx1)) <<< 1)
                  + $signed(VW'(dim)) * VW'(mu1) * VW'(mu1) - $signed(VW'(e2));
    assign vpos = (vsum < 0) ? '0 : vsum;
    always_ff @(posedge clk) begin
        st1v <= row_done && !rst;
        mu1 <= mu_sat; d1 <= d_c; sx1 <= sx; sxx1 <= sxx;
        st2v <= st1v;
        v2 <= vpos + $signed(VW'(eps_term));
        mu2 <= mu1; d2 <= d1;
    end

    logic         rs_v;
    logic [RF:0]  rs_r;
    logic [4:0]   rs_k;
    logic [IB-1:0] rs_mu;
    logic [DW-1:0] rs_d;
    hg_rsqrt #(.VB(47), .MAN(MAN), .SEG(SEG), .RF(RF), .CF(CF), .TAG_W(IB + DW)) u_rsqrt (
        .clk, .in_valid(st2v), .in_tag({d2, mu2}), .v(47'(v2)), .out_valid(rs_v), .out_tag({rs_d, rs_mu}),
        .r(rs_r), .k(rs_k));

    localparam int RSW = RF + 1 + SDB;
    logic [RSW-1:0] rsd;
    logic [4:0]     k3, k4, k5;
    logic [IB-1:0]  mu3, mu4, mu5;
    logic signed [DW-1:0] d3, d4;
    logic           sv3, sv4, sv5;
    logic [FW-1:0]  f4, f5;
    logic signed [BW-1:0] b5;
    logic signed [DW+FW:0] df;
    assign df = $signed((DW+FW+1)'(d4)) * $signed({1'b0, f4});
    /* verilator lint_off UNUSEDSIGNAL */
    logic [RSW-1:0] f4c;
    /* verilator lint_on UNUSEDSIGNAL */
    assign f4c = (rsd + ((RSW'(1) << fsh) >> 1)) >> fsh;
    always_ff @(posedge clk) begin
        rsd <= RSW'(rs_r) * RSW'(sqrt_dim); k3 <= rs_k; mu3 <= rs_mu; d3 <= rs_d; sv3 <= rs_v && !rst;
        f4 <= FW'(f4c); k4 <= k3; mu4 <= mu3; d4 <= d3; sv4 <= sv3 && !rst;
        b5 <= BW'((df + $signed((DW+FW+1)'(1 << (MUF - 1)))) >>> MUF);
        f5 <= f4; k5 <= k4; mu5 <= mu4; sv5 <= sv4 && !rst;
    end
    logic sq_empty, sq_full;
    logic [BW+IB+FW+4:0] sq_dout;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [3:0] sq_cnt;
    /* verilator lint_on UNUSEDSIGNAL */
    hg_fifo #(.W(BW+IB+FW+5), .DEPTH(8)) u_sq (.clk, .rst, .push(sv5), .din({b5, k5, f5, mu5}),
        .pop(f1_pop && f1_dout[L*IB]), .dout(sq_dout), .empty(sq_empty), .full(sq_full), .count(sq_cnt));

    // ---------------- stage 2: normalise + requantize ----------------
    assign f1_pop = !f1_empty && !sq_empty;
    logic signed [IB-1:0] smu;
    logic [FW-1:0]        sf;
    logic [4:0]           sk;
    logic signed [BW-1:0] sb;
    assign {sb, sk, sf, smu} = sq_dout;

    logic                 p1v, p2v, p3v, p1l, p2l, p3l;
    logic [4:0]           k1, k2;
    logic [FW-1:0]        fr1;
    logic signed [BW-1:0] br1;
    logic [IXW-1:0]       bidx, idx2;
    logic signed [IB:0]   c1 [L];
    logic signed [CW-1:0] cf2 [L];
    logic signed [OB-1:0] y3 [L];
    logic [5:0]           s2;
    assign s2 = ysh + 6'(k2);
    localparam logic signed [CW-1:0] YMAX = CW'((1 << (OB - 1)) - 1);
    localparam logic signed [CW-1:0] YMIN = -(CW'(1 << (OB - 1)));
    generate
        for (i = 0; i < L; i++) begin : g_norm
            logic signed [CW-1:0] yr;
            assign yr = (cf2[i] + $signed(CW'((CW'(1) << s2) >> 1))) >>> s2;
            always_ff @(posedge clk) begin
                c1[i]  <= (IB+1)'($signed(f1_dout[i*IB +: IB])) - (IB+1)'(smu);
                cf2[i] <= CW'(c1[i]) * $signed(CW'(fr1)) + CW'(br1);
                y3[i]  <= (yr > YMAX) ? YMAX[OB-1:0] : (yr < YMIN) ? YMIN[OB-1:0] : yr[OB-1:0];
            end
            /* verilator lint_off UNUSEDSIGNAL */
            logic rv;
            logic [KQ-1:0] q;
            /* verilator lint_on UNUSEDSIGNAL */
            hg_requant #(.ACC_W(OB), .MULT_W(MULT_W), .BIAS_W(BIAS_W), .OUT_W(KQ)) u_rq (
                .clk, .in_valid(p3v), .acc(y3[i]), .mult(coef_mult[i*MULT_W +: MULT_W]),
                .bias_r(coef_bias[i*BIAS_W +: BIAS_W]), .shift(rq_shift), .bits(rq_bits), .out_signed(1'b1),
                .out_valid(rv), .out(q));
            assign out_y[i*KQ +: KQ] = q;
        end
    endgenerate
    always_ff @(posedge clk) begin
        if (rst) bidx <= '0;
        else if (f1_pop) bidx <= f1_dout[L*IB] ? '0 : bidx + IXW'(1);
        p1v <= f1_pop && !rst; p1l <= f1_dout[L*IB]; k1 <= sk; fr1 <= sf; br1 <= sb;
        p2v <= p1v && !rst; p2l <= p1l; k2 <= k1; idx2 <= bidx_d1;
        p3v <= p2v && !rst; p3l <= p2l;
    end
    logic [IXW-1:0] bidx_d1;
    always_ff @(posedge clk) bidx_d1 <= bidx;
    assign coef_idx = idx2;
    logic [3:0] ov, ol;
    always_ff @(posedge clk) begin
        ov <= {ov[2:0], p3v && !rst}; ol <= {ol[2:0], p3l};
    end
    assign out_valid = ov[3];
    assign out_last  = ol[3];
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = sq_full;
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
