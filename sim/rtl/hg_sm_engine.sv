// hg_sm_engine: row softmax in place in the score buffer S (hlsgen.ops.Softmax): rows row0 ..
// row0 + rows - 1 of `width` scores (one head: rows = width = n; the token selector: one row of H head
// gates or of the pruned tokens' scores) are read in beats of L elements (2-cycle read), streamed
// through hg_softmax, and the k-bit probabilities written back over the scores (zero-extended). The
// exp / reciprocal constants of the op come from the parameter table.
// Lint: index arithmetic of this glue module is done in 32-bit ints.
/* verilator lint_off WIDTHEXPAND */
/* verilator lint_off WIDTHTRUNC */
module hg_sm_engine #(
    parameter int L = 8, parameter int N = 17, parameter int SEW = 16, parameter int KB = 8,
    parameter int DW = 17, parameter int NB = 17, parameter int IMB = 21, parameter int PF = 17,
    parameter int LF = 15, parameter int AB = 14, parameter int ZB = 5,
    parameter int RM = 28, parameter int QB = 13, parameter int SW = 24, parameter int IW = 16
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               start,
    input  logic [8:0]         rows,
    input  logic [8:0]         width,
    input  logic [8:0]         row0,
    input  logic [NB-1:0]      n_clamp,
    input  logic [IMB-1:0]     inv_mult,
    input  logic [5:0]         inv_shift,
    input  logic [5:0]         g,
    input  logic [PF:0]        ln2,
    input  logic [PF+1:0]      b,
    input  logic [AB-1:0]      a,
    input  logic signed [LF+2:0] c,
    input  logic [6:0]         sqs,
    input  logic [5:0]         lf,
    input  logic [2:0]         guard,
    input  logic [5:0]         rbits,
    output logic               done,
    output logic [8:0]         s_raddr,
    input  logic [N*SEW-1:0]   s_rdata,
    output logic               s_we,
    output logic [8:0]         s_waddr,
    output logic [N-1:0]       s_wen,
    output logic [N*SEW-1:0]   s_wdata
);
    localparam int BPR = (N + L - 1) / L;
    logic        busy, rd;
    logic [8:0]  rn, rw, r0, ri, wi;
    logic [8:0]  rb, wb, nbeats;
    logic        v1, v2, last1, last2;
    logic [8:0]  b1;
    logic [L*IW-1:0] x2;
    logic [L-1:0]    m2;
    logic            in_ready, ov, olast;
    logic [L*KB-1:0] op;

    assign nbeats = (rw + 9'(L) - 9'd1) / 9'(L);
    assign s_raddr = r0 + ri;
    always_ff @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; rd <= 1'b0;
        end else if (start) begin
            busy <= 1'b1; rd <= 1'b1; rn <= rows; rw <= width; r0 <= row0; ri <= '0; rb <= '0; wi <= '0; wb <= '0;
        end else if (busy) begin
            if (rd && in_ready) begin
                if (rb == nbeats - 9'd1) begin
                    rb <= '0; ri <= ri + 9'd1;
                    if (ri == rn - 9'd1) rd <= 1'b0;
                end else rb <= rb + 9'd1;
            end
            if (ov) begin
                if (olast) begin wb <= '0; wi <= wi + 9'd1; end
                else wb <= wb + 9'd1;
            end
            if (done) busy <= 1'b0;
        end
        v1 <= busy && rd && in_ready && !start; b1 <= rb; last1 <= (rb == nbeats - 9'd1);
        v2 <= v1; last2 <= last1;
        for (int i = 0; i < L; i++) begin
            x2[i*IW +: IW] <= (int'(b1) * L + i < int'(rw)) ? s_rdata[((int'(b1) * L + i) % N) * SEW +: IW] : '0;
            m2[i] <= (int'(b1) * L + i < int'(rw));
        end
    end
    assign done = busy && !rd && wi == rn && !v1 && !v2 && !start;

    hg_softmax #(.L(L), .N_MAX(N + 1), .IW(IW), .OB(KB), .DW(DW), .NB(NB), .IMB(IMB), .PF(PF), .LF(LF), .AB(AB),
                 .ZB(ZB), .RM(RM), .QB(QB), .SW(SW)) u_sm (
        .clk, .rst(rst || start), .in_valid(v2), .in_ready, .in_x(x2), .in_mask(m2), .in_last(last2),
        .n_clamp, .inv_mult, .inv_shift, .g, .ln2, .b, .a, .c, .sqs, .lf, .guard, .rbits, .obits(5'(KB)),
        .out_valid(ov), .out_p(op), .out_last(olast));

    always_comb begin
        s_we = ov; s_waddr = r0 + wi; s_wen = '0; s_wdata = '0;
        for (int i = 0; i < L; i++) begin
            if (int'(wb) * L + i < int'(rw)) begin
                s_wen[(int'(wb) * L + i) % N] = 1'b1;
                s_wdata[((int'(wb) * L + i) % N) * SEW +: SEW] = SEW'(op[i*KB +: KB]);
            end
        end
    end
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |{BPR[0]};
    /* verilator lint_on UNUSEDSIGNAL */
endmodule
/* verilator lint_on WIDTHEXPAND */
/* verilator lint_on WIDTHTRUNC */
