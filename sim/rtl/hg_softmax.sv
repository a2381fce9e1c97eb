// hg_softmax: L-lane row softmax of quant.nl_exp.softmax_int, a 3-stage row pipeline (hlsgen.ops):
//   A  row max: lane max tree (clog2 L levels) + running max; the row's beats wait in FIFO1
//   B  exp + sum: d = x - max on L hg_exp lanes, lane sum tree + row sum; e beats go to FIFO2 and the
//      row sum to the exact reciprocal hg_recip (r = floor(2^R / s), one per row)
//   C  normalise: p = sat_u(obits, round(e * r / 2^(R - obits))) (one multiply + one shift/clamp stage)
// Rows stream back to back: A reads row i+2 while B works on row i+1 and C on row i; one beat of L
// elements per cycle per stage. in_mask marks the valid lanes of a beat (ragged last beat), in_last
// the row's last beat; outputs come out in input order with out_last. Masked lanes give p = 0.
// Runtime values (per layer): the exp coefficients of hg_exp, rbits = R, obits = output bits.
module hg_softmax #(
    parameter int L = 8, parameter int N_MAX = 64, parameter int IW = 16, parameter int OB = 8,
    parameter int DW = 17, parameter int NB = 17, parameter int IMB = 21, parameter int PF = 17,
    parameter int LF = 15, parameter int AB = 14, parameter int ZB = 5,
    parameter int RM = 28, parameter int QB = 13, parameter int SW = 24
) (
    input  logic                clk,
    input  logic                rst,
    input  logic                in_valid,
    output logic                in_ready,
    input  logic [L*IW-1:0]     in_x,
    input  logic [L-1:0]        in_mask,
    input  logic                in_last,
    // exp coefficients (hg_exp) and normalisation
    input  logic [NB-1:0]       n_clamp,
    input  logic [IMB-1:0]      inv_mult,
    input  logic [5:0]          inv_shift,
    input  logic [5:0]          g,
    input  logic [PF:0]         ln2,
    input  logic [PF+1:0]       b,
    input  logic [AB-1:0]       a,
    input  logic signed [LF+2:0] c,
    input  logic [6:0]          sqs,
    input  logic [5:0]          lf,
    input  logic [2:0]          guard,
    input  logic [5:0]          rbits,
    input  logic [4:0]          obits,
    output logic                out_valid,
    output logic [L*OB-1:0]     out_p,
    output logic                out_last
);
    localparam int LV   = $clog2(L);
    localparam int BPR  = (N_MAX + L - 1) / L;                       // beats per row
    localparam int D1   = 1 << $clog2(2 * BPR + 2 * LV + 8);         // FIFO1 depth
    localparam int D2   = 1 << $clog2(2 * BPR + 2 * LV + 40);        // FIFO2 depth (covers the divider)
    localparam int EW   = LF + 1;
    localparam logic signed [IW-1:0] XMIN = {1'b1, {(IW-1){1'b0}}};

    // ---------------- A: row max ----------------
    logic              f1_full, f1_empty, f1_pop;
    logic [L*IW+L:0]   f1_dout;
    logic [$clog2(D1):0] f1_cnt;
    assign in_ready = !f1_full;
    wire acc_in = in_valid && in_ready;
    hg_fifo #(.W(L*IW+L+1), .DEPTH(D1)) u_f1 (.clk, .rst, .push(acc_in), .din({in_last, in_mask, in_x}),
        .pop(f1_pop), .dout(f1_dout), .empty(f1_empty), .full(f1_full), .count(f1_cnt));

    logic signed [IW-1:0] mx [LV+1][L];
    logic                 mv [LV+1];
    logic                 ml [LV+1];
    genvar i, l;
    generate
        for (i = 0; i < L; i++) begin : g_mx0
            assign mx[0][i] = in_mask[i] ? $signed(in_x[i*IW +: IW]) : XMIN;
        end
        for (l = 0; l < LV; l++) begin : g_mx
            for (i = 0; i < (L >> (l + 1)); i++) begin : g_n
                always_ff @(posedge clk)
                    mx[l+1][i] <= (mx[l][2*i] > mx[l][2*i+1]) ? mx[l][2*i] : mx[l][2*i+1];
            end
            for (i = (L >> (l + 1)); i < L; i++) begin : g_z
                assign mx[l+1][i] = XMIN;
            end
            always_ff @(posedge clk) begin mv[l+1] <= mv[l]; ml[l+1] <= ml[l]; end
        end
    endgenerate
    assign mv[0] = acc_in;
    assign ml[0] = in_last;

    logic signed [IW-1:0] rmax;
    logic                 rfirst;          // next tree beat starts a row
    logic                 mq_push, mq_empty, mq_full;
    logic [IW-1:0]        mq_din, mq_dout;
    logic signed [IW-1:0] cand;
    assign cand = (rfirst || mx[LV][0] > rmax) ? mx[LV][0] : rmax;
    always_ff @(posedge clk) begin
        if (rst) rfirst <= 1'b1;
        else if (mv[LV]) begin
            rmax   <= cand;
            rfirst <= ml[LV];
        end
    end
    assign mq_push = mv[LV] && ml[LV];
    assign mq_din  = cand;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [3:0] mq_cnt;
    /* verilator lint_on UNUSEDSIGNAL */
    hg_fifo #(.W(IW), .DEPTH(8)) u_mq (.clk, .rst, .push(mq_push), .din(mq_din), .pop(f1_pop && f1_dout[L*IW+L]),
        .dout(mq_dout), .empty(mq_empty), .full(mq_full), .count(mq_cnt));

    // ---------------- B: exp + sum ----------------
    logic              f2_full, f2_empty, f2_pop;
    logic [$clog2(D2):0] f2_cnt;
    logic [L*EW:0]     f2_din, f2_dout;
    logic              f2_push;
    assign f1_pop = !f1_empty && !mq_empty && (f2_cnt < ($clog2(D2)+1)'(D2 - 24));

    logic [EW-1:0] e    [L];
    logic [1:0]    etag [L];
    logic          e_valid;
    generate
        for (i = 0; i < L; i++) begin : g_exp
            logic signed [DW-1:0] dd;
            assign dd = DW'($signed(f1_dout[i*IW +: IW])) - DW'($signed(mq_dout));
            /* verilator lint_off UNUSEDSIGNAL */
            logic ev;
            /* verilator lint_on UNUSEDSIGNAL */
            hg_exp #(.DW(DW), .NB(NB), .IMB(IMB), .PF(PF), .LF(LF), .AB(AB), .ZB(ZB), .TAG_W(2)) u_exp (
                .clk, .in_valid(f1_pop), .in_tag({f1_dout[L*IW+L], f1_dout[L*IW+i]}), .d(dd),
                .n_clamp, .inv_mult, .inv_shift, .g, .ln2, .b, .a, .c, .sqs, .lf, .guard,
                .out_valid(ev), .out_tag(etag[i]), .out(e[i]));
            assign f2_din[i*EW +: EW] = etag[i][0] ? e[i] : '0;
        end
    endgenerate
    // valid of the exp outputs (same latency for every lane)
    logic [7:0] ev_d;
    always_ff @(posedge clk) ev_d <= {ev_d[6:0], f1_pop};
    assign e_valid = ev_d[7];
    assign f2_push = e_valid;
    assign f2_din[L*EW] = etag[0][1];
    hg_fifo #(.W(L*EW+1), .DEPTH(D2)) u_f2 (.clk, .rst, .push(f2_push), .din(f2_din), .pop(f2_pop),
        .dout(f2_dout), .empty(f2_empty), .full(f2_full), .count(f2_cnt));

    // lane sum tree + row sum -> reciprocal
    logic [SW-1:0] st [LV+1][L];
    logic          sv [LV+1];
    logic          sl [LV+1];
    generate
        for (i = 0; i < L; i++) begin : g_s0
            assign st[0][i] = SW'(f2_din[i*EW +: EW]);
        end
        for (l = 0; l < LV; l++) begin : g_st
            for (i = 0; i < (L >> (l + 1)); i++) begin : g_n
                always_ff @(posedge clk) st[l+1][i] <= st[l][2*i] + st[l][2*i+1];
            end
            for (i = (L >> (l + 1)); i < L; i++) begin : g_z
                assign st[l+1][i] = '0;
            end
            always_ff @(posedge clk) begin sv[l+1] <= sv[l]; sl[l+1] <= sl[l]; end
        end
    endgenerate
    assign sv[0] = e_valid;
    assign sl[0] = etag[0][1];
    logic [SW-1:0] rsum, rsum_n;
    logic          sfirst, rs_valid;
    assign rsum_n = (sfirst ? '0 : rsum) + st[LV][0];
    always_ff @(posedge clk) begin
        if (rst) sfirst <= 1'b1;
        else if (sv[LV]) begin
            rsum   <= rsum_n;
            sfirst <= sl[LV];
        end
        rs_valid <= sv[LV] && sl[LV] && !rst;
    end
    logic          r_valid;
    logic [QB-1:0] r;
    /* verilator lint_off UNUSEDSIGNAL */
    logic          r_tag;
    /* verilator lint_on UNUSEDSIGNAL */
    hg_recip #(.SW(SW), .RM(RM), .QB(QB), .DEPTH(12), .TAG_W(1)) u_recip (
        .clk, .in_valid(rs_valid), .in_tag(1'b0), .s(rsum), .rbits, .out_valid(r_valid), .out_tag(r_tag), .r(r));
    logic          rq_empty, rq_full;
    logic [QB-1:0] rq_dout;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [3:0]    rq_cnt;
    /* verilator lint_on UNUSEDSIGNAL */
    hg_fifo #(.W(QB), .DEPTH(8)) u_rq (.clk, .rst, .push(r_valid), .din(r), .pop(f2_pop && f2_dout[L*EW]),
        .dout(rq_dout), .empty(rq_empty), .full(rq_full), .count(rq_cnt));

    // ---------------- C: normalise ----------------
    assign f2_pop = !f2_empty && !rq_empty;
    localparam int PW = EW + QB;
    logic [PW-1:0] er [L];
    logic          c1v, c1l;
    logic [5:0]    osh;
    assign osh = rbits - 6'(obits);
    generate
        for (i = 0; i < L; i++) begin : g_norm
            logic [PW-1:0] rr;
            logic [PW-1:0] hi;
            always_ff @(posedge clk) er[i] <= PW'(f2_dout[i*EW +: EW]) * PW'(rq_dout);
            assign rr = (er[i] + ((PW'(1) << osh) >> 1)) >> osh;
            assign hi = (PW'(1) << obits) - PW'(1);
            always_ff @(posedge clk) out_p[i*OB +: OB] <= OB'((rr > hi) ? hi : rr);
        end
    endgenerate
    always_ff @(posedge clk) begin
        c1v <= f2_pop; c1l <= f2_dout[L*EW];
        out_valid <= c1v && !rst; out_last <= c1l;
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = mq_full | rq_full | f2_full | (|f1_cnt);
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
