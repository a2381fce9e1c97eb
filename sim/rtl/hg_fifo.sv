// hg_fifo: synchronous first-word-fall-through FIFO (dout valid while !empty), DEPTH a power of two.
// Storage is a small RAM with an asynchronous read port (distributed RAM / LUTRAM on UltraScale+).
module hg_fifo #(
    parameter int W     = 8,
    parameter int DEPTH = 16
) (
    input  logic                     clk,
    input  logic                     rst,
    input  logic                     push,
    input  logic [W-1:0]             din,
    input  logic                     pop,
    output logic [W-1:0]             dout,
    output logic                     empty,
    output logic                     full,
    output logic [$clog2(DEPTH):0]   count
);
    localparam int AW = $clog2(DEPTH);
    logic [W-1:0]  mem [DEPTH];
    logic [AW-1:0] wp, rp;

    assign dout  = mem[rp];
    assign empty = (count == 0);
    assign full  = (count == (AW+1)'(DEPTH));

    always_ff @(posedge clk) begin
        if (push && !full) mem[wp] <= din;
    end
    always_ff @(posedge clk) begin
        if (rst) begin
            wp <= '0; rp <= '0; count <= '0;
        end else begin
            if (push && !full) wp <= wp + AW'(1);
            if (pop && !empty) rp <= rp + AW'(1);
            count <= count + (AW+1)'(push && !full) - (AW+1)'(pop && !empty);
        end
    end
endmodule
