// hg_realign: turns the byte stream of a DMA request (beats with a valid byte range [lo, hi)) into
// record-aligned chunks: the request holds `nrec` consecutive records of `rec_bytes` bytes (the
// weight blob's channel records, INTERFACE.md), and every chunk carries up to 32 bytes of ONE record,
// starting at a record-relative offset that is a multiple of 32 (out_word * 32), record byte
// 32 * out_word + j in byte lane j. A 64-byte window absorbs one beat per cycle; one chunk per cycle,
// plus a second one (out2_*: the next record, whole, word 0) when records fit in 32 bytes, so short
// records stream at up to 64 bytes per cycle (faster than the DDR's sustained rate).
module hg_realign #(
    parameter int DW  = 256,
    parameter int RBW = 16,      // record size bits
    parameter int NRW = 10       // record count bits
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               start,
    input  logic [RBW-1:0]     rec_bytes,
    input  logic [NRW-1:0]     nrec,
    input  logic               in_valid,
    output logic               in_ready,
    input  logic [DW-1:0]      in_data,
    input  logic [5:0]         in_lo,
    input  logic [6:0]         in_hi,
    output logic               out_valid,
    input  logic               out_ready,
    output logic [NRW-1:0]     out_rec,
    output logic [RBW-6:0]     out_word,
    output logic [255:0]       out_data,
    output logic [31:0]        out_be,
    output logic               out_rec_last,
    output logic               out_last,           // the request's last record leaves this cycle
    output logic               out2_valid,         // with out_valid: record out_rec + 1, word 0
    output logic [255:0]       out2_data,
    output logic [31:0]        out2_be
);
    logic [511:0]   win;
    logic [6:0]     cnt;            // valid bytes in win
    logic           active;
    logic [NRW-1:0] rec;
    logic [RBW-1:0] rpos;           // record-relative byte position of the next chunk
    logic [RBW-1:0] rb;
    logic [NRW-1:0] nr;

    wire [RBW-1:0] rem  = rb - rpos;
    wire [6:0]     need = (rem > RBW'(32)) ? 7'd32 : 7'(rem);
    assign out_valid    = active && (cnt >= need);
    wire           emit = out_valid && out_ready;
    wire           two  = (rb <= RBW'(32)) && (rec + NRW'(1) < nr) && (cnt >= need + 7'(rb));
    assign out2_valid   = out_valid && two;
    wire [6:0]     used = need + (two ? 7'(rb) : 7'd0);
    wire [6:0]     keep = emit ? cnt - used : cnt;
    wire [6:0]     nb   = in_hi - 7'(in_lo);
    assign in_ready     = active && (7'(keep) + 7'd32 <= 7'd64);
    wire           take = in_valid && in_ready;

    assign out_rec      = rec;
    assign out_word     = (RBW-5)'(rpos >> 5);
    assign out_data     = win[255:0];
    assign out_be       = (need >= 7'd32) ? 32'hFFFF_FFFF : ((32'd1 << need) - 32'd1);
    assign out_rec_last = (rpos + RBW'(need) == rb);
    assign out_last     = out_rec_last && ((two ? rec + NRW'(1) : rec) == nr - NRW'(1));
    /* verilator lint_off UNUSEDSIGNAL */
    logic [511:0] second;
    /* verilator lint_on UNUSEDSIGNAL */
    assign second    = win >> {need, 3'b000};
    assign out2_data = second[255:0];
    assign out2_be   = (rb >= RBW'(32)) ? 32'hFFFF_FFFF : ((32'd1 << rb) - 32'd1);

    logic [511:0] shifted, placed;
    always_comb begin
        shifted = emit ? (win >> {used, 3'b000}) : win;
        placed  = (512'(in_data) >> {in_lo, 3'b000}) << {keep, 3'b000};
    end
    logic [511:0] keep_mask;
    assign keep_mask = (keep >= 7'd64) ? {512{1'b1}} : ((512'd1 << {keep, 3'b000}) - 512'd1);
    /* verilator lint_off UNUSEDSIGNAL */
    wire unused = |nb;
    /* verilator lint_on UNUSEDSIGNAL */

    always_ff @(posedge clk) begin
        if (rst) begin
            active <= 1'b0; cnt <= '0;
        end else if (start) begin
            active <= 1'b1; cnt <= '0; rec <= '0; rpos <= '0; rb <= rec_bytes; nr <= nrec; win <= '0;
        end else if (active) begin
            win <= (shifted & keep_mask) | (take ? placed : 512'd0);
            cnt <= keep + (take ? nb : 7'd0);
            if (emit) begin
                if (out_rec_last) begin
                    rpos <= '0;
                    rec  <= rec + (two ? NRW'(2) : NRW'(1));
                    if (out_last) active <= 1'b0;
                end else begin
                    rpos <= rpos + RBW'(32);
                end
            end
        end
    end
endmodule
