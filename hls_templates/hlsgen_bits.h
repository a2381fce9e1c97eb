// hlsgen kernel library: bit-field primitives on wide words (ap_uint<W>).
//
// In synthesis (and in the static check) each primitive is the plain ap_uint expression in its
// comment: wires and fixed shifts. C simulation computes the same value on the word's 64-bit chunks
// (ap_private::get_pVal/set_pVal): generic ap_uint range selects and shifts on 128..1024-bit words
// would otherwise take most of the C-simulation time. tests/test_hls_kernels.py checks every
// primitive against the plain expression on random words.
#ifndef HLSGEN_BITS_H
#define HLSGEN_BITS_H

#include "hlsgen_common.h"

namespace hlsgen {

#ifndef HLSGEN_SYNTH_VIEW
template <int W>
struct chunks {
    static const int N = (W + 63) / 64;
    unsigned long long c[N + 1];
};

template <int W>
inline void to_chunks(const ap_uint<W>& v, chunks<W>& out) {
    if (W <= 64) {
        out.c[0] = v.to_uint64();
    } else {
        for (int i = 0; i < chunks<W>::N; i++) out.c[i] = v.V.get_pVal(i);
    }
    out.c[chunks<W>::N] = 0;
}

template <int W>
inline void from_chunks(ap_uint<W>& v, chunks<W>& in) {
    const int top = W % 64;
    if (top) in.c[chunks<W>::N - 1] &= (1ULL << top) - 1;
    if (W <= 64) {
        v = in.c[0];
    } else {
        for (int i = 0; i < chunks<W>::N; i++) v.V.set_pVal(i, in.c[i]);
    }
}

// n <= 64 bits of c starting at bit lo
template <int W>
inline unsigned long long get_bits(const chunks<W>& c, int lo, int n) {
    const int i = lo / 64, o = lo % 64;
    unsigned long long x = c.c[i] >> o;
    if (o && o + n > 64 && i + 1 <= chunks<W>::N) x |= c.c[i + 1] << (64 - o);
    return n >= 64 ? x : (x & ((1ULL << n) - 1));
}

// write n <= 64 bits of x into c at bit lo
template <int W>
inline void put_bits(chunks<W>& c, int lo, int n, unsigned long long x) {
    const unsigned long long m = n >= 64 ? ~0ULL : ((1ULL << n) - 1);
    x &= m;
    const int i = lo / 64, o = lo % 64;
    c.c[i] = (c.c[i] & ~(m << o)) | (x << o);
    if (o && o + n > 64) c.c[i + 1] = (c.c[i + 1] & ~(m >> (64 - o))) | (x >> (64 - o));
}
#endif

// v.range(lo + N - 1, lo): N bits at a runtime offset
template <int N, int W>
ap_uint<N> field(const ap_uint<W>& v, int lo) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
    return ap_uint<N>(v >> lo);
#else
    if (W <= 64 && N <= 64) {
        const unsigned long long x = lo >= W ? 0ULL : (v.to_uint64() >> lo);
        return ap_uint<N>(N >= 64 ? x : (x & ((1ULL << N) - 1)));
    }
    chunks<W> c;
    to_chunks<W>(v, c);
    chunks<N> r;
    for (int i = 0; i < chunks<N>::N; i++) {
        const int n = cmin(64, N - 64 * i);
        r.c[i] = lo + 64 * i < W ? get_bits<W>(c, lo + 64 * i, cmin(n, W - lo - 64 * i)) : 0;
    }
    r.c[chunks<N>::N] = 0;
    ap_uint<N> out;
    from_chunks<N>(out, r);
    return out;
#endif
}

// v >> s (logical)
template <int W>
ap_uint<W> shr(const ap_uint<W>& v, int s) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
    return v >> s;
#else
    if (W <= 64) return s >= W ? ap_uint<W>(0) : ap_uint<W>(v.to_uint64() >> s);
    chunks<W> c;
    to_chunks<W>(v, c);
    const int q = s / 64, o = s % 64, n = chunks<W>::N;
    for (int i = 0; i < n; i++) {
        const unsigned long long a = i + q < n ? c.c[i + q] : 0, b = i + q + 1 < n ? c.c[i + q + 1] : 0;
        c.c[i] = o ? (a >> o) | (b << (64 - o)) : a;
    }
    ap_uint<W> out;
    from_chunks<W>(out, c);
    return out;
#endif
}

// x / D for 0 <= x < 2^16 without a divider core (Vitis binds one to a division by any constant that is
// not a power of two): D = 2^m is a shift, D = 3 * 2^m a shift and a multiply by ceil(2^17 / 3), exact
// below 2^17 and free of overflow below 2^16. Buffer spans and weight super-words are 2^m or 3 * 2^m.
template <int D>
inline int udiv(int x) {
    HLSGEN_PRAGMA(HLS INLINE)
    static_assert(D > 0 && ((D & (D - 1)) == 0 || ((D % 3) == 0 && ((D / 3) & (D / 3 - 1)) == 0)),
                  "udiv: D must be 2^m or 3 * 2^m");
#ifndef HLSGEN_SYNTH_VIEW
    if (x < 0 || x >= (1 << 16)) throw "hlsgen: udiv operand out of 0 .. 2^16";
#endif
    if ((D & (D - 1)) == 0) return (int)((unsigned)x / (unsigned)D);
    const ap_uint<16> y = (unsigned)x / (unsigned)(D / 3 ? D / 3 : 1);   // 16 bits: a 16 x 16 multiply
    return (int)((ap_uint<33>(y) * 43691u) >> 17);
}
template <int D>
inline int umod(int x) {
    HLSGEN_PRAGMA(HLS INLINE)
    return x - udiv<D>(x) * D;
}

// lanes [lo, lo + A) of N-lane words of B bits: A lanes out of N (lo a multiple of A)
template <int B, int N, int A>
ap_uint<B * A> lanes(const ap_uint<B * N>& v, int lo) {
    HLSGEN_PRAGMA(HLS INLINE)
    return field<B * A, B * N>(v, B * lo);
}

// dst.range(B * (lo + A) - 1, B * lo) = v
template <int B, int N, int A>
void set_lanes(ap_uint<B * N>& dst, int lo, const ap_uint<B * A>& v) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
    dst.range(B * (lo + A) - 1, B * lo) = v;
#else
    chunks<B * N> d;
    to_chunks<B * N>(dst, d);
    chunks<B * A> s;
    to_chunks<B * A>(v, s);
    for (int i = 0; i < chunks<B * A>::N; i++) put_bits<B * N>(d, B * lo + 64 * i, cmin(64, B * A - 64 * i), s.c[i]);
    from_chunks<B * N>(dst, d);
#endif
}

// A W-bit register consumed N bits per step from its low end: load(w), then take() N bits at a time
// (in synthesis r >>= N after each take; C simulation keeps the word and a bit offset instead).
template <int W, int N>
struct shift_reg {
    ap_uint<W> r;
#ifndef HLSGEN_SYNTH_VIEW
    int off;
#endif
    void load(const ap_uint<W>& w) {
        HLSGEN_PRAGMA(HLS INLINE)
        r = w;
#ifndef HLSGEN_SYNTH_VIEW
        off = 0;
#endif
    }
    ap_uint<N> take() {
        HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
        const ap_uint<N> v = r.range(N - 1, 0);
        r >>= N;
        return v;
#else
        const ap_uint<N> v = field<N, W>(r, off);
        off += N;
        return v;
#endif
    }
};

// ((hi, lo) >> s): W bits of the two-word window starting at bit s (0 <= s < W) -- the realigner
template <int W>
ap_uint<W> funnel(const ap_uint<W>& lo, const ap_uint<W>& hi, int s) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
    const ap_uint<2 * W> win = (hi, lo);
    return ap_uint<W>(win >> s);
#else
    chunks<2 * W> c;
    chunks<W> a, b;
    to_chunks<W>(lo, a);
    to_chunks<W>(hi, b);
    for (int i = 0; i <= chunks<2 * W>::N; i++) c.c[i] = 0;
    for (int i = 0; i < chunks<W>::N; i++) {
        put_bits<2 * W>(c, 64 * i, cmin(64, W - 64 * i), a.c[i]);
        put_bits<2 * W>(c, W + 64 * i, cmin(64, W - 64 * i), b.c[i]);
    }
    chunks<W> r;
    for (int i = 0; i < chunks<W>::N; i++) r.c[i] = get_bits<2 * W>(c, s + 64 * i, cmin(64, W - 64 * i));
    r.c[chunks<W>::N] = 0;
    ap_uint<W> out;
    from_chunks<W>(out, r);
    return out;
#endif
}

// Unpack / pack a word of N lanes of B bits (B <= 64)
template <int B, int N>
void unpack_s(const ap_uint<B * N>& v, ap_int<B> out[N]) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
unpack_s_lanes:
    for (int i = 0; i < N; i++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        out[i] = ap_int<B>(v.range(B * (i + 1) - 1, B * i));
    }
#else
    if (B * N <= 64) {
        const unsigned long long w = v.to_uint64();
        for (int i = 0; i < N; i++) {
            const unsigned long long x = (w >> (B * i)) & (B >= 64 ? ~0ULL : ((1ULL << B) - 1));
            long long sx = (long long)x;
            if (B < 64 && (x >> (B - 1)) & 1) sx -= (long long)(1ULL << B);
            out[i] = sx;
        }
        return;
    }
    chunks<B * N> c;
    to_chunks<B * N>(v, c);
    for (int i = 0; i < N; i++) {
        const unsigned long long x = get_bits<B * N>(c, B * i, B);
        long long sx = (long long)x;
        if (B < 64 && (x >> (B - 1)) & 1) sx -= (long long)(1ULL << B);
        out[i] = sx;
    }
#endif
}

template <int B, int N>
void unpack_u(const ap_uint<B * N>& v, ap_uint<B> out[N]) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifdef HLSGEN_SYNTH_VIEW
unpack_u_lanes:
    for (int i = 0; i < N; i++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        out[i] = ap_uint<B>(v.range(B * (i + 1) - 1, B * i));
    }
#else
    chunks<B * N> c;
    to_chunks<B * N>(v, c);
    for (int i = 0; i < N; i++) out[i] = get_bits<B * N>(c, B * i, B);
#endif
}

template <int B, int N>
ap_uint<B * N> pack(const ap_int<B> in[N]) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_uint<B * N> v = 0;
#ifdef HLSGEN_SYNTH_VIEW
pack_lanes:
    for (int i = 0; i < N; i++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        v.range(B * (i + 1) - 1, B * i) = ap_uint<B>(in[i]);
    }
#else
    chunks<B * N> c;
    for (int i = 0; i <= chunks<B * N>::N; i++) c.c[i] = 0;
    for (int i = 0; i < N; i++) put_bits<B * N>(c, B * i, B, (unsigned long long)in[i].to_int64());
    from_chunks<B * N>(v, c);
#endif
    return v;
}

}  // namespace hlsgen

#endif
