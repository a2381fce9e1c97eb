// hg_ram: simple dual-port RAM (one write, one read port), NE elements of EW bits per word, a write
// enable per element, synchronous read (1 cycle). Inferred as block RAM (or LUTRAM when shallow).
module hg_ram #(
    parameter int EW    = 8,
    parameter int NE    = 4,
    parameter int DEPTH = 64
) (
    input  logic                      clk,
    input  logic                      we,
    input  logic [$clog2(DEPTH)-1:0]  waddr,
    input  logic [NE-1:0]             wen,
    input  logic [NE*EW-1:0]          wdata,
    input  logic [$clog2(DEPTH)-1:0]  raddr,
    output logic [NE*EW-1:0]          rdata
);
    logic [NE*EW-1:0] mem [DEPTH] /* verilator public_flat_rd */;
    always_ff @(posedge clk) begin
        if (we) begin
            for (int e = 0; e < NE; e++) if (wen[e]) mem[waddr][e*EW +: EW] <= wdata[e*EW +: EW];
        end
        rdata <= mem[raddr];
    end
endmodule
