// hg_sel_engine: the token selector's vector unit (hlsgen.ops.TokenSelect, quant.golden.token_select):
// L lanes (select_lanes) and GL GELU lanes; one sub-op per descriptor (sub):
//   SUB_GELU    H rows: 2k-bit local MLP outputs (two k-bit halves at columns 2c, 2c+1) -> GELU ->
//               local requantizer -> k-bit local features at columns D + c          (GL per cycle)
//   SUB_GMEAN   global mean of the local features over the rows: glob[c] = sat(round(sum * mult / 2^sh))
//   SUB_TMEAN   token mean of the LayerNorm output (A rows) -> A row SPARE
//   SUB_SCORE   score = sum_h z[h] g[h] (z: S rows, g: S row GROW), keep = score > 0; a pruned token's
//               pkg_rq(score) goes to S row PROW (compacted), its row index to the pruned list
//   SUB_COMPACT class token, kept tokens in order, then the package token (X row SPARE) -> n_new
// Reads take 2 cycles; each row / column group is one beat (rows x ceil(width / lanes) beats).
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_sel_engine #(
    parameter int D = 64, parameter int M = 128, parameter int KB = 8, parameter int N = 17, parameter int H = 4,
    parameter int L = 4, parameter int GL = 1, parameter int BIAS_W = 32, parameter int SCW = 32,
    parameter int SPARE = 31, parameter int GROW = 17, parameter int PROW = 18,
    parameter int G_IN = 16, parameter int G_W = 17, parameter int G_KB = 17, parameter int G_BB = 18,
    parameter int G_AB = 17, parameter int G_OW = 16
) (
    input  logic                clk,
    input  logic                rst,
    input  logic                start,
    input  logic [2:0]          sub,
    input  logic [8:0]          rows,
    input  logic [G_KB-1:0]     g_k,
    input  logic [G_BB-1:0]     g_b,
    input  logic [G_AB-1:0]     g_a,
    input  logic [5:0]          g_fi, g_wf,
    input  logic [6:0]          g_osh,
    input  logic [19:0]         q_mult,           // requantizer of the sub-op (GELU out, mean, pkg_rq)
    input  logic [BIAS_W-1:0]   q_bias_r,
    input  logic [5:0]          q_shift,
    input  logic [4:0]          q_bits,
    output logic                done,
    output logic [8:0]          h_raddr, a_raddr, s_raddr, x_raddr,
    input  logic [M*KB-1:0]     h_rdata,
    input  logic [D*KB-1:0]     a_rdata,
    input  logic [N*2*KB-1:0]   s_rdata,
    input  logic [D*16-1:0]     x_rdata,
    output logic                h_we, a_we, s_we, x_we,
    output logic [8:0]          w_row,
    output logic [M-1:0]        h_wen,
    output logic [M*KB-1:0]     h_wdata,
    output logic [D-1:0]        a_wen,
    output logic [D*KB-1:0]     a_wdata,
    output logic [N-1:0]        s_wen,
    output logic [N*2*KB-1:0]   s_wdata,
    output logic [D*16-1:0]     x_wdata,
    output logic [D/2*KB-1:0]   glob,
    output logic [8:0]          n_pruned,
    output logic [8:0]          n_new,
    input  logic [8:0]          pidx_addr,
    output logic [8:0]          pidx_data
);
    localparam int SUB_GELU = 0, SUB_GMEAN = 1, SUB_TMEAN = 2, SUB_SCORE = 3, SUB_COMPACT = 4;
    localparam int LOC = D / 2;
    localparam int GG = (LOC + GL - 1) / GL;           // GELU groups per row
    localparam int AW = 2 * KB + $clog2(N) + 2;        // mean accumulators

    logic [2:0]  rsub;
    logic [8:0]  nrows, r, grp, ngrp, cyc;
    logic        busy, issuing, start_d;
    logic        colmajor;                            // means: column group outer, rows inner
    logic        have_g;
    // beat generator
    always_comb begin
        case (rsub)
            3'(SUB_GELU):  ngrp = 9'(GG);
            3'(SUB_GMEAN): ngrp = 9'((LOC + L - 1) / L);
            3'(SUB_TMEAN): ngrp = 9'((D + L - 1) / L);
            3'(SUB_SCORE): ngrp = 9'((H + L - 1) / L);
            default:       ngrp = 9'd1;
        endcase
        colmajor = (rsub == 3'(SUB_GMEAN) || rsub == 3'(SUB_TMEAN));
    end
    wire [8:0] row_now = (rsub == 3'(SUB_COMPACT)) ? ((r == nrows - 9'd1) ? 9'(SPARE) : r + 9'd1) : r;
    assign h_raddr = row_now;
    assign a_raddr = row_now;
    assign s_raddr = (rsub == 3'(SUB_SCORE) && !have_g) ? 9'(GROW) : row_now;
    assign x_raddr = row_now;
    wire beat_ok = issuing && (rsub != 3'(SUB_COMPACT) || cyc == 0) && (rsub != 3'(SUB_SCORE) || have_g);
    wire lastg = (grp == ngrp - 9'd1);
    wire lastr = (r == nrows - 9'd1);
    // compaction: one row per ceil(D / L) cycles
    wire [8:0] ccyc = 9'((D + L - 1) / L);
    always_ff @(posedge clk) begin
        start_d <= start;
        if (rst) begin
            busy <= 1'b0; issuing <= 1'b0;
        end else if (done) begin
            busy <= 1'b0;
        end else if (start) begin
            busy <= 1'b1; issuing <= 1'b1; rsub <= sub; nrows <= rows; r <= '0; grp <= '0; cyc <= '0;
            have_g <= 1'b0;
        end else if (issuing) begin
            if (rsub == 3'(SUB_SCORE) && !have_g) have_g <= 1'b1;         // the g row read goes first
            else if (rsub == 3'(SUB_COMPACT)) begin
                cyc <= (cyc == ccyc - 9'd1) ? '0 : cyc + 9'd1;
                if (cyc == ccyc - 9'd1) begin
                    r <= r + 9'd1;
                    if (lastr) issuing <= 1'b0;
                end
            end else if (colmajor) begin
                r <= lastr ? '0 : r + 9'd1;
                if (lastr) grp <= grp + 9'd1;
                if (lastr && lastg) issuing <= 1'b0;
            end else begin
                grp <= lastg ? '0 : grp + 9'd1;
                if (lastg) r <= r + 9'd1;
                if (lastg && lastr) issuing <= 1'b0;
            end
        end
    end

    // 2-cycle read pipeline
    logic       v1, v2, gv1, fr1, fr2, lr1, lr2, lg1, lg2;
    logic [8:0] r1, r2, g1, g2;
    always_ff @(posedge clk) begin
        v1 <= beat_ok && !rst; r1 <= r; g1 <= grp; fr1 <= (r == 0); lr1 <= lastr; lg1 <= lastg;
        gv1 <= issuing && rsub == 3'(SUB_SCORE) && !have_g && !rst;
        v2 <= v1 && !rst; r2 <= r1; g2 <= g1; fr2 <= fr1; lr2 <= lr1; lg2 <= lg1;
    end
    logic [M*KB-1:0]   h_r2;
    logic [D*KB-1:0]   a_r2;
    logic [N*2*KB-1:0] s_r2;
    logic [D*16-1:0]   x_r2;
    always_ff @(posedge clk) begin
        h_r2 <= h_rdata; a_r2 <= a_rdata; s_r2 <= s_rdata; x_r2 <= x_rdata;
    end
    logic [H*KB-1:0] gates;
    always_ff @(posedge clk) if (gv1) for (int h = 0; h < H; h++) gates[h*KB +: KB] <= s_rdata[h * 2 * KB +: KB];

    // ---- lanes: GELU (SUB_GELU) ----
    logic [GL*G_OW-1:0] go;
    logic [GL-1:0]      gov;
    logic [17:0]        gtag;
    genvar i;
    generate
        for (i = 0; i < GL; i++) begin : g_gelu
            logic [17:0] tg;
            wire [8:0] c = 9'(int'(g1) * GL + i);
            hg_gelu #(.IN_W(G_IN), .W(G_W), .KB(G_KB), .BB(G_BB), .AB(G_AB), .OW(G_OW), .TAG_W(18)) u_gelu (
                .clk, .in_valid(v1 && rsub == 3'(SUB_GELU)), .in_tag({g1, r1}),
                .x(G_IN'({h_rdata[((2 * int'(c) + 1) % M) * KB +: KB], h_rdata[((2 * int'(c)) % M) * KB +: KB]})),
                .kk(g_k), .bb(g_b), .aa(g_a), .fi(g_fi), .wf(g_wf), .osh(g_osh),
                .out_valid(gov[i]), .out_tag(tg), .out(go[i*G_OW +: G_OW]));
            if (i == 0) begin : g_t
                assign gtag = tg;
            end else begin : g_nt
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_tg = |tg;
                /* verilator lint_on UNUSEDSIGNAL */
            end
        end
    endgenerate

    // ---- lanes: mean accumulators (SUB_GMEAN / SUB_TMEAN) ----
    logic signed [AW-1:0] acc [L];
    logic                 accv;
    logic [8:0]           accg;
    always_ff @(posedge clk) begin
        accv <= v2 && colmajor && lr2 && !rst;
        accg <= g2;
        for (int l = 0; l < L; l++) begin
            if (v2 && colmajor) begin
                logic signed [KB-1:0] e;
                e = (rsub == 3'(SUB_GMEAN)) ? h_r2[((D + int'(g2) * L + l) % M) * KB +: KB]
                                            : a_r2[((int'(g2) * L + l) % D) * KB +: KB];
                acc[l] <= (fr2 ? '0 : acc[l]) + AW'(e);
            end
        end
    end

    // ---- lanes: gated score (SUB_SCORE) ----
    logic               scv, keep;
    logic signed [SCW-1:0] score;
    logic [L*2*KB-1:0]  zl;
    logic [L*KB-1:0]    gl_;
    logic [L-1:0]       zm;
    always_comb begin
        for (int l = 0; l < L; l++) begin
            zl[l*2*KB +: 2*KB] = s_r2[((int'(g2) * L + l) % N) * 2 * KB +: 2 * KB];
            gl_[l*KB +: KB] = gates[((int'(g2) * L + l) % H) * KB +: KB];
            zm[l] = (int'(g2) * L + l < H);
        end
    end
    hg_score #(.L(L), .ZW(2 * KB), .GW(KB), .SW(SCW)) u_score (
        .clk, .rst(rst || start), .in_valid(v2 && rsub == 3'(SUB_SCORE)), .z(zl), .g(gl_), .in_mask(zm),
        .in_last(lg2), .out_valid(scv), .score, .keep);

    // ---- requantizers: GELU out / means / pkg_rq ----
    logic [L*AW-1:0] qin;
    logic [L-1:0]    qinv;
    always_comb begin
        for (int l = 0; l < L; l++) begin
            qin[l*AW +: AW] = (rsub == 3'(SUB_SCORE)) ? AW'(score) :
                              (rsub == 3'(SUB_GELU)) ? AW'($signed(go[(l % GL) * G_OW +: G_OW])) : acc[l];
            qinv[l] = (rsub == 3'(SUB_SCORE)) ? (l == 0 && scv && !keep) :
                      (rsub == 3'(SUB_GELU)) ? (l < GL && gov[0]) : accv;
        end
    end
    localparam int QL = (L > GL) ? L : GL;
    logic [QL*16-1:0] q;
    logic [QL-1:0]    qv;
    generate
        for (i = 0; i < QL; i++) begin : g_rq
            hg_requant #(.ACC_W(AW > SCW ? AW : SCW), .MULT_W(20), .BIAS_W(BIAS_W), .OUT_W(16)) u_rq (
                .clk, .in_valid(i < L ? qinv[i % L] : (rsub == 3'(SUB_GELU) && gov[0])),
                .acc((rsub == 3'(SUB_SCORE)) ? (AW > SCW ? AW : SCW)'(score) :
                     (rsub == 3'(SUB_GELU)) ? (AW > SCW ? AW : SCW)'($signed(go[(i % GL) * G_OW +: G_OW])) :
                     (AW > SCW ? AW : SCW)'(acc[i % L])),
                .mult(q_mult), .bias_r(q_bias_r), .shift(q_shift), .bits(q_bits), .out_signed(1'b1),
                .out_valid(qv[i]), .out(q[i*16 +: 16]));
        end
    endgenerate
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused_q = |{qin, qv};
    /* verilator lint_on UNUSEDSIGNAL */
    logic [17:0] qt [4];
    logic [8:0]  qg [4];
    logic [8:0]  qm [4];
    logic [8:0]  pm;                                   // pruned so far
    always_ff @(posedge clk) begin
        qt[0] <= gtag; qg[0] <= accg; qm[0] <= pm;
        for (int k = 1; k < 4; k++) begin qt[k] <= qt[k-1]; qg[k] <= qg[k-1]; qm[k] <= qm[k-1]; end
    end

    // ---- score bookkeeping, pruned list, compaction ----
    logic [N-1:0] keepm;
    logic [8:0]   plist [N];
    logic [8:0]   sr;                                  // token index of the next score
    logic [8:0]   dst;
    always_ff @(posedge clk) begin
        if (start) begin
            if (sub == 3'(SUB_SCORE)) begin pm <= '0; sr <= '0; end
            dst <= 9'd1;
        end else begin
            if (scv && rsub == 3'(SUB_SCORE)) begin
                keepm[sr % N] <= keep;
                sr <= sr + 9'd1;
                if (!keep) begin plist[pm % N] <= sr; pm <= pm + 9'd1; end
            end
            if (v2 && rsub == 3'(SUB_COMPACT) && (lr2 || keepm[r2 % N])) dst <= dst + 9'd1;
        end
        if (qv[0] && rsub == 3'(SUB_GMEAN))
            for (int l = 0; l < L; l++) if (int'(qg[3]) * L + l < LOC) glob[(int'(qg[3]) * L + l) * KB +: KB] <= q[l*16 +: KB];
    end
    assign n_pruned = pm;
    assign pidx_data = plist[pidx_addr % N];
    assign n_new = dst;

    // ---- writes ----
    always_comb begin
        h_we = 1'b0; a_we = 1'b0; s_we = 1'b0; x_we = 1'b0; w_row = '0;
        h_wen = '0; h_wdata = '0; a_wen = '0; a_wdata = '0; s_wen = '0; s_wdata = '0; x_wdata = x_r2;
        case (rsub)
            3'(SUB_GELU): begin
                h_we = qv[0]; w_row = qt[3][8:0];
                for (int l = 0; l < GL; l++) if (int'(qt[3][17:9]) * GL + l < LOC) begin
                    h_wen[(D + int'(qt[3][17:9]) * GL + l) % M] = 1'b1;
                    h_wdata[((D + int'(qt[3][17:9]) * GL + l) % M) * KB +: KB] = q[l*16 +: KB];
                end
            end
            3'(SUB_TMEAN): begin
                a_we = qv[0]; w_row = 9'(SPARE);
                for (int l = 0; l < L; l++) if (int'(qg[3]) * L + l < D) begin
                    a_wen[(int'(qg[3]) * L + l) % D] = 1'b1;
                    a_wdata[((int'(qg[3]) * L + l) % D) * KB +: KB] = q[l*16 +: KB];
                end
            end
            3'(SUB_SCORE): begin
                s_we = qv[0]; w_row = 9'(PROW);
                s_wen[qm[3] % N] = 1'b1;
                s_wdata[(qm[3] % N) * 2 * KB +: 2 * KB] = q[0 +: 2 * KB];
            end
            3'(SUB_COMPACT): begin
                x_we = v2 && (lr2 || keepm[r2 % N]); w_row = dst;
            end
            default: ;
        endcase
    end

    // ---- done: nothing issued or in flight ----
    logic [15:0] quiet;
    always_ff @(posedge clk) begin
        if (start || issuing || v1 || v2 || gov[0] || qv[0] || scv || accv) quiet <= '0;
        else if (quiet != 16'hFFFF) quiet <= quiet + 16'd1;
    end
    assign done = busy && !issuing && !start_d && quiet == 16'd6;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |{go, gov, g2, fr1, lg1, gl_};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
