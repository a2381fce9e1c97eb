// hg_att_engine: the attention engine (hlsgen.ops.AttnQK / AttnAV), one head per op, on hg_dsp_core:
//   QK  S[i, j] = rq(sum_c Q[i, c] K[j, c]): PE over keys, SIMD over the head dim; the stationary tile
//       (PE keys x d) loads one (key, SIMD chunk) per cycle from QKV while the previous tile computes.
//   AV  A[i, h d + c] = rq(sum_j P[i, j] V[j, c]): PE over the head dim, SIMD over keys (ragged: the
//       keys beyond n are zero); the stationary tile (PE channels x n keys) loads one token per cycle.
// Probabilities are unsigned k-bit (KB+1-bit signed operand); the scalar requantizer of the op.
// Lint: index arithmetic of this glue module is done in 32-bit ints.
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_att_engine #(
    parameter int D = 64, parameter int HD = 16, parameter int KB = 8, parameter int N = 17,
    parameter int PE = 1, parameter int SIMD = 1, parameter int SEW = 16, parameter int BIAS_W = 32
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 start,
    input  logic                 av,              // 0: Q.K^T, 1: A.V
    input  logic [4:0]           head,
    input  logic [8:0]           n,
    input  logic [15:0]          rq_mult,
    input  logic [BIAS_W-1:0]    rq_bias_r,
    input  logic [5:0]           rq_shift,
    input  logic [4:0]           rq_bits,
    output logic                 done,
    output logic [8:0]           qkv_raddr1,      // query rows (QK)
    input  logic [3*D*KB-1:0]    qkv_rdata1,
    output logic [8:0]           qkv_raddr2,      // stationary tile loads
    input  logic [3*D*KB-1:0]    qkv_rdata2,
    output logic [8:0]           s_raddr,         // probabilities (AV)
    input  logic [N*SEW-1:0]     s_rdata,
    output logic                 s_we,
    output logic [8:0]           s_waddr,
    output logic [N-1:0]         s_wen,
    output logic [N*SEW-1:0]     s_wdata,
    output logic                 a_we,
    output logic [8:0]           a_waddr,
    output logic [D-1:0]         a_wen,
    output logic [D*KB-1:0]      a_wdata
);
    localparam int AW = KB + 1;
    localparam int ACC_W = 2 * KB + $clog2(N > HD ? N : HD) + 3;
    localparam int SQK = HD / SIMD;
    localparam int SAV = (N + SIMD - 1) / SIMD;
    localparam int WD = (SQK > SAV) ? SQK : SAV;        // tile words per bank
    localparam int TA = $clog2(2 * WD);

    logic        rav, busy, start_d;
    logic [4:0]  rh;
    logic [8:0]  rn;
    always_ff @(posedge clk) begin
        start_d <= start;
        if (start) begin rav <= av; rh <= head; rn <= n; end
    end
    wire [9:0] steps = rav ? 10'((rn + 9'(SIMD) - 9'd1) / 9'(SIMD)) : 10'(SQK);
    wire [9:0] tiles = rav ? 10'(HD / PE) : 10'((rn + 9'(PE) - 9'd1) / 9'(PE));

    logic        ld_go, ld_bank, ld_done, ld_done_bank;
    logic [9:0]  ld_tile;
    logic        b_valid, b_bank, b_first, b_last, b_tile_last, seq_busy, cdone;
    logic [8:0]  b_row;
    logic [9:0]  b_step, b_tile;
    hg_mm_seq #(.RW(9), .SW(10), .TW(10)) u_seq (
        .clk, .rst, .start(start_d), .rows(rn), .steps, .tiles, .row_cycles(10'd0),
        .load_go(ld_go), .load_tile(ld_tile), .load_bank(ld_bank), .load_done(ld_done), .load_done_bank(ld_done_bank),
        .b_valid, .b_row, .b_step, .b_tile, .b_bank, .b_first, .b_last, .b_tile_last, .busy(seq_busy),
        .compute_done(cdone));

    // ---- stationary tile loader (reads QKV port 2) ----
    logic        lbusy, lbank, lv;
    logic [9:0]  ltile;
    logic [8:0]  lj, lcnt;                 // key / token index within the load
    logic [9:0]  ls;
    logic [8:0]  lj_d;
    logic [9:0]  ls_d;
    always_ff @(posedge clk) begin
        ld_done <= 1'b0;
        if (rst || start) begin
            lbusy <= 1'b0; lv <= 1'b0;
        end else begin
            lv <= lbusy; lj_d <= lj; ls_d <= ls;
            if (ld_go) begin
                lbusy <= 1'b1; lbank <= ld_bank; ltile <= ld_tile; lj <= '0; ls <= '0;
                lcnt <= rav ? rn : ((rn - 9'(ld_tile) * 9'(PE) < 9'(PE)) ? rn - 9'(ld_tile) * 9'(PE) : 9'(PE));
            end else if (lbusy) begin
                if (!rav && ls != steps - 10'd1) ls <= ls + 10'd1;
                else begin
                    ls <= '0;
                    lj <= lj + 9'd1;
                    if (lj == lcnt - 9'd1) begin lbusy <= 1'b0; ld_done <= 1'b1; end
                end
            end
        end
    end
    assign ld_done_bank = lbank;
    assign qkv_raddr2 = rav ? lj : 9'(int'(ltile) * PE + int'(lj));
    // tile RAM: word = PE x SIMD elements, element (p, i) at p * SIMD + i
    // The QKV row is read as aligned words (SIMD | HD, PE | HD): K chunk (head rh, chunk ls) is word
    // rh * HD / SIMD + ls of the K third, V channels (rh, ltile) word rh * HD / PE + ltile of the V third.
    // The write data repeats the word over the tile's lanes (K) or slots (V); the enables pick one.
    logic [SIMD*KB-1:0] k_words [D/SIMD];
    logic [PE*KB-1:0]   v_words [D/PE];
    always_comb begin
        for (int w = 0; w < D / SIMD; w++) k_words[w] = qkv_rdata2[D*KB + w*SIMD*KB +: SIMD*KB];
        for (int w = 0; w < D / PE; w++) v_words[w] = qkv_rdata2[2*D*KB + w*PE*KB +: PE*KB];
    end
    wire [SIMD*KB-1:0] kword = k_words[int'(rh) * (HD / SIMD) + int'(ls_d)];
    wire [PE*KB-1:0]   vword = v_words[int'(rh) * (HD / PE) + int'(ltile)];
    logic [PE*SIMD-1:0]    twen;
    logic [PE*SIMD*KB-1:0] twd;
    logic [TA-1:0]         twa;
    always_comb begin
        twen = '0;
        for (int p = 0; p < PE; p++)
            for (int i = 0; i < SIMD; i++) twd[(p * SIMD + i) * KB +: KB] = rav ? vword[p*KB +: KB] : kword[i*KB +: KB];
        if (!rav) begin          // key lj, chunk ls -> lane lj, word ls
            twa = (lbank ? TA'(WD) : TA'(0)) + TA'(ls_d);
            for (int i = 0; i < SIMD; i++) twen[int'(lj_d) * SIMD + i] = 1'b1;
        end else begin           // token lj -> word lj / SIMD, slot lj % SIMD, channels ltile * PE + p
            twa = (lbank ? TA'(WD) : TA'(0)) + TA'(int'(lj_d) / SIMD);
            for (int p = 0; p < PE; p++) twen[p * SIMD + int'(lj_d) % SIMD] = 1'b1;
        end
    end
    logic [PE*SIMD*KB-1:0] trd;
    hg_ram #(.EW(KB), .NE(PE*SIMD), .DEPTH(1 << TA)) u_tile (
        .clk, .we(lv && !rst), .waddr(twa), .wen(twen), .wdata(twd),
        .raddr((b_bank ? TA'(WD) : TA'(0)) + TA'(b_step)), .rdata(trd));

    // ---- beats ----
    assign qkv_raddr1 = b_row;
    assign s_raddr = b_row;
    logic        v1, v2, f1, f2, l1, l2;
    logic [19:0] t1, t2;
    logic [9:0]  st1;
    logic [SIMD*AW-1:0]    xs2;
    logic [PE*SIMD*KB-1:0] ws2;
    // operand rows as aligned SIMD-element words: Q chunk (rh, step) = word rh * HD / SIMD + step of
    // the Q third; probabilities: word step of the score row (zero-padded to whole words)
    localparam int NSW = (N + SIMD - 1) / SIMD;
    logic [SIMD*KB-1:0]  q_words [D/SIMD];
    logic [SIMD*SEW-1:0] s_words [NSW];
    logic [NSW*SIMD*SEW-1:0] s_pad;
    always_comb begin
        for (int w = 0; w < D / SIMD; w++) q_words[w] = qkv_rdata1[w*SIMD*KB +: SIMD*KB];
        s_pad = (NSW*SIMD*SEW)'(s_rdata);
        for (int w = 0; w < NSW; w++) s_words[w] = s_pad[w*SIMD*SEW +: SIMD*SEW];
    end
    wire [SIMD*KB-1:0]  qword = q_words[int'(rh) * (HD / SIMD) + int'(st1)];
    wire [SIMD*SEW-1:0] sword = s_words[int'(st1) % NSW];
    always_ff @(posedge clk) begin
        v1 <= b_valid && !rst; f1 <= b_first; l1 <= b_last; t1 <= {b_bank, b_tile, b_row}; st1 <= b_step;
        v2 <= v1 && !rst; f2 <= f1; l2 <= l1; t2 <= t1;
        ws2 <= trd;
        for (int i = 0; i < SIMD; i++) begin
            if (!rav)
                xs2[i*AW +: AW] <= AW'($signed(qword[i*KB +: KB]));
            else
                xs2[i*AW +: AW] <= (int'(st1) * SIMD + i < int'(rn)) ? AW'(sword[i*SEW +: KB]) : AW'(0);
        end
    end

    logic                cv;
    logic [19:0]         ct;
    logic [PE*ACC_W-1:0] y;
    // x is a k-bit code (signed Q or unsigned P: [-2^(k-1), 2^k - 1]), w a signed k-bit K or V: a chain of
    // 4 products stays below 2^(2k+1), so the low field needs 2k + 2 bits (not AW + BW + 2 = 2k + 3) and
    // the packed pair fits the DSP48E2's 27-bit port at k = 8: two products per DSP, as the HLS mul2
    hg_dsp_core #(.PE(PE), .SIMD(SIMD), .AW(AW), .BW(KB), .ACC_W(ACC_W), .TAG_W(20), .SH(2 * KB + 2)) u_core (
        .clk, .in_valid(v2), .in_first(f2), .in_last(l2), .in_tag(t2), .x(xs2), .w(ws2),
        .out_valid(cv), .out_tag(ct), .y);

    logic [PE*16-1:0] q;
    logic [PE-1:0]    qv;
    genvar p;
    generate
        for (p = 0; p < PE; p++) begin : g_rq
            hg_requant #(.ACC_W(ACC_W), .BIAS_W(BIAS_W), .OUT_W(16)) u_rq (
                .clk, .in_valid(cv), .acc(y[p*ACC_W +: ACC_W]), .mult(rq_mult), .bias_r(rq_bias_r),
                .shift(rq_shift), .bits(rq_bits), .out_signed(1'b1), .out_valid(qv[p]), .out(q[p*16 +: 16]));
        end
    endgenerate
    logic [19:0] qt [4];
    always_ff @(posedge clk) begin
        qt[0] <= ct;
        for (int i = 1; i < 4; i++) qt[i] <= qt[i-1];
    end
    logic        ov;
    logic [8:0]  orow;
    logic [12:0] ocol;
    logic [PE*16-1:0] oq;
    always_ff @(posedge clk) begin
        ov <= qv[0] && !rst; orow <= qt[3][8:0]; ocol <= 13'(qt[3][18:9]) * 13'(PE); oq <= q;
    end
    // The write data is the PE results replicated along the row, the element enables pick the
    // columns: a tile starts at a multiple of PE (S: ocol + i < rn <= N; A: PE divides HD and D), so
    // column c holds result c % PE (no demultiplexer).
    always_comb begin
        s_we = ov && !rav; a_we = ov && rav; s_waddr = orow; a_waddr = orow;
        s_wen = '0; a_wen = '0;
        for (int j = 0; j < N; j++) s_wdata[j*SEW +: SEW] = SEW'(oq[(j % PE)*16 +: 16]);
        for (int j = 0; j < D; j++) a_wdata[j*KB +: KB] = oq[(j % PE)*16 +: KB];
        for (int i = 0; i < PE; i++) begin
            if (int'(ocol) + i < int'(rn)) s_wen[(int'(ocol) + i) % N] = 1'b1;
            a_wen[(int'(rh) * HD + int'(ocol) + i) % D] = 1'b1;
        end
    end

    logic [19:0] issued, written;
    always_ff @(posedge clk) begin
        if (start) begin
            issued <= '0; written <= '0; busy <= 1'b1;
        end else begin
            if (v2 && l2) issued <= issued + 20'd1;
            if (ov) written <= written + 20'd1;
            if (done) busy <= 1'b0;
        end
    end
    assign done = busy && cdone && issued == written && !v1 && !v2 && !start_d;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |{seq_busy, qv, qt[3][19], b_first, b_tile_last, ld_tile, qkv_rdata1, s_rdata};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
