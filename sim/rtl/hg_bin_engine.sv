// hg_bin_engine: the binary matrix engine with its weight stream and output path (hlsgen.ops.LinearBinary):
//   tiles of PE output channels (double-buffered, streamed from the weight blob through the shared
//   read DMA + realigner), per tile one II=1 loop over rows x K/SIMD steps (hg_mm_seq), the PE x SIMD
//   gate-and-add lanes (hg_bin_core), a requantizer per PE (hg_requant, the channel's constants), then
//     MODE_ACT   k-bit codes -> QKV columns                     (qkv)
//     MODE_RES   + residual X row, saturating int16 -> X        (proj, fc2)
//     MODE_GELU  GL GELU lanes + GELU requantizer -> H columns  (fc1; rows stall to ceil(PE/GL) cycles)
// Activations come from A (src 0) or H (src 1), one token row per word; reads take 2 cycles
// (RAM + slice register: hlsgen.ops.BUF_READ).
// Lint: index arithmetic of this glue module is done in 32-bit ints.
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_bin_engine #(
    parameter int D = 64, parameter int M = 128, parameter int KB = 8, parameter int N = 17,
    parameter int PE = 1, parameter int SIMD = 2, parameter int GL = 1,
    parameter int TWB = 256, parameter int WPR = 2, parameter int BIAS_W = 32,
    parameter int SH_MIN = 0, parameter int SH_MAX = 47,
    // GELU widths (hlsgen.emit_rtl.gelu_widths)
    parameter int G_IN = 16, parameter int G_W = 17, parameter int G_KB = 17, parameter int G_BB = 18,
    parameter int G_AB = 17, parameter int G_OW = 16
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 start,
    input  logic [12:0]          K,
    input  logic [12:0]          O,
    input  logic [8:0]           rows,
    input  logic                 src,
    input  logic [1:0]           mode,
    input  logic [12:0]          col_off,
    input  logic [5:0]           shift,
    input  logic [4:0]           bits,
    input  logic [63:0]          w_addr,
    input  logic [2:0]           bbytes,
    // GELU (fc1): coefficients and output requantizer
    input  logic [G_KB-1:0]      g_k,
    input  logic [G_BB-1:0]      g_b,
    input  logic [G_AB-1:0]      g_a,
    input  logic [5:0]           g_fi, g_wf,
    input  logic [6:0]           g_osh,
    input  logic [15:0]          g_mult,
    input  logic [BIAS_W-1:0]    g_bias_r,
    input  logic [5:0]           g_shift,
    output logic                 done,
    // weight stream
    output logic                 dma_req,
    input  logic                 dma_ready,
    output logic [63:0]          dma_addr,
    output logic [23:0]          dma_bytes,
    output logic                 ra_start,
    output logic [15:0]          ra_rec_bytes,
    output logic [9:0]           ra_nrec,
    input  logic                 c_valid,
    output logic                 c_ready,
    input  logic [9:0]           c_rec,
    input  logic [10:0]          c_word,
    input  logic [255:0]         c_data,
    input  logic [31:0]          c_be,
    input  logic                 c_last,
    input  logic                 c2_valid,
    input  logic [255:0]         c2_data,
    input  logic [31:0]          c2_be,
    // activation memories
    output logic [8:0]           act_raddr,
    input  logic [D*KB-1:0]      a_rdata,
    input  logic [M*KB-1:0]      h_rdata,
    output logic [8:0]           x_raddr,
    input  logic [D*16-1:0]      x_rdata,
    output logic                 qkv_we, x_we, h_we,
    output logic [8:0]           w_row,
    output logic [3*D-1:0]       qkv_wen,
    output logic [3*D*KB-1:0]    qkv_wdata,
    output logic [D-1:0]         x_wen,
    output logic [D*16-1:0]      x_wdata,
    output logic [M-1:0]         h_wen,
    output logic [M*KB-1:0]      h_wdata
);
    localparam int KMAX = (D > M) ? D : M;
    localparam int ACC_W = KB + $clog2(KMAX) + 2;
    localparam int MODE_ACT = 0, MODE_RES = 1, MODE_GELU = 2;
    localparam int GS = (PE + GL - 1) / GL;            // GELU cycles per row

    // ---- op registers ----
    logic [12:0] rK, rO, rcol;
    logic [8:0]  rrows;
    logic        rsrc;
    logic [1:0]  rmode;
    logic [5:0]  rshift;
    logic [4:0]  rbits;
    logic [63:0] raddr0;
    logic [2:0]  rbb;
    logic [15:0] rec_bytes;
    logic        busy;
    always_ff @(posedge clk) begin
        if (start) begin
            rK <= K; rO <= O; rrows <= rows; rsrc <= src; rmode <= mode; rcol <= col_off; rshift <= shift;
            rbits <= bits; raddr0 <= w_addr; rbb <= bbytes;
            rec_bytes <= 16'(K >> 3) + 16'd2 + 16'(bbytes);
        end
    end

    // ---- loop nest ----
    logic        ld_go, ld_bank, ld_done, ld_done_bank;
    logic [9:0]  ld_tile;
    logic        b_valid, b_bank, b_first, b_last, b_tile_last, seq_busy, cdone;
    logic [8:0]  b_row;
    logic [9:0]  b_step, b_tile;
    wire [9:0] steps = 10'(rK / 13'(SIMD));
    wire [9:0] tiles = 10'(rO / 13'(PE));
    logic start_d;
    always_ff @(posedge clk) start_d <= start;
    hg_mm_seq #(.RW(9), .SW(10), .TW(10)) u_seq (
        .clk, .rst, .start(start_d), .rows(rrows), .steps, .tiles,
        .row_cycles((rmode == 2'(MODE_GELU)) ? 10'(GS) : 10'd0),
        .load_go(ld_go), .load_tile(ld_tile), .load_bank(ld_bank), .load_done(ld_done), .load_done_bank(ld_done_bank),
        .b_valid, .b_row, .b_step, .b_tile, .b_bank, .b_first, .b_last, .b_tile_last, .busy(seq_busy),
        .compute_done(cdone));

    // ---- weight stream: one DMA request per tile ----
    logic ld_pending;
    always_ff @(posedge clk) begin
        if (rst) ld_pending <= 1'b0;
        else if (dma_req && dma_ready) ld_pending <= 1'b0;
        else if (ld_go) ld_pending <= 1'b1;
    end
    assign dma_req      = ld_pending || ld_go;
    assign dma_addr     = raddr0 + 64'(ld_tile) * 64'(PE) * 64'(rec_bytes);
    assign dma_bytes    = 24'(PE) * 24'(rec_bytes);
    assign ra_start     = ld_go;
    assign ra_rec_bytes = rec_bytes;
    assign ra_nrec      = 10'(PE);

    logic [PE*TWB-1:0]    wt;
    logic [PE*16-1:0]     cm;
    logic [PE*BIAS_W-1:0] cb;
    logic                 o_bank;
    /* verilator lint_off UNUSEDSIGNAL */
    logic [PE*TWB-1:0]    wt_unused;
    /* verilator lint_on UNUSEDSIGNAL */
    localparam int WAW = (WPR > 1) ? $clog2(WPR) : 1;
    wire [12:0] bitpos = 13'(b_step) * 13'(SIMD);
    hg_wtiles #(.PE(PE), .TWB(TWB), .WPR(WPR), .RBW(16), .NRW(10), .BIAS_W(BIAS_W)) u_wt (
        .clk, .rst, .load_start(ld_go), .load_bank(ld_bank), .wbytes(16'(rK >> 3)), .bbytes(rbb), .shift(rshift),
        .c_valid, .c_ready, .c_rec, .c_word, .c_data, .c_be, .c_last, .c2_valid, .c2_data, .c2_be,
        .load_done(ld_done), .load_done_bank(ld_done_bank),
        .release_bank_v(b_tile_last), .release_bank(b_bank), .rbank(b_bank), .rword(WAW'(bitpos / 13'(TWB))),
        .rdata(wt), .rword2('0), .rdata2(wt_unused), .cbank(o_bank), .c_mult(cm), .c_bias_r(cb));

    // ---- beat: activation row + weight slice (2-cycle read) ----
    assign act_raddr = b_row;
    logic        v1, v2, f1, f2, l1, l2;
    logic [19:0] t1, t2;                 // tag: bank, tile, row
    logic [12:0] bp1;
    logic [9:0]  st1;
    logic [SIMD*KB-1:0] xs2;
    // the activation row as SIMD-lane words: step s reads word s (A: word s % (D/SIMD))
    logic [SIMD*KB-1:0] a_words [D/SIMD];
    logic [SIMD*KB-1:0] h_words [M/SIMD];
    always_comb begin
        for (int i = 0; i < D / SIMD; i++) a_words[i] = a_rdata[i*SIMD*KB +: SIMD*KB];
        for (int i = 0; i < M / SIMD; i++) h_words[i] = h_rdata[i*SIMD*KB +: SIMD*KB];
    end
    logic [PE*SIMD-1:0] ws2;
    always_ff @(posedge clk) begin
        v1 <= b_valid && !rst; f1 <= b_first; l1 <= b_last; t1 <= {b_bank, b_tile, b_row}; bp1 <= bitpos; st1 <= b_step;
        v2 <= v1 && !rst; f2 <= f1; l2 <= l1; t2 <= t1;
        xs2 <= rsrc ? h_words[int'(st1) % (M / SIMD)] : a_words[int'(st1) % (D / SIMD)];
        for (int p = 0; p < PE; p++) ws2[p*SIMD +: SIMD] <= wt[p*TWB + int'(bp1 % 13'(TWB)) +: SIMD];
    end

    logic              cv;
    logic [19:0]       ct;
    logic [PE*ACC_W-1:0] y;
    hg_bin_core #(.PE(PE), .SIMD(SIMD), .KW(KB), .ACC_W(ACC_W), .TAG_W(20)) u_core (
        .clk, .in_valid(v2), .in_first(f2), .in_last(l2), .in_tag(t2), .x(xs2), .w(ws2),
        .out_valid(cv), .out_tag(ct), .y);
    assign o_bank = ct[19];

    // ---- requantizers ----
    logic [PE*16-1:0] q;
    logic [PE-1:0]    qv;
    genvar p;
    generate
        for (p = 0; p < PE; p++) begin : g_rq
            hg_requant #(.ACC_W(ACC_W), .BIAS_W(BIAS_W), .OUT_W(16), .SH_MIN(SH_MIN), .SH_MAX(SH_MAX)) u_rq (
                .clk, .in_valid(cv), .acc(y[p*ACC_W +: ACC_W]), .mult(cm[p*16 +: 16]),
                .bias_r(cb[p*BIAS_W +: BIAS_W]), .shift(rshift), .bits(rbits), .out_signed(1'b1),
                .out_valid(qv[p]), .out(q[p*16 +: 16]));
        end
    endgenerate
    logic [19:0] qt [5];
    always_ff @(posedge clk) begin
        qt[0] <= ct;
        for (int i = 1; i < 5; i++) qt[i] <= qt[i-1];
    end
    wire [8:0]  q_row  = qt[3][8:0];
    wire [9:0]  q_tile = qt[3][18:9];
    wire [12:0] q_col  = 13'(q_tile) * 13'(PE);     // first output channel of the tile

    // residual row: read X at the requantizer input so it is there at its output; the tile's PE
    // channels are picked from the row as it arrives (tag qt[0]), so only PE x 16 bits are delayed
    assign x_raddr = ct[8:0];
    logic [PE*16-1:0] x_words [D/PE];
    always_comb for (int i = 0; i < D / PE; i++) x_words[i] = x_rdata[i*PE*16 +: PE*16];
    logic [PE*16-1:0] xr [3];
    always_ff @(posedge clk) begin
        xr[0] <= x_words[int'(qt[0][18:9]) % (D / PE)]; xr[1] <= xr[0]; xr[2] <= xr[1];
    end

    // ---- output: ACT / RES ----
    logic [PE*16-1:0] res;
    logic             ov;
    logic [8:0]       orow;
    logic [12:0]      ocol;
    always_ff @(posedge clk) begin
        ov <= qv[0] && rmode != 2'(MODE_GELU) && !rst; orow <= q_row; ocol <= q_col;
        for (int i = 0; i < PE; i++) begin
            logic signed [16:0] s;
            s = 17'($signed(q[i*16 +: 16])) + 17'($signed(xr[2][i*16 +: 16]));
            res[i*16 +: 16] <= (rmode == 2'(MODE_RES)) ?
                ((s > 17'sd32767) ? 16'h7FFF : (s < -17'sd32768) ? 16'h8000 : s[15:0]) : q[i*16 +: 16];
        end
    end

    // ---- output: GELU (GL lanes, GS cycles per row) ----
    logic [PE*16-1:0] gh;                 // holding register of one row
    logic [8:0]       grow;
    logic [12:0]      gcol;
    logic [$clog2(GS+1)-1:0] gi;
    logic             gbusy;
    always_ff @(posedge clk) begin
        if (rst) begin
            gbusy <= 1'b0;
        end else if (qv[0] && rmode == 2'(MODE_GELU)) begin
            gh <= q; grow <= q_row; gcol <= q_col; gi <= '0; gbusy <= 1'b1;
        end else if (gbusy) begin
            gi <= gi + 1'b1;
            if (gi == $bits(gi)'(GS - 1)) gbusy <= 1'b0;
        end
    end
    // tag through GELU + requantizer: {first output column of the group, row}
    logic [GL*G_OW-1:0] go;
    logic [GL-1:0]      gov;
    logic [21:0]        gtag;
    wire  [12:0]        gcol_grp = gcol + 13'(int'(gi) * GL);
    genvar g;
    generate
        for (g = 0; g < GL; g++) begin : g_gelu
            logic [21:0] tg;
            hg_gelu #(.IN_W(G_IN), .W(G_W), .KB(G_KB), .BB(G_BB), .AB(G_AB), .OW(G_OW), .TAG_W(22)) u_gelu (
                .clk, .in_valid(gbusy), .in_tag({gcol_grp, grow}),
                .x(G_IN'(gh[(int'(gi) * GL + g) * 16 +: 16])), .kk(g_k), .bb(g_b), .aa(g_a), .fi(g_fi), .wf(g_wf),
                .osh(g_osh), .out_valid(gov[g]), .out_tag(tg), .out(go[g*G_OW +: G_OW]));
            if (g == 0) begin : g_t
                assign gtag = tg;
            end else begin : g_nt
                /* verilator lint_off UNUSEDSIGNAL */
                wire unused_tg = |tg;
                /* verilator lint_on UNUSEDSIGNAL */
            end
        end
    endgenerate
    logic [GL*16-1:0] gq;
    logic [GL-1:0]    gqv;
    generate
        for (g = 0; g < GL; g++) begin : g_grq
            hg_requant #(.ACC_W(G_OW), .BIAS_W(BIAS_W), .OUT_W(16)) u_grq (
                .clk, .in_valid(gov[g]), .acc(go[g*G_OW +: G_OW]), .mult(g_mult), .bias_r(g_bias_r),
                .shift(g_shift), .bits(5'(KB)), .out_signed(1'b1), .out_valid(gqv[g]), .out(gq[g*16 +: 16]));
        end
    endgenerate
    logic [21:0] gt [4];
    always_ff @(posedge clk) begin
        gt[0] <= gtag;
        for (int i = 1; i < 4; i++) gt[i] <= gt[i-1];
    end
    wire [12:0] gw_col = gt[3][21:9];
    wire        gw_last = (gw_col + 13'(GL)) % 13'(PE) == 13'(0);      // last group of the row

    // ---- writes ----
    // The write data is the PE (GL) results replicated along the row; the element enables pick the
    // columns. Column c of a tile holds result c % PE (GELU: c % GL) because every tile starts at a
    // multiple of PE (col_off is 0, PE divides D and M, GL divides PE): no demultiplexer.
    always_comb begin
        qkv_we = 1'b0; x_we = 1'b0; h_we = 1'b0; w_row = orow;
        qkv_wen = '0; x_wen = '0; h_wen = '0;
        for (int j = 0; j < 3 * D; j++) qkv_wdata[j*KB +: KB] = res[(j % PE)*16 +: KB];
        for (int j = 0; j < D; j++) x_wdata[j*16 +: 16] = res[(j % PE)*16 +: 16];
        for (int j = 0; j < M; j++) h_wdata[j*KB +: KB] = gq[(j % GL)*16 +: KB];
        if (ov && rmode == 2'(MODE_ACT)) begin
            qkv_we = 1'b1;
            for (int i = 0; i < PE; i++) qkv_wen[int'(rcol + ocol) + i] = 1'b1;
        end else if (ov && rmode == 2'(MODE_RES)) begin
            x_we = 1'b1;
            for (int i = 0; i < PE; i++) x_wen[(int'(rcol + ocol) + i) % D] = 1'b1;
        end
        if (gqv[0]) begin
            h_we = 1'b1; w_row = gt[3][8:0];
            for (int i = 0; i < GL; i++) h_wen[(int'(gw_col) + i) % M] = 1'b1;
        end
    end

    // ---- completion: all rows of all tiles written ----
    logic [19:0] issued, written;
    always_ff @(posedge clk) begin
        if (start) begin
            issued <= '0; written <= '0; busy <= 1'b1;
        end else begin
            if (v2 && l2) issued <= issued + 20'd1;
            if (ov || (gqv[0] && gw_last)) written <= written + 20'd1;
            if (busy && cdone && !start_d && issued == written && !v1 && !v2 && !b_valid) busy <= 1'b0;
        end
    end
    assign done = busy && cdone && issued == written && !v1 && !v2 && !start_d;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |{seq_busy, qv, gqv, qt[4], N[0], go};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
