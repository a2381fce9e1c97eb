// hg_engines.svh: the engines of vit_top and the memory-port multiplexers (included by hg_datapath.svh).

// ---- binary engine ----
logic        b_dreq, b_rastart, b_cready, b_qwe, b_xwe, b_hwe;
logic [63:0] b_daddr;
logic [23:0] b_dbytes;
logic [15:0] b_rarb;
logic [9:0]  b_ranrec;
logic [8:0]  b_actra, b_xra, b_wrow;
logic [3*D-1:0] b_qwen;
logic [3*D*KB-1:0] b_qwd;
logic [D-1:0]   b_xwen;
logic [D*16-1:0] b_xwd;
logic [M-1:0]   b_hwen;
logic [M*KB-1:0] b_hwd;
hg_bin_engine #(.D(D), .M(M), .KB(KB), .N(N), .PE(PE), .SIMD(SIMD), .GL(GELU_LANES), .TWB(B_TWB), .WPR(B_WPR),
                .BIAS_W(BIAS_W), .SH_MIN(B_SH_MIN), .SH_MAX(B_SH_MAX), .G_IN(G_IN), .G_W(G_W), .G_KB(G_KB),
                .G_BB(G_BB), .G_AB(G_AB), .G_OW(G_OW)) u_bin (
    .clk, .rst, .start(st_bin), .K(d_K), .O(d_O), .rows(rows_op), .src(d_src), .mode(d_mode), .col_off(d_col),
    .shift(d_shift), .bits(d_bits), .w_addr(ptr_weights + 64'(d_woff)), .bbytes(d_bb),
    .g_k(gl_k(d_pidx)), .g_b(gl_b(d_pidx)), .g_a(gl_a(d_pidx)), .g_fi(gl_fi(d_pidx)), .g_wf(gl_wf(d_pidx)),
    .g_osh(gl_osh(d_pidx)), .g_mult(gl_m(d_pidx)), .g_bias_r(gl_br(d_pidx)), .g_shift(gl_sh(d_pidx)),
    .done(bin_done), .dma_req(b_dreq), .dma_ready(wq_ready), .dma_addr(b_daddr), .dma_bytes(b_dbytes),
    .ra_start(b_rastart), .ra_rec_bytes(b_rarb), .ra_nrec(b_ranrec), .c_valid(c_valid && d_op == 4'(OP_BIN)),
    .c_ready(b_cready), .c_rec, .c_word, .c_data, .c_be, .c_last, .c2_valid, .c2_data, .c2_be,
    .act_raddr(b_actra), .a_rdata(a_rd), .h_rdata(h_rd), .x_raddr(b_xra), .x_rdata(x_rd),
    .qkv_we(b_qwe), .x_we(b_xwe), .h_we(b_hwe), .w_row(b_wrow), .qkv_wen(b_qwen), .qkv_wdata(b_qwd),
    .x_wen(b_xwen), .x_wdata(b_xwd), .h_wen(b_hwen), .h_wdata(b_hwd));

// ---- int8 engine ----
logic        i_dreq, i_rastart, i_cready, i_xwe;
logic [63:0] i_daddr;
logic [23:0] i_dbytes;
logic [15:0] i_rarb;
logic [9:0]  i_ranrec;
logic [8:0]  i_actra, i_xrow, i_hrow, i_srow;
logic [D-1:0] i_xwen;
logic [D*16-1:0] i_xwd;
logic        i_hwe, i_swe;
logic [M-1:0] i_hwen;
logic [M*KB-1:0] i_hwd;
logic [N-1:0] i_swen;
logic [N*SEW-1:0] i_swd;
logic [D/2*KB-1:0] sel_glob;
hg_i8_engine #(.D(D), .M(M), .KB(KB), .N(N), .CLS(CLS), .PE(I8_PE), .SIMD(I8_SIMD), .TWB(I_TWB), .WPR(I_WPR),
               .BIAS_W(BIAS_W), .SH_MIN(I_SH_MIN), .SH_MAX(I_SH_MAX), .C(C), .IMG(IMG), .P(P)) u_i8 (
    .clk, .rst, .start(st_i8), .K(d_K), .O(d_O), .rows(rows_op), .src(d_src), .mode(d_mode), .icol(d_icol),
    .ocol0(d_col), .arow(d_r0), .orow0(d_orow), .shift(d_shift),
    .bits(d_bits), .w_addr(ptr_weights + 64'(d_woff)), .bbytes(d_bb), .npos(d_npos), .done(i8_done),
    .dma_req(i_dreq), .dma_ready(wq_ready), .dma_addr(i_daddr), .dma_bytes(i_dbytes), .ra_start(i_rastart),
    .ra_rec_bytes(i_rarb), .ra_nrec(i_ranrec), .c_valid(c_valid && d_op == 4'(OP_I8)), .c_ready(i_cready),
    .c_rec, .c_word, .c_data, .c_be, .c_last, .c2_valid, .c2_data, .c2_be,
    .img_we, .img_waddr(img_wa), .img_wen, .img_wdata(img_wd),
    .act_raddr(i_actra), .a_rdata(a_rd), .h_rdata(h_rd), .glob(sel_glob), .h_we(i_hwe), .h_wrow(i_hrow),
    .h_wen(i_hwen), .h_wdata(i_hwd), .s_we(i_swe), .s_wrow(i_srow), .s_wen(i_swen), .s_wdata(i_swd),
    .x_we(i_xwe), .x_wrow(i_xrow), .x_wen(i_xwen), .x_wdata(i_xwd), .logits);

// ---- attention engine ----
logic        t_swe, t_awe;
logic [8:0]  t_qra1, t_qra2, t_sra, t_swa, t_awa;
logic [N-1:0] t_swen;
logic [N*SEW-1:0] t_swd;
logic [D-1:0] t_awen;
logic [D*KB-1:0] t_awd;
hg_att_engine #(.D(D), .HD(HD), .KB(KB), .N(N), .PE(ATT_PE), .SIMD(ATT_SIMD), .SEW(SEW), .BIAS_W(BIAS_W)) u_att (
    .clk, .rst, .start(st_att), .av(d_av), .head(d_head), .n(rows_op), .rq_mult(rq_m(d_pidx)),
    .rq_bias_r(rq_br(d_pidx)), .rq_shift(rq_sh(d_pidx)), .rq_bits(rq_bits(d_pidx)), .done(att_done),
    .qkv_raddr1(t_qra1), .qkv_rdata1(q_rd1), .qkv_raddr2(t_qra2), .qkv_rdata2(q_rd2), .s_raddr(t_sra), .s_rdata(s_rd),
    .s_we(t_swe), .s_waddr(t_swa), .s_wen(t_swen), .s_wdata(t_swd), .a_we(t_awe), .a_waddr(t_awa), .a_wen(t_awen),
    .a_wdata(t_awd));

// ---- softmax ----
logic        m_swe;
logic [8:0]  m_sra, m_swa;
logic [N-1:0] m_swen;
logic [N*SEW-1:0] m_swd;
hg_sm_engine #(.L(SOFTMAX_LANES), .N(N), .SEW(SEW), .KB(KB), .DW(E_DW), .NB(E_NB), .IMB(E_IMB), .PF(E_PF), .LF(E_LF),
               .AB(E_AB), .ZB(E_ZB), .RM(E_RM), .QB(E_QB), .SW(E_SW), .IW(E_IW)) u_sm (
    .clk, .rst, .start(st_sm), .rows(rows_op), .row0(d_r0),
    .width(d_mode == 2'd1 ? sel_pruned : d_mode == 2'd2 ? 9'(d_K) : rows_op), .n_clamp(sm_nc(d_pidx)), .inv_mult(sm_im(d_pidx)),
    .inv_shift(sm_ish(d_pidx)), .g(sm_g(d_pidx)), .ln2(sm_ln2(d_pidx)), .b(sm_b(d_pidx)), .a(sm_a(d_pidx)),
    .c(sm_c(d_pidx)), .sqs(sm_sqs(d_pidx)), .lf(sm_lf(d_pidx)), .guard(sm_gd(d_pidx)), .rbits(sm_rb(d_pidx)),
    .done(sm_done), .s_raddr(m_sra), .s_rdata(s_rd), .s_we(m_swe), .s_waddr(m_swa), .s_wen(m_swen), .s_wdata(m_swd));

// ---- LayerNorm ----
logic        l_awe;
logic [8:0]  l_xra, l_awa;
logic [D-1:0] l_awen;
logic [D*KB-1:0] l_awd;
hg_ln_engine #(.L(LN_LANES), .D(D), .KB(KB), .NLN(NLN), .MMB(L_MMB), .SDB(L_SDB), .FF(L_FF), .MAN(L_MAN),
               .SEG(L_SEG), .RF(L_RF), .CF(L_CF), .MUF(L_MUF), .BIAS_W(BIAS_W)) u_ln (
    .clk, .rst, .start(st_ln), .idx(d_pidx), .rows(rows_op), .r0(d_r0), .mean_mult(ln_mm(d_pidx)),
    .mean_shift(ln_ms(d_pidx)), .eps_term(ln_eps(d_pidx)), .sqrt_dim(ln_sd(d_pidx)), .fsh(ln_fsh(d_pidx)),
    .ysh(ln_ysh(d_pidx)), .rq_shift(ln_rqs(d_pidx)), .done(ln_done), .x_raddr(l_xra), .x_rdata(x_rd),
    .a_we(l_awe), .a_waddr(l_awa), .a_wen(l_awen), .a_wdata(l_awd));

// ---- token selector: vector unit and package token ----
logic        v_hwe, v_awe, v_swe, v_xwe;
logic [8:0]  v_hra, v_ara, v_sra, v_xra, v_wrow, v_pidx_addr, v_pidx;
logic [M-1:0] v_hwen;
logic [M*KB-1:0] v_hwd;
logic [D-1:0] v_awen;
logic [D*KB-1:0] v_awd;
logic [N-1:0] v_swen;
logic [N*SEW-1:0] v_swd;
logic [D*16-1:0] v_xwd;
logic        sel_done, pkg_done;
logic [19:0] v_qm;
logic [BIAS_W-1:0] v_qb;
logic [5:0]  v_qs;
logic [4:0]  v_qbits;
always_comb begin                  // the sub-op's requantizer: GELU out / mean (1/n ROM) / pkg_rq
    case (d_sub)
        3'd0: begin v_qm = 20'($signed(gl_m(d_pidx))); v_qb = gl_br(d_pidx); v_qs = gl_sh(d_pidx); v_qbits = 5'(KB); end
        3'd1, 3'd2: begin
            v_qm = sel_mm(d_pidx, rows_op); v_qs = sel_msh(d_pidx); v_qbits = sel_mbits(d_pidx);
            v_qb = BIAS_W'((64'd1 << sel_msh(d_pidx)) >> 1);
        end
        default: begin v_qm = 20'($signed(rq_m(d_pidx))); v_qb = rq_br(d_pidx); v_qs = rq_sh(d_pidx); v_qbits = rq_bits(d_pidx); end
    endcase
end
hg_sel_engine #(.D(D), .M(M), .KB(KB), .N(N), .H(H), .L(SELECT_LANES), .GL(GELU_LANES), .BIAS_W(BIAS_W), .SCW(SCW),
                .SPARE(NP2 - 1), .GROW(N), .PROW(N + 1), .G_IN(G_IN), .G_W(G_W), .G_KB(G_KB), .G_BB(G_BB),
                .G_AB(G_AB), .G_OW(G_OW)) u_sel (
    .clk, .rst, .start(st_sel), .sub(d_sub), .rows(rows_op), .g_k(gl_k(d_pidx)), .g_b(gl_b(d_pidx)),
    .g_a(gl_a(d_pidx)), .g_fi(gl_fi(d_pidx)), .g_wf(gl_wf(d_pidx)), .g_osh(gl_osh(d_pidx)), .q_mult(v_qm),
    .q_bias_r(v_qb), .q_shift(v_qs), .q_bits(v_qbits), .done(sel_done), .h_raddr(v_hra), .a_raddr(v_ara),
    .s_raddr(v_sra), .x_raddr(v_xra), .h_rdata(h_rd), .a_rdata(a_rd), .s_rdata(s_rd), .x_rdata(x_rd),
    .h_we(v_hwe), .a_we(v_awe), .s_we(v_swe), .x_we(v_xwe), .w_row(v_wrow), .h_wen(v_hwen), .h_wdata(v_hwd),
    .a_wen(v_awen), .a_wdata(v_awd), .s_wen(v_swen), .s_wdata(v_swd), .x_wdata(v_xwd), .glob(sel_glob),
    .n_pruned(sel_pruned), .n_new(sel_n_new), .pidx_addr(v_pidx_addr), .pidx_data(v_pidx));
logic        k_xwe;
logic [8:0]  k_xra, k_sra, k_xrow;
logic [D-1:0] k_xwen;
logic [D*16-1:0] k_xwd;
hg_pkg_engine #(.D(D), .KB(KB), .N(N), .PE(ATT_PE), .SIMD(ATT_SIMD), .SPARE(NP2 - 1), .PROW(N + 1)) u_pkg (
    .clk, .rst, .start(st_pkg), .m(sel_pruned), .done(pkg_done), .pidx_addr(v_pidx_addr), .pidx_data(v_pidx),
    .x_raddr(k_xra), .x_rdata(x_rd), .s_raddr(k_sra), .s_rdata(s_rd), .x_we(k_xwe), .x_wrow(k_xrow),
    .x_wen(k_xwen), .x_wdata(k_xwd));

// ---- weight DMA / realigner routing ----
always_comb begin
    wq_valid = 1'b0; wq_addr = '0; wq_bytes = '0; ra_start = 1'b0; ra_rb = '0; ra_nrec = '0; c_ready = 1'b0;
    wb_ready = ra_in_ready;
    case (d_op)
        4'(OP_PRE): begin
            wq_valid = wq_pre; wq_addr = ptr_weights + 64'(d_woff); wq_bytes = 24'(2 * D); wb_ready = 1'b1;
        end
        4'(OP_BIN): begin
            wq_valid = b_dreq; wq_addr = b_daddr; wq_bytes = b_dbytes; ra_start = b_rastart; ra_rb = b_rarb;
            ra_nrec = b_ranrec; c_ready = b_cready;
        end
        4'(OP_I8): begin
            wq_valid = i_dreq; wq_addr = i_daddr; wq_bytes = i_dbytes; ra_start = i_rastart; ra_rb = i_rarb;
            ra_nrec = i_ranrec; c_ready = i_cready;
        end
        default: ;
    endcase
end

// ---- memory ports ----
always_comb begin
    // X
    x_we = 1'b0; x_wa = '0; x_wen = '0; x_wd = '0;
    case (d_op)
        4'(OP_PRE): begin
            x_we = wb_valid && pre_cls; x_wa = '0;
            for (int e = 0; e < 16; e++) if (int'(cls_beat) * 16 + e < D) begin
                x_wen[(int'(cls_beat) * 16 + e) % D] = 1'b1;
                x_wd[((int'(cls_beat) * 16 + e) % D) * 16 +: 16] = wb_data[e * 16 +: 16];
            end
        end
        4'(OP_I8):  begin x_we = i_xwe; x_wa = RA'(i_xrow); x_wen = i_xwen; x_wd = i_xwd; end
        4'(OP_SEL): begin x_we = v_xwe; x_wa = RA'(v_wrow); x_wen = '1; x_wd = v_xwd; end
        4'(OP_PKG): begin x_we = k_xwe; x_wa = RA'(k_xrow); x_wen = k_xwen; x_wd = k_xwd; end
        default:    begin x_we = b_xwe; x_wa = RA'(b_wrow); x_wen = b_xwen; x_wd = b_xwd; end
    endcase
    case (d_op)
        4'(OP_LN):  x_ra = RA'(l_xra);
        4'(OP_SEL): x_ra = RA'(v_xra);
        4'(OP_PKG): x_ra = RA'(k_xra);
        default:    x_ra = RA'(b_xra);
    endcase
    // A
    case (d_op)
        4'(OP_LN):  begin a_we = l_awe; a_wa = RA'(l_awa); a_wen = l_awen; a_wd = l_awd; end
        4'(OP_SEL): begin a_we = v_awe; a_wa = RA'(v_wrow); a_wen = v_awen; a_wd = v_awd; end
        default:    begin a_we = t_awe; a_wa = RA'(t_awa); a_wen = t_awen; a_wd = t_awd; end
    endcase
    a_ra = (d_op == 4'(OP_I8)) ? RA'(i_actra) : (d_op == 4'(OP_SEL)) ? RA'(v_ara) : RA'(b_actra);
    // QKV
    q_we = b_qwe; q_wa = RA'(b_wrow); q_wen = b_qwen; q_wd = b_qwd; q_ra1 = RA'(t_qra1); q_ra2 = RA'(t_qra2);
    // H
    case (d_op)
        4'(OP_I8):  begin h_we = i_hwe; h_wa = RA'(i_hrow); h_wen = i_hwen; h_wd = i_hwd; end
        4'(OP_SEL): begin h_we = v_hwe; h_wa = RA'(v_wrow); h_wen = v_hwen; h_wd = v_hwd; end
        default:    begin h_we = b_hwe; h_wa = RA'(b_wrow); h_wen = b_hwen; h_wd = b_hwd; end
    endcase
    h_ra = (d_op == 4'(OP_I8)) ? RA'(i_actra) : (d_op == 4'(OP_SEL)) ? RA'(v_hra) : RA'(b_actra);
    // S
    case (d_op)
        4'(OP_SM):  begin s_we = m_swe; s_wa = RA'(m_swa); s_wen = m_swen; s_wd = m_swd; end
        4'(OP_I8):  begin s_we = i_swe; s_wa = RA'(i_srow); s_wen = i_swen; s_wd = i_swd; end
        4'(OP_SEL): begin s_we = v_swe; s_wa = RA'(v_wrow); s_wen = v_swen; s_wd = v_swd; end
        default:    begin s_we = t_swe; s_wa = RA'(t_swa); s_wen = t_swen; s_wd = t_swd; end
    endcase
    case (d_op)
        4'(OP_SM):  s_ra = RA'(m_sra);
        4'(OP_SEL): s_ra = RA'(v_sra);
        4'(OP_PKG): s_ra = RA'(k_sra);
        default:    s_ra = RA'(t_sra);
    endcase
end
