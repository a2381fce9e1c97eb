// hg_dsp_core: PE x SIMD multiply-accumulate lanes on DSP48E2 for the int8 and attention engines.
// Two products per DSP (Xilinx WP486): the operands of a PE pair (w0 of PE 2q, w1 of PE 2q+1) are
// packed as w1 * 2^SH + w0 into the 27-bit A port and multiplied by the shared activation x on B.
// Products are summed along cascade chains of CHAIN DSPs; per chain the packed sum C is split:
//   lo = C[SH-1:0] as signed,  hi = (C >>> SH) + lo[SH-1]     (exact while |sum of CHAIN x*w0| < 2^(SH-1))
// then a LUT adder tree over the SIMD/CHAIN chain sums per PE and an accumulator.
// Pipeline (hlsgen.ops.dsp_engine_depth without buffer read / requantizer / write):
//   DSP_MUL = 3 (A/B regs, M, P), CHAIN-1 cascade stages, UNPACK = 1, clog2(SIMD/CHAIN) tree levels,
//   ACC = 1. y is the accumulator, valid for the one cycle out_valid is high.
// x: SIMD signed AW-bit lanes; w[(p*SIMD+i)*BW +: BW]: signed BW-bit operand of PE p, lane i.
module hg_dsp_core #(
    parameter int PE    = 4,
    parameter int SIMD  = 8,
    parameter int AW    = 8,
    parameter int BW    = 8,
    parameter int ACC_W = 24,
    parameter int TAG_W = 1,
    parameter int CHAIN = 4,
    parameter int SH    = AW + BW + $clog2(CHAIN)
) (
    input  logic                    clk,
    input  logic                    in_valid,
    input  logic                    in_first,
    input  logic                    in_last,
    input  logic [TAG_W-1:0]        in_tag,
    input  logic [SIMD*AW-1:0]      x,
    input  logic [PE*SIMD*BW-1:0]   w,
    output logic                    out_valid,
    output logic [TAG_W-1:0]        out_tag,
    output logic [PE*ACC_W-1:0]     y
);
    localparam int C    = (SIMD < CHAIN) ? SIMD : CHAIN;
    localparam int NC   = SIMD / C;                 // chains per PE pair
    localparam int LT   = $clog2(NC);               // LUT tree levels
    localparam int NP   = (PE + 1) / 2;             // DSP columns (PE pairs)
    localparam int PKW  = BW + SH + 1;              // packed operand width (w1 * 2^SH + w0 may reach -2^(BW+SH-1) - 2^(BW-1))
    localparam int PW   = AW + PKW;                 // packed product width
    localparam int CW   = PW + $clog2(C) + 1;       // chain sum width
    localparam int HW   = AW + BW + $clog2(C) + 1;  // unpacked chain sum width
    localparam int TW   = HW + LT;                  // tree output width
    localparam int D    = 3 + (C - 1) + 1 + LT;     // stages before the accumulator

    // control pipeline
    logic             v [D+1];
    logic             f [D+1];
    logic             la [D+1];
    logic [TAG_W-1:0] tg [D+1];
    assign v[0] = in_valid; assign f[0] = in_first; assign la[0] = in_last; assign tg[0] = in_tag;
    genvar s;
    generate
        for (s = 0; s < D; s++) begin : g_ctl
            always_ff @(posedge clk) begin
                v[s+1] <= v[s]; f[s+1] <= f[s]; la[s+1] <= la[s]; tg[s+1] <= tg[s];
            end
        end
    endgenerate

    // partial sums per PE after unpacking: sums[p][chain]
    logic signed [TW-1:0] tree [PE][LT+1][NC];

    genvar q, i, c, l, p;
    generate
        for (q = 0; q < NP; q++) begin : g_pair
            for (c = 0; c < NC; c++) begin : g_chain
                // A/B registers, M, P, then the cascade
                logic signed [AW-1:0]  xa [C];
                logic signed [PKW-1:0] pk [C];
                logic signed [PW-1:0]  m  [C];
                logic signed [PW-1:0]  pr [C];
                for (i = 0; i < C; i++) begin : g_dsp
                    localparam int LANE = c * C + i;
                    logic signed [BW-1:0] w0, w1;
                    assign w0 = w[((2*q)*SIMD + LANE)*BW +: BW];
                    if (2 * q + 1 < PE) begin : g_two
                        assign w1 = w[((2*q+1)*SIMD + LANE)*BW +: BW];
                    end else begin : g_one
                        assign w1 = '0;
                    end
                    always_ff @(posedge clk) begin
                        xa[i] <= x[LANE*AW +: AW];
                        pk[i] <= (PKW'(w1) <<< SH) + PKW'(w0);
                        m[i]  <= xa[i] * pk[i];
                        pr[i] <= m[i];
                    end
                end
                // cascade: stage j adds product j (products delayed to line up)
                logic signed [CW-1:0] cas [C];
                assign cas[0] = CW'(pr[0]);
                for (i = 1; i < C; i++) begin : g_cas
                    logic signed [PW-1:0] dly [i];
                    always_ff @(posedge clk) dly[0] <= pr[i];
                    for (l = 1; l < i; l++) begin : g_dly
                        always_ff @(posedge clk) dly[l] <= dly[l-1];
                    end
                    logic signed [CW-1:0] acc_r;
                    always_ff @(posedge clk) acc_r <= cas[i-1] + CW'((i == 1) ? pr[1] : dly[i-2]);
                    assign cas[i] = acc_r;
                end
                // unpack (one register stage)
                /* verilator lint_off UNUSEDSIGNAL */
                logic signed [SH-1:0] lo;         // lo[SH-1] unused when the pair has one PE
                /* verilator lint_on UNUSEDSIGNAL */
                assign lo = cas[C-1][SH-1:0];
                always_ff @(posedge clk) begin
                    tree[2*q][0][c] <= TW'(lo);
                end
                if (2 * q + 1 < PE) begin : g_hi
                    /* verilator lint_off UNUSEDSIGNAL */
                    logic signed [CW-1:0] hi;     // the top bits are sign copies
                    /* verilator lint_on UNUSEDSIGNAL */
                    assign hi = (cas[C-1] >>> SH) + $signed(CW'({1'b0, lo[SH-1]}));
                    always_ff @(posedge clk)
                        tree[2*q+1][0][c] <= TW'(hi);
                end
            end
        end
        // LUT adder trees over the chain sums
        for (p = 0; p < PE; p++) begin : g_pe
            for (l = 0; l < LT; l++) begin : g_lvl
                for (i = 0; i < (NC >> (l + 1)); i++) begin : g_add
                    always_ff @(posedge clk) tree[p][l+1][i] <= tree[p][l][2*i] + tree[p][l][2*i+1];
                end
            end
        end
    endgenerate

    // accumulate
    logic signed [ACC_W-1:0] acc [PE];
    generate
        for (p = 0; p < PE; p++) begin : g_acc
            always_ff @(posedge clk) if (v[D]) acc[p] <= (f[D] ? '0 : acc[p]) + ACC_W'(tree[p][LT][0]);
            assign y[p*ACC_W +: ACC_W] = acc[p];
        end
    endgenerate
    always_ff @(posedge clk) begin
        out_valid <= v[D] && la[D];
        out_tag   <= tg[D];
    end
endmodule
