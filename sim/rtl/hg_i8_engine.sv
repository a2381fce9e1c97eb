// hg_i8_engine: the int8 (DSP) matrix engine with its weight stream and output path (hlsgen.ops.LinearInt8):
// tiles of PE channels double-buffered from the weight blob (records: K int8 weights, int16 mult, bias,
// and for the patch embedding the channel's pos-embed column), II=1 loop over rows x K/SIMD
// (hg_mm_seq), hg_dsp_core (two products per DSP48E2), a requantizer per PE, then
//   MODE_POS    + pos[row] (saturating int16) -> X row + 1   (patch embedding)
//   MODE_LOGIT  -> the logits registers                      (head)
//   MODE_WIDEH  2k-bit codes -> H row, two k-bit halves at columns 2 (ocol + o), +1 (selector local MLP)
//   MODE_ZS     2k-bit codes -> S row orow + row, column ocol + o (selector score, head gate)
// Sources: SRC_IMG the image (patch rows gathered from the image RAM: strips of P image rows of one
// channel, the int8 pixel codes exactly as the image AXI master reads them), SRC_A row arow + row of A
// from column icol, SRC_FEATS the token selector's features: [local (H row, columns D + icol ..) ;
// global mean (glob, from icol)], K / 2 of each.
// Ragged last tile: lanes beyond O are computed and dropped.
// Lint: index arithmetic of this glue module is done in 32-bit ints.
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_i8_engine #(
    parameter int D = 64, parameter int M = 128, parameter int KB = 8, parameter int N = 17, parameter int CLS = 10,
    parameter int PE = 1, parameter int SIMD = 1, parameter int TWB = 256, parameter int WPR = 2,
    parameter int BIAS_W = 32, parameter int SH_MIN = 0, parameter int SH_MAX = 47,
    // image: C channels of IMG x IMG int8 codes, patches of P x P
    parameter int C = 1, parameter int IMG = 8, parameter int P = 2
) (
    input  logic                 clk,
    input  logic                 rst,
    input  logic                 start,
    input  logic [12:0]          K,
    input  logic [12:0]          O,
    input  logic [8:0]           rows,
    input  logic [1:0]           src,
    input  logic [1:0]           mode,
    input  logic [12:0]          icol,
    input  logic [12:0]          ocol0,
    input  logic [8:0]           arow,
    input  logic [8:0]           orow0,
    input  logic [5:0]           shift,
    input  logic [4:0]           bits,
    input  logic [63:0]          w_addr,
    input  logic [2:0]           bbytes,
    input  logic [9:0]           npos,           // pos values per record (0: none)
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
    // image RAM write port (strips of P*IMG bytes)
    input  logic                 img_we,
    input  logic [$clog2(C*IMG/P)-1:0] img_waddr,
    input  logic [P*IMG-1:0]     img_wen,
    input  logic [P*IMG*8-1:0]   img_wdata,
    // activations
    output logic [8:0]           act_raddr,
    input  logic [D*KB-1:0]      a_rdata,
    input  logic [M*KB-1:0]      h_rdata,
    input  logic [D/2*KB-1:0]    glob,
    output logic                 h_we,
    output logic [8:0]           h_wrow,
    output logic [M-1:0]         h_wen,
    output logic [M*KB-1:0]      h_wdata,
    output logic                 s_we,
    output logic [8:0]           s_wrow,
    output logic [N-1:0]         s_wen,
    output logic [N*2*KB-1:0]    s_wdata,
    output logic                 x_we,
    output logic [8:0]           x_wrow,
    output logic [D-1:0]         x_wen,
    output logic [D*16-1:0]      x_wdata,
    output logic [CLS*16-1:0]    logits
);
    localparam int ACC_W = 16 + $clog2(((C*P*P) > D ? (C*P*P) : D)) + 2;
    localparam int SB = P * IMG;                      // strip bytes
    localparam int NS = C * IMG / P;                  // strips
    localparam int G = IMG / P;
    localparam int MODE_POS = 0, MODE_LOGIT = 1, MODE_WIDEH = 2, MODE_ZS = 3;
    localparam int SRC_IMG = 0, SRC_A = 1, SRC_FEATS = 2;

    logic [12:0] rK, rO;
    logic [8:0]  rrows, rarow, rorow;
    logic [12:0] ricol, rocol;
    logic [1:0]  rsrc;
    logic [1:0]  rmode;
    logic [5:0]  rshift;
    logic [4:0]  rbits;
    logic [63:0] raddr0;
    logic [2:0]  rbb;
    logic [15:0] rec_bytes;
    logic        busy, start_d;
    always_ff @(posedge clk) begin
        start_d <= start;
        if (start) begin
            rK <= K; rO <= O; rrows <= rows; rsrc <= src; rmode <= mode; rshift <= shift; rbits <= bits;
            ricol <= icol; rocol <= ocol0; rarow <= arow; rorow <= orow0;
            raddr0 <= w_addr; rbb <= bbytes;
            rec_bytes <= 16'(K) + 16'd2 + 16'(bbytes) + 16'(npos) * 16'd2;
        end
    end

    logic        ld_go, ld_bank, ld_done, ld_done_bank;
    logic [9:0]  ld_tile;
    logic        b_valid, b_bank, b_first, b_last, b_tile_last, seq_busy, cdone;
    logic [8:0]  b_row;
    logic [9:0]  b_step, b_tile;
    wire [9:0] steps = 10'((rK + 13'(SIMD) - 13'd1) / 13'(SIMD));
    wire [9:0] tiles = 10'((rO + 13'(PE) - 13'd1) / 13'(PE));
    hg_mm_seq #(.RW(9), .SW(10), .TW(10)) u_seq (
        .clk, .rst, .start(start_d), .rows(rrows), .steps, .tiles, .row_cycles(10'd0),
        .load_go(ld_go), .load_tile(ld_tile), .load_bank(ld_bank), .load_done(ld_done), .load_done_bank(ld_done_bank),
        .b_valid, .b_row, .b_step, .b_tile, .b_bank, .b_first, .b_last, .b_tile_last, .busy(seq_busy),
        .compute_done(cdone));

    logic ld_pending;
    always_ff @(posedge clk) begin
        if (rst) ld_pending <= 1'b0;
        else if (dma_req && dma_ready) ld_pending <= 1'b0;
        else if (ld_go) ld_pending <= 1'b1;
    end
    wire [12:0] ld_cnt = (rO - 13'(ld_tile) * 13'(PE) < 13'(PE)) ? rO - 13'(ld_tile) * 13'(PE) : 13'(PE);
    assign dma_req      = ld_pending || ld_go;
    assign dma_addr     = raddr0 + 64'(ld_tile) * 64'(PE) * 64'(rec_bytes);
    assign dma_bytes    = 24'(ld_cnt) * 24'(rec_bytes);
    assign ra_start     = ld_go;
    assign ra_rec_bytes = rec_bytes;
    assign ra_nrec      = 10'(ld_cnt);

    logic [PE*TWB-1:0]    wt, wt2;
    logic [PE*16-1:0]     cm;
    logic [PE*BIAS_W-1:0] cb;
    logic                 o_bank;
    localparam int WAW = $clog2(WPR);
    wire [15:0] bytepos = 16'(b_step) * 16'(SIMD);
    logic [15:0] pos_off;                             // record byte offset of pos[row] (output side)
    hg_wtiles #(.PE(PE), .TWB(TWB), .WPR(WPR), .RBW(16), .NRW(10), .BIAS_W(BIAS_W), .RD2(1)) u_wt (
        .clk, .rst, .load_start(ld_go), .load_bank(ld_bank), .wbytes(16'(rK)), .bbytes(rbb), .shift(rshift),
        .c_valid, .c_ready, .c_rec, .c_word, .c_data, .c_be, .c_last, .c2_valid, .c2_data, .c2_be,
        .load_done(ld_done), .load_done_bank(ld_done_bank),
        .release_bank_v(b_tile_last), .release_bank(b_bank), .rbank(b_bank), .rword(WAW'(bytepos * 8 / TWB)),
        .rdata(wt), .rword2(WAW'(pos_off * 8 / TWB)), .rdata2(wt2), .cbank(o_bank), .c_mult(cm), .c_bias_r(cb));

    // ---- image RAM: strip (c, gy) = P image rows of channel c ----
    logic [$clog2(NS)-1:0] img_raddr;
    logic [SB*8-1:0]       img_rdata;
    hg_ram #(.EW(8), .NE(SB), .DEPTH(NS)) u_img (
        .clk, .we(img_we), .waddr(img_waddr), .wen(img_wen), .wdata(img_wdata), .raddr(img_raddr), .rdata(img_rdata));

    // beat sources: element e = step * SIMD + j of patch row -> (c, py, px); SIMD divides P*P
    wire [15:0] e0 = bytepos;
    wire [15:0] ch = e0 / (P * P);
    wire [8:0]  gy = b_row / G;
    assign img_raddr = ch * G + gy;
    assign act_raddr = b_row + rarow;
    logic        v1, v2, f1, f2, l1, l2;
    logic [19:0] t1, t2;
    logic [15:0] e1;
    logic [8:0]  gx1;
    logic [SIMD*8-1:0]  xs2;
    logic [PE*SIMD*8-1:0] ws2;
    always_ff @(posedge clk) begin
        v1 <= b_valid && !rst; f1 <= b_first; l1 <= b_last; t1 <= {b_bank, b_tile, b_row}; e1 <= e0;
        gx1 <= b_row % G;
        v2 <= v1 && !rst; f2 <= f1; l2 <= l1; t2 <= t1;
        for (int j = 0; j < SIMD; j++) begin
            int q, py, px;
            q = (int'(e1) + j) % (P * P); py = q / P; px = q % P;
            if (rsrc == 2'(SRC_IMG))
                xs2[j*8 +: 8] <= img_rdata[(py * IMG + int'(gx1) * P + px) * 8 +: 8];
            else if (rsrc == 2'(SRC_A))
                xs2[j*8 +: 8] <= (int'(e1) + j < int'(rK)) ?
                                 8'($signed(a_rdata[((int'(ricol) + int'(e1) + j) % D) * KB +: KB])) : 8'd0;
            else if (rsrc == 2'(SRC_FEATS) && int'(e1) + j < int'(rK) / 2)   // features: local half
                xs2[j*8 +: 8] <= 8'($signed(h_rdata[((D + int'(ricol) + int'(e1) + j) % M) * KB +: KB]));
            else if (int'(e1) + j < int'(rK))               // features: global-mean half
                xs2[j*8 +: 8] <= 8'($signed(glob[((int'(ricol) + int'(e1) + j - int'(rK) / 2) % (D / 2)) * KB +: KB]));
            else
                xs2[j*8 +: 8] <= 8'd0;
        end
        for (int p = 0; p < PE; p++) ws2[p*SIMD*8 +: SIMD*8] <= wt[p*TWB + (int'(e1) * 8) % TWB +: SIMD*8];
    end

    logic                cv;
    logic [19:0]         ct;
    logic [PE*ACC_W-1:0] y;
    hg_dsp_core #(.PE(PE), .SIMD(SIMD), .AW(8), .BW(8), .ACC_W(ACC_W), .TAG_W(20)) u_core (
        .clk, .in_valid(v2), .in_first(f2), .in_last(l2), .in_tag(t2), .x(xs2), .w(ws2),
        .out_valid(cv), .out_tag(ct), .y);
    assign o_bank = ct[19];
    // pos[row] of every lane: record offset K + 2 + bbytes + 2 row, read at the requantizer input
    assign pos_off = 16'(rK) + 16'd2 + 16'(rbb) + 16'(ct[8:0]) * 16'd2;
    logic [15:0] pos_q [4];
    logic [PE*16-1:0] posv [4];
    always_ff @(posedge clk) begin
        pos_q[0] <= pos_off;
        for (int p = 0; p < PE; p++) posv[0][p*16 +: 16] <= wt2[p*TWB + (int'(pos_q[0]) * 8) % TWB +: 16];
        for (int i = 1; i < 4; i++) begin pos_q[i] <= pos_q[i-1]; posv[i] <= posv[i-1]; end
    end

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
    logic [19:0] qt [4];
    always_ff @(posedge clk) begin
        qt[0] <= ct;
        for (int i = 1; i < 4; i++) qt[i] <= qt[i-1];
    end
    wire [8:0]  q_row = qt[3][8:0];
    wire [12:0] q_col = 13'(qt[3][18:9]) * 13'(PE);

    // pos add (POSADD_DEPTH) and write
    logic [PE*16-1:0] res;
    logic             ov;
    logic [8:0]       orow;
    logic [12:0]      ocol;
    always_ff @(posedge clk) begin
        ov <= qv[0] && !rst; orow <= q_row; ocol <= q_col;
        for (int i = 0; i < PE; i++) begin
            logic signed [16:0] s;
            s = 17'($signed(q[i*16 +: 16])) + 17'($signed(posv[2][i*16 +: 16]));
            res[i*16 +: 16] <= (rmode == 2'(MODE_POS)) ?
                ((s > 17'sd32767) ? 16'h7FFF : (s < -17'sd32768) ? 16'h8000 : s[15:0]) : q[i*16 +: 16];
        end
    end
    always_comb begin
        x_we = ov && rmode == 2'(MODE_POS); x_wrow = orow + 9'd1; x_wen = '0; x_wdata = '0;
        for (int i = 0; i < PE; i++) begin
            if (int'(ocol) + i < int'(rO)) begin
                x_wen[(int'(ocol) + i) % D] = 1'b1;
                x_wdata[((int'(ocol) + i) % D) * 16 +: 16] = res[i*16 +: 16];
            end
        end
    end
    always_comb begin
        h_we = ov && rmode == 2'(MODE_WIDEH); h_wrow = orow; h_wen = '0; h_wdata = '0;
        s_we = ov && rmode == 2'(MODE_ZS); s_wrow = rorow + orow; s_wen = '0; s_wdata = '0;
        for (int i = 0; i < PE; i++) begin
            if (int'(ocol) + i < int'(rO)) begin
                h_wen[(2 * (int'(rocol) + int'(ocol) + i)) % M] = 1'b1;
                h_wen[(2 * (int'(rocol) + int'(ocol) + i) + 1) % M] = 1'b1;
                h_wdata[((2 * (int'(rocol) + int'(ocol) + i)) % M) * KB +: KB] = res[i*16 +: KB];
                h_wdata[((2 * (int'(rocol) + int'(ocol) + i) + 1) % M) * KB +: KB] = res[i*16 + KB +: KB];
                s_wen[(int'(rocol) + int'(ocol) + i) % N] = 1'b1;
                s_wdata[((int'(rocol) + int'(ocol) + i) % N) * 2 * KB +: 2 * KB] = res[i*16 +: 2 * KB];
            end
        end
    end
    always_ff @(posedge clk) begin
        if (ov && rmode == 2'(MODE_LOGIT))
            for (int i = 0; i < PE; i++)
                if (int'(ocol) + i < CLS) logits[(int'(ocol) + i) * 16 +: 16] <= res[i*16 +: 16];
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
    wire unused = |{seq_busy, qv, N[0], pos_q[3], posv[3]};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
