// hg_bin_core: the binary matrix engine's PE x SIMD gate-and-add lanes (DESIGN.md, hlsgen.ops).
// Per beat: SIMD signed KW-bit activations x (shared by all PEs) and PE x SIMD weight bits w
// (w[p*SIMD+i] = 1 means weight +1, 0 means -1). Since sum_i w_i x_i = 2 * S+ - Sx with
// S+ = sum over the +1 weights of x_i and Sx = sum_i x_i, each PE has one gated adder tree (the gate
// folds into the first adder level) and ONE Sx tree is shared by all PEs.
// Pipeline: clog2(SIMD) registered tree levels, 1 accumulate stage (ACC), 1 stage y = 2*S+ - Sx:
// in_last -> out_valid takes clog2(SIMD) + 2 cycles. in_first starts a new accumulation (II = 1 over
// rows x steps, a new row may follow a last step directly). in_tag rides along to out_tag.
module hg_bin_core #(
    parameter int PE    = 4,
    parameter int SIMD  = 8,
    parameter int KW    = 8,
    parameter int ACC_W = 20,
    parameter int TAG_W = 1
) (
    input  logic                  clk,
    input  logic                  in_valid,
    input  logic                  in_first,
    input  logic                  in_last,
    input  logic [TAG_W-1:0]      in_tag,
    input  logic [SIMD*KW-1:0]    x,
    input  logic [PE*SIMD-1:0]    w,
    output logic                  out_valid,
    output logic [TAG_W-1:0]      out_tag,
    output logic [PE*ACC_W-1:0]   y
);
    localparam int LV = $clog2(SIMD);
    localparam int TW = KW + LV;          // tree output width
    localparam int NT = PE + 1;           // PE gated trees + the shared Sx tree (index PE)

    // tree[t][l][i]: level l, node i of tree t (level 0 is combinational: the gated inputs)
    logic signed [TW-1:0] tree [NT][LV+1][SIMD];
    logic [LV:0]          v, f, la;
    logic [TAG_W-1:0]     tg [LV+1];

    genvar t, l, i;
    generate
        for (t = 0; t < NT; t++) begin : g_tree
            for (i = 0; i < SIMD; i++) begin : g_leaf
                logic signed [KW-1:0] xi;
                assign xi = x[i*KW +: KW];
                if (t == PE) begin : g_sx
                    assign tree[t][0][i] = TW'(xi);
                end else begin : g_gate
                    assign tree[t][0][i] = w[t*SIMD+i] ? TW'(xi) : '0;
                end
            end
            // level l holds ceil(SIMD / 2^l) nodes: an odd node out passes through (SIMD = 3 x 2^n).
            // A level-(l+1) node sums 2^(l+1) inputs: KW + l + 1 bits; its register's upper bits are
            // copies of that sign (one flip-flop after yosys' opt_merge), so the tree is as narrow as
            // the HLS adders (a full-width tree cost ~40% more FF and ~10% more LUT: units.json)
            for (l = 0; l < LV; l++) begin : g_lvl
                localparam int SW = KW + l + 1;
                for (i = 0; i < ((SIMD - 1) >> (l + 1)) + 1; i++) begin : g_add
                    logic signed [SW-1:0] s;
                    if (2 * i + 1 < ((SIMD - 1) >> l) + 1) begin : g_pair
                        assign s = SW'(tree[t][l][2*i]) + SW'(tree[t][l][2*i+1]);
                    end else begin : g_pass
                        assign s = SW'(tree[t][l][2*i]);
                    end
                    always_ff @(posedge clk) tree[t][l+1][i] <= TW'(s);
                end
                for (i = ((SIMD - 1) >> (l + 1)) + 1; i < SIMD; i++) begin : g_unused
                    assign tree[t][l+1][i] = '0;
                end
            end
        end
    endgenerate

    assign v[0] = in_valid;
    assign f[0] = in_first;
    assign la[0] = in_last;
    assign tg[0] = in_tag;
    generate
        for (l = 0; l < LV; l++) begin : g_ctl
            always_ff @(posedge clk) begin
                v[l+1] <= v[l]; f[l+1] <= f[l]; la[l+1] <= la[l]; tg[l+1] <= tg[l];
            end
        end
    endgenerate

    // accumulate (ACC) and combine (2 S+ - Sx)
    logic signed [ACC_W-1:0] acc [NT];
    logic                    acc_last, acc_valid;
    logic [TAG_W-1:0]        acc_tag;
    generate
        for (t = 0; t < NT; t++) begin : g_acc
            always_ff @(posedge clk) begin
                if (v[LV]) acc[t] <= (f[LV] ? '0 : acc[t]) + ACC_W'(tree[t][LV][0]);
            end
        end
        for (t = 0; t < PE; t++) begin : g_out
            always_ff @(posedge clk) begin
                if (acc_valid && acc_last) y[t*ACC_W +: ACC_W] <= (acc[t] <<< 1) - acc[PE];
            end
        end
    endgenerate
    always_ff @(posedge clk) begin
        acc_valid <= v[LV];
        acc_last  <= la[LV];
        acc_tag   <= tg[LV];
        out_valid <= acc_valid && acc_last;
        out_tag   <= acc_tag;
    end
endmodule
