// hg_requant: one requantizer lane, out = sat_bits(round_half_up((acc * mult + bias) / 2^shift)).
// Numerics: quant.intops.requantize (the golden Requant). One DSP48E2 (27x18 multiply, 48-bit
// post-adder), then an arithmetic barrel shift and a clamp in LUTs. The port `bias_r` is the bias
// WITH the rounding constant 2^(shift-1) folded in (added once per channel where the constants are
// loaded or generated: hlsgen.emit_rtl.round_bias). Latency 4 (hlsgen.ops.REQ_DEPTH):
//   1 input/constant registers (A/B/C), 2 multiply (M), 3 add bias (P), 4 shift + clamp.
// `bits`, `out_signed` and `shift` are per-layer (descriptor) values; out carries the code's bit
// pattern (two's complement when signed, plain binary when unsigned) in its low `bits` bits,
// sign- or zero-extended to OUT_W. SH_MIN <= shift <= SH_MAX (the design's layers, hlsgen.emit_rtl):
// the barrel shifter only spans that range (the SH_MIN part is wiring).
module hg_requant #(
    parameter int ACC_W  = 24,
    parameter int MULT_W = 16,
    parameter int BIAS_W = 48,          // width of bias_r
    parameter int OUT_W  = 16,
    parameter int SH_MIN = 0,
    parameter int SH_MAX = 47
) (
    input  logic                     clk,
    input  logic                     in_valid,
    input  logic signed [ACC_W-1:0]  acc,
    input  logic signed [MULT_W-1:0] mult,
    input  logic signed [BIAS_W-1:0] bias_r,
    input  logic [5:0]               shift,
    input  logic [4:0]               bits,
    input  logic                     out_signed,
    output logic                     out_valid,
    output logic [OUT_W-1:0]         out
);
    localparam int PROD_W = ACC_W + MULT_W;
    localparam int SUM_W  = ((PROD_W > BIAS_W) ? PROD_W : BIAS_W) + 1;
    localparam int SRW    = $clog2(SH_MAX - SH_MIN + 1) + 1;     // width of the residual shift

    logic [3:0]               v;
    logic signed [ACC_W-1:0]  a1;
    logic signed [MULT_W-1:0] m1;
    logic signed [SUM_W-1:0]  b1, b2, s3;
    logic signed [PROD_W-1:0] p2;
    logic [5:0]               sh1, sh2;
    logic [SRW-1:0]           sh3;
    logic [4:0]               w1, w2, w3;
    logic                     sg1, sg2, sg3;

    // clamp bounds of the output code
    logic signed [SUM_W-1:0]  sh_val, hi, lo;
    always_comb begin
        sh_val = (s3 >>> SH_MIN) >>> sh3;
        if (sg3) begin
            hi = (SUM_W'(1) <<< (w3 - 5'd1)) - SUM_W'(1);
            lo = -(SUM_W'(1) <<< (w3 - 5'd1));
        end else begin
            hi = (SUM_W'(1) <<< w3) - SUM_W'(1);
            lo = '0;
        end
    end

    always_ff @(posedge clk) begin
        v <= {v[2:0], in_valid};
        // 1: operand registers; rounding constant folded into the bias
        a1  <= acc;
        m1  <= mult;
        b1  <= SUM_W'(bias_r);
        sh1 <= shift; w1 <= bits; sg1 <= out_signed;
        // 2: multiply
        p2  <= a1 * m1;
        b2  <= b1; sh2 <= sh1; w2 <= w1; sg2 <= sg1;
        // 3: post-add
        s3  <= SUM_W'(p2) + b2;
        sh3 <= SRW'(sh2 - 6'(SH_MIN)); w3 <= w2; sg3 <= sg2;
        // 4: shift and clamp
        if (sh_val > hi)      out <= hi[OUT_W-1:0];
        else if (sh_val < lo) out <= lo[OUT_W-1:0];
        else                  out <= sh_val[OUT_W-1:0];
    end
    assign out_valid = v[3];
endmodule
