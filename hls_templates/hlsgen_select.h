// hlsgen kernel library: the HeatViT token selector's vector unit (hlsgen.ops.SelectStep).
//
// The selector before a block is a sequence of steps (hlsgen.ops.token_select_steps): its LayerNorm,
// linears, softmaxes and package token run on the shared engines; this unit does the rest, one
// sub-step per step, SELECT_LANES lanes (GELU_LANES for the GELU pass):
//   SEL_GELU     local features = rq(GELU(local linear outputs)): LOCAL -> I8IN[., FEAT_OFF + c]
//   SEL_GMEAN    their mean over the m scored tokens (1/m from a ROM)                 -> GLOB
//   SEL_TMEAN    the token mean of the LayerNorm output                               -> I8IN[SPARE_ROW]
//   SEL_SCORE    score = sum_h z_h g_h (g: the head gate's softmax in P[0]), keep iff > 0; the pruned
//                tokens' requantized scores -> S[1] (the package softmax's input), their indices
//   SEL_COMPACT  x' = [class token, kept tokens in order, package token] (only when something is pruned)
// Golden: quant.golden.token_select. Every sub-step is one flattened II=1 loop.
#ifndef HLSGEN_SELECT_H
#define HLSGEN_SELECT_H

#include "hlsgen_buffers.h"
#include "hlsgen_nonlinear.h"
#include "hlsgen_step.h"

namespace hlsgen {

struct sel_t {
    gelu_t gelu;
    rq_t local_rq;                 // GELU output -> k-bit local features
    int gmean_shift, gmean_bits;   // global mean of the local features
    int tmean_shift, tmean_bits;   // token mean of the LayerNorm output
    softmax_t gate_sm, pkg_sm;
    rq_t pkg_rq;                   // score -> package softmax input
    int prob_bits;
    int tap_scores, tap_tokens;
};

template <class C>
void sel_gelu_pass(int m, const sel_t& sp, const typename C::GLOCAL::word_t LOCAL[C::GLOCAL::NB][C::GLOCAL::DEPTH],
                   typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH]) {
    const int G = C::GELU_LANES;
    const int groups = C::LOC / G;
    int i = 0, g = 0;
sel_gelu_rows:
    for (int it = 0; it < trip_mul(m, groups); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::GELU_PASS_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::LOC / C::GELU_LANES)
        HLSGEN_TRIP(it == 0, it == 0);
        const ap_uint<16 * C::GELU_LANES> x = group_read<typename C::GLOCAL, C::GELU_LANES>(LOCAL, i, g * G);
        ap_uint<8 * C::GELU_LANES> out = 0;      // k-bit codes in the int8 engine's 8-bit lanes
    sel_gelu_lanes:
        for (int l = 0; l < G; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            const ap_int<C::GELU::OUT_W> v = gelu<typename C::GELU>(ap_int<C::GELU::IN_W>(lane_s<16, C::GELU_LANES>(x, l)), sp.gelu);
            out.range(8 * (l + 1) - 1, 8 * l) = ap_int<8>(requant<C::GELU::OUT_W, C::K_BITS>(v, sp.local_rq));
        }
        group_write<typename C::GI8IN, C::GELU_LANES>(I8IN, i, C::FEAT_OFF + g * G, out);
        g++;
        if (g == groups) {
            g = 0;
            i++;
        }
    }
}

// column-group means over the m rows of I8IN[., col0 ...]: `cols` columns, into `dst` of (row, col0')
template <class C>
void sel_mean(int m, int cols, int col0, ap_uint<C::SEL_MEAN_W> mult, int shift, int bits,
              typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH],
              typename C::GGLOB::word_t GLOB[C::GGLOB::NB][C::GGLOB::DEPTH], bool to_glob) {
    typedef typename acc_type<C::SEL_SUM_W>::type sum_t;
    const int L = C::SELECT_LANES;
    sum_t acc[C::SELECT_LANES];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    int g = 0, i = 0;
sel_mean_cols_rows:
    for (int it = 0; it < trip_mul(cols / L, m); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::VEC_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::D / C::SELECT_LANES)
        // the token mean reads rows 0 .. m-1 < N and writes the spare row N only
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = I8IN inter false)
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = I8IN intra false)
        HLSGEN_TRIP(it == 0, it == 0);
        const ap_uint<8 * C::SELECT_LANES> x = group_read<typename C::GI8IN, C::SELECT_LANES>(I8IN, i, col0 + g * L);
        ap_uint<8 * C::SELECT_LANES> out = 0;    // k-bit means in 8-bit lanes (I8IN, GLOB: the int8 engine's input)
    sel_mean_lanes:
        for (int l = 0; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            const sum_t s = (i == 0 ? sum_t(0) : acc[l]) + lane_s<8, C::SELECT_LANES>(x, l);
            acc[l] = s;
            HLSGEN_CHECK_RANGE(s, C::SEL_SUM_W);
            out.range(8 * (l + 1) - 1, 8 * l) = ap_int<8>(mean_value<C::SEL_SUM_W, C::SEL_MEAN_W, C::K_BITS>(
                ap_int<C::SEL_SUM_W>(s), mult, shift, bits));
        }
        if (i == m - 1) {
            if (to_glob)
                group_write<typename C::GGLOB, C::SELECT_LANES>(GLOB, 0, g * L, out);
            else
                group_write<typename C::GI8IN, C::SELECT_LANES>(I8IN, C::SPARE_ROW, g * L, out);
        }
        i++;
        if (i == m) {
            i = 0;
            g++;
        }
    }
}

// score = sum_h z[i][h] * g[h]; keep iff > 0; the pruned tokens' indices and package-softmax inputs
template <class C>
void sel_score(int m, const sel_t& sp, const typename C::GZ::word_t Z[C::GZ::NB][C::GZ::DEPTH],
               const typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH], typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH],
               bool keep[C::N_MAX], int pruned[C::N_MAX], int& npr) {
    typedef typename acc_type<C::SEL_SC_W>::type sc_t;
    const int L = C::SELECT_LANES, ZB = C::Z_BITS, KB = C::K_BITS;
    const int groups = (C::HEADS + L - 1) / L;
    sc_t s = 0;
    int i = 0, g = 0, np = 0;
sel_score_rows:
    for (int it = 0; it < trip_mul(m, groups); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::VEC_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::HEADS)
        HLSGEN_TRIP(it == 0, it == 0);
        const ap_uint<ZB * C::SELECT_LANES> zw = group_read<typename C::GZ, C::SELECT_LANES>(Z, i, g * L);
        const ap_uint<KB * C::SELECT_LANES> gw = group_read<typename C::GP, C::SELECT_LANES>(P, 0, g * L);
        sc_t part = 0;
    sel_score_lanes:
        for (int l = 0; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (g * L + l < C::HEADS)
                part += lane_s<C::Z_BITS, C::SELECT_LANES>(zw, l) * ap_int<C::K_BITS + 1>(lane_u<C::K_BITS, C::SELECT_LANES>(gw, l));
        }
        const sc_t sc = g == 0 ? part : sc_t(s + part);
        s = sc;
        if (g == groups - 1) {
            HLSGEN_CHECK_RANGE(sc, C::SEL_SC_W);
            HLSGEN_TAP(sp.tap_scores, 0, 0, i, sc);
            const bool k = sc > 0;
            keep[i] = k;
            if (!k) {
                pruned[np] = i;
                group_write<typename C::GS, 1>(S, 1, np, ap_uint<C::S_BITS>(
                    requant<C::SEL_SC_W, C::S_BITS>(ap_int<C::SEL_SC_W>(sc), sp.pkg_rq)));
                np++;
            }
        }
        g++;
        if (g == groups) {
            g = 0;
            i++;
        }
    }
    npr = np;
}

// x' = [class token, kept tokens in order, package token]; returns the new token count
template <class C>
int sel_compact(int n, const sel_t& sp, const bool keep[C::N_MAX], const typename C::GPKG::word_t PKG[C::GPKG::NB][C::GPKG::DEPTH],
                typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH]) {
    const int L = C::SELECT_LANES;
    const int groups = C::D / L;
    const int m = n - 1;
    int i = 0, g = 0, o = 1;
sel_compact_rows:
    for (int it = 0; it < trip_mul(n, groups); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS DEPENDENCE variable = X inter false)   // row 1 + i is read before any row <= 1 + i is written
        HLSGEN_PRAGMA(HLS LATENCY max = C::VEC_DEPTH)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::D / C::SELECT_LANES)
        HLSGEN_TRIP(it == 0, it == 0);
        const ap_uint<16 * C::SELECT_LANES> row = i < m ? group_read<typename C::GX, C::SELECT_LANES>(X, 1 + i, g * L)
                                                        : group_read<typename C::GPKG, C::SELECT_LANES>(PKG, 0, g * L);
        if (i == m || keep[i]) {
            group_write<typename C::GX, C::SELECT_LANES>(X, o, g * L, row);
        sel_compact_taps:
            for (int l = 0; l < L; l++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                HLSGEN_TAP(sp.tap_tokens, 0, o, g * L + l, (lane_s<16, C::SELECT_LANES>(row, l)));
            }
        }
        g++;
        if (g == groups) {
            g = 0;
            if (i == m || keep[i]) o++;
            i++;
        }
    }
    return o;
}

template <class C>
void select_engine(const step_t& st, int n, int m, const sel_t& sp, const ap_uint<C::SEL_MEAN_W> gmean[C::N_MAX + 2],
                   const ap_uint<C::SEL_MEAN_W> tmean[C::N_MAX + 2], const typename C::GLOCAL::word_t LOCAL[C::GLOCAL::NB][C::GLOCAL::DEPTH],
                   typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH],
                   typename C::GGLOB::word_t GLOB[C::GGLOB::NB][C::GGLOB::DEPTH],
                   const typename C::GZ::word_t Z[C::GZ::NB][C::GZ::DEPTH],
                   const typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH], typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH],
                   const typename C::GPKG::word_t PKG[C::GPKG::NB][C::GPKG::DEPTH],
                   typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH], bool keep[C::N_MAX], int pruned[C::N_MAX],
                   int& npr, int& n_out) {
    HLSGEN_ENGINE(select)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = LOCAL complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = I8IN complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = GLOB complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = Z complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = P complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = S complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = PKG complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = X complete dim = 1)
    if (st.mode == SEL_GELU)
        sel_gelu_pass<C>(m, sp, LOCAL, I8IN);
    else if (st.mode == SEL_GMEAN || st.mode == SEL_TMEAN) {
        const bool g = st.mode == SEL_GMEAN;          // local features -> GLOB, or the LayerNorm output -> SPARE_ROW
        sel_mean<C>(m, g ? C::LOC : C::D, g ? C::FEAT_OFF : 0, g ? gmean[m] : tmean[m], g ? sp.gmean_shift : sp.tmean_shift,
                    g ? sp.gmean_bits : sp.tmean_bits, I8IN, GLOB, g);
    }
    else if (st.mode == SEL_SCORE)
        sel_score<C>(m, sp, Z, P, S, keep, pruned, npr);
    else
        n_out = sel_compact<C>(n, sp, keep, PKG, X);
}

}  // namespace hlsgen

#endif
