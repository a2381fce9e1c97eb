// hg_axil: the AXI4-Lite control slave of the accelerator with the Vitis HLS ap_ctrl_hs register map
// (hls_templates/INTERFACE.md): 0x00 control (ap_start, ap_done clear-on-read, ap_idle, ap_ready
// clear-on-read, auto_restart), 0x04 GIE, 0x08 IER, 0x0C ISR (toggle on write), 0x10/0x14 image,
// 0x1C/0x20 weights, 0x28/0x2C result pointers.
module hg_axil (
    input  logic        clk,
    input  logic        rst,
    input  logic        awvalid,
    output logic        awready,
    input  logic [5:0]  awaddr,
    input  logic        wvalid,
    output logic        wready,
    input  logic [31:0] wdata,
    input  logic [3:0]  wstrb,
    output logic        bvalid,
    input  logic        bready,
    output logic [1:0]  bresp,
    input  logic        arvalid,
    output logic        arready,
    input  logic [5:0]  araddr,
    output logic        rvalid,
    input  logic        rready,
    output logic [31:0] rdata,
    output logic [1:0]  rresp,
    output logic        irq,
    // to / from the controller
    output logic        ap_start,        // level: the run may start (cleared when it starts)
    input  logic        ap_started,      // pulse: the run started
    input  logic        ap_done_in,      // pulse: the run finished
    input  logic        ap_idle,
    output logic [63:0] ptr_image,
    output logic [63:0] ptr_weights,
    output logic [63:0] ptr_result
);
    logic        aw_ok, w_ok;
    logic [5:0]  aw_a;
    logic [31:0] w_d;
    logic [3:0]  w_s;
    logic        done_r, ready_r, auto_restart, gie;
    logic [1:0]  ier, isr;

    assign awready = !aw_ok && !bvalid;
    assign wready  = !w_ok && !bvalid;
    assign bresp   = 2'b00;
    assign rresp   = 2'b00;
    assign arready = !rvalid;
    assign irq = gie && |(ier & isr);

    function automatic logic [31:0] merge(input logic [31:0] old, input logic [31:0] d, input logic [3:0] s);
        merge = {s[3] ? d[31:24] : old[31:24], s[2] ? d[23:16] : old[23:16], s[1] ? d[15:8] : old[15:8],
                 s[0] ? d[7:0] : old[7:0]};
    endfunction

    always_ff @(posedge clk) begin
        if (rst) begin
            aw_ok <= 1'b0; w_ok <= 1'b0; bvalid <= 1'b0; rvalid <= 1'b0;
            ap_start <= 1'b0; done_r <= 1'b0; ready_r <= 1'b0; auto_restart <= 1'b0; gie <= 1'b0;
            ier <= '0; isr <= '0; ptr_image <= '0; ptr_weights <= '0; ptr_result <= '0;
        end else begin
            if (awvalid && awready) begin aw_ok <= 1'b1; aw_a <= awaddr; end
            if (wvalid && wready) begin w_ok <= 1'b1; w_d <= wdata; w_s <= wstrb; end
            if (bvalid && bready) bvalid <= 1'b0;
            if (ap_started) begin
                ap_start <= auto_restart;
                ready_r <= 1'b1;
                isr[1] <= isr[1] | ier[1];
            end
            if (ap_done_in) begin
                done_r <= 1'b1;
                isr[0] <= isr[0] | ier[0];
            end
            if (aw_ok && w_ok) begin
                aw_ok <= 1'b0; w_ok <= 1'b0; bvalid <= 1'b1;
                case (aw_a)
                    6'h00: begin
                        if (w_s[0] && w_d[0]) ap_start <= 1'b1;
                        if (w_s[0]) auto_restart <= w_d[7];
                    end
                    6'h04: if (w_s[0]) gie <= w_d[0];
                    6'h08: if (w_s[0]) ier <= w_d[1:0];
                    6'h0C: if (w_s[0]) isr <= isr ^ w_d[1:0];
                    6'h10: ptr_image[31:0]    <= merge(ptr_image[31:0], w_d, w_s);
                    6'h14: ptr_image[63:32]   <= merge(ptr_image[63:32], w_d, w_s);
                    6'h1C: ptr_weights[31:0]  <= merge(ptr_weights[31:0], w_d, w_s);
                    6'h20: ptr_weights[63:32] <= merge(ptr_weights[63:32], w_d, w_s);
                    6'h28: ptr_result[31:0]   <= merge(ptr_result[31:0], w_d, w_s);
                    6'h2C: ptr_result[63:32]  <= merge(ptr_result[63:32], w_d, w_s);
                    default: ;
                endcase
            end
            if (arvalid && arready) begin
                rvalid <= 1'b1;
                case (araddr)
                    6'h00: begin
                        rdata <= {24'd0, auto_restart, 3'd0, ready_r, ap_idle, done_r, ap_start};
                        done_r <= ap_done_in;           // clear on read (unless set again now)
                        ready_r <= ap_started;
                    end
                    6'h04: rdata <= {31'd0, gie};
                    6'h08: rdata <= {30'd0, ier};
                    6'h0C: rdata <= {30'd0, isr};
                    6'h10: rdata <= ptr_image[31:0];
                    6'h14: rdata <= ptr_image[63:32];
                    6'h1C: rdata <= ptr_weights[31:0];
                    6'h20: rdata <= ptr_weights[63:32];
                    6'h28: rdata <= ptr_result[31:0];
                    6'h2C: rdata <= ptr_result[63:32];
                    default: rdata <= '0;
                endcase
            end else if (rvalid && rready) rvalid <= 1'b0;
        end
    end
endmodule
