// hg_rdma: AXI4 read master for one request at a time: `bytes` bytes from byte address `addr`.
// Issues INCR bursts of up to MAX_BEATS beats that never cross a 4 KB boundary, back to back
// (up to 8 outstanding; the first in the cycle the request is accepted), and hands every returned beat
// to the consumer with the byte range that
// belongs to the request: bytes [lo, hi) of the beat (lo > 0 only on the first beat, hi < BYTES only
// on the last). The beat is registered once (nothing downstream depends combinationally on the AXI
// inputs); out_ready back-pressures RREADY.
module hg_rdma #(
    parameter int DW = 256,
    parameter int MAX_BEATS = 64
) (
    input  logic               clk,
    input  logic               rst,
    input  logic               req_valid,
    output logic               req_ready,
    input  logic [63:0]        req_addr,
    input  logic [23:0]        req_bytes,
    // AXI4 read channels
    output logic               arvalid,
    input  logic               arready,
    output logic [63:0]        araddr,
    output logic [7:0]         arlen,
    input  logic               rvalid,
    output logic               rready,
    input  logic [DW-1:0]      rdata,
    input  logic               rlast,
    // beats to the consumer
    output logic               out_valid,
    input  logic               out_ready,
    output logic [DW-1:0]      out_data,
    output logic [5:0]         out_lo,
    output logic [6:0]         out_hi,
    output logic               out_last
);
    localparam int B  = DW / 8;
    localparam int LB = $clog2(B);

    logic        busy;
    logic [63:0] next_addr;          // next beat address to request (beat aligned)
    logic [24:0] beats_left_req;     // beats still to request
    logic [24:0] beats_left_rcv;     // beats still to receive
    logic [LB-1:0] first_lo;
    logic [LB:0]   last_hi;
    logic          first_beat;
    logic [3:0]    outstanding;

    wire [24:0] total_beats = 25'((32'(req_addr[LB-1:0]) + 32'(req_bytes) + B - 1) >> LB);
    wire        fresh = req_valid && !busy;                      // request accepted this cycle
    wire [63:0] cur_addr = fresh ? {req_addr[63:LB], {LB{1'b0}}} : next_addr;
    wire [24:0] cur_left = fresh ? total_beats : beats_left_req;
    // burst length: up to MAX_BEATS, up to the 4 KB boundary, up to what is left
    wire [12:0] to_4k = 13'((13'h1000 - {1'b0, cur_addr[11:0]}) >> LB);
    wire [24:0] lim1  = (cur_left < 25'(MAX_BEATS)) ? cur_left : 25'(MAX_BEATS);
    wire [24:0] blen  = (lim1 < 25'(to_4k)) ? lim1 : 25'(to_4k);

    assign req_ready = !busy;
    assign arvalid   = (busy || fresh) && cur_left != 0 && outstanding < 4'd8;
    assign araddr    = cur_addr;
    assign arlen     = 8'(blen - 25'd1);
    // one-entry output register: accept a beat when empty or when the held one leaves now
    logic held;
    assign rready    = busy && (!held || out_ready);
    assign out_valid = held;
    always_ff @(posedge clk) begin
        if (rst) held <= 1'b0;
        else if (rvalid && rready) begin
            held     <= 1'b1;
            out_data <= rdata;
            out_lo   <= first_beat ? 6'(first_lo) : 6'd0;
            out_hi   <= (beats_left_rcv == 25'd1) ? 7'(last_hi) : 7'(B);
            out_last <= (beats_left_rcv == 25'd1);
        end else if (out_ready) held <= 1'b0;
    end

    always_ff @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0; outstanding <= '0;
        end else begin
            if (req_valid && !busy) begin
                busy           <= 1'b1;
                next_addr      <= {req_addr[63:LB], {LB{1'b0}}};
                beats_left_req <= total_beats;
                beats_left_rcv <= total_beats;
                first_lo       <= req_addr[LB-1:0];
                last_hi        <= (LB+1)'(((32'(req_addr[LB-1:0]) + 32'(req_bytes) - 1) & (B - 1)) + 1);
                first_beat     <= 1'b1;
            end
            if (arvalid && arready) begin
                next_addr      <= cur_addr + (64'(blen) << LB);
                beats_left_req <= cur_left - blen;
            end
            outstanding <= outstanding + 4'(arvalid && arready) - 4'(rvalid && rready && rlast);
            if (rvalid && rready) begin
                first_beat     <= 1'b0;
                beats_left_rcv <= beats_left_rcv - 25'd1;
                if (beats_left_rcv == 25'd1) busy <= 1'b0;          // the held beat still goes out
            end
        end
    end
endmodule
