// hlsgen kernel library: the int8 matrix engine (hlsgen.ops.LinearInt8): the patch embedding (+ the
// pos-embed add into X), the classifier head and a token selector's small MLPs.
//
// int8 weights on DSPs, two products per DSP48E2 (mul2: the weights of a PE pair share the
// activation), sums along chains of DSP_CHAIN products, an adder tree over the chains, a
// requantizer per PE, then the output by mode. Golden: quant.golden.linear_int8. The loop structure
// is the binary engine's (hlsgen_binary.h); the last tile of a step may be ragged.
#ifndef HLSGEN_INT8_H
#define HLSGEN_INT8_H

#include "hlsgen_buffers.h"
#include "hlsgen_weights.h"

namespace hlsgen {

// item k of lane fp's pos-embed entries (k >= 0: the items after region A) into its buffer
template <class C>
void fill_pos(const typename C::axi_t item, int half, int fp, int k, res_t posbuf[2][C::I8_PE][C::I8_NPOS]) {
    HLSGEN_PRAGMA(HLS INLINE)
fill_pos_lanes:
    for (int p = 0; p < C::I8_PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        if (p == fp && k >= 0) posbuf[half][p][k] = res_t(item.range(15, 0));
    }
}

template <class C>
void int8_compute(const step_t& st, int rows, hls::stream<typename C::axi_t>& items,
                  const typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH],
                  const typename C::GGLOB::word_t GLOB[C::GGLOB::NB][C::GGLOB::DEPTH],
                  typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH],
                  typename C::GLOGITS::word_t LOGITS[C::GLOGITS::NB][C::GLOGITS::DEPTH],
                  typename C::GLOCAL::word_t LOCAL[C::GLOCAL::NB][C::GLOCAL::DEPTH],
                  typename C::GZ::word_t Z[C::GZ::NB][C::GZ::DEPTH],
                  typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH]) {
    HLSGEN_ENGINE(int8)
    typedef typename C::axi_t axi_t;
    typedef typename acc_type<C::I8_ACC_W>::type acc_t;
    const int PE = C::I8_PE, SI = C::I8_SIMD;
    const int WB = C::AXI_W / 8;
    const int SPW = C::I8_SPW, WSTEP = C::I8_WSTEP;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = I8IN complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = GLOB complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = X complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = LOGITS complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = LOCAL complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = Z complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = S complete dim = 1)
    static axi_t wbuf[2][C::I8_PE][C::I8_WPR];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf complete dim = 2)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf cyclic factor = C::I8_WSTEP dim = 3)
    static res_t posbuf[2][C::I8_PE][C::I8_NPOS];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = posbuf complete dim = 2)
    mult_t m_front[C::I8_PE], m_back[C::I8_PE];
    bias_t b_front[C::I8_PE], b_back[C::I8_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = m_front complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = m_back complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = b_front complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = b_back complete)
    const int ks_n = st.K / SI;
    const int a_words = (st.a_bytes + WB - 1) / WB;
    const int per_rec = a_words + st.npos;
    const int c_last = (st.K + REQ_MULT_BYTES + st.bias_bytes - 1) / WB;
    const int tiles = (st.O + PE - 1) / PE;
    const int work_n = trip_mul(rows, ks_n);
    const int work = cmax(work_n, C::I8_DEPTH);
    const int hid = C::HID;

    axi_t prev = 0;
    int fp = 0, fk = 0;
    const int fill0 = tile_items(st, 0);
i8_fill0:
    for (int i = 0; i < fill0; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::I8_PE * (C::I8_WPR + C::I8_NPOS))
        HLSGEN_PRAGMA(HLS LATENCY max = C::IO_DEPTH)
        HLSGEN_TRIP(i == 0, i == 0);
        const axi_t item = items.read();
        if (fk < a_words) fill_word<C::AXI_W, C::I8_PE, C::I8_WPR, C::I8_WSTEP>(item, 0, fp, fk, wbuf);
        fill_pos<C>(item, 0, fp, fk - a_words, posbuf);
        fill_consts<C::AXI_W, C::I8_PE>(item, prev, fp, fk, c_last, st.K, st.bias_bytes, m_front, b_front);
        prev = item;
        fk++;
        if (fk == per_rec) {
            fk = 0;
            fp++;
        }
    }

    acc_t acc[C::I8_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    shift_reg<C::AXI_W, 8 * C::I8_SIMD> wsr[C::I8_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wsr complete)
    int t = 0, r = 0, j = 0, ti = 0, front = 0, fi = 0;
    int fill_n = tile_items(st, 1);
    int per_tile = cmax(work, fill_n);
    int left = tiles > 1 ? per_tile : work;     // iterations of the current tile
    // the next tile's fill and iterations are one of three invariants, picked by flags on a tile
    // counter: no add / compare / max chain behind `ti == left` in the loop-carried path
    const int fill_full = st.tile_items, fill_last = st.last_items;
    const int left_full = cmax(work, fill_full), left_last = cmax(work, fill_last);
    int after = tiles - 1;                      // tiles after the current one
    fp = 0;
    fk = 0;
    prev = 0;
    int total = 0;
i8_total:
    for (int tt = 0; tt < tiles; tt++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::I8_OMAX / C::I8_PE)
        const int nxt = tile_items(st, tt + 1);
        total += cmax(work, nxt);
    }
i8_tiles_rows_k:
    for (int it = 0; it < total; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::I8_DEPTH)
        // the fill writes the back buffer, the engine reads the front one: never the same word in one iteration
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = wbuf intra false)
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = posbuf intra false)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::I8_ROWS * C::I8_KMAX / C::I8_SIMD * C::I8_OMAX / C::I8_PE)
        HLSGEN_TRIP(it == 0, ti == 0);
        if (fi < fill_n) {
            const axi_t item = items.read();
            if (fk < a_words) fill_word<C::AXI_W, C::I8_PE, C::I8_WPR, C::I8_WSTEP>(item, 1 - front, fp, fk, wbuf);
            fill_pos<C>(item, 1 - front, fp, fk - a_words, posbuf);
            fill_consts<C::AXI_W, C::I8_PE>(item, prev, fp, fk, c_last, st.K, st.bias_bytes, m_back, b_back);
            prev = item;
            fi++;
            fk++;
            if (fk == per_rec) {
                fk = 0;
                fp++;
            }
        }
        if (ti < work_n) {
            const int col = j * SI;
            ap_uint<8 * C::I8_SIMD> xw;
            if (st.src == 1 && col >= hid)       // a selector's score linear: [local ; global] features
                xw = group_read<typename C::GGLOB, C::I8_SIMD>(GLOB, 0, st.icol + col - hid);
            else
                xw = group_read<typename C::GI8IN, C::I8_SIMD>(I8IN, st.r0 + r, (st.src == 1 ? C::FEAT_OFF : 0) + st.icol + col);
            ap_int<8> xv[C::I8_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = xv complete)
            unpack_s<8, C::I8_SIMD>(xw, xv);
            ap_int<8> wv[C::I8_PE][C::I8_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wv complete dim = 0)
        i8_weights:
            for (int p = 0; p < PE; p++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                ap_uint<8 * C::I8_SIMD> w;
                if (WSTEP > 1) {
                i8_step_words:
                    for (int q = 0; q < WSTEP; q++) {
                        HLSGEN_PRAGMA(HLS UNROLL)
                        w.range(C::AXI_W * (q + 1) - 1, C::AXI_W * q) = wbuf[front][p][j * WSTEP + q];
                    }
                } else {
                    if (j % SPW == 0) wsr[p].load(wbuf[front][p][j / SPW]);
                    w = wsr[p].take();
                }
                unpack_s<8, C::I8_SIMD>(w, wv[p]);
            }
            packed_mac<C::I8_PE, C::I8_SIMD, C::I8_ACC_W, ap_int<8> >(xv, wv, acc, j == 0);
            if (j == ks_n - 1) {
                const int nch = cmin(PE, st.O - t * PE);
                ap_uint<16 * C::I8_PE> y16 = 0;
                ap_uint<C::S_BITS * C::I8_PE> yw = 0;     // head-gate logits, in the score buffer's lanes
            i8_requant:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    HLSGEN_CHECK_RANGE(acc[p], C::I8_ACC_W);
                    ap_int<16> y = requant<C::I8_ACC_W, 16>(ap_int<C::I8_ACC_W>(acc[p]), m_front[p], b_front[p],
                                                            st.shift, st.bits);
                    if (st.mode == I8_POS) {
                        y = residual_add(y, posbuf[front][p][r]);
                        if (p < nch) HLSGEN_TAP(st.tap, 0, 1 + r, t * PE + p, y);
                    } else if (st.mode == I8_LOGITS) {
                        if (p < nch) HLSGEN_TAP(st.tap, 0, 0, t * PE + p, y);
                    }
                    y16.range(16 * (p + 1) - 1, 16 * p) = y;
                    yw.range(C::S_BITS * (p + 1) - 1, C::S_BITS * p) = ap_int<C::S_BITS>(y);
                }
                if (st.mode == I8_POS)
                    group_write<typename C::GX, C::I8_PE>(X, 1 + r, t * PE, y16);
                else if (st.mode == I8_LOGITS)
                    group_write<typename C::GLOGITS, C::I8_PE>(LOGITS, 0, t * PE, y16);
                else if (st.mode == I8_LOCAL)
                    group_write<typename C::GLOCAL, C::I8_PE>(LOCAL, r, st.ocol + t * PE, y16);
                else if (st.mode == I8_Z)
                    group_write<typename C::GZ, 1>(Z, r, st.head, ap_uint<C::Z_BITS>(ap_int<C::Z_BITS>(y16.range(15, 0))));
                else
                    group_write<typename C::GS, C::I8_PE>(S, 0, t * PE, yw);
            }
        }
        // the tile after the one that starts next: a full one, the last one, or none
        const bool next_full = after > 2, next_last = after == 2;
        if (tile_advance(t, r, j, ti, front, fi, ks_n, left, tiles)) {
            fp = 0;
            fk = 0;
            after--;
            fill_n = next_full ? fill_full : (next_last ? fill_last : 0);
            left = next_full ? left_full : (next_last ? left_last : work);
            swap_consts<C::I8_PE>(m_front, b_front, m_back, b_back);
        }
    }
}

}  // namespace hlsgen

#endif
