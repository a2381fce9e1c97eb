// hlsgen kernel library: the integer nonlinear lanes (GELU, exp, reciprocal square root, means).
//
// Bit-exact twins of quant/nl_gelu.py, quant/nl_exp.py, quant/nl_layernorm.py and
// quant.golden.mean_tokens. A shared unit runs every instance of its function (one per block, plus
// the token selectors'): each intermediate has the width the golden model states for it, maximised
// over the instances (the config struct C, generated into vit_params.h), and each coefficient or
// shift is a compile-time constant when every instance has the same value (C::FIXED_x, C::V_x:
// HLSGEN_P), else a runtime value of the instance's parameter struct (a ROM entry).
// Only add, sub, multiply, shifts, compares, a priority encoder and small ROMs.
#ifndef HLSGEN_NONLINEAR_H
#define HLSGEN_NONLINEAR_H

#include "hlsgen_common.h"

// a parameter of a shared unit: the model-wide constant when every instance agrees, else the instance's
#define HLSGEN_P(CFG, q, field, NAME) ((CFG::FIXED_##NAME) ? (CFG::V_##NAME) : (q.field))

namespace hlsgen {

// ---- GELU (quant/nl_gelu.py) --------------------------------------------------------------------
struct gelu_t {
    int in_frac, out_frac, work_frac;
    long long k, b, a;   // 1/sqrt2, clip point (positive), erf curvature (negative), at work_frac
};

// C: IN_W (input width), WF (max work_frac), OUT_W (output width), FIXED_/V_ per field
template <class C>
ap_int<C::OUT_W> gelu(ap_int<C::IN_W> x, const gelu_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int IN_W = C::IN_W, WF = C::WF;
    const int w = HLSGEN_P(C, q, work_frac, WORK_FRAC);
    const int fi = HLSGEN_P(C, q, in_frac, IN_FRAC);
    ap_uint<IN_W> ax = x < 0 ? ap_uint<IN_W>(-x) : ap_uint<IN_W>(x);                  // u(in_width)
    ap_uint<IN_W + WF> uk = ax * ap_uint<WF + 1>(HLSGEN_P(C, q, k, K));               // u(in_width + W)
    ap_uint<IN_W + WF> u = round_shift_u<IN_W + WF>(uk, fi);                          // |x|/sqrt2
    ap_uint<WF + 2> bb = HLSGEN_P(C, q, b, B);
    ap_uint<WF + 2> mn = u < ap_uint<IN_W + WF>(bb) ? ap_uint<WF + 2>(u) : bb;
    ap_int<WF + 3> v = ap_int<WF + 3>(mn) - ap_int<WF + 3>(bb);                        // [-bb, 0]: s(W+3)
    ap_uint<2 * WF + 6> v2 = v * v;
    ap_uint<WF + 4> sq = ap_uint<WF + 4>(round_shift_u<2 * WF + 6>(v2, w));            // u(W+4)
    ap_int<2 * WF + 6> ea = ap_int<WF + 2>(HLSGEN_P(C, q, a, A)) * sq;                 // s(2W+6)
    ap_int<WF + 3> one = 1;
    one <<= w;
    ap_int<WF + 2> e = ap_int<WF + 2>(round_shift<2 * WF + 6>(ea, w) + one);          // erf(|u|): s(W+2)
    const int G_W = IN_W + WF + 2;
    ap_int<G_W> g = x;
    g <<= w;
    g += ax * e;                                                                       // s(in_width+W+2)
    return ap_int<C::OUT_W>(round_shift<G_W>(g, fi + w + 1 - HLSGEN_P(C, q, out_frac, OUT_FRAC)));
}

// ---- exp (quant/nl_exp.py) ------------------------------------------------------------------------
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
    const int p_frac = HLSGEN_P(C, q, p_frac, P_FRAC);
    const int guard = HLSGEN_P(C, q, guard, GUARD);
    const int g = p_frac - HLSGEN_P(C, q, in_frac, IN_FRAC);
    const int lf = HLSGEN_P(C, q, out_frac, OUT_FRAC) + guard;
    const long long n_clamp = HLSGEN_P(C, q, n_clamp, N_CLAMP);
    ap_int<C::D_W + 1> nx = -x;                                                        // -x >= 0
    ap_uint<NB> n = nx > n_clamp ? ap_uint<NB>(n_clamp) : ap_uint<NB>(nx);            // u(nb)
    ap_uint<NB + C::MB> zm = n * ap_uint<C::MB>(HLSGEN_P(C, q, inv_mult, INV_MULT));  // u(nb + bits(M))
    ap_uint<C::ZB> z = ap_uint<C::ZB>(zm >> HLSGEN_P(C, q, inv_shift, INV_SHIFT));    // floor(n 2^g / ln2)
    ap_uint<NB + C::GB> m = n;
    m <<= g;                                                                           // u(nb + g)
    ap_uint<NB + C::GB + 1> zl = z * ap_uint<PF>(HLSGEN_P(C, q, ln2, LN2));            // u(nb + g + 1)
    ap_int<PF + 1> p = ap_int<NB + C::GB + 2>(zl) - ap_int<NB + C::GB + 2>(m);       // (-ln2_q, 0]
    ap_uint<PF + 1> pb = p + ap_int<PF + 2>(HLSGEN_P(C, q, b, B));                     // u(p_frac + 1)
    ap_uint<2 * PF + 2> pb2 = pb * pb;                                                 // u(2 p_frac + 2)
    ap_uint<LF + 2> sq = ap_uint<LF + 2>(round_shift_u<2 * PF + 2>(pb2, 2 * p_frac - lf));
    ap_uint<C::AB + LF + 2> prod = ap_uint<C::AB>(HLSGEN_P(C, q, a, A)) * sq;
    ap_int<LF + 3> L = ap_int<LF + 3>(round_shift_u<C::AB + LF + 2>(prod, lf)) + ap_int<LF + 3>(HLSGEN_P(C, q, c, CC));
    ap_int<LF + 3> lo = 1, hi = 1;
    lo <<= (lf - 1);
    hi <<= lf;
    ap_uint<LF + 1> Lc = L < lo ? ap_uint<LF + 1>(lo) : (L > hi ? ap_uint<LF + 1>(hi) : ap_uint<LF + 1>(L));
    return ap_uint<C::OF + 1>(round_shift_u<LF + 1>(Lc, z.to_int() + guard));                  // u(out_frac + 1)
}

// the reciprocal of a row sum (one division per row): 2**recip_bits / s
template <class C>
ap_uint<C::R_W> recip_int(ap_uint<C::S_W> s, const softmax_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_uint<C::RB + 1> num = 1;
    num <<= HLSGEN_P(C, q, recip_bits, RECIP_BITS);
    return ap_uint<C::R_W>(num / s);
}

// one normalised probability: sat_u(out_bits, round(e * r / 2**(recip_bits - out_bits)))
template <class C>
ap_uint<C::OUT_BITS> prob_int(ap_uint<C::OF + 1> e, ap_uint<C::R_W> r, const softmax_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int ob = HLSGEN_P(C, q, out_bits, OUT_BITS_P);
    ap_uint<C::RB + 1> er = e * r;                                                     // u(R + 1)
    ap_int<C::RB + 2> v = round_shift_u<C::RB + 1>(er, HLSGEN_P(C, q, recip_bits, RECIP_BITS) - ob);
    return ap_uint<C::OUT_BITS>(saturate_u<C::RB + 2>(v, ob));
}

// ---- reciprocal square root and LayerNorm pieces (quant/nl_layernorm.py) ------------------------
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
msb_bits:
    for (int i = 0; i < W; i++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        if (v[i]) msb = i;
    }
    return msb;
}

// the row mean at MUF fraction bits, muF = sat(round(sum * mean_mult / 2**(mean_shift - MUF))), of a
// LayerNorm row: the row is centred on it (the integer mu alone cost 3e-3 at a row std of 85 codes)
template <class C>
ap_int<C::IN_W + C::MUF> ln_mean(ap_int<C::IN_W + C::LB> sx, const ln_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_int<C::IN_W + C::MS + 1> smm = sx * ap_int<C::MM_W + 1>(HLSGEN_P(C, q, mean_mult, MEAN_MULT));
    return ap_int<C::IN_W + C::MUF>(saturate<C::IN_W + C::MS + 1>(
        round_shift<C::IN_W + C::MS + 1>(smm, HLSGEN_P(C, q, mean_shift, MEAN_SHIFT) - C::MUF), C::IN_W + C::MUF));
}

// the row scale: f (u(SF + 7)) and the extra shift k of 1/sqrt(v), v = dim * (var + eps)
template <class C>
void ln_scale(ap_uint<C::V_W> v, const ln_t& q, const rsqrt_t& r, ap_uint<C::SF + 7>& f, int& k) {
    HLSGEN_PRAGMA(HLS INLINE)
    // rsqrt_int: leading-one normalisation, v = m * 2**msb, then the piecewise quadratic
    if (v == 0) v = 1;
    const int msb = msb_index<C::V_W>(v);
    const int left = r.man_frac > msb ? r.man_frac - msb : 0;
    const int right = msb > r.man_frac ? msb - r.man_frac : 0;
    ap_uint<C::V_W> vt = v;
    vt <<= left;
    vt >>= right;
    ap_uint<C::MF + 1> m = vt;                                                         // u(man_frac + 1)
    const int parity = msb & 1;
    k = msb >> 1;
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
    ap_uint<C::ROF + 1 + C::SQD_W> rsd = rr * ap_uint<C::SQD_W>(HLSGEN_P(C, q, sqrt_dim, SQRT_DIM));
    f = ap_uint<C::SF + 7>(round_shift_u<C::ROF + 1 + C::SQD_W>(
        rsd, r.out_frac + HLSGEN_P(C, q, sqrt_dim_frac, SQRT_DIM_FRAC) - HLSGEN_P(C, q, scale_frac, SCALE_FRAC)));
}

// one normalised value: sat(out_bits, round(((x - mu) * f + b) / 2**(scale_frac + k - out_frac))), b the
// row's centring correction (the DSP's post-adder)
template <class C>
ap_int<C::OUT_W> ln_norm(res_t x, ap_int<C::IN_W> mu, ap_uint<C::SF + 7> f, ap_int<C::SF + 8> b, int k,
                         const ln_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int IB = C::IN_W;
    ap_int<IB + 1> c = ap_int<IB + 1>(x) - ap_int<IB + 1>(mu);
    ap_int<IB + C::SF + 8> cf = c * f + b;
    ap_int<IB + C::SF + 8> yv = round_shift<IB + C::SF + 8>(
        cf, HLSGEN_P(C, q, scale_frac, SCALE_FRAC) + k - HLSGEN_P(C, q, out_frac, OUT_FRAC));
    return ap_int<C::OUT_W>(saturate<IB + C::SF + 8>(yv, HLSGEN_P(C, q, out_bits, OUT_BITS_P)));
}

// ---- mean over a data-dependent token count (quant.golden.mean_tokens) --------------------------
// sat(round_shift(sum * mult[n], shift), bits): the 1/n factor is a ROM indexed by n.
template <int SUM_W, int MULT_W_, int OUT_W>
ap_int<OUT_W> mean_value(ap_int<SUM_W> sum, ap_uint<MULT_W_> mult, int shift, int bits) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_int<SUM_W + MULT_W_ + 1> p = sum * ap_int<MULT_W_ + 1>(mult);
    return ap_int<OUT_W>(saturate<SUM_W + MULT_W_ + 1>(round_shift<SUM_W + MULT_W_ + 1>(p, shift), bits));
}

}  // namespace hlsgen

#endif
