// hlsgen kernel library: common types, integer primitives, parameter structs, blob reader, taps.
//
// Hand-written, not generated. Every function here reproduces a primitive of quant/intops.py bit
// for bit: round_shift is round-half-up (add half an LSB, arithmetic shift right), saturation
// clamps to the two's-complement range of the target width.
//
// HLS rules kept throughout the library: static array sizes, no dynamic allocation, no recursion,
// no floating point, no hls:: math. Loops over data-dependent counts are bounded by a static
// maximum (LOOP_TRIPCOUNT) and exit early on the runtime count.
#ifndef HLSGEN_COMMON_H
#define HLSGEN_COMMON_H

#include <ap_int.h>

// HLS directives. HLSGEN_PRAGMA(HLS PIPELINE II = 1) is `#pragma HLS PIPELINE II = 1` for the HLS
// compiler (UG1399, "Using #define with pragma directives"); plain C++ compilers, for which the
// directives mean nothing, do not see them, so g++ -Wall reports no unknown pragmas.
#ifdef __SYNTHESIS__
#define HLSGEN_PRAGMA(x) _Pragma(#x)
#else
#define HLSGEN_PRAGMA(x)
#endif

// Loop labels name the loops in HLS reports; nothing jumps to them.
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
#pragma GCC diagnostic ignored "-Wunused-label"
#endif

namespace hlsgen {

// ---- width arithmetic (compile time) -----------------------------------------------------------
constexpr int cmax(int a, int b) { return a > b ? a : b; }
constexpr int cmin(int a, int b) { return a < b ? a : b; }
constexpr int cdiv(int a, int b) { return (a + b - 1) / b; }

// ---- inner-loop accumulators ---------------------------------------------------------------------
// The MAC inner loops accumulate into ap_int<W> in synthesis. In C simulation they use a native
// integer of at least W bits: the values are bounded by construction (W is the proven bound), so
// the results are identical, and g++ runs native adds ~4x faster than ap_int ones. Every
// accumulator is range-checked against W once per output in C simulation (HLSGEN_CHECK_RANGE), so
// a width that is too small still fails csim. Defining HLSGEN_EXACT_ACC makes C simulation use the
// synthesis types too (`hlsgen csim --exact-acc`).
#if defined(__SYNTHESIS__) || defined(HLSGEN_EXACT_ACC)
template <int W> struct acc_type { typedef ap_int<W> type; };
#else
template <int W, bool SMALL = (W <= 31)> struct acc_type { typedef long long type; };
template <int W> struct acc_type<W, true> { typedef int type; };
#endif
#ifdef __SYNTHESIS__
#define HLSGEN_CHECK_RANGE(v, W)
#else
void hlsgen_range_error(long long v, int w, const char* what);
#define HLSGEN_CHECK_RANGE(v, W)                                                          \
    do {                                                                                  \
        long long hlsgen_v_ = (long long)(v);                                             \
        if ((W) < 64 && (hlsgen_v_ >= (1LL << ((W) - 1)) || hlsgen_v_ < -(1LL << ((W) - 1)))) \
            hlsgen_range_error(hlsgen_v_, (W), #v);                                       \
    } while (0)
#endif

// ---- integer primitives (quant/intops.py) --------------------------------------------------------

// round_shift: x / 2**shift rounded half up, 0 <= shift (runtime). Result has the width of x.
// (x + 2**(shift-1)) >> shift is 0 for every W-bit x once shift >= W (signed) or > W (unsigned).
template <int W>
ap_int<W> round_shift(ap_int<W> x, int shift) {
    HLSGEN_PRAGMA(HLS INLINE)
    if (shift <= 0) return x;
    if (shift >= W) return 0;
    ap_int<W + 1> t = x;
    ap_int<W + 1> half = 1;
    half <<= (shift - 1);
    t += half;
    return ap_int<W>(t >> shift);
}

template <int W>
ap_uint<W> round_shift_u(ap_uint<W> x, int shift) {
    HLSGEN_PRAGMA(HLS INLINE)
    if (shift <= 0) return x;
    if (shift > W) return 0;
    ap_uint<W + 1> t = x;
    ap_uint<W + 1> half = 1;
    half <<= (shift - 1);
    t += half;
    return ap_uint<W>(t >> shift);
}

// saturate to a signed `bits`-wide code (runtime bits, 1 <= bits <= W): AP_SAT
template <int W>
ap_int<W> saturate(ap_int<W> x, int bits) {
    HLSGEN_PRAGMA(HLS INLINE)
    if (bits >= W) return x;
    ap_int<W> hi = 1;
    hi <<= (bits - 1);
    hi -= 1;
    ap_int<W> lo = -hi - 1;
    return x > hi ? hi : (x < lo ? lo : x);
}

// saturate to an unsigned `bits`-wide code (negative -> 0)
template <int W>
ap_int<W> saturate_u(ap_int<W> x, int bits) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_int<W + 1> hi = 1;
    hi <<= bits;
    hi -= 1;
    if (x < 0) return 0;
    return (bits < W && x > hi) ? ap_int<W>(hi) : x;
}

// ---- requantizer ---------------------------------------------------------------------------------
// out = saturate(round_shift(acc * mult + bias, shift), bits): one DSP48E2 per lane (the bias fits
// the 48-bit post-adder, checked at generation time).
const int MULT_W = 16;
const int BIAS_W = 48;
typedef ap_int<MULT_W> mult_t;
typedef ap_int<BIAS_W> bias_t;

struct rq_t {            // scalar requantizer (per-tensor)
    long long mult;
    long long bias;
    int shift;
    int bits;
};

template <int ACC_W, int OUT_W>
ap_int<OUT_W> requant(ap_int<ACC_W> acc, mult_t mult, bias_t bias, int shift, int bits) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int P = cmax(ACC_W + MULT_W, BIAS_W) + 1;
    ap_int<P> v = acc * mult;
    v += bias;
    return ap_int<OUT_W>(saturate<P>(round_shift<P>(v, shift), bits));
}

template <int ACC_W, int OUT_W>
ap_int<OUT_W> requant(ap_int<ACC_W> acc, const rq_t& q) {
    HLSGEN_PRAGMA(HLS INLINE)
    return requant<ACC_W, OUT_W>(acc, mult_t(q.mult), bias_t(q.bias), q.shift, q.bits);
}

// residual add: int16 saturating (quant.golden.residual_add)
const int RES_W = 16;
typedef ap_int<RES_W> res_t;
inline res_t residual_add(res_t a, res_t b) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_int<RES_W + 1> s = a;
    s += b;
    return res_t(saturate<RES_W + 1>(s, RES_W));
}

// ---- weight blob reader --------------------------------------------------------------------------
// The weight blob is a byte image of DDR (little endian) read through an AXI4 master of AXI_W bits:
// byte i of the blob is bits [8*(i % (AXI_W/8)) + 7 : 8*(i % (AXI_W/8))] of word i / (AXI_W/8).
// A reader walks it sequentially (one burst per section); multi-byte fields are little endian.
template <int AXI_W>
struct blob_reader {
    static const int BYTES = AXI_W / 8;
    static const int LANES = AXI_W / 64;   // AXI_W is a multiple of 64
    const ap_uint<AXI_W>* mem;
    long word;
    int pos;
    ap_uint<64> lane[LANES];

    blob_reader(const ap_uint<AXI_W>* m, long byte_off) : mem(m), word(byte_off / BYTES), pos(byte_off % BYTES) {
        load();
    }
    void load() {
        HLSGEN_PRAGMA(HLS INLINE)
        const ap_uint<AXI_W> cur = mem[word];
        for (int c = 0; c < LANES; c++) lane[c] = cur.range(64 * c + 63, 64 * c);
    }
    ap_uint<8> byte() {
        HLSGEN_PRAGMA(HLS INLINE)
        if (pos == BYTES) {
            word++;
            load();
            pos = 0;
        }
        const ap_uint<8> b = ap_uint<8>(lane[pos / 8] >> (8 * (pos % 8)));
        pos++;
        return b;
    }
    // a little-endian signed field of NB bytes (NB <= 8)
    long long field(int nb) {
        HLSGEN_PRAGMA(HLS INLINE)
        ap_uint<64> v = 0;
        for (int i = 0; i < nb; i++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = 8)
            ap_uint<64> b = byte();
            v |= b << (8 * i);
        }
        ap_int<64> s = v;
        if (nb < 8) {
            s <<= (64 - 8 * nb);
            s >>= (64 - 8 * nb);
        }
        return s.to_int64();
    }
    void skip(long n) {
        for (long i = 0; i < n; i++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 0 max = 64)
            byte();
        }
    }
};

// ---- trace taps (C simulation only) --------------------------------------------------------------
// Every layer output the golden model traces is tapped where the kernel produces it, with its index
// in the golden array ([d0, d1, d2], rank padded on the left with 1s). The testbench defines
// hlsgen_tap and compares against the golden trace; in synthesis the taps vanish.
#ifndef __SYNTHESIS__
void hlsgen_tap(int layer, int i0, int i1, int i2, long long v);
template <int W> inline long long tap_value(const ap_int<W>& v) { return v.to_int64(); }
template <int W> inline long long tap_value(const ap_uint<W>& v) { return (long long)v.to_uint64(); }
inline long long tap_value(int v) { return v; }
inline long long tap_value(long long v) { return v; }
#define HLSGEN_TAP(layer, i0, i1, i2, v) ::hlsgen::hlsgen_tap((layer), (i0), (i1), (i2), ::hlsgen::tap_value(v))
#else
#define HLSGEN_TAP(layer, i0, i1, i2, v)
#endif

}  // namespace hlsgen

#endif
