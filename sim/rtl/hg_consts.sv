// hg_consts: picks a channel record's requantizer constants out of the realigned chunk stream:
// record bytes [wbytes, wbytes + 2) hold the int16 multiplier, [wbytes + 2, wbytes + 2 + bbytes) the
// bias (bbytes 4 or 6, little endian, signed). Emits (rec, mult, bias_r = bias + 2^(shift-1)) two
// cycles after the chunk that carries the last constant byte (the rounding constant is folded here,
// once per channel, so the requantizer lanes need no adder for it).
module hg_consts #(
    parameter int RBW = 16,
    parameter int NRW = 10,
    parameter int BIAS_W = 48
) (
    input  logic                     clk,
    input  logic [RBW-1:0]           wbytes,
    input  logic [2:0]               bbytes,
    input  logic [5:0]               shift,
    input  logic                     in_valid,
    input  logic [NRW-1:0]           in_rec,
    input  logic [RBW-6:0]           in_word,
    input  logic [255:0]             in_data,
    output logic                     out_valid,
    output logic [NRW-1:0]           out_rec,
    output logic signed [15:0]       out_mult,
    output logic signed [BIAS_W-1:0] out_bias_r
);
    logic [7:0]     stage [8];
    logic           v1;
    logic [NRW-1:0] rec1;
    wire [RBW-1:0]  last_off = wbytes + RBW'(bbytes) + RBW'(1);
    always_ff @(posedge clk) begin
        for (int j = 0; j < 8; j++) begin
            if (in_valid && ((wbytes + RBW'(j)) >> 5) == RBW'(in_word))
                stage[j] <= in_data[((wbytes + RBW'(j)) & RBW'(31)) * 8 +: 8];
        end
        v1   <= in_valid && ((last_off >> 5) == RBW'(in_word));
        rec1 <= in_rec;
    end
    /* verilator lint_off UNUSEDSIGNAL */
    logic signed [47:0] bias;             // BIAS_W may be narrower than 48 (the emitter checks the range)
    /* verilator lint_on UNUSEDSIGNAL */
    always_comb begin
        bias = {stage[7], stage[6], stage[5], stage[4], stage[3], stage[2]};
        if (bbytes == 3'd4) bias = 48'($signed({stage[5], stage[4], stage[3], stage[2]}));
    end
    always_ff @(posedge clk) begin
        out_valid  <= v1;
        out_rec    <= rec1;
        out_mult   <= {stage[1], stage[0]};
        out_bias_r <= BIAS_W'(bias) + BIAS_W'((49'd1 << shift) >> 1);
    end
endmodule
