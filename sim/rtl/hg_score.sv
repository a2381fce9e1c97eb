// hg_score: token-selector score and keep decision (quant.golden.selector_scores / token_select):
//   score[n] = sum_h z[n, h] * g[h]   (z signed ZW-bit head logits, g unsigned GW-bit head gates)
//   keep[n]  = score[n] > 0
// L lanes (select_lanes): one beat carries L heads of one token; in_last marks the token's last beat.
// Latency: multiply (1), lane tree (clog2 L), accumulate (1).
module hg_score #(
    parameter int L  = 4,
    parameter int ZW = 16,
    parameter int GW = 8,
    parameter int SW = 32
) (
    input  logic              clk,
    input  logic              rst,
    input  logic              in_valid,
    input  logic [L*ZW-1:0]   z,
    input  logic [L*GW-1:0]   g,
    input  logic [L-1:0]      in_mask,
    input  logic              in_last,
    output logic              out_valid,
    output logic signed [SW-1:0] score,
    output logic              keep
);
    localparam int LV = $clog2(L);
    logic signed [SW-1:0] t [LV+1][L];
    logic v [LV+1];
    logic la [LV+1];
    genvar i, l;
    generate
        for (i = 0; i < L; i++) begin : g_mul
            logic signed [ZW-1:0] zi;
            assign zi = z[i*ZW +: ZW];
            always_ff @(posedge clk)
                t[0][i] <= in_mask[i] ? SW'(zi) * $signed(SW'(g[i*GW +: GW])) : '0;
        end
        for (l = 0; l < LV; l++) begin : g_lv
            for (i = 0; i < (L >> (l + 1)); i++) begin : g_n
                always_ff @(posedge clk) t[l+1][i] <= t[l][2*i] + t[l][2*i+1];
            end
            for (i = (L >> (l + 1)); i < L; i++) begin : g_z
                assign t[l+1][i] = '0;
            end
            always_ff @(posedge clk) begin v[l+1] <= v[l]; la[l+1] <= la[l]; end
        end
    endgenerate
    always_ff @(posedge clk) begin v[0] <= in_valid && !rst; la[0] <= in_last; end

    logic signed [SW-1:0] acc, nxt;
    logic                 first;
    assign nxt = (first ? '0 : acc) + t[LV][0];
    always_ff @(posedge clk) begin
        if (rst) begin
            first <= 1'b1; out_valid <= 1'b0;
        end else begin
            out_valid <= v[LV] && la[LV];
            if (v[LV]) begin
                acc <= nxt;
                first <= la[LV];
            end
        end
    end
    assign score = acc;
    assign keep  = (acc > 0);
endmodule
