// hg_ctrl.svh: the controller of vit_top (included in its module body). It runs the descriptor
// table prog(0 .. PROG_LEN-1) (hg_prog.svh, written by hlsgen.emit_rtl) one op at a time:
//   FETCH (decode) -> GAP (OP_GAP cycles: ap handshake + address setup) -> the step costs OP_OVERHEAD
//   -> START (one engine start pulse) -> RUN (until the engine's done) -> next descriptor.
// Descriptor layout (LSB first; hlsgen.emit_rtl.DESC_FIELDS):
//   op 4 | block 5 | block_start 1 | rows_from_n 1 | rows 9 | w_off 32 | K 13 | O 13 | bbytes 3 | npos 10 |
//   src 2 | mode 2 | col 13 | shift 6 | bits 5 | pidx 6 | head 5 | r0 9 | av 1 | icol 13 | rows_m1 1 |
//   cond 1 | orow 9 | sub 3
// rows: `rows`, or (rows_from_n) the current token count n (minus 1 with rows_m1: a selector's scored
// tokens). cond: skip the op when the last token selector pruned nothing (package-token ops).
// The op codes OP_* and the step overhead come from hg_arch.svh (hlsgen/arch.py, shared with the model
// and the HLS C++): FETCH + START + the done cycle are CTRL_CYCLES, the GAP makes up the rest.
localparam int OP_GAP = OP_OVERHEAD - CTRL_CYCLES;

logic [191:0] dsc;
logic [3:0]   d_op;
logic [4:0]   d_block, d_head, d_bits;
logic         d_bstart, d_rows_n, d_av, d_rows_m1, d_cond;
logic [8:0]   d_rows, d_r0, d_orow;
logic [31:0]  d_woff;
logic [12:0]  d_K, d_O, d_col, d_icol;
logic [2:0]   d_bb, d_sub;
logic [9:0]   d_npos;
logic [1:0]   d_mode, d_src;
logic [5:0]   d_shift, d_pidx;
always_comb begin
    {d_sub, d_orow, d_cond, d_rows_m1, d_icol, d_av, d_r0, d_head, d_pidx, d_bits, d_shift, d_col, d_mode, d_src,
     d_npos, d_bb, d_O, d_K, d_woff, d_rows, d_rows_n, d_bstart, d_block, d_op} = dsc[166:0];
end

localparam logic [2:0] S_IDLE = 3'd0, S_FETCH = 3'd1, S_GAP = 3'd2, S_START = 3'd3, S_RUN = 3'd4, S_DONE = 3'd5;
logic [2:0]   state /* verilator public_flat_rd */;
logic [9:0]   pc /* verilator public_flat_rd */;
logic [3:0]   gap;
logic [8:0]   n_cur;                    // tokens the current block runs on
logic [8:0]   rows_op;
logic [15:0]  tokens [DEPTH];
logic [4:0]   blocks_limit;
logic         eng_done;
logic         st_pre, st_i8, st_ln, st_bin, st_att, st_sm, st_res, st_sel, st_pkg;
logic [8:0]   sel_pruned, sel_n_new;

initial begin
    blocks_limit = 5'(DEPTH);
`ifndef SYNTHESIS
    if ($value$plusargs("hg_blocks=%d", blocks_limit)) ;
`endif
end

assign ap_idle    = (state == S_IDLE);
assign rows_op    = d_rows_n ? (d_rows_m1 ? n_cur - 9'd1 : n_cur) : d_rows;
wire   skip       = ((d_block != 5'd31) && (d_block >= blocks_limit) && d_op != 4'(OP_END))
                    || (d_cond && sel_pruned == '0);
always_ff @(posedge clk) begin
    ap_started <= 1'b0; ap_done_p <= 1'b0;
    {st_pre, st_i8, st_ln, st_bin, st_att, st_sm, st_res, st_sel, st_pkg} <= '0;
    if (rst) begin
        state <= S_IDLE; pc <= '0;
    end else begin
        case (state)
            S_IDLE: if (ap_start) begin
                state <= S_FETCH; pc <= '0; n_cur <= 9'(N); ap_started <= 1'b1;
                for (int b = 0; b < DEPTH; b++) tokens[b] <= '0;
            end
            S_FETCH: begin
                dsc <= prog(pc);
                state <= S_GAP; gap <= 4'(OP_GAP);
            end
            S_GAP: begin
                if (skip) begin
                    pc <= pc + 10'd1; state <= S_FETCH;
                end else if (d_op == 4'(OP_END)) begin
                    state <= S_DONE;
                end else if (gap == 0) begin
                    state <= S_START;
                end else gap <= gap - 4'd1;
            end
            S_START: begin
                if (d_bstart) tokens[d_block] <= 16'(n_cur);
                st_pre <= d_op == 4'(OP_PRE); st_i8 <= d_op == 4'(OP_I8); st_ln <= d_op == 4'(OP_LN);
                st_bin <= d_op == 4'(OP_BIN); st_att <= d_op == 4'(OP_ATT); st_sm <= d_op == 4'(OP_SM);
                st_res <= d_op == 4'(OP_RES); st_sel <= d_op == 4'(OP_SEL); st_pkg <= d_op == 4'(OP_PKG);
                state <= S_RUN;
            end
            S_RUN: if (eng_done) begin
                pc <= pc + 10'd1; state <= S_FETCH;
                if (d_op == 4'(OP_SEL) && d_sub == 3'd4) n_cur <= sel_n_new;     // compaction done
            end
            S_DONE: begin
                ap_done_p <= 1'b1; state <= S_IDLE;
            end
            default: state <= S_IDLE;
        endcase
    end
end
