// hg_ln_engine: one LayerNorm op (hlsgen.ops.LayerNorm): rows r0 .. r0 + rows - 1 of the residual X
// (int16) in beats of L lanes (2-cycle read) through hg_layernorm, k-bit results to rows 0 .. rows - 1
// of A. The per-channel affine constants (mult, bias + rounding) come from the generated LayerNorm
// coefficient ROM, word {ln index, beat} = L multipliers and L biases (1-cycle synchronous read).
// Lint: index arithmetic of this glue module is done in 32-bit ints.
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_ln_engine #(
    parameter int L = 8, parameter int D = 64, parameter int KB = 8, parameter int NLN = 13,
    parameter int MMB = 26, parameter int SDB = 20, parameter int FF = 16,
    parameter int MAN = 16, parameter int SEG = 4, parameter int RF = 16, parameter int CF = 19,
    parameter int BIAS_W = 32, parameter int MUF = 8
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               start,
    input  logic [5:0]         idx,             // which LayerNorm (coefficient ROM section)
    input  logic [8:0]         rows,
    input  logic [8:0]         r0,
    input  logic [MMB-1:0]     mean_mult,
    input  logic [5:0]         mean_shift,
    input  logic [31:0]        eps_term,
    input  logic [SDB-1:0]     sqrt_dim,
    input  logic [5:0]         fsh,
    input  logic [5:0]         ysh,
    input  logic [5:0]         rq_shift,
    output logic               done,
    output logic [8:0]         x_raddr,
    input  logic [D*16-1:0]    x_rdata,
    output logic               a_we,
    output logic [8:0]         a_waddr,
    output logic [D-1:0]       a_wen,
    output logic [D*KB-1:0]    a_wdata
);
    localparam int BPR = D / L;
    localparam int IXW = $clog2(BPR + 1);
    logic        busy, rd;
    logic [5:0]  ri_idx;
    logic [8:0]  rr, ri, wi, rrows, rr0;
    logic [8:0]  rb, wb;
    logic        v1, v2, last1, last2, in_ready, ov, olast;
    logic [8:0]  b1;
    logic [L*16-1:0] x2;
    logic [L*KB-1:0] oy;
    logic [IXW-1:0]  cidx;
    logic [L*16-1:0] cmul;
    logic [L*BIAS_W-1:0] cbias;

    assign x_raddr = rr0 + ri;
    always_ff @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; rd <= 1'b0;
        end else if (start) begin
            busy <= 1'b1; rd <= 1'b1; rrows <= rows; rr0 <= r0; ri_idx <= idx; ri <= '0; rb <= '0; wi <= '0; wb <= '0;
        end else if (busy) begin
            if (rd && in_ready) begin
                if (rb == 9'(BPR - 1)) begin
                    rb <= '0; ri <= ri + 9'd1;
                    if (ri == rrows - 9'd1) rd <= 1'b0;
                end else rb <= rb + 9'd1;
            end
            if (ov) begin
                if (olast) begin wb <= '0; wi <= wi + 9'd1; end
                else wb <= wb + 9'd1;
            end
            if (done) busy <= 1'b0;
        end
        v1 <= busy && rd && in_ready && !start; b1 <= rb; last1 <= (rb == 9'(BPR - 1));
        v2 <= v1; last2 <= last1;
        x2 <= x_rdata[int'(b1) * L * 16 +: L * 16];
    end
    assign rr = '0;
    assign done = busy && !rd && wi == rrows && !v1 && !v2 && !start;

    hg_ln_rom #(.L(L), .D(D), .NLN(NLN), .BIAS_W(BIAS_W)) u_rom (
        .clk, .idx(ri_idx), .beat(9'(cidx)), .mult(cmul), .bias_r(cbias));

    hg_layernorm #(.L(L), .IB(16), .OB(16), .DMAX(D), .MMB(MMB), .SDB(SDB), .FF(FF), .MAN(MAN), .SEG(SEG),
                   .RF(RF), .CF(CF), .KQ(KB), .MULT_W(16), .BIAS_W(BIAS_W), .MUF(MUF)) u_ln (
        .clk, .rst(rst || start), .in_valid(v2), .in_ready, .in_x(x2), .in_last(last2), .dim(13'(D)),
        .mean_mult, .mean_shift, .eps_term, .sqrt_dim, .fsh, .ysh, .rq_shift, .rq_bits(5'(KB)),
        .coef_idx(cidx), .coef_mult(cmul), .coef_bias(cbias), .out_valid(ov), .out_y(oy), .out_last(olast));

    always_comb begin
        a_we = ov; a_waddr = wi; a_wen = '0; a_wdata = '0;
        for (int i = 0; i < L; i++) begin
            a_wen[(int'(wb) * L + i) % D] = 1'b1;
            a_wdata[((int'(wb) * L + i) % D) * KB +: KB] = oy[i*KB +: KB];
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |{rr};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
