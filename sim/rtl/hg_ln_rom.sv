// hg_ln_rom: the LayerNorm affine constants of the design, word {ln index, beat} = L int16 multipliers
// followed by L biases (with the rounding constant folded in, BIAS_W bits each); synchronous read.
// The contents (an initial block) are generated per design: hg_ln_rom.svh (hlsgen.emit_rtl).
module hg_ln_rom #(
    parameter int L = 8,
    parameter int D = 64,
    parameter int NLN = 13,
    parameter int BIAS_W = 32
) (
    input  logic                  clk,
    input  logic [5:0]            idx,
    input  logic [8:0]            beat,
    output logic [L*16-1:0]       mult,
    output logic [L*BIAS_W-1:0]   bias_r
);
    localparam int BPR = D / L;
    localparam int DEPTH = NLN * BPR;
    logic [L*(16+BIAS_W)-1:0] rom [DEPTH];
`include "hg_ln_rom.svh"
    logic [L*(16+BIAS_W)-1:0] word;
    always_ff @(posedge clk) word <= rom[(int'(idx) * BPR + int'(beat)) % DEPTH];
    assign mult   = word[L*16-1:0];
    assign bias_r = word[L*(16+BIAS_W)-1:L*16];
endmodule
