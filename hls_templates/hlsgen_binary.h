// hlsgen kernel library: the binary matrix engine (hlsgen.ops.LinearBinary).
//
// Y = X.W, W in {-1,+1}: PE output lanes x SIMD input lanes of gate-and-add (sum_w x =
// 2 * sum_{w=+1} x - sum x; sum x is shared by all PEs), a requantizer per PE, then the fused
// epilogue: k-bit codes to QKV, residual add into X, or GELU_LANES GELU lanes + requantizer to H
// (fewer lanes than PE: a row takes ceil(PE / GELU_LANES) cycles). Golden: quant.golden.linear_binary
// (+ residual_add, gelu). One II=1 loop over all tiles x rows x input steps (flattened: the pipeline
// fills once per step); tile t+1's records arrive from the realigner into the back half of a double
// buffer while tile t computes from the front half (hlsgen/ops.py pipeline()).
#ifndef HLSGEN_BINARY_H
#define HLSGEN_BINARY_H

#include "hlsgen_buffers.h"
#include "hlsgen_nonlinear.h"
#include "hlsgen_weights.h"

namespace hlsgen {

// ---- binary engine -------------------------------------------------------------------------------
template <class C>
void binary_compute(const step_t& st, int rows, hls::stream<typename C::axi_t>& items,
                    const typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH],
                    typename C::GH::word_t H[C::GH::NB][C::GH::DEPTH],
                    typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
                    typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH], const gelu_t& gp, const rq_t& grq) {
    HLSGEN_ENGINE(binary)
    typedef typename C::axi_t axi_t;
    typedef typename acc_type<C::BIN_ACC_W + 1>::type acc_t;
    typedef typename acc_type<C::BIN_PS_W>::type ps_t;
    const int PE = C::PE, SIMD = C::SIMD, KB = C::K_BITS, G = C::GELU_LANES;
    const int WB = C::AXI_W / 8;
    const int SPW = C::BIN_SPW, WSTEP = C::BIN_WSTEP;   // steps per super-word, record words per super-word
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = A complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = H complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = QKV complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = X complete dim = 1)
    // the double buffer of weight records: [front/back][PE lanes][bank q][address a] holds record word
    // a * WSTEP + q; the banks are a dimension of their own (WSTEP may be 3: a cyclic partition would
    // compute them with a modulo)
    static axi_t wbuf[2][C::PE][C::BIN_WSTEP][C::BIN_WPB];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf complete dim = 2)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf complete dim = 3)
    mult_t m_front[C::PE], m_back[C::PE];
    bias_t b_front[C::PE], b_back[C::PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = m_front complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = m_back complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = b_front complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = b_back complete)
    const int ks_n = udiv<SIMD>(st.K);                     // SIMD may be 3 x 2^n: no divider core
    const int kb = st.K / 8;
    const int a_words = (st.a_bytes + WB - 1) / WB;
    const int c_last = (kb + REQ_MULT_BYTES + st.bias_bytes - 1) / WB;   // item holding the last constant byte
    const int tiles = st.O / PE;
    const bool gelu_mode = st.mode == BIN_GELU;
    const int per_row = gelu_mode ? cmax(ks_n, (PE + G - 1) / G) : ks_n;
    const int work_n = trip_mul(rows, per_row);             // a tile's compute iterations
    const int work = cmax(work_n, C::BIN_DEPTH);            // at least the pipeline depth (epilogue hazard)
    const int fill_n = PE * a_words;                        // items of a tile
    const int per_tile = cmax(work, fill_n);
    const int drain = gelu_mode ? (PE + G - 1) / G : 0;
    const int total = trip_mul(tiles - 1, per_tile) + work + drain;

    // tile 0 into buffer 0 (exposed: the engine waits for its first tile)
    axi_t prev = 0;
    int fp = 0, fk = 0, fq = 0, fa = 0;
bin_fill0:
    for (int i = 0; i < fill_n; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::PE * C::BIN_WPR)
        HLSGEN_PRAGMA(HLS LATENCY max = C::IO_DEPTH)
        HLSGEN_TRIP(i == 0, i == 0);
        const axi_t item = items.read();
        fill_banked<C::AXI_W, C::PE, C::BIN_WSTEP, C::BIN_WPB>(item, 0, fp, fq, fa, wbuf);
        fill_consts<C::AXI_W, C::PE>(item, prev, fp, fk, c_last, kb, st.bias_bytes, m_front, b_front);
        prev = item;
        fk++;
        next_word<C::BIN_WSTEP>(fq, fa);
        if (fk == a_words) {
            fk = 0;
            fq = 0;
            fa = 0;
            fp++;
        }
    }

    acc_t acc[C::PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    ap_int<16> gq[C::PE];                 // GELU queue: the PE results of the previous row
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = gq complete)
    acc_t sx = 0;
    int t = 0, r = 0, j = 0, ti = 0, front = 0, fi = 0, gcnt = 0, grow = 0, gcol = 0;
    int tw = 0, ts = 0, gw = 0, gs = 0;   // H write cursors (span word, GELU group): of column t * PE, of gcol
    fp = 0;
    fk = 0;
    fq = 0;
    fa = 0;
    prev = 0;
bin_acc_init:
    for (int p = 0; p < PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        acc[p] = 0;
    }
bin_tiles_rows_k:
    for (int it = 0; it < total; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::BIN_DEPTH)
        // X: each (row, tile) group is read and rewritten once, in one iteration (the residual epilogue);
        // H: a step either writes it (fc1's GELU lanes) or reads it (fc2's input), never both
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = X inter false)
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = H inter false)
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = H intra false)
        // the fill writes the back buffer, the engine reads the front one: never the same word in one iteration
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = wbuf intra false)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::BK_MAX / C::SIMD * C::BO_MAX / C::PE)
        HLSGEN_TRIP(it == 0, ti == 0);
        // fill: tile t+1's records into the back buffer
        if (t + 1 < tiles && fi < fill_n) {
            const axi_t item = items.read();
            fill_banked<C::AXI_W, C::PE, C::BIN_WSTEP, C::BIN_WPB>(item, 1 - front, fp, fq, fa, wbuf);
            fill_consts<C::AXI_W, C::PE>(item, prev, fp, fk, c_last, kb, st.bias_bytes, m_back, b_back);
            prev = item;
            fi++;
            fk++;
            next_word<C::BIN_WSTEP>(fq, fa);
            if (fk == a_words) {
                fk = 0;
                fq = 0;
                fa = 0;
                fp++;
            }
        }
        // GELU lanes: one group of the previous row's results
        if (gcnt > 0) {
            ap_uint<KB * C::GELU_LANES> gout = 0;
        bin_gelu_lanes:
            for (int g = 0; g < G; g++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                const ap_int<C::GELU::OUT_W> gv = gelu<typename C::GELU>(ap_int<C::GELU::IN_W>(gq[g]), gp);
                const ap_int<KB> a = requant<C::GELU::OUT_W, KB>(gv, grq);
                gout.range(KB * (g + 1) - 1, KB * g) = a;
                HLSGEN_TAP(st.tap2, 0, grow, gcol + g, a);
            }
            group_cursor_check<typename C::GH, C::GELU_LANES>(gw, gs, gcol);
            group_write_at<typename C::GH, C::GELU_LANES>(H, grow, gw, gs, gout);
            group_cursor_next<typename C::GH, C::GELU_LANES, 1>(gw, gs);
        bin_gelu_shift:
            for (int p = 0; p < PE; p++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                gq[p] = p + G < PE ? gq[p + G] : ap_int<16>(0);
            }
            gcnt -= G;
            gcol += G;
        }
        // MAC: input step j of row r
        if (ti < work_n && j < ks_n) {
            const ap_uint<KB * C::SIMD> xw = st.src == 0 ? group_read_step<typename C::GA, C::SIMD>(A, r, j)
                                                         : group_read_step<typename C::GH, C::SIMD>(H, r, j);
            ap_int<KB> xv[C::SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = xv complete)
            unpack_s<KB, C::SIMD>(xw, xv);
            ps_t xs = 0;
        bin_sum_x:
            for (int s = 0; s < SIMD; s++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                xs += ps_t(xv[s]);
            }
            const acc_t sx_row = j == 0 ? acc_t(xs) : acc_t(sx + xs);
            sx = sx_row;
        bin_pe:
            for (int p = 0; p < PE; p++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                // one read of the WSTEP banks: a super-word of SPW steps, step j % SPW selected
                ap_uint<C::SIMD> bits = 0;
#ifdef HLSGEN_SYNTH_VIEW
                ap_uint<C::BIN_LW> sw;
            bin_step_words:
                for (int q = 0; q < WSTEP; q++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    sw.range(C::AXI_W * (q + 1) - 1, C::AXI_W * q) = wbuf[front][p][q][udiv<SPW>(j)];
                }
            bin_step_select:
                for (int g = 0; g < SPW; g++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    if (g == umod<SPW>(j)) bits = lanes<1, C::BIN_LW, C::SIMD>(sw, C::SIMD * g);
                }
#else
                if (WSTEP == 1) {     // C simulation: the same bits, without the copy and the select loop
                    bits = field<C::SIMD, C::AXI_W>(wbuf[front][p][0][udiv<SPW>(j)], C::SIMD * umod<SPW>(j));
                } else {
                    ap_uint<C::BIN_LW> sw;
                    for (int q = 0; q < WSTEP; q++) sw.range(C::AXI_W * (q + 1) - 1, C::AXI_W * q) = wbuf[front][p][q][udiv<SPW>(j)];
                    bits = field<C::SIMD, C::BIN_LW>(sw, C::SIMD * umod<SPW>(j));
                }
#endif
                // gate-and-add: each lane passes x where the weight bit is 1 (+1), else 0
                ps_t ps = 0;
            bin_gate_add:
                for (int s = 0; s < SIMD; s++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    if (bits[s]) ps += ps_t(xv[s]);
                }
                acc[p] = j == 0 ? acc_t(ps) : acc_t(acc[p] + ps);
            }
            if (j == ks_n - 1) {          // the epilogue of row r: requantize the PE channels of tile t
                ap_uint<16 * C::PE> y16 = 0;
                ap_uint<KB * C::PE> yk = 0;
            bin_requant:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    const acc_t val = 2 * acc[p] - sx_row;
                    HLSGEN_CHECK_RANGE(val, C::BIN_ACC_W);
                    const ap_int<16> y = requant<C::BIN_ACC_W, 16>(ap_int<C::BIN_ACC_W>(val), m_front[p], b_front[p],
                                                                   st.shift, st.bits);
                    y16.range(16 * (p + 1) - 1, 16 * p) = y;
                    yk.range(KB * (p + 1) - 1, KB * p) = y;
                    HLSGEN_TAP(st.tap, 0, r, t * PE + p, y);
                }
                if (st.mode == BIN_ACT) {
                    group_write<typename C::GQKV, C::PE>(QKV, r, t * PE, yk);
                } else if (st.mode == BIN_RES) {
                    const ap_uint<16 * C::PE> xo = group_read<typename C::GX, C::PE>(X, r, t * PE);
                    ap_uint<16 * C::PE> xn = 0;
                bin_residual:
                    for (int p = 0; p < PE; p++) {
                        HLSGEN_PRAGMA(HLS UNROLL)
                        const res_t v = residual_add(lane_s<16, C::PE>(xo, p), lane_s<16, C::PE>(y16, p));
                        xn.range(16 * (p + 1) - 1, 16 * p) = v;
                        HLSGEN_TAP(st.tap2, 0, r, t * PE + p, v);
                    }
                    group_write<typename C::GX, C::PE>(X, r, t * PE, xn);
                } else {
                bin_gelu_load:
                    for (int p = 0; p < PE; p++) {
                        HLSGEN_PRAGMA(HLS UNROLL)
                        gq[p] = lane_s<16, C::PE>(y16, p);
                    }
                    gcnt = PE;
                    grow = r;
                    gcol = t * PE;
                    gw = tw;
                    gs = ts;
                }
            }
        }
        // counters: step j of row r of tile t; a tile lasts per_tile iterations (its work, or its fill)
        if (tile_advance(t, r, j, ti, front, fi, per_row, per_tile, tiles)) {
            group_cursor_next<typename C::GH, C::GELU_LANES, C::PE / C::GELU_LANES>(tw, ts);
            fp = 0;
            fk = 0;
            fq = 0;
            fa = 0;
            swap_consts<C::PE>(m_front, b_front, m_back, b_back);
        }
    }
}

}  // namespace hlsgen

#endif
