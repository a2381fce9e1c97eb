// hg_resadd: L lanes of the residual add, out = sat_16(a + b) (quant.golden.residual_add), one register.
module hg_resadd #(
    parameter int L = 1,
    parameter int W = 16
) (
    input  logic            clk,
    input  logic            in_valid,
    input  logic [L*W-1:0]  a,
    input  logic [L*W-1:0]  b,
    output logic            out_valid,
    output logic [L*W-1:0]  y
);
    localparam logic signed [W:0] HI = (W+1)'((1 << (W - 1)) - 1);
    localparam logic signed [W:0] LO = -((W+1)'(1 << (W - 1)));
    genvar i;
    generate
        for (i = 0; i < L; i++) begin : g_lane
            logic signed [W:0] s;
            assign s = (W+1)'($signed(a[i*W +: W])) + (W+1)'($signed(b[i*W +: W]));
            always_ff @(posedge clk) y[i*W +: W] <= (s > HI) ? HI[W-1:0] : (s < LO) ? LO[W-1:0] : s[W-1:0];
        end
    endgenerate
    always_ff @(posedge clk) out_valid <= in_valid;
endmodule
