// hg_pkg_engine: the token selector's package token (quant.golden.token_select), with the attention
// engine's loop nest and parallelism (hlsgen.ops.TokenSelect: [1 x m] . [m x D] on att_pe x att_simd):
//   pkg[c] = sat_16(round((sum_j w_j X[pruned_j][c]) / 2^k))
// Tiles of PE channels; the stationary tile (PE channels x m pruned tokens) loads one token row of X
// per cycle (rows from the pruned list); per tile ceil(m / SIMD) steps of SIMD weights w_j (the package
// softmax's unsigned k-bit output, S row PROW). Result -> X row SPARE (moved into place by compaction).
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_pkg_engine #(
    parameter int D = 64, parameter int KB = 8, parameter int N = 17, parameter int PE = 1, parameter int SIMD = 1,
    parameter int SPARE = 31, parameter int PROW = 18
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               start,
    input  logic [8:0]         m,               // pruned tokens
    output logic               done,
    output logic [8:0]         pidx_addr,
    input  logic [8:0]         pidx_data,
    output logic [8:0]         x_raddr,
    input  logic [D*16-1:0]    x_rdata,
    output logic [8:0]         s_raddr,
    input  logic [N*2*KB-1:0]  s_rdata,
    output logic               x_we,
    output logic [8:0]         x_wrow,
    output logic [D-1:0]       x_wen,
    output logic [D*16-1:0]    x_wdata
);
    localparam int AW = KB + 1;
    localparam int ACC_W = 16 + KB + $clog2(N) + 3;
    localparam int WD = (N + SIMD - 1) / SIMD;
    localparam int TA = $clog2(2 * WD);

    logic       busy, start_d;
    logic [8:0] rm;
    always_ff @(posedge clk) begin
        start_d <= start;
        if (start) rm <= m;
    end
    logic        ld_go, ld_bank, ld_done, ld_done_bank;
    logic [9:0]  ld_tile;
    logic        b_valid, b_bank, b_first, b_last, b_tile_last, seq_busy, cdone;
    logic [8:0]  b_row;
    logic [9:0]  b_step, b_tile;
    hg_mm_seq #(.RW(9), .SW(10), .TW(10)) u_seq (
        .clk, .rst, .start(start_d), .rows(9'd1), .steps(10'((rm + 9'(SIMD) - 9'd1) / 9'(SIMD))), .tiles(10'(D / PE)),
        .row_cycles(10'd0), .load_go(ld_go), .load_tile(ld_tile), .load_bank(ld_bank), .load_done(ld_done),
        .load_done_bank(ld_done_bank), .b_valid, .b_row, .b_step, .b_tile, .b_bank, .b_first, .b_last, .b_tile_last,
        .busy(seq_busy), .compute_done(cdone));

    // loader: token j of the pruned list -> word j / SIMD, slot j % SIMD, channels ltile * PE + p
    logic       lbusy, lbank, lv;
    logic [9:0] ltile;
    logic [8:0] lj, lj_d;
    assign pidx_addr = lj;
    assign x_raddr = pidx_data + 9'd1;                    // scored token j is X row j + 1 (row 0: class token)
    always_ff @(posedge clk) begin
        ld_done <= 1'b0;
        if (rst || start) begin
            lbusy <= 1'b0; lv <= 1'b0;
        end else begin
            lv <= lbusy; lj_d <= lj;
            if (ld_go) begin
                lbusy <= 1'b1; lbank <= ld_bank; ltile <= ld_tile; lj <= '0;
            end else if (lbusy) begin
                lj <= lj + 9'd1;
                if (lj == rm - 9'd1) begin lbusy <= 1'b0; ld_done <= 1'b1; end
            end
        end
    end
    assign ld_done_bank = lbank;
    logic [PE*SIMD-1:0]    twen;
    logic [PE*SIMD*16-1:0] twd;
    always_comb begin
        twen = '0; twd = '0;
        for (int p = 0; p < PE; p++) begin
            twen[p * SIMD + int'(lj_d) % SIMD] = 1'b1;
            twd[(p * SIMD + int'(lj_d) % SIMD) * 16 +: 16] = x_rdata[((int'(ltile) * PE + p) % D) * 16 +: 16];
        end
    end
    logic [PE*SIMD*16-1:0] trd;
    hg_ram #(.EW(16), .NE(PE*SIMD), .DEPTH(1 << TA)) u_tile (
        .clk, .we(lv && !rst), .waddr((lbank ? TA'(WD) : TA'(0)) + TA'(int'(lj_d) / SIMD)), .wen(twen), .wdata(twd),
        .raddr((b_bank ? TA'(WD) : TA'(0)) + TA'(b_step)), .rdata(trd));

    // beats: weights w_j from S row PROW
    assign s_raddr = 9'(PROW);
    logic        v1, v2, f1, f2, l1, l2;
    logic [19:0] t1, t2;
    logic [9:0]  st1;
    logic [SIMD*AW-1:0]    xs2;
    logic [PE*SIMD*16-1:0] ws2;
    always_ff @(posedge clk) begin
        v1 <= b_valid && !rst; f1 <= b_first; l1 <= b_last; t1 <= {b_bank, b_tile, b_row}; st1 <= b_step;
        v2 <= v1 && !rst; f2 <= f1; l2 <= l1; t2 <= t1;
        ws2 <= trd;
        for (int i = 0; i < SIMD; i++)
            xs2[i*AW +: AW] <= (int'(st1) * SIMD + i < int'(rm)) ?
                AW'(s_rdata[((int'(st1) * SIMD + i) % N) * 2 * KB +: KB]) : AW'(0);
    end
    logic                cv;
    logic [19:0]         ct;
    logic [PE*ACC_W-1:0] y;
    hg_dsp_core #(.PE(PE), .SIMD(SIMD), .AW(AW), .BW(16), .ACC_W(ACC_W), .TAG_W(20)) u_core (
        .clk, .in_valid(v2), .in_first(f2), .in_last(l2), .in_tag(t2), .x(xs2), .w(ws2), .out_valid(cv),
        .out_tag(ct), .y);
    // round(acc / 2^k), saturate to int16: the requantizer with mult 1, bias 2^(k-1)
    logic [PE*16-1:0] q;
    logic [PE-1:0]    qv;
    genvar p;
    generate
        for (p = 0; p < PE; p++) begin : g_rq
            hg_requant #(.ACC_W(ACC_W), .BIAS_W(16), .OUT_W(16)) u_rq (
                .clk, .in_valid(cv), .acc(y[p*ACC_W +: ACC_W]), .mult(16'd1), .bias_r(16'(1 << (KB - 1))),
                .shift(6'(KB)), .bits(5'd16), .out_signed(1'b1), .out_valid(qv[p]), .out(q[p*16 +: 16]));
        end
    endgenerate
    logic [19:0] qt [4];
    always_ff @(posedge clk) begin
        qt[0] <= ct;
        for (int i = 1; i < 4; i++) qt[i] <= qt[i-1];
    end
    always_ff @(posedge clk) begin
        x_we <= qv[0] && !rst; x_wrow <= 9'(SPARE); x_wen <= '0; x_wdata <= '0;
        for (int i = 0; i < PE; i++) begin
            x_wen[(int'(qt[3][18:9]) * PE + i) % D] <= 1'b1;
            x_wdata[((int'(qt[3][18:9]) * PE + i) % D) * 16 +: 16] <= q[i*16 +: 16];
        end
    end
    logic [19:0] issued, written;
    always_ff @(posedge clk) begin
        if (start) begin
            issued <= '0; written <= '0; busy <= 1'b1;
        end else begin
            if (v2 && l2) issued <= issued + 20'd1;
            if (x_we) written <= written + 20'd1;
            if (done) busy <= 1'b0;
        end
    end
    assign done = busy && cdone && issued == written && !v1 && !v2 && !start_d && !x_we;
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |{seq_busy, qv, qt[3][19], qt[3][8:0], b_first, b_tile_last, b_row, ld_tile};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
