// hg_mm_seq: the loop nest of every tiled matmul of the accelerator (hlsgen.ops.pipeline):
//   for tile t (double-buffered stationary operand, bank t % 2):
//     for row r: for step s: one beat (II = 1), rows padded to row_cycles cycles (GELU stall)
// The loader of tile t+1 is started (load_go) as soon as tile t starts computing and the bank is free
// (its previous tile computed); tile 0's load is exposed. A tile computes once its load is done
// (load_done pulse for load_bank). compute_done rises after the last beat of the last tile.
module hg_mm_seq #(
    parameter int RW = 9,     // row index bits
    parameter int SW = 10,    // step bits
    parameter int TW = 10     // tile bits
) (
    input  logic          clk,
    input  logic          rst,
    input  logic          start,
    input  logic [RW-1:0] rows,
    input  logic [SW-1:0] steps,
    input  logic [TW-1:0] tiles,
    input  logic [SW-1:0] row_cycles,       // >= steps
    output logic          load_go,
    output logic [TW-1:0] load_tile,
    output logic          load_bank,
    input  logic          load_done,
    input  logic          load_done_bank,
    output logic          b_valid,
    output logic [RW-1:0] b_row,
    output logic [SW-1:0] b_step,
    output logic [TW-1:0] b_tile,
    output logic          b_bank,
    output logic          b_first,
    output logic          b_last,
    output logic          b_tile_last,      // last beat of the tile
    output logic          busy,
    output logic          compute_done
);
    logic [RW-1:0] nrows;
    logic [SW-1:0] nsteps, rcyc;
    logic [TW-1:0] ntiles, lt, ct;
    logic          loading;
    logic [1:0]    full;                   // bank holds a loaded, not yet computed tile
    logic          comp;                   // computing tile ct
    logic [RW-1:0] r;
    logic [SW-1:0] s, cyc;

    assign load_tile = lt;
    assign load_bank = lt[0];
    assign load_go   = busy && !loading && lt < ntiles && !full[lt[0]] && !(comp && ct[0] == lt[0]);

    wire in_row  = cyc < nsteps;
    assign b_valid = comp && in_row;
    assign b_row   = r;
    assign b_step  = s;
    assign b_tile  = ct;
    assign b_bank  = ct[0];
    assign b_first = (s == '0);
    assign b_last  = (s == nsteps - SW'(1));
    wire row_end   = comp && (cyc == rcyc - SW'(1));
    wire tile_end  = row_end && (r == nrows - RW'(1));
    assign b_tile_last = b_valid && b_last && (r == nrows - RW'(1));

    always_ff @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; compute_done <= 1'b0; comp <= 1'b0; loading <= 1'b0; full <= '0;
        end else if (start) begin
            busy <= 1'b1; compute_done <= 1'b0; comp <= 1'b0; loading <= 1'b0; full <= '0;
            nrows <= rows; nsteps <= steps; ntiles <= tiles; rcyc <= (row_cycles > steps) ? row_cycles : steps;
            lt <= '0; ct <= '0;
        end else if (busy) begin
            if (load_go) loading <= 1'b1;
            if (load_done) begin
                loading <= 1'b0;
                lt <= lt + TW'(1);
            end
            // bank bookkeeping: set when loaded, cleared when its tile finished computing
            for (int b = 0; b < 2; b++) begin
                if (load_done && load_done_bank == b[0]) full[b] <= 1'b1;
                else if (tile_end && ct[0] == b[0]) full[b] <= 1'b0;
            end
            if (!comp) begin
                if (ct < ntiles && full[ct[0]]) begin
                    comp <= 1'b1; r <= '0; s <= '0; cyc <= '0;
                end else if (ct == ntiles) begin
                    compute_done <= 1'b1; busy <= 1'b0;
                end
            end else begin
                cyc <= row_end ? '0 : cyc + SW'(1);
                if (in_row) s <= (s == nsteps - SW'(1)) ? '0 : s + SW'(1);
                if (row_end) r <= r + RW'(1);
                if (tile_end) begin
                    // flattened tile loop: the next tile follows without a bubble when it is loaded
                    comp <= (ct + TW'(1) < ntiles) && (full[~ct[0]] || (load_done && load_done_bank == ~ct[0]));
                    ct   <= ct + TW'(1);
                    r    <= '0;
                end
            end
        end
    end
endmodule
