// hlsgen kernel library: the integer nonlinear units (GELU, exp, softmax, LayerNorm + rsqrt, mean).
//
// Bit-exact twins of quant/nl_gelu.py, quant/nl_exp.py, quant/nl_layernorm.py and
// quant.golden.mean_tokens. The coefficients are runtime values of small parameter structs, written
// as constants (ROMs) by the generator; a shared unit runs every instance (one per block), so each
// intermediate has the width the golden model states for it, maximised over the instances (the
// config struct C, generated into vit_params.h). Only add, sub, multiply, shifts, compares, a
// priority encoder, small ROMs and (softmax) one integer division per row.
#ifndef HLSGEN_NONLINEAR_H
#define HLSGEN_NONLINEAR_H

#include "hlsgen_common.h"

namespace hlsgen {

// ---- GELU (quant/nl_gelu.py) --------------------------------------------------------------------
struct gelu_t {
    int in_frac, out_frac, work_frac;
    long long k, b, a;   // 1/sqrt2, clip point (positive), erf curvature (negative), at work_frac
};

// C: IN_W (input width), WF (max work_frac), OUT_W (output width)
template <class C>
ap_int<C::OUT_W> gelu(ap_int<C::IN_W> x, const gelu_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int IN_W = C::IN_W, WF = C::WF;
    const int w = q.work_frac;
    ap_uint<IN_W> ax = x < 0 ? ap_uint<IN_W>(-x) : ap_uint<IN_W>(x);                  // u(in_width)
    ap_uint<IN_W + WF> uk = ax * ap_uint<WF + 1>(q.k);                                 // u(in_width + W)
    ap_uint<IN_W + WF> u = round_shift_u<IN_W + WF>(uk, q.in_frac);                   // |x|/sqrt2
    ap_uint<WF + 2> bb = q.b;
    ap_uint<WF + 2> mn = u < ap_uint<IN_W + WF>(bb) ? ap_uint<WF + 2>(u) : bb;
    ap_int<WF + 3> v = ap_int<WF + 3>(mn) - ap_int<WF + 3>(bb);                        // [-bb, 0]: s(W+3)
    ap_uint<2 * WF + 6> v2 = v * v;
    ap_uint<WF + 4> sq = ap_uint<WF + 4>(round_shift_u<2 * WF + 6>(v2, w));            // u(W+4)
    ap_int<2 * WF + 6> ea = ap_int<WF + 2>(q.a) * sq;                                  // s(2W+6)
    ap_int<WF + 3> one = 1;
    one <<= w;
    ap_int<WF + 2> e = ap_int<WF + 2>(round_shift<2 * WF + 6>(ea, w) + one);          // erf(|u|): s(W+2)
    const int G_W = IN_W + WF + 2;
    ap_int<G_W> g = x;
    g <<= w;
    g += ax * e;                                                                       // s(in_width+W+2)
    return ap_int<C::OUT_W>(round_shift<G_W>(g, q.in_frac + w + 1 - q.out_frac));
}

// ---- exp and softmax (quant/nl_exp.py) ----------------------------------------------------------
struct exp_t {
    int in_frac, out_frac, guard, p_frac;
    long long ln2, inv_mult;
    int inv_shift;
    long long n_clamp;
    int z_max;
    long long a, b, c;
};

struct softmax_t {
    exp_t exp;
    int out_bits, recip_bits;
};

// C: D_W (width of d = x - max), NB (bits of n_clamp), MB (bits of inv_mult), ZB (bits of z_max),
//    GB (max p_frac - in_frac), PF (max p_frac), LF (max l_frac), AB (bits of a), OF (max out_frac)
template <class C>
ap_uint<C::OF + 1> exp_int(ap_int<C::D_W> x, const exp_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int NB = C::NB, PF = C::PF, LF = C::LF;
    const int g = q.p_frac - q.in_frac;
    const int lf = q.out_frac + q.guard;
    ap_int<C::D_W + 1> nx = -x;                                                        // -x >= 0
    ap_uint<NB> n = nx > q.n_clamp ? ap_uint<NB>(q.n_clamp) : ap_uint<NB>(nx);        // u(nb)
    ap_uint<NB + C::MB> zm = n * ap_uint<C::MB>(q.inv_mult);                          // u(nb + bits(M))
    ap_uint<C::ZB> z = ap_uint<C::ZB>(zm >> q.inv_shift);                             // floor(n 2^g / ln2)
    ap_uint<NB + C::GB> m = n;
    m <<= g;                                                                           // u(nb + g)
    ap_uint<NB + C::GB + 1> zl = z * ap_uint<PF>(q.ln2);                               // u(nb + g + 1)
    ap_int<PF + 1> p = ap_int<NB + C::GB + 2>(zl) - ap_int<NB + C::GB + 2>(m);       // (-ln2_q, 0]
    ap_uint<PF + 1> pb = p + ap_int<PF + 2>(q.b);                                      // u(p_frac + 1)
    ap_uint<2 * PF + 2> pb2 = pb * pb;                                                 // u(2 p_frac + 2)
    ap_uint<LF + 2> sq = ap_uint<LF + 2>(round_shift_u<2 * PF + 2>(pb2, 2 * q.p_frac - lf));
    ap_uint<C::AB + LF + 2> prod = ap_uint<C::AB>(q.a) * sq;
    ap_int<LF + 3> L = ap_int<LF + 3>(round_shift_u<C::AB + LF + 2>(prod, lf)) + ap_int<LF + 3>(q.c);
    ap_int<LF + 3> lo = 1, hi = 1;
    lo <<= (lf - 1);
    hi <<= lf;
    ap_uint<LF + 1> Lc = L < lo ? ap_uint<LF + 1>(lo) : (L > hi ? ap_uint<LF + 1>(hi) : ap_uint<LF + 1>(L));
    return ap_uint<C::OF + 1>(round_shift_u<LF + 1>(Lc, z.to_int() + q.guard));               // u(out_frac + 1)
}

// Softmax of one row of n <= LEN codes (quant.nl_exp.softmax_int). C adds: IN_W (input width),
// S_W (width of the row sum), R_W (width of the reciprocal), RB (max recip_bits), OUT_BITS, and
// LANES (elements per cycle in each of the three stages: max; exp + sum; reciprocal multiply).
template <class C, int LEN>
void softmax_row(const ap_int<C::IN_W> x[LEN], ap_uint<C::OUT_BITS> out[LEN], int n, const softmax_t& q) {
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = x cyclic factor = C::LANES)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = out cyclic factor = C::LANES)
    ap_int<C::IN_W> mx = x[0];
row_max:
    for (int i = 1; i < LEN; i++) {
        HLSGEN_PRAGMA(HLS UNROLL factor = C::LANES)
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        if (i < n && x[i] > mx) mx = x[i];
    }
    ap_uint<C::OF + 1> e[LEN];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = e cyclic factor = C::LANES)
    ap_uint<C::S_W> s = 0;
row_exp:
    for (int i = 0; i < LEN; i++) {
        HLSGEN_PRAGMA(HLS UNROLL factor = C::LANES)
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        if (i < n) {
            ap_int<C::D_W> d = ap_int<C::D_W>(x[i]) - ap_int<C::D_W>(mx);             // s(in_bits+1), <= 0
            e[i] = exp_int<C>(d, q.exp);
            s += e[i];
        }
    }
    ap_uint<C::RB + 1> num = 1;
    num <<= q.recip_bits;
    ap_uint<C::R_W> r = ap_uint<C::R_W>(num / s);                                     // one division per row
row_norm:
    for (int i = 0; i < LEN; i++) {
        HLSGEN_PRAGMA(HLS UNROLL factor = C::LANES)
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        if (i < n) {
            ap_uint<C::RB + 1> er = e[i] * r;                                          // u(R + 1)
            ap_int<C::RB + 2> v = round_shift_u<C::RB + 1>(er, q.recip_bits - q.out_bits);
            out[i] = ap_uint<C::OUT_BITS>(saturate_u<C::RB + 2>(v, q.out_bits));
        }
    }
}

// ---- LayerNorm core and reciprocal square root (quant/nl_layernorm.py) --------------------------
const int RSQRT_TABLE = 32;   // 2 parities x 2**seg_bits segments, seg_bits <= 4

struct rsqrt_t {
    int man_frac, seg_bits, out_frac, coef_frac;
    long long c0[RSQRT_TABLE], c1[RSQRT_TABLE], c2[RSQRT_TABLE];
};

struct ln_t {
    long long eps_code, mean_mult;
    int mean_shift;
    long long sqrt_dim;
    int sqrt_dim_frac, scale_frac, out_frac, out_bits;
};

// floor(log2(v)) for v >= 1: a priority encoder
template <int W>
int msb_index(ap_uint<W> v) {
    HLSGEN_PRAGMA(HLS INLINE)
    int msb = 0;
    for (int i = 0; i < W; i++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        if (v[i]) msb = i;
    }
    return msb;
}

// C: DIM, IN_W (16), LB (ceil log2 DIM), MS (max mean_shift), MM_W (bits of mean_mult),
//    V_W (47), MF (man_frac), CF (coef_frac), ROF (rsqrt out_frac), SQD_W (bits of sqrt_dim),
//    SF (scale_frac), OUT_W (out_bits), LANES (elements per cycle of the statistics and normalise stages)
template <class C>
void layernorm_row(const res_t x[C::DIM], ap_int<C::OUT_W> y[C::DIM], const ln_t& q, const rsqrt_t& r) {
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = x cyclic factor = C::LANES)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = y cyclic factor = C::LANES)
    const int IB = C::IN_W, LB = C::LB;
    ap_int<IB + LB> sx = 0;
ln_sum:
    for (int i = 0; i < C::DIM; i++) {
        HLSGEN_PRAGMA(HLS UNROLL factor = C::LANES)
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        sx += x[i];
    }
    ap_int<IB + C::MS + 1> smm = sx * ap_int<C::MM_W + 1>(q.mean_mult);
    ap_int<IB> mu = ap_int<IB>(saturate<IB + C::MS + 1>(round_shift<IB + C::MS + 1>(smm, q.mean_shift), IB));
    ap_uint<2 * IB + LB> s2 = 0;
ln_var:
    for (int i = 0; i < C::DIM; i++) {
        HLSGEN_PRAGMA(HLS UNROLL factor = C::LANES)
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        ap_int<IB + 1> c = ap_int<IB + 1>(x[i]) - ap_int<IB + 1>(mu);
        s2 += ap_uint<2 * IB + 2>(c * c);
    }
    ap_uint<C::V_W> v = s2;
    v += ap_uint<C::V_W>(q.eps_code) * C::DIM;                                        // dim * (var + eps)
    // rsqrt_int: leading-one normalisation, v = m * 2**msb, then the piecewise quadratic
    if (v == 0) v = 1;
    const int msb = msb_index<C::V_W>(v);
    const int left = r.man_frac > msb ? r.man_frac - msb : 0;
    const int right = msb > r.man_frac ? msb - r.man_frac : 0;
    ap_uint<C::V_W> vt = v;
    vt <<= left;
    vt >>= right;
    ap_uint<C::MF + 1> m = vt;                                                         // u(man_frac + 1)
    const int parity = msb & 1, k = msb >> 1;
    const int tf = r.man_frac - r.seg_bits;
    const int seg_mask = (1 << r.seg_bits) - 1;
    const int idx = (parity << r.seg_bits) | ((m >> tf).to_int() & seg_mask);
    ap_uint<C::MF> tmask = 1;
    tmask <<= tf;
    tmask -= 1;
    ap_uint<C::MF> t = m & tmask;
    const int CW = C::CF + 2;
    ap_int<CW> c0 = r.c0[idx], c1 = r.c1[idx], c2 = r.c2[idx];
    ap_int<CW + C::MF + 1> c2t = c2 * t;
    ap_int<CW> h = c1 + ap_int<CW>(round_shift<CW + C::MF + 1>(c2t, tf));             // s(cf + 1)
    ap_int<CW + C::MF + 1> ht = h * t;
    ap_int<CW + 1> yq = c0 + ap_int<CW>(round_shift<CW + C::MF + 1>(ht, tf));         // s(cf + 2)
    ap_uint<C::ROF + 1> rr = ap_uint<C::ROF + 1>(round_shift<CW + 1>(yq, r.coef_frac - r.out_frac));
    ap_uint<C::ROF + 1 + C::SQD_W> rsd = rr * ap_uint<C::SQD_W>(q.sqrt_dim);
    ap_uint<C::SF + 7> f = ap_uint<C::SF + 7>(
        round_shift_u<C::ROF + 1 + C::SQD_W>(rsd, r.out_frac + q.sqrt_dim_frac - q.scale_frac));
ln_norm:
    for (int i = 0; i < C::DIM; i++) {
        HLSGEN_PRAGMA(HLS UNROLL factor = C::LANES)
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        ap_int<IB + 1> c = ap_int<IB + 1>(x[i]) - ap_int<IB + 1>(mu);
        ap_int<IB + C::SF + 8> cf = c * f;
        ap_int<IB + C::SF + 8> yv = round_shift<IB + C::SF + 8>(cf, q.scale_frac + k - q.out_frac);
        y[i] = ap_int<C::OUT_W>(saturate<IB + C::SF + 8>(yv, q.out_bits));
    }
}

// ---- mean over a data-dependent token count (quant.golden.mean_tokens) --------------------------
// sat(round_shift(sum * mult[n], shift), bits): the 1/n factor is a ROM indexed by n.
template <int SUM_W, int MULT_W_, int OUT_W>
ap_int<OUT_W> mean_value(ap_int<SUM_W> sum, long long mult, int shift, int bits) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_int<SUM_W + MULT_W_ + 1> p = sum * ap_int<MULT_W_ + 1>(mult);
    return ap_int<OUT_W>(saturate<SUM_W + MULT_W_ + 1>(round_shift<SUM_W + MULT_W_ + 1>(p, shift), bits));
}

}  // namespace hlsgen

#endif
