// hg_wdma: AXI4 write master for the result buffer: one INCR burst of `beats` beats from a flat vector
// (byte i of the buffer = bits [8i+7 : 8i]), WSTRB masking the bytes beyond `bytes`; done on BRESP.
module hg_wdma #(
    parameter int DW = 256,
    parameter int RB = 64            // result bits
) (
    input  logic            clk,
    input  logic            rst,
    input  logic            start,
    input  logic [63:0]     addr,
    input  logic [RB-1:0]   data,
    output logic            done,
    output logic            awvalid,
    input  logic            awready,
    output logic [63:0]     awaddr,
    output logic [7:0]      awlen,
    output logic            wvalid,
    input  logic            wready,
    output logic [DW-1:0]   wdata,
    output logic [DW/8-1:0] wstrb,
    output logic            wlast,
    input  logic            bvalid,
    output logic            bready
);
    localparam int BEATS = (RB + DW - 1) / DW;
    localparam int NB = RB / 8;
    logic [BEATS*DW-1:0] buffer;
    logic [7:0]          bi;
    logic                aw_pend, w_act, b_wait;
    assign awaddr = addr;
    assign awlen  = 8'(BEATS - 1);
    assign wdata  = buffer[int'(bi) * DW +: DW];
    assign wlast  = (bi == 8'(BEATS - 1));
    assign bready = b_wait;
    always_comb begin
        for (int j = 0; j < DW / 8; j++) wstrb[j] = (int'(bi) * (DW / 8) + j < NB);
    end
    assign awvalid = aw_pend;
    assign wvalid  = w_act;
    always_ff @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            aw_pend <= 1'b0; w_act <= 1'b0; b_wait <= 1'b0;
        end else if (start) begin
            buffer <= (BEATS*DW)'(data); bi <= '0; aw_pend <= 1'b1; w_act <= 1'b1; b_wait <= 1'b1;
        end else begin
            if (awvalid && awready) aw_pend <= 1'b0;
            if (wvalid && wready) begin
                bi <= bi + 8'd1;
                if (wlast) w_act <= 1'b0;
            end
            if (bvalid && b_wait && !aw_pend && !w_act) begin b_wait <= 1'b0; done <= 1'b1; end
        end
    end
endmodule
