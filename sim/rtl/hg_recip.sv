// hg_recip: r = floor(2^R / s), exact, fully pipelined (one result per cycle), latency DEPTH
// (hlsgen.ops.RECIP_DEPTH = 12). R is a runtime value <= RM; s >= 2^(R-QB+1) so r < 2^QB.
// floor(2^R / s) = floor(2^RM / (s << (RM - R))): s is normalised once, then a restoring division of
// the constant 2^RM yields BPS quotient bits per stage (BPS chosen so that all fit in DEPTH - 1 stages).
module hg_recip #(
    parameter int SW    = 24,     // width of s
    parameter int RM    = 28,     // largest R
    parameter int QB    = 13,     // quotient bits
    parameter int DEPTH = 12,
    parameter int TAG_W = 1
) (
    input  logic              clk,
    input  logic              in_valid,
    input  logic [TAG_W-1:0]  in_tag,
    input  logic [SW-1:0]     s,
    input  logic [5:0]        rbits,
    output logic              out_valid,
    output logic [TAG_W-1:0]  out_tag,
    output logic [QB-1:0]     r
);
    localparam int BPS = (QB + DEPTH - 3) / (DEPTH - 2);   // quotient bits per stage
    localparam int NS  = (QB + BPS - 1) / BPS;             // division stages
    localparam int XW  = RM + QB + 2;                      // remainder / shifted divisor width
    localparam int PAD = DEPTH - 1 - NS;

    logic [XW-1:0]    dv  [NS+1];     // normalised divisor
    logic [XW-1:0]    rem [NS+1];
    logic [QB-1:0]    q   [NS+1];
    logic             v   [NS+1];
    logic [TAG_W-1:0] tg  [NS+1];

    always_ff @(posedge clk) begin
        dv[0]  <= XW'(s) << (6'(RM) - rbits);
        rem[0] <= XW'(1) << RM;
        q[0]   <= '0;
        v[0]   <= in_valid;
        tg[0]  <= in_tag;
    end

    genvar k;
    generate
        for (k = 0; k < NS; k++) begin : g_stage
            logic [XW-1:0] rm_c [BPS+1];
            logic [QB-1:0] q_c  [BPS+1];
            assign rm_c[0] = rem[k];
            assign q_c[0]  = q[k];
            for (genvar b = 0; b < BPS; b++) begin : g_bit
                localparam int J = QB - 1 - (k * BPS + b);      // quotient bit decided here
                if (J >= 0) begin : g_on
                    logic [XW-1:0] t;
                    assign t = dv[k] << J;
                    assign rm_c[b+1] = (rm_c[b] >= t) ? rm_c[b] - t : rm_c[b];
                    assign q_c[b+1]  = (rm_c[b] >= t) ? (q_c[b] | (QB'(1) << J)) : q_c[b];
                end else begin : g_off
                    assign rm_c[b+1] = rm_c[b];
                    assign q_c[b+1]  = q_c[b];
                end
            end
            always_ff @(posedge clk) begin
                dv[k+1] <= dv[k]; rem[k+1] <= rm_c[BPS]; q[k+1] <= q_c[BPS];
                v[k+1] <= v[k]; tg[k+1] <= tg[k];
            end
        end
        if (PAD > 0) begin : g_pad
            logic [QB-1:0]    qd [PAD];
            logic             vd [PAD];
            logic [TAG_W-1:0] td [PAD];
            always_ff @(posedge clk) begin
                qd[0] <= q[NS]; vd[0] <= v[NS]; td[0] <= tg[NS];
                for (int i = 1; i < PAD; i++) begin
                    qd[i] <= qd[i-1]; vd[i] <= vd[i-1]; td[i] <= td[i-1];
                end
            end
            assign r = qd[PAD-1]; assign out_valid = vd[PAD-1]; assign out_tag = td[PAD-1];
        end else begin : g_nopad
            assign r = q[NS]; assign out_valid = v[NS]; assign out_tag = tg[NS];
        end
    endgenerate
endmodule
