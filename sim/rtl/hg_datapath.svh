// hg_datapath.svh: memories, DMAs and engines of vit_top (included in its module body, after hg_ctrl.svh).
// Activation memories hold one token row per word (element write enables): X residual int16 [N][D],
// A k-bit [N][D], QKV k-bit [N][3D] (two read ports: two copies), H k-bit [N][M], S one head's scores
// [N][N] (2k-bit, probabilities written back in place). Each port is driven by the engine of the
// current op (d_op).

// ---------------- memories ----------------
localparam int RA = $clog2(NP2);
logic            x_we, a_we, q_we, h_we, s_we;
logic [RA-1:0]   x_wa, a_wa, q_wa, h_wa, s_wa, x_ra, a_ra, q_ra1, q_ra2, h_ra, s_ra;
logic [D-1:0]    x_wen, a_wen;
logic [3*D-1:0]  q_wen;
logic [M-1:0]    h_wen;
logic [N-1:0]    s_wen;
logic [D*16-1:0] x_wd, x_rd;
logic [D*KB-1:0] a_wd, a_rd;
logic [3*D*KB-1:0] q_wd, q_rd1, q_rd2;
logic [M*KB-1:0] h_wd, h_rd;
logic [N*SEW-1:0] s_wd, s_rd;
hg_ram #(.EW(16), .NE(D), .DEPTH(NP2)) u_x (.clk, .we(x_we), .waddr(x_wa), .wen(x_wen), .wdata(x_wd), .raddr(x_ra), .rdata(x_rd));
hg_ram #(.EW(KB), .NE(D), .DEPTH(NP2)) u_a (.clk, .we(a_we), .waddr(a_wa), .wen(a_wen), .wdata(a_wd), .raddr(a_ra), .rdata(a_rd));
hg_ram #(.EW(KB), .NE(3*D), .DEPTH(NP2)) u_q1 (.clk, .we(q_we), .waddr(q_wa), .wen(q_wen), .wdata(q_wd), .raddr(q_ra1), .rdata(q_rd1));
hg_ram #(.EW(KB), .NE(3*D), .DEPTH(NP2)) u_q2 (.clk, .we(q_we), .waddr(q_wa), .wen(q_wen), .wdata(q_wd), .raddr(q_ra2), .rdata(q_rd2));
hg_ram #(.EW(KB), .NE(M), .DEPTH(NP2)) u_h (.clk, .we(h_we), .waddr(h_wa), .wen(h_wen), .wdata(h_wd), .raddr(h_ra), .rdata(h_rd));
hg_ram #(.EW(SEW), .NE(N), .DEPTH(NP2)) u_s (.clk, .we(s_we), .waddr(s_wa), .wen(s_wen), .wdata(s_wd), .raddr(s_ra), .rdata(s_rd));

// ---------------- weight DMA (gmem_w) + realigner ----------------
logic        wq_valid, wq_ready, wb_valid, wb_ready, wb_last;
logic [63:0] wq_addr;
logic [23:0] wq_bytes;
logic [255:0] wb_data;
logic [5:0]  wb_lo;
logic [6:0]  wb_hi;
hg_rdma #(.DW(256)) u_rdw (
    .clk, .rst, .req_valid(wq_valid), .req_ready(wq_ready), .req_addr(wq_addr), .req_bytes(wq_bytes),
    .arvalid(m_axi_gmem_w_ARVALID), .arready(m_axi_gmem_w_ARREADY), .araddr(m_axi_gmem_w_ARADDR),
    .arlen(m_axi_gmem_w_ARLEN), .rvalid(m_axi_gmem_w_RVALID), .rready(m_axi_gmem_w_RREADY),
    .rdata(m_axi_gmem_w_RDATA), .rlast(m_axi_gmem_w_RLAST), .out_valid(wb_valid), .out_ready(wb_ready),
    .out_data(wb_data), .out_lo(wb_lo), .out_hi(wb_hi), .out_last(wb_last));
logic        ra_start, ra_in_ready, c_valid, c_ready, c_last, c_rlast, c2_valid;
logic [15:0] ra_rb;
logic [9:0]  ra_nrec, c_rec;
logic [10:0] c_word;
logic [255:0] c_data, c2_data;
logic [31:0] c_be, c2_be;
hg_realign #(.DW(256), .RBW(16), .NRW(10)) u_ra (
    .clk, .rst, .start(ra_start), .rec_bytes(ra_rb), .nrec(ra_nrec), .in_valid(wb_valid && d_op != 4'(OP_PRE)),
    .in_ready(ra_in_ready), .in_data(wb_data), .in_lo(wb_lo), .in_hi(wb_hi), .out_valid(c_valid), .out_ready(c_ready),
    .out_rec(c_rec), .out_word(c_word), .out_data(c_data), .out_be(c_be), .out_rec_last(c_rlast), .out_last(c_last),
    .out2_valid(c2_valid), .out2_data(c2_data), .out2_be(c2_be));

// ---------------- image DMA (gmem_in) ----------------
logic        iq_valid, iq_ready, ib_valid, ib_ready, ib_last;
logic [255:0] ib_data;
logic [5:0]  ib_lo;
logic [6:0]  ib_hi;
hg_rdma #(.DW(256)) u_rdi (
    .clk, .rst, .req_valid(iq_valid), .req_ready(iq_ready), .req_addr(ptr_image), .req_bytes(24'(IMG_BYTES)),
    .arvalid(m_axi_gmem_in_ARVALID), .arready(m_axi_gmem_in_ARREADY), .araddr(m_axi_gmem_in_ARADDR),
    .arlen(m_axi_gmem_in_ARLEN), .rvalid(m_axi_gmem_in_RVALID), .rready(m_axi_gmem_in_RREADY),
    .rdata(m_axi_gmem_in_RDATA), .rlast(m_axi_gmem_in_RLAST), .out_valid(ib_valid), .out_ready(ib_ready),
    .out_data(ib_data), .out_lo(ib_lo), .out_hi(ib_hi), .out_last(ib_last));

// ---------------- preload: image -> image RAM strips, class row -> X[0] ----------------
localparam int SB = P * IMG;                           // strip bytes
// A beat's bytes land in every strip they cover, one strip per cycle (a beat covers at most
// 32 / SB + 1 strips; one when SB is a multiple of 32 and the image is aligned).
localparam int SPB = (SB >= 32) ? 2 : 32 / SB + 1;
localparam int SBB = SB * 8;
logic        pre_busy, pre_img, pre_cls, pre_done;
logic [23:0] ibyte;                                    // image bytes written
logic [$clog2(SPB+1)-1:0] isub;
logic [8:0]  cls_beat;
logic        img_we;
logic [$clog2(C*IMG/P)-1:0] img_wa;
logic [SB-1:0]   img_wen;
logic [SB*8-1:0] img_wd;
int          ibase, istrip, ilast, ioff;               // beat byte 0's image byte; strip now / last; offset
logic [63:0] ibmask;
always_comb begin
    ibase  = int'(ibyte) - int'(ib_lo);
    istrip = int'(ibyte) / SB + int'(isub);
    ilast  = (ibase + int'(ib_hi) - 1) / SB;
    ioff   = ibase - istrip * SB;                      // < 0: the beat started in an earlier strip
    ibmask = ((64'd1 << ib_hi) - 64'd1) & ~((64'd1 << ib_lo) - 64'd1);
    img_we = pre_busy && ib_valid;
    img_wa = ($clog2(C*IMG/P))'(istrip);
    if (ioff >= 0) begin
        img_wd  = SBB'({{SBB{1'b0}}, ib_data} << (ioff * 8));
        img_wen = SB'({{SB{1'b0}}, ibmask} << ioff);
    end else begin
        img_wd  = SBB'(ib_data >> (-ioff * 8));
        img_wen = SB'(ibmask >> -ioff);
    end
end
assign ib_ready = pre_busy && istrip >= ilast;
always_ff @(posedge clk) begin
    pre_done <= 1'b0;
    if (rst) begin
        pre_busy <= 1'b0; pre_img <= 1'b0; pre_cls <= 1'b0;
    end else if (st_pre) begin
        pre_busy <= 1'b1; pre_img <= 1'b1; pre_cls <= 1'b1; ibyte <= '0; isub <= '0; cls_beat <= '0;
    end else if (pre_busy) begin
        if (ib_valid) begin
            if (ib_ready) begin
                isub <= '0;
                ibyte <= ibyte + 24'(ib_hi) - 24'(ib_lo);
                if (ib_last) pre_img <= 1'b0;
            end else isub <= isub + 1'b1;
        end
        if (wb_valid && wb_ready) begin
            cls_beat <= cls_beat + 9'd1;
            if (wb_last) pre_cls <= 1'b0;
        end
        if (!pre_img && !pre_cls) begin pre_busy <= 1'b0; pre_done <= 1'b1; end
    end
end
logic iq_pend, wq_pre;
always_ff @(posedge clk) begin
    if (rst) begin iq_pend <= 1'b0; wq_pre <= 1'b0; end
    else begin
        if (st_pre) begin iq_pend <= 1'b1; wq_pre <= 1'b1; end
        if (iq_valid && iq_ready) iq_pend <= 1'b0;
        if (wq_pre && wq_ready && d_op == 4'(OP_PRE)) wq_pre <= 1'b0;
    end
end
assign iq_valid = iq_pend;

// ---------------- engines ----------------
logic bin_done, i8_done, ln_done, att_done, sm_done, res_done;
`include "hg_engines.svh"

// ---------------- result ----------------
logic [CLS*16-1:0] logits;
logic [DEPTH*16-1:0] tok_flat;
always_comb for (int b = 0; b < DEPTH; b++) tok_flat[b*16 +: 16] = tokens[b];
hg_wdma #(.DW(256), .RB(CLS*16 + DEPTH*16)) u_wd (
    .clk, .rst, .start(st_res), .addr(ptr_result), .data({tok_flat, logits}), .done(res_done),
    .awvalid(m_axi_gmem_out_AWVALID), .awready(m_axi_gmem_out_AWREADY), .awaddr(m_axi_gmem_out_AWADDR),
    .awlen(m_axi_gmem_out_AWLEN), .wvalid(m_axi_gmem_out_WVALID), .wready(m_axi_gmem_out_WREADY),
    .wdata(m_axi_gmem_out_WDATA), .wstrb(m_axi_gmem_out_WSTRB), .wlast(m_axi_gmem_out_WLAST),
    .bvalid(m_axi_gmem_out_BVALID), .bready(m_axi_gmem_out_BREADY));

always_comb begin
    case (d_op)
        4'(OP_PRE): eng_done = pre_done;
        4'(OP_I8):  eng_done = i8_done;
        4'(OP_LN):  eng_done = ln_done;
        4'(OP_BIN): eng_done = bin_done;
        4'(OP_ATT): eng_done = att_done;
        4'(OP_SM):  eng_done = sm_done;
        4'(OP_RES): eng_done = res_done;
        4'(OP_SEL): eng_done = sel_done;
        4'(OP_PKG): eng_done = pkg_done;
        default:    eng_done = 1'b1;
    endcase
end

// ---------------- constant AXI fields ----------------
assign {m_axi_gmem_in_ARID, m_axi_gmem_w_ARID, m_axi_gmem_out_ARID, m_axi_gmem_in_AWID, m_axi_gmem_w_AWID,
        m_axi_gmem_out_AWID, m_axi_gmem_in_WID, m_axi_gmem_w_WID, m_axi_gmem_out_WID} = '0;
assign {m_axi_gmem_in_ARUSER, m_axi_gmem_w_ARUSER, m_axi_gmem_out_ARUSER, m_axi_gmem_in_AWUSER,
        m_axi_gmem_w_AWUSER, m_axi_gmem_out_AWUSER, m_axi_gmem_in_WUSER, m_axi_gmem_w_WUSER, m_axi_gmem_out_WUSER} = '0;
assign m_axi_gmem_in_ARSIZE = 3'd5; assign m_axi_gmem_w_ARSIZE = 3'd5; assign m_axi_gmem_out_ARSIZE = 3'd5;
assign m_axi_gmem_in_AWSIZE = 3'd5; assign m_axi_gmem_w_AWSIZE = 3'd5; assign m_axi_gmem_out_AWSIZE = 3'd5;
assign m_axi_gmem_in_ARBURST = 2'b01; assign m_axi_gmem_w_ARBURST = 2'b01; assign m_axi_gmem_out_ARBURST = 2'b01;
assign m_axi_gmem_in_AWBURST = 2'b01; assign m_axi_gmem_w_AWBURST = 2'b01; assign m_axi_gmem_out_AWBURST = 2'b01;
assign {m_axi_gmem_in_ARLOCK, m_axi_gmem_w_ARLOCK, m_axi_gmem_out_ARLOCK, m_axi_gmem_in_AWLOCK,
        m_axi_gmem_w_AWLOCK, m_axi_gmem_out_AWLOCK} = '0;
assign m_axi_gmem_in_ARCACHE = 4'b0011; assign m_axi_gmem_w_ARCACHE = 4'b0011; assign m_axi_gmem_out_ARCACHE = 4'b0011;
assign m_axi_gmem_in_AWCACHE = 4'b0011; assign m_axi_gmem_w_AWCACHE = 4'b0011; assign m_axi_gmem_out_AWCACHE = 4'b0011;
assign {m_axi_gmem_in_ARPROT, m_axi_gmem_w_ARPROT, m_axi_gmem_out_ARPROT, m_axi_gmem_in_AWPROT,
        m_axi_gmem_w_AWPROT, m_axi_gmem_out_AWPROT} = '0;
assign {m_axi_gmem_in_ARQOS, m_axi_gmem_w_ARQOS, m_axi_gmem_out_ARQOS, m_axi_gmem_in_AWQOS, m_axi_gmem_w_AWQOS,
        m_axi_gmem_out_AWQOS, m_axi_gmem_in_ARREGION, m_axi_gmem_w_ARREGION, m_axi_gmem_out_ARREGION,
        m_axi_gmem_in_AWREGION, m_axi_gmem_w_AWREGION, m_axi_gmem_out_AWREGION} = '0;
// read-only / write-only masters: idle channels
assign {m_axi_gmem_in_AWVALID, m_axi_gmem_w_AWVALID, m_axi_gmem_in_WVALID, m_axi_gmem_w_WVALID,
        m_axi_gmem_in_WLAST, m_axi_gmem_w_WLAST} = '0;
assign {m_axi_gmem_in_AWADDR, m_axi_gmem_w_AWADDR} = '0;
assign {m_axi_gmem_in_AWLEN, m_axi_gmem_w_AWLEN} = '0;
assign {m_axi_gmem_in_WDATA, m_axi_gmem_w_WDATA} = '0;
assign {m_axi_gmem_in_WSTRB, m_axi_gmem_w_WSTRB} = '0;
assign m_axi_gmem_in_BREADY = 1'b1; assign m_axi_gmem_w_BREADY = 1'b1;
assign m_axi_gmem_out_ARVALID = 1'b0; assign m_axi_gmem_out_ARADDR = '0; assign m_axi_gmem_out_ARLEN = '0;
assign m_axi_gmem_out_RREADY = 1'b1;
