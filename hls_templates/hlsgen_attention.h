// hlsgen kernel library: the attention engine (hlsgen.ops.AttnQK, AttnAV) and the package token.
//
//   Q.K^T     one head's S = rq(Q_h . K_h^T): ATT_PE keys x ATT_SIMD head-dim lanes; the stationary
//             tile (ATT_PE keys x d) of tile t+1 loads ATT_SIMD elements per cycle from QKV while
//             tile t computes. Golden: quant.golden.attn_qk.
//   P.V       one head's O = rq(P_h . V_h): ATT_PE channels x ATT_SIMD keys; the stationary tile
//             (ATT_PE channels x n tokens) loads one token row per cycle. Golden: attn_av.
//             Both on one MAC array (attention_engine), as the model counts one engine.
//   package   a token selector's package token: sum over the pruned tokens of w_j x_j, ATT_PE channels
//             per tile, one pruned token per cycle (quant.golden.token_select).
// Products are k-bit x k-bit, two per DSP48E2 (mul2); one II=1 loop over tiles x rows x steps.
#ifndef HLSGEN_ATTENTION_H
#define HLSGEN_ATTENTION_H

#include "hlsgen_buffers.h"
#include "hlsgen_step.h"

namespace hlsgen {

// One item of a tile fill into the stationary buffer (bank = value index mod ATT_SIMD), from the QKV
// group the caller read (the caller owns every QKV read, so one if/else on the mode holds them all):
//   Q.K^T  kw: key fp of the tile, head-dim lanes fs*SI .. fs*SI + SI - 1;
//   P.V    vw: token fi, the tile's PE channels (value fi of every channel).
template <class C>
void att_fill(bool qk, ap_uint<C::K_BITS * C::ATT_SIMD> kw, ap_uint<C::K_BITS * C::ATT_PE> vw, int fs, int fi,
              int half, ap_uint<C::K_BITS> wbuf[2][C::ATT_PE][C::ATT_WBUF], int fp) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int PE = C::ATT_PE, SI = C::ATT_SIMD, KB = C::K_BITS;
    const int word = qk ? fs : fi / SI;           // the buffer word: SI values, one per bank
att_fill_lanes:
    for (int p = 0; p < PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
    att_fill_banks:
        for (int s = 0; s < SI; s++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (qk ? p == fp : s == fi % SI)
                wbuf[half][p][word * SI + s] = qk ? lane_u<KB, C::ATT_SIMD>(kw, s) : lane_u<KB, C::ATT_PE>(vw, p);
        }
    }
}

// The attention engine: one head's Q.K^T (st.mode 0) or P.V (1) on ONE MAC array of ATT_PE x ATT_SIMD
// lanes (two per DSP48E2) and ATT_PE requantizers, one II=1 loop over tiles x rows x steps:
//   Q.K^T  tiles of PE keys (stationary: PE keys x d), rows = queries, steps = d / SIMD -> S
//   P.V    tiles of PE channels (stationary: PE channels x n tokens), rows = queries,
//          steps = ceil(n / SIMD) (keys beyond n masked) -> A
// The next tile's stationary operand loads (att_fill) while this tile computes.
template <class C>
void attention_engine(const step_t& st, int n, const typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
                      typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH],
                      const typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH],
                      typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH], const rq_t& rq) {
    HLSGEN_ENGINE(attention)
    typedef typename acc_type<C::ATT_ACC_W>::type acc_t;
    const int PE = C::ATT_PE, SI = C::ATT_SIMD, KB = C::K_BITS, SB = C::S_BITS;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = QKV complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = S complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = P complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = A complete dim = 1)
    static ap_uint<C::K_BITS> wbuf[2][C::ATT_PE][C::ATT_WBUF];   // stationary operand, double buffered
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf complete dim = 2)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf cyclic factor = C::ATT_SIMD dim = 3)
    const bool qk = st.mode == 0;
    const int steps = qk ? C::HD / SI : (n + SI - 1) / SI;
    const int tiles = qk ? (n + PE - 1) / PE : C::HD / PE;
    const int q_col = st.head * C::HD, k_col = C::D + st.head * C::HD, v_col = 2 * C::D + st.head * C::HD;
    const int o_col = st.head * C::HD;
    int aw = 0, asel = 0;                  // A write cursor (span word, group) of column o_col + t * PE
    group_cursor_at<typename C::GA, C::ATT_PE>(o_col, aw, asel);
    const int fill_n = qk ? PE * steps : n;             // items of a tile fill
    const int work_n = trip_mul(n, steps);             // compute iterations of a tile
    const int work = cmax(work_n, C::ATT_DEPTH);
    const int per_tile = cmax(work, fill_n);
    const int total = trip_mul(tiles - 1, per_tile) + work;
    int fp = 0, fs = 0;
att_fill0:
    for (int i = 0; i < fill_n; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        HLSGEN_PRAGMA(HLS LATENCY max = C::FILL_DEPTH)
        HLSGEN_TRIP(i == 0, i == 0);
        ap_uint<KB * C::ATT_SIMD> kw = 0;
        ap_uint<KB * C::ATT_PE> vw = 0;
        if (qk) {
            if (fp < n) kw = group_read<typename C::GQKV, C::ATT_SIMD>(QKV, fp, k_col + fs * SI);
        } else {
            vw = group_read<typename C::GQKV, C::ATT_PE>(QKV, i, v_col);
        }
        att_fill<C>(qk, kw, vw, fs, i, 0, wbuf, fp);
        fs++;
        if (fs == steps) {
            fs = 0;
            fp++;
        }
    }
    acc_t acc[C::ATT_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    int t = 0, r = 0, j = 0, ti = 0, front = 0, fi = 0;
    fp = 0;
    fs = 0;
att_tiles_rows_steps:
    for (int it = 0; it < total; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::ATT_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::NKP / C::ATT_SIMD * C::HD / C::ATT_PE)
        // the fill writes the back buffer, the engine reads the front one: never the same word in one iteration
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = wbuf intra false)
        HLSGEN_TRIP(it == 0, ti == 0);
        const bool filling = t + 1 < tiles && fi < fill_n, working = ti < work_n;
        const int fkey = (t + 1) * PE + fp;
        // Every read of QKV sits in one if/else on the mode, so the two reads of either branch (the
        // next tile's fill, the streamed row) take the memory's two ports: no II=2 from port binding.
        ap_uint<KB * C::ATT_SIMD> kw = 0;
        ap_uint<KB * C::ATT_PE> vw = 0;
        ap_uint<KB * C::ATT_SIMD> xw = 0;
        if (qk) {
            if (filling && fkey < n) kw = group_read<typename C::GQKV, C::ATT_SIMD>(QKV, fkey, k_col + fs * SI);
            if (working) xw = group_read<typename C::GQKV, C::ATT_SIMD>(QKV, r, q_col + j * SI);
        } else {
            if (filling) vw = group_read<typename C::GQKV, C::ATT_PE>(QKV, fi, v_col + (t + 1) * PE);
            if (working) xw = group_read<typename C::GP, C::ATT_SIMD>(P, r, j * SI);
        }
        if (filling) {                                  // the next tile's stationary operand
            att_fill<C>(qk, kw, vw, fs, fi, 1 - front, wbuf, fp);
            fi++;
            fs++;
            if (fs == steps) {
                fs = 0;
                fp++;
            }
        }
        if (working) {
            // the streamed operand: SIMD lanes of the query row (signed) or of the probability row
            // (unsigned, keys beyond n masked), 9-bit for the packed DSP product
            ap_int<9> xa[C::ATT_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = xa complete)
            ap_int<8> wv[C::ATT_PE][C::ATT_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wv complete dim = 0)
        att_lanes:
            for (int s = 0; s < SI; s++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                const ap_uint<KB> x = lane_u<KB, C::ATT_SIMD>(xw, s);
                xa[s] = qk ? ap_int<9>(ap_int<KB>(x)) : (j * SI + s < n ? ap_int<9>(x) : ap_int<9>(0));
            att_values:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    wv[p][s] = ap_int<KB>(wbuf[front][p][j * SI + s]);
                }
            }
            packed_mac<C::ATT_PE, C::ATT_SIMD, C::ATT_ACC_W, ap_int<9> >(xa, wv, acc, j == 0);
            if (j == steps - 1) {
                // ATT_PE requantizers serve both: scores keep W_BITS (in S_BITS lanes), outputs rq.bits = k
                ap_uint<C::S_BITS * C::ATT_PE> sw = 0;
                ap_uint<KB * C::ATT_PE> ow = 0;
            att_requant:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    HLSGEN_CHECK_RANGE(acc[p], qk ? C::QK_ACC_W : C::AV_ACC_W);
                    const ap_int<C::W_BITS> v = requant<C::ATT_ACC_W, C::W_BITS>(ap_int<C::ATT_ACC_W>(acc[p]), rq);
                    sw.range(SB * (p + 1) - 1, SB * p) = ap_int<C::S_BITS>(v);
                    ow.range(KB * (p + 1) - 1, KB * p) = ap_int<C::K_BITS>(v);
                    if (qk && t * PE + p < n) HLSGEN_TAP(st.tap, st.head, r, t * PE + p, v);
                    if (!qk) HLSGEN_TAP(st.tap, 0, r, o_col + t * PE + p, v);
                }
                if (qk) {
                    group_write<typename C::GS, C::ATT_PE>(S, r, t * PE, sw);
                } else {
                    group_cursor_check<typename C::GA, C::ATT_PE>(aw, asel, o_col + t * PE);
                    group_write_at<typename C::GA, C::ATT_PE>(A, r, aw, asel, ow);
                }
            }
        }
        if (tile_advance(t, r, j, ti, front, fi, steps, per_tile, tiles)) {
            group_cursor_next<typename C::GA, C::ATT_PE, 1>(aw, asel);
            fp = 0;
            fs = 0;
        }
    }
}

// the package token: PKG[c] = sat16(round(sum_j P[1][j] * x[1 + pruned[j]][c] / 2**prob_bits))
template <class C>
void package_token(int npr, int prob_bits, const int pruned[C::N_MAX],
                   const typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH],
                   const typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH],
                   typename C::GPKG::word_t PKG[C::GPKG::NB][C::GPKG::DEPTH]) {
    HLSGEN_ENGINE(package)
    typedef typename acc_type<C::SEL_PKG_W>::type acc_t;
    const int PE = C::ATT_PE;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = P complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = X complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = PKG complete dim = 1)
    acc_t acc[C::ATT_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    const int tiles = C::D / PE;
    int t = 0, j = 0;
pkg_tiles_tokens:
    for (int it = 0; it < trip_mul(tiles, npr); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::ATT_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::D / C::ATT_PE * C::N_MAX)
        HLSGEN_TRIP(it == 0, j == 0);
        const ap_uint<C::K_BITS> w = ap_uint<C::K_BITS>(group_read<typename C::GP, 1>(P, 1, j));
        const ap_uint<16 * C::ATT_PE> xw = group_read<typename C::GX, C::ATT_PE>(X, 1 + pruned[j], t * PE);
        ap_uint<16 * C::ATT_PE> out = 0;
    pkg_lanes:
        for (int p = 0; p < PE; p++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            const acc_t prod = lane_s<16, C::ATT_PE>(xw, p) * ap_int<C::K_BITS + 1>(w);
            acc[p] = j == 0 ? prod : acc_t(acc[p] + prod);
            HLSGEN_CHECK_RANGE(acc[p], C::SEL_PKG_W);
            out.range(16 * (p + 1) - 1, 16 * p) =
                res_t(saturate<C::SEL_PKG_W>(round_shift<C::SEL_PKG_W>(ap_int<C::SEL_PKG_W>(acc[p]), prob_bits), RES_W));
        }
        if (j == npr - 1) group_write<typename C::GPKG, C::ATT_PE>(PKG, 0, t * PE, out);
        j++;
        if (j == npr) {
            j = 0;
            t++;
        }
    }
}

}  // namespace hlsgen

#endif
