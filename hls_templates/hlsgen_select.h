// hlsgen kernel library: the HeatViT token selector with package token (quant.golden.token_select).
//
// For the n tokens of x (row 0 = class token, never scored) and m = n - 1 scored tokens:
//   y      = LayerNorm(x[1:])                              k-bit, staged in the int8 engine's input
//   local  = rq(GELU(W1_h y_h)) per head                  int8 engine + GELU unit, k-bit
//   glob   = mean over tokens of local                     1/m from a ROM indexed by m
//   z      = W2_h [local_h ; glob_h] per head              int8 engine, 2k-bit
//   g      = softmax(Wg mean(y))                           int8 engine (one row) + softmax unit
//   score  = sum_h z_h g_h; keep iff score > 0
//   pkg    = sat16(round(sum_j w_j x_j / 2**k)), w = softmax(rq(score_j)) over the pruned tokens
//   x'     = [cls, kept tokens in order, pkg] (or x unchanged if nothing is pruned)
// The token count is data dependent: every loop is bounded by the static maximum N_MAX.
#ifndef HLSGEN_SELECT_H
#define HLSGEN_SELECT_H

#include "hlsgen_engines.h"

namespace hlsgen {

struct sel_t {
    int ln;                        // LayerNorm table index
    gelu_t gelu;
    rq_t local_rq;                 // GELU output -> k-bit local features
    int gmean_shift, gmean_bits;   // global mean of the local features
    int tmean_shift, tmean_bits;   // token mean of y
    softmax_t gate_sm, pkg_sm;
    rq_t pkg_rq;                   // score -> package softmax input
    int prob_bits;
    int tap_scores, tap_tokens;
};

// Returns the new token count; x is rewritten in place.
template <class C>
int token_select(const ap_uint<C::AXI_W>* wmem, res_t x[C::N_MAX][C::D], int n, const sel_t& sp,
                 const i8_layer_t local[C::HEADS], const i8_layer_t score[C::HEADS], const i8_layer_t& gate,
                 const long long gmean[C::N_MAX + 2], const long long tmean[C::N_MAX + 2], const ln_t& lnq,
                 const rsqrt_t& rs, const long long ln_mult[C::D], const long long ln_bias[C::D], int ln_shift,
                 int ln_bits, ap_int<8> i8in[C::I8_ROWS][C::I8_COLS], ap_int<16> o16[C::I8O_SIZE]) {
    typedef typename C::act_t act_t;
    typedef typename C::wide_t wide_t;
    typedef typename C::prob_t prob_t;
    const int HID = C::HID, LW = C::HEADS * C::HID;
    static act_t loc[C::N_MAX][C::HEADS * C::HID];
    static ap_int<C::SEL_SC_W> scores[C::N_MAX];
    static wide_t z[C::N_MAX][C::HEADS];
    static bool keep[C::N_MAX];
    static int pruned_idx[C::N_MAX];
    const int m = n - 1;

    // y = LayerNorm(x[1:]) into the int8 engine's input rows; token sums for the mean token
    ap_int<C::SEL_TSUM_W> tsum[C::D];
    for (int c = 0; c < C::D; c++) tsum[c] = 0;
sel_ln:
    for (int i = 0; i < m; i++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        res_t xr[C::D];
        act_t yr[C::D];
        for (int c = 0; c < C::D; c++) xr[c] = x[1 + i][c];
        layernorm_affine_row<C>(xr, yr, lnq, rs, ln_mult, ln_bias, ln_shift, ln_bits);
        for (int c = 0; c < C::D; c++) {
            i8in[i][c] = yr[c];
            tsum[c] += yr[c];
        }
    }
    act_t mean_tok[C::D];
    for (int c = 0; c < C::D; c++)
        mean_tok[c] = mean_value<C::SEL_TSUM_W, C::SEL_TMEAN_W, C::K_BITS>(tsum[c], tmean[m], sp.tmean_shift, sp.tmean_bits);

    // local features: per head d -> HID on the int8 engine, GELU, requantizer
sel_local:
    for (int hh = 0; hh < C::HEADS; hh++) {
        linear_i8<C>(wmem, local[hh], m, i8in, x, 0, o16, 0, HID, -1);
        for (int i = 0; i < m; i++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
            for (int j = 0; j < HID; j++) {
                ap_int<C::GELU::OUT_W> g = gelu<typename C::GELU>(ap_int<C::GELU::IN_W>(o16[i * HID + j]), sp.gelu);
                loc[i][hh * HID + j] = requant<C::GELU::OUT_W, C::K_BITS>(g, sp.local_rq);
            }
        }
    }
    // global feature: mean of the local features over the m tokens
    act_t glob[C::HEADS * C::HID];
sel_glob:
    for (int c = 0; c < LW; c++) {
        ap_int<C::SEL_GSUM_W> s = 0;
        for (int i = 0; i < m; i++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
            s += loc[i][c];
        }
        glob[c] = mean_value<C::SEL_GSUM_W, C::SEL_GMEAN_W, C::K_BITS>(s, gmean[m], sp.gmean_shift, sp.gmean_bits);
    }
    // per-head logits z: [local_h ; glob_h] (2 HID) -> 1
sel_score:
    for (int hh = 0; hh < C::HEADS; hh++) {
        for (int i = 0; i < m; i++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
            for (int j = 0; j < HID; j++) {
                i8in[i][j] = loc[i][hh * HID + j];
                i8in[i][HID + j] = glob[hh * HID + j];
            }
        }
        linear_i8<C>(wmem, score[hh], m, i8in, x, 0, o16, 0, 1, -1);
        for (int i = 0; i < m; i++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
            z[i][hh] = o16[i];
        }
    }
    // head gate: softmax(Wg mean_tok)
    for (int c = 0; c < C::D; c++) i8in[0][c] = mean_tok[c];
    linear_i8<C>(wmem, gate, 1, i8in, x, 0, o16, 0, C::HEADS, -1);
    wide_t gin[C::HEADS];
    prob_t g[C::HEADS];
    for (int hh = 0; hh < C::HEADS; hh++) gin[hh] = o16[hh];
    softmax_row<typename C::SM, C::HEADS>(gin, g, C::HEADS, sp.gate_sm);

    // score = sum_h z_h g_h; keep iff > 0
    int kept = 0, npr = 0;
sel_keep:
    for (int i = 0; i < m; i++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        ap_int<C::SEL_SC_W> s = 0;
        for (int hh = 0; hh < C::HEADS; hh++) s += z[i][hh] * g[hh];
        scores[i] = s;
        HLSGEN_TAP(sp.tap_scores, 0, 0, i, s);
        keep[i] = s > 0;
        if (keep[i]) {
            kept++;
        } else {
            pruned_idx[npr] = i;
            npr++;
        }
    }
    if (npr == 0) {
        for (int r = 0; r < n; r++)
            for (int c = 0; c < C::D; c++) HLSGEN_TAP(sp.tap_tokens, 0, r, c, x[r][c]);
        return n;
    }
    // package token: softmax over the pruned scores, weighted sum of the pruned tokens
    wide_t pin[C::N_MAX];
    prob_t w[C::N_MAX];
    for (int j = 0; j < C::N_MAX; j++)
        pin[j] = j < npr ? wide_t(requant<C::SEL_SC_W, C::W_BITS>(scores[pruned_idx[j]], sp.pkg_rq)) : wide_t(0);
    softmax_row<typename C::SM, C::N_MAX>(pin, w, npr, sp.pkg_sm);
    res_t pkg[C::D];
sel_pkg:
    for (int c = 0; c < C::D; c++) {
        ap_int<C::SEL_PKG_W> s = 0;
        for (int j = 0; j < npr; j++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
            s += w[j] * x[1 + pruned_idx[j]][c];
        }
        pkg[c] = res_t(saturate<C::SEL_PKG_W>(round_shift<C::SEL_PKG_W>(s, sp.prob_bits), RES_W));
    }
    // compaction: class token, kept tokens in order, package token
    int o = 1;
sel_compact:
    for (int i = 0; i < m; i++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        if (keep[i]) {
            for (int c = 0; c < C::D; c++) x[o][c] = x[1 + i][c];
            o++;
        }
    }
    for (int c = 0; c < C::D; c++) x[o][c] = pkg[c];
    const int n_out = o + 1;
    for (int r = 0; r < n_out; r++)
        for (int c = 0; c < C::D; c++) HLSGEN_TAP(sp.tap_tokens, 0, r, c, x[r][c]);
    return n_out;
}

}  // namespace hlsgen

#endif
