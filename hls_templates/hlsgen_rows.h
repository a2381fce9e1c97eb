// hlsgen kernel library: the row pipelines (hlsgen.ops.Softmax, LayerNorm).
//
//   softmax_engine    3 stages as a DATAFLOW region connected by streams, SOFTMAX_LANES lanes each:
//                     row max -> exp (range-reduced polynomial) + row sum + one reciprocal per row ->
//                     normalising multiply; each stage takes ceil(width / lanes) cycles per row and
//                     runs one row ahead of the next. Golden: quant.golden.softmax.
//   layernorm_engine  2 stages, LN_LANES lanes: row sum and sum of squares (the variance of the row
//                     about its mean at MUF fraction bits: exactly about the rounded mean from the two
//                     sums, then moved by e2) + the reciprocal square root -> normalise (centred on the
//                     fractional mean by the row's correction b) + per-channel affine requantizer.
//                     Golden: quant.golden.layernorm.
// Every stage is one flattened II=1 loop over rows x words; the streams hold two rows.
#ifndef HLSGEN_ROWS_H
#define HLSGEN_ROWS_H

#include <hls_stream.h>

#include "hlsgen_buffers.h"
#include "hlsgen_nonlinear.h"
#include "hlsgen_step.h"

namespace hlsgen {

// ---- softmax ---------------------------------------------------------------------------------------
template <class C>
void sm_max(int r0, int rows, int width, const typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH],
            hls::stream<ap_uint<C::S_BITS * C::SOFTMAX_LANES> >& xs, hls::stream<ap_int<C::S_BITS> >& mx) {
    typedef ap_int<C::S_BITS> in_t;
    const int L = C::SOFTMAX_LANES, WB = C::S_BITS;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = S complete dim = 1)
    const int wpr = (width + L - 1) / L;
    int r = 0, j = 0;
    in_t m = 0;
sm_max_rows:
    for (int it = 0; it < trip_mul(rows, wpr); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::SM_DEPTH_MAX)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::NP / C::SOFTMAX_LANES)
        HLSGEN_TRIP(it == 0, j == 0);
        const ap_uint<C::S_BITS * C::SOFTMAX_LANES> xw = group_read<typename C::GS, C::SOFTMAX_LANES>(S, r0 + r, j * L);
        in_t lm = lane_s<C::S_BITS, C::SOFTMAX_LANES>(xw, 0);
    sm_max_lanes:
        for (int l = 1; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            const in_t v = lane_s<C::S_BITS, C::SOFTMAX_LANES>(xw, l);
            if (j * L + l < width && v > lm) lm = v;
        }
        m = (j == 0 || lm > m) ? lm : m;
        xs.write(xw);
        if (j == wpr - 1) mx.write(m);
        j++;
        if (j == wpr) {
            j = 0;
            r++;
        }
    }
    (void)WB;
}

template <class C>
void sm_exp(int rows, int width, const softmax_t q, hls::stream<ap_uint<C::S_BITS * C::SOFTMAX_LANES> >& xs,
            hls::stream<ap_int<C::S_BITS> >& mx, hls::stream<ap_uint<(C::SM::OF + 1) * C::SOFTMAX_LANES> >& es,
            hls::stream<ap_uint<C::SM::R_W> >& rs) {
    typedef typename C::SM SM;
    const int L = C::SOFTMAX_LANES, EB = SM::OF + 1;
    const int wpr = (width + L - 1) / L;
    int r = 0, j = 0;
    ap_int<C::S_BITS> m = 0;
    ap_uint<SM::S_W> sum = 0;
sm_exp_rows:
    for (int it = 0; it < trip_mul(rows, wpr); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::SM_DEPTH_EXP)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::NP / C::SOFTMAX_LANES)
        HLSGEN_TRIP(it == 0, j == 0);
        const ap_int<C::S_BITS> mr = j == 0 ? mx.read() : m;
        m = mr;
        const ap_uint<C::S_BITS * C::SOFTMAX_LANES> xw = xs.read();
        ap_uint<EB * C::SOFTMAX_LANES> ew = 0;
        ap_uint<SM::S_W> part = 0;
    sm_exp_lanes:
        for (int l = 0; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (j * L + l < width) {
                const ap_int<SM::D_W> d = ap_int<SM::D_W>(lane_s<C::S_BITS, C::SOFTMAX_LANES>(xw, l)) - ap_int<SM::D_W>(mr);
                const ap_uint<EB> e = exp_int<SM>(d, q.exp);
                ew.range(EB * (l + 1) - 1, EB * l) = e;
                part += e;
            }
        }
        const ap_uint<SM::S_W> s = j == 0 ? part : ap_uint<SM::S_W>(sum + part);
        sum = s;
        es.write(ew);
        if (j == wpr - 1) rs.write(recip_int<SM>(s, q));       // one division per row
        j++;
        if (j == wpr) {
            j = 0;
            r++;
        }
    }
}

template <class C>
void sm_norm(const step_t st, int r0, int rows, int width, const softmax_t q,
             hls::stream<ap_uint<(C::SM::OF + 1) * C::SOFTMAX_LANES> >& es, hls::stream<ap_uint<C::SM::R_W> >& rs,
             typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH]) {
    typedef typename C::SM SM;
    const int L = C::SOFTMAX_LANES, EB = SM::OF + 1, KB = C::K_BITS;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = P complete dim = 1)
    const int wpr = (width + L - 1) / L;
    int r = 0, j = 0;
    ap_uint<SM::R_W> rv = 0;
sm_norm_rows:
    for (int it = 0; it < trip_mul(rows, wpr); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::SM_DEPTH_NORM)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::NP / C::SOFTMAX_LANES)
        HLSGEN_TRIP(it == 0, j == 0);
        const ap_uint<SM::R_W> rr = j == 0 ? rs.read() : rv;
        rv = rr;
        const ap_uint<EB * C::SOFTMAX_LANES> ew = es.read();
        ap_uint<KB * C::SOFTMAX_LANES> pw = 0;
    sm_norm_lanes:
        for (int l = 0; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (j * L + l < width) {
                const ap_uint<SM::OUT_BITS> p = prob_int<SM>(lane_u<EB, C::SOFTMAX_LANES>(ew, l), rr, q);
                pw.range(KB * (l + 1) - 1, KB * l) = p;
                if (st.mode == SM_ATTN) HLSGEN_TAP(st.tap, st.head, r, j * L + l, p);
            }
        }
        group_write<typename C::GP, C::SOFTMAX_LANES>(P, r0 + r, j * L, pw);
        j++;
        if (j == wpr) {
            j = 0;
            r++;
        }
    }
}

template <class C>
void softmax_engine(const step_t st, int rows, int width, const softmax_t q,
                    const typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH],
                    typename C::GP::word_t P[C::GP::NB][C::GP::DEPTH]) {
    HLSGEN_ENGINE(softmax)
    HLSGEN_PRAGMA(HLS DATAFLOW)
    HLSGEN_REGION();
    hls::stream<ap_uint<C::S_BITS * C::SOFTMAX_LANES> > xs("sm_xs");
    hls::stream<ap_int<C::S_BITS> > mx("sm_max");
    hls::stream<ap_uint<(C::SM::OF + 1) * C::SOFTMAX_LANES> > es("sm_exp");
    hls::stream<ap_uint<C::SM::R_W> > rs("sm_recip");
    HLSGEN_PRAGMA(HLS STREAM variable = xs depth = C::SM_FIFO)
    HLSGEN_PRAGMA(HLS STREAM variable = es depth = C::SM_FIFO)
    HLSGEN_PRAGMA(HLS STREAM variable = mx depth = 2)
    HLSGEN_PRAGMA(HLS STREAM variable = rs depth = 2)
    sm_max<C>(st.r0, rows, width, S, xs, mx);
    sm_exp<C>(rows, width, q, xs, mx, es, rs);
    sm_norm<C>(st, st.r0, rows, width, q, es, rs, P);
}

// ---- LayerNorm -------------------------------------------------------------------------------------
template <class C>
struct ln_row_t {
    ap_int<C::LN::IN_W> mu;
    ap_uint<C::LN::SF + 7> f;
    ap_int<C::LN::SF + 8> b;     // centring correction: round((mu * 2**MUF - muF) * f / 2**MUF)
    int k;
};

template <class C>
void ln_stats(int r0, int rows, const ln_t q, const rsqrt_t& rs, const typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH],
              hls::stream<ap_uint<16 * C::LN_LANES> >& xs, hls::stream<ln_row_t<C> >& stats) {
    typedef typename C::LN LN;
    const int L = C::LN_LANES, IB = LN::IN_W, LB = LN::LB;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = X complete dim = 1)
    const int wpr = C::D / L;
    int r = 0, j = 0;
    ap_int<IB + LB> sx = 0;
    ap_uint<2 * IB + LB> sq = 0;
ln_stats_rows:
    for (int it = 0; it < trip_mul(rows, wpr); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::LN_DEPTH_STATS)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::D / C::LN_LANES)
        HLSGEN_TRIP(it == 0, j == 0);
        const ap_uint<16 * C::LN_LANES> xw = group_read<typename C::GX, C::LN_LANES>(X, r0 + r, j * L);
        xs.write(xw);
        ap_int<IB + LB> ps = 0;
        ap_uint<2 * IB + LB> pq = 0;
    ln_stats_lanes:
        for (int l = 0; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            const ap_int<IB> v = lane_s<16, C::LN_LANES>(xw, l);
            ps += v;
            pq += ap_uint<2 * IB>(v * v);
        }
        const ap_int<IB + LB> sxr = j == 0 ? ps : ap_int<IB + LB>(sx + ps);
        const ap_uint<2 * IB + LB> sqr = j == 0 ? pq : ap_uint<2 * IB + LB>(sq + pq);
        sx = sxr;
        sq = sqr;
        if (j == wpr - 1) {
            // sum (x - mu)^2 = sum x^2 - 2 mu sum x + D mu^2, exactly (mu is the rounded mean), then moved
            // to muF: - round(D d^2 / 2**(2 MUF)), d = mu * 2**MUF - muF
            const int MUF = LN::MUF;
            ln_row_t<C> st;
            const ap_int<IB + MUF> muf = ln_mean<LN>(sxr, q);
            st.mu = ap_int<IB>(saturate<IB + MUF>(round_shift<IB + MUF>(muf, MUF), IB));
            // d in [-2**MUF + 1, 2**(MUF-1)] (muF is clamped to s(IB + MUF)), so d * d fits u(2 MUF)
            const ap_int<MUF + 1> d = ap_int<IB + MUF + 1>((ap_int<IB + MUF + 1>(st.mu) << MUF) - muf);
            const ap_int<2 * IB + LB + 3> s2 = ap_int<2 * IB + LB + 3>(sqr) - 2 * ap_int<2 * IB + LB + 3>(st.mu * sxr)
                                               + ap_int<2 * IB + LB + 3>(C::D * (st.mu * st.mu));
            const ap_uint<LB + 1> e2 = ap_uint<LB + 1>(round_shift_u<2 * MUF + LB>(
                ap_uint<2 * MUF + LB>(C::D * ap_uint<2 * MUF>(d * d)), 2 * MUF));
            // max(s2 - e2, 0) + dim * eps: the compare beside one three-input add, not before it
            const ap_uint<LN::V_W> eps_d = ap_uint<LN::V_W>(HLSGEN_P(LN, q, eps_code, EPS_CODE)) * C::D;
            const ap_uint<LN::V_W> v = s2 < e2 ? eps_d : ap_uint<LN::V_W>(s2 - e2 + eps_d);
            ln_scale<LN>(v, q, rs, st.f, st.k);
            st.b = ap_int<LN::SF + 8>(round_shift<MUF + LN::SF + 8>(ap_int<MUF + LN::SF + 8>(d * st.f), MUF));
            stats.write(st);
        }
        j++;
        if (j == wpr) {
            j = 0;
            r++;
        }
    }
}

template <class C>
void ln_norm_affine(const step_t st, int rows, const ln_t q, const mult_t mult[C::NUM_LN][C::D],
                    const ap_int<C::LN_BIAS_W> bias[C::NUM_LN][C::D], int shift, int bits,
                    hls::stream<ap_uint<16 * C::LN_LANES> >& xs, hls::stream<ln_row_t<C> >& stats,
                    typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH],
                    typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH]) {
    typedef typename C::LN LN;
    const int L = C::LN_LANES, KB = C::K_BITS;
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = mult cyclic factor = C::LN_LANES dim = 2)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = bias cyclic factor = C::LN_LANES dim = 2)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = A complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = I8IN complete dim = 1)
    const int wpr = C::D / L;
    int r = 0, j = 0;
    int aw = 0, asel = 0, iw = 0, isel = 0;    // write cursors (span word, group) of the row in A and in I8IN
    ln_row_t<C> cur;
ln_norm_rows:
    for (int it = 0; it < trip_mul(rows, wpr); it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::LN_DEPTH_NORM)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::D / C::LN_LANES)
        HLSGEN_TRIP(it == 0, j == 0);
        const ln_row_t<C> rowst = j == 0 ? stats.read() : cur;
        cur = rowst;
        const ap_uint<16 * C::LN_LANES> xw = xs.read();
        ap_uint<KB * C::LN_LANES> ow = 0;
        ap_uint<8 * C::LN_LANES> o8 = 0;        // the same codes in the int8 engine's 8-bit lanes
    ln_norm_lanes:
        for (int l = 0; l < L; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            const int c = j * L + l;
            const ap_int<LN::OUT_W> y = ln_norm<LN>(lane_s<16, C::LN_LANES>(xw, l), rowst.mu, rowst.f, rowst.b, rowst.k, q);
            const ap_int<C::K_BITS> a = requant<LN::OUT_W, C::K_BITS>(y, mult[st.pidx][c], bias_t(bias[st.pidx][c]),
                                                                      shift, bits);
            ow.range(KB * (l + 1) - 1, KB * l) = a;
            o8.range(8 * (l + 1) - 1, 8 * l) = ap_int<8>(a);
            if (st.r0 == 0) HLSGEN_TAP(st.tap, 0, r, c, a);
        }
        group_cursor_check<typename C::GA, C::LN_LANES>(aw, asel, j * L);
        group_cursor_check<typename C::GI8IN, C::LN_LANES>(iw, isel, j * L);
        if (st.mode == LN_TO_A)
            group_write_at<typename C::GA, C::LN_LANES>(A, r, aw, asel, ow);
        else
            group_write_at<typename C::GI8IN, C::LN_LANES>(I8IN, r, iw, isel, o8);
        group_cursor_next<typename C::GA, C::LN_LANES, 1>(aw, asel);
        group_cursor_next<typename C::GI8IN, C::LN_LANES, 1>(iw, isel);
        j++;
        if (j == wpr) {
            j = 0;
            r++;
            aw = asel = iw = isel = 0;
        }
    }
}

template <class C>
void layernorm_engine(const step_t st, int rows, const ln_t q, const rsqrt_t& rs, const mult_t mult[C::NUM_LN][C::D],
                      const ap_int<C::LN_BIAS_W> bias[C::NUM_LN][C::D], int shift, int bits,
                      const typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH],
                      typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH],
                      typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH]) {
    HLSGEN_ENGINE(layernorm)
    HLSGEN_PRAGMA(HLS DATAFLOW)
    HLSGEN_REGION();
    hls::stream<ap_uint<16 * C::LN_LANES> > xs("ln_xs");
    hls::stream<ln_row_t<C> > stats("ln_stats");
    HLSGEN_PRAGMA(HLS STREAM variable = xs depth = C::LN_FIFO)
    HLSGEN_PRAGMA(HLS STREAM variable = stats depth = 2)
    ln_stats<C>(st.r0, rows, q, rs, X, xs, stats);
    ln_norm_affine<C>(st, rows, q, mult, bias, shift, bits, xs, stats, A, I8IN);
}

}  // namespace hlsgen

#endif
