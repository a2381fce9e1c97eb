// hlsgen kernel library: the attention engine (hlsgen.ops.AttnQK, AttnAV) and the package token.
//
//   attn_qk   one head's S = rq(Q_h . K_h^T): ATT_PE keys x ATT_SIMD head-dim lanes; the stationary
//             tile (ATT_PE keys x d) of tile t+1 loads ATT_SIMD elements per cycle from QKV while
//             tile t computes. Golden: quant.golden.attn_qk.
//   attn_av   one head's O = rq(P_h . V_h): ATT_PE channels x ATT_SIMD keys; the stationary tile
//             (ATT_PE channels x n tokens) loads one token row per cycle. Golden: attn_av.
//   package   a token selector's package token: sum over the pruned tokens of w_j x_j, ATT_PE channels
//             per tile, one pruned token per cycle (quant.golden.token_select).
// Products are k-bit x k-bit, two per DSP48E2 (mul2); one II=1 loop over tiles x rows x steps.
#ifndef HLSGEN_ATTENTION_H
#define HLSGEN_ATTENTION_H

#include "hlsgen_buffers.h"
#include "hlsgen_step.h"

namespace hlsgen {

template <class C>
void attn_qk(const step_t& st, int n, const typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
             typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH], const rq_t& rq) {
    typedef typename acc_type<C::ATT_ACC_W>::type acc_t;
    typedef ap_uint<C::K_BITS * C::ATT_SIMD> word_t;
    const int PE = C::ATT_PE, SI = C::ATT_SIMD, KB = C::K_BITS, SB = C::S_BITS;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = QKV complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = S complete dim = 1)
    static word_t kbuf[2][C::ATT_PE][C::HD / C::ATT_SIMD];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = kbuf complete dim = 2)
    const int steps = C::HD / SI;
    const int q_col = st.head * C::HD, k_col = C::D + st.head * C::HD;
    const int tiles = (n + PE - 1) / PE;
    const int work = cmax(n * steps, C::ATT_DEPTH);
    const int fill_n = PE * steps;
    const int per_tile = cmax(work, fill_n);
    const int total = (tiles - 1) * per_tile + work;
    int fp = 0, fs = 0;
qk_fill0:
    for (int i = 0; i < fill_n; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::ATT_PE * C::HD / C::ATT_SIMD)
        HLSGEN_PRAGMA(HLS LATENCY max = C::FILL_DEPTH)
        HLSGEN_TRIP(i == 0, i == 0);
        const word_t kw = fp < n ? group_read<typename C::GQKV, C::ATT_SIMD>(QKV, fp, k_col + fs * SI) : word_t(0);
    qk_fill0_lanes:
        for (int p = 0; p < PE; p++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (p == fp) kbuf[0][p][fs] = kw;
        }
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
qk_tiles_rows_d:
    for (int it = 0; it < total; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::ATT_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::N_MAX * C::HD / C::ATT_SIMD / C::ATT_PE)
        HLSGEN_TRIP(it == 0, ti == 0);
        if (t + 1 < tiles && fi < fill_n) {          // the next key tile
            const int key = (t + 1) * PE + fp;
            const word_t kw = key < n ? group_read<typename C::GQKV, C::ATT_SIMD>(QKV, key, k_col + fs * SI) : word_t(0);
        qk_fill_lanes:
            for (int p = 0; p < PE; p++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                if (p == fp) kbuf[1 - front][p][fs] = kw;
            }
            fi++;
            fs++;
            if (fs == steps) {
                fs = 0;
                fp++;
            }
        }
        if (ti < n * steps) {
            ap_int<C::K_BITS> q[C::ATT_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = q complete)
            unpack_s<C::K_BITS, C::ATT_SIMD>(group_read<typename C::GQKV, C::ATT_SIMD>(QKV, r, q_col + j * SI), q);
            ap_int<9> qa[C::ATT_SIMD];
            ap_int<8> kv[C::ATT_PE][C::ATT_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = qa complete)
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = kv complete dim = 0)
        qk_lanes:
            for (int s = 0; s < SI; s++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                qa[s] = q[s];
            }
        qk_keys:
            for (int p = 0; p < PE; p++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                ap_int<C::K_BITS> kl[C::ATT_SIMD];
                unpack_s<C::K_BITS, C::ATT_SIMD>(kbuf[front][p][j], kl);
            qk_key_lanes:
                for (int s = 0; s < SI; s++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    kv[p][s] = kl[s];
                }
            }
            packed_mac<C::ATT_PE, C::ATT_SIMD, C::ATT_ACC_W, ap_int<9> >(qa, kv, acc, j == 0);
            if (j == steps - 1) {
                ap_uint<C::S_BITS * C::ATT_PE> sw = 0;   // the score buffer's lanes (S_BITS >= W_BITS)
            qk_requant:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    HLSGEN_CHECK_RANGE(acc[p], C::QK_ACC_W);
                    const ap_int<C::W_BITS> v = requant<C::QK_ACC_W, C::W_BITS>(ap_int<C::QK_ACC_W>(acc[p]), rq);
                    sw.range(SB * (p + 1) - 1, SB * p) = ap_int<C::S_BITS>(v);
                    if (t * PE + p < n) HLSGEN_TAP(st.tap, st.head, r, t * PE + p, v);
                }
                group_write<typename C::GS, C::ATT_PE>(S, r, t * PE, sw);
            }
        }
        if (tile_advance(t, r, j, ti, front, fi, steps, per_tile, tiles)) {
            fp = 0;
            fs = 0;
        }
    }
    (void)KB;
}

template <class C>
void attn_av(const step_t& st, int n, const typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
             const typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH], typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH],
             const rq_t& rq) {
    typedef typename acc_type<C::ATT_ACC_W>::type acc_t;
    typedef ap_uint<C::K_BITS> val_t;
    const int PE = C::ATT_PE, SI = C::ATT_SIMD, KB = C::K_BITS;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = QKV complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = P complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = A complete dim = 1)
    static val_t vbuf[2][C::ATT_PE][C::NKP];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = vbuf complete dim = 2)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = vbuf cyclic factor = C::ATT_SIMD dim = 3)
    const int steps = (n + SI - 1) / SI;
    const int v_col = 2 * C::D + st.head * C::HD;
    const int tiles = C::HD / PE;
    const int work = cmax(n * steps, C::ATT_DEPTH);
    const int per_tile = cmax(work, n);
    const int total = (tiles - 1) * per_tile + work;
av_fill0:
    for (int i = 0; i < n; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        HLSGEN_PRAGMA(HLS LATENCY max = C::FILL_DEPTH)
        HLSGEN_TRIP(i == 0, i == 0);
        const ap_uint<KB * C::ATT_PE> vw = group_read<typename C::GQKV, C::ATT_PE>(QKV, i, v_col);
    av_fill0_lanes:
        for (int p = 0; p < PE; p++) {
            HLSGEN_PRAGMA(HLS UNROLL)
        av_fill0_banks:
            for (int s = 0; s < SI; s++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                if (s == i % SI) vbuf[0][p][(i / SI) * SI + s] = lane_u<KB, C::ATT_PE>(vw, p);
            }
        }
    }
    acc_t acc[C::ATT_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    int t = 0, r = 0, j = 0, ti = 0, front = 0, fi = 0;
av_tiles_rows_k:
    for (int it = 0; it < total; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::ATT_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::NKP / C::ATT_SIMD * C::HD / C::ATT_PE)
        HLSGEN_TRIP(it == 0, ti == 0);
        if (t + 1 < tiles && fi < n) {               // the next channel tile: one token row per cycle
            const ap_uint<KB * C::ATT_PE> vw = group_read<typename C::GQKV, C::ATT_PE>(QKV, fi, v_col + (t + 1) * PE);
        av_fill_lanes:
            for (int p = 0; p < PE; p++) {
                HLSGEN_PRAGMA(HLS UNROLL)
            av_fill_banks:
                for (int s = 0; s < SI; s++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    if (s == fi % SI) vbuf[1 - front][p][(fi / SI) * SI + s] = lane_u<KB, C::ATT_PE>(vw, p);
                }
            }
            fi++;
        }
        if (ti < n * steps) {
            ap_uint<C::K_BITS> pr[C::ATT_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = pr complete)
            unpack_u<C::K_BITS, C::ATT_SIMD>(group_read<typename C::GP, C::ATT_SIMD>(P, r, j * SI), pr);
            ap_int<9> pa[C::ATT_SIMD];
            ap_int<8> vv[C::ATT_PE][C::ATT_SIMD];
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = pa complete)
            HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = vv complete dim = 0)
        av_keys:
            for (int s = 0; s < SI; s++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                pa[s] = j * SI + s < n ? ap_int<9>(pr[s]) : ap_int<9>(0);     // keys beyond n: masked
            av_values:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    vv[p][s] = ap_int<KB>(vbuf[front][p][j * SI + s]);
                }
            }
            packed_mac<C::ATT_PE, C::ATT_SIMD, C::ATT_ACC_W, ap_int<9> >(pa, vv, acc, j == 0);
            if (j == steps - 1) {
                ap_uint<KB * C::ATT_PE> ow = 0;
            av_requant:
                for (int p = 0; p < PE; p++) {
                    HLSGEN_PRAGMA(HLS UNROLL)
                    HLSGEN_CHECK_RANGE(acc[p], C::AV_ACC_W);
                    const ap_int<C::K_BITS> o = requant<C::AV_ACC_W, C::K_BITS>(ap_int<C::AV_ACC_W>(acc[p]), rq);
                    ow.range(KB * (p + 1) - 1, KB * p) = o;
                    HLSGEN_TAP(st.tap, 0, r, st.head * C::HD + t * PE + p, o);
                }
                group_write<typename C::GA, C::ATT_PE>(A, r, st.head * C::HD + t * PE, ow);
            }
        }
        tile_advance(t, r, j, ti, front, fi, steps, per_tile, tiles);
    }
}

// the attention engine: Q.K^T or P.V of one head (one instance serves both)
template <class C>
void attention_engine(const step_t& st, int n, const typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
                      typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH],
                      const typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH],
                      typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH], const rq_t& rq) {
    HLSGEN_ENGINE(attention)
    if (st.mode == 0)
        attn_qk<C>(st, n, QKV, S, rq);
    else
        attn_av<C>(st, n, QKV, P, A, rq);
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
    for (int it = 0; it < tiles * npr; it++) {
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
