// hlsgen kernel library: common types, integer primitives, packed DSP products, taps, cycle counters.
//
// Hand-written, not generated. Every function here reproduces a primitive of quant/intops.py bit
// for bit: round_shift is round-half-up (add half an LSB, arithmetic shift right), saturation
// clamps to the two's-complement range of the target width.
//
// HLS rules kept throughout the library: static array sizes, no dynamic allocation, no recursion,
// no floating point, no hls:: math. Every access to a partitioned array has a bank that is a
// compile-time function of unrolled loop counters (hlsgen_buffers.h); every pipelined loop carries
// an HLSGEN_TRIP counter (C simulation counts its iterations, `hlsgen check` finds its II and depth).
//
// Three views of this code: synthesis (__SYNTHESIS__), the static check (HLSGEN_CHECK: what
// `hlsgen check` parses, the synthesis view with the open-source ap_types), and C simulation.
#ifndef HLSGEN_COMMON_H
#define HLSGEN_COMMON_H

#include <ap_int.h>

#include "hlsgen_arch.h"

#if defined(__SYNTHESIS__) || defined(HLSGEN_CHECK)
#define HLSGEN_SYNTH_VIEW 1
#endif

// HLS directives. HLSGEN_PRAGMA(HLS PIPELINE II = 1) is `#pragma HLS PIPELINE II = 1` for the HLS
// compiler (UG1399, "Using #define with pragma directives"); plain C++ compilers, for which the
// directives mean nothing, do not see them, so g++ -Wall reports no unknown pragmas.
#ifdef __SYNTHESIS__
#define HLSGEN_PRAGMA(x) _Pragma(#x)
#else
#define HLSGEN_PRAGMA(x)
#endif
// Marks the function that is one engine of the cycle/resource model (hlsgen check: engine-instances).
#define HLSGEN_ENGINE(name)

// Loop labels name the loops in HLS reports; nothing jumps to them.
#if defined(__GNUC__) && !defined(__SYNTHESIS__)
#pragma GCC diagnostic ignored "-Wunused-label"
#endif

// ---- cycle accounting (C simulation built with -DHLSGEN_PROFILE) ---------------------------------
// HLSGEN_TRIP(first, unit) opens the body of every pipelined loop: `first` is true on the loop's
// first iteration (an invocation), `unit` at the start of each unit of work the next task in a
// DATAFLOW region waits for (a row, a tile). HLSGEN_REGION() opens a DATAFLOW function,
// HLSGEN_STEP(pc) marks the step of the program that runs. `hlsgen csim --json` turns the counts
// into cycles with the II and depth `hlsgen check` reads from the pragmas.
#if defined(HLSGEN_PROFILE) && !defined(HLSGEN_SYNTH_VIEW)
namespace hlsgen {
namespace prof {
int site(const char* file, int line);
void trip(int site, bool first, bool unit);
void region_begin(int site);
void region_end();
void step(int pc);
struct region_scope {
    explicit region_scope(int s) { region_begin(s); }
    ~region_scope() { region_end(); }
};
}  // namespace prof
}  // namespace hlsgen
#define HLSGEN_TRIP(first, unit)                                                    \
    do {                                                                            \
        static const int hlsgen_site_ = ::hlsgen::prof::site(__FILE__, __LINE__);   \
        ::hlsgen::prof::trip(hlsgen_site_, (first), (unit));                        \
    } while (0)
#define HLSGEN_REGION()                                                             \
    static const int hlsgen_region_site_ = ::hlsgen::prof::site(__FILE__, __LINE__); \
    ::hlsgen::prof::region_scope hlsgen_region_(hlsgen_region_site_)
#define HLSGEN_STEP(pc) ::hlsgen::prof::step(pc)
#else
#define HLSGEN_TRIP(first, unit)
#define HLSGEN_REGION()
#define HLSGEN_STEP(pc)
#endif

namespace hlsgen {

// ---- width arithmetic (compile time) -----------------------------------------------------------
constexpr int cmax(int a, int b) { return a > b ? a : b; }
constexpr int cmin(int a, int b) { return a < b ? a : b; }
constexpr int cdiv(int a, int b) { return (a + b - 1) / b; }
constexpr int clog2(int x) { return x <= 1 ? 0 : 1 + clog2((x + 1) / 2); }

// ---- inner-loop accumulators ---------------------------------------------------------------------
// The MAC inner loops accumulate into ap_int<W> in synthesis. In C simulation they use a native
// integer of at least W bits: the values are bounded by construction (W is the proven bound), so
// the results are identical, and g++ runs native adds ~4x faster than ap_int ones. Every
// accumulator is range-checked against W once per output in C simulation (HLSGEN_CHECK_RANGE), so
// a width that is too small still fails csim. Defining HLSGEN_EXACT_ACC makes C simulation use the
// synthesis types too (`hlsgen csim --exact-acc`).
#if defined(HLSGEN_SYNTH_VIEW) || defined(HLSGEN_EXACT_ACC)
template <int W> struct acc_type { typedef ap_int<W> type; };
#else
template <int W, bool SMALL = (W <= 31)> struct acc_type { typedef long long type; };
template <int W> struct acc_type<W, true> { typedef int type; };
#endif
#ifdef HLSGEN_SYNTH_VIEW
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

// ---- loop sizes ------------------------------------------------------------------------------------
// The product of two runtime loop sizes (rows x steps per row), evaluated once per step: a small LUT
// multiplier rather than DSPs (TRIP_BITS-bit unsigned operands; C simulation checks they fit).
const int TRIP_BITS = 18;
inline int trip_mul(int a, int b) {
    HLSGEN_PRAGMA(HLS INLINE)
    HLSGEN_CHECK_RANGE(a, TRIP_BITS);
    HLSGEN_CHECK_RANGE(b, TRIP_BITS);
    const ap_uint<2 * TRIP_BITS> p = ap_uint<TRIP_BITS>(a) * ap_uint<TRIP_BITS>(b);
    HLSGEN_PRAGMA(HLS BIND_OP variable = p op = mul impl = fabric)
    return p;
}

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
const int MULT_W = MULT_BITS;
const int BIAS_W = BIAS_LIMIT_BITS;
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

// ---- the flattened tiles x rows x steps loop of the matrix engines --------------------------------
// After iteration ti of tile t (step j of row r): the next position. A tile lasts per_tile iterations
// (its compute, or the fill of the next tile if longer); returns true when tile t + 1 begins, with the
// double buffers swapped (front) and the fill count fi restarted.
inline bool tile_advance(int& t, int& r, int& j, int& ti, int& front, int& fi, int steps, int per_tile, int tiles) {
    HLSGEN_PRAGMA(HLS INLINE)
    j++;
    if (j == steps) {
        j = 0;
        r++;
    }
    ti++;
    if (ti == per_tile && t + 1 < tiles) {
        ti = 0;
        r = 0;
        j = 0;
        t++;
        front = 1 - front;
        fi = 0;
        return true;
    }
    return false;
}

// ---- two products per DSP48E2 (Xilinx WP486) ------------------------------------------------------
// w_hi * a and w_lo * a from one 27 x 18 multiply: (w_hi * 2**PACK_SHIFT + w_lo) * a. Sums of up to
// DSP_CHAIN such products (a DSP cascade: 4 x 255 x 128 < 2**17) keep the low sum inside its PACK_SHIFT-bit field, so
// splitting the sum (sign-extend the low field, subtract, shift) gives both sums exactly.
const int PACK_SHIFT = 18;     // w_hi * 2**18 + w_lo fits the 27-bit pre-adder for every int8 pair (WP486)
const int PACK_W = 48;         // the P register
typedef ap_int<PACK_W> packed_t;

inline packed_t mul2(ap_int<8> w_hi, ap_int<8> w_lo, ap_int<9> a) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_int<27> wp = w_hi;
    wp <<= PACK_SHIFT;
    wp += w_lo;
    packed_t p = wp * a;      // one DSP48E2 (27 x 18)
    return p;
}

// the two sums packed in p: lo = sum of w_lo * a, hi = sum of w_hi * a
inline void split2(packed_t p, ap_int<PACK_SHIFT>& lo, ap_int<PACK_W - PACK_SHIFT>& hi) {
    HLSGEN_PRAGMA(HLS INLINE)
    lo = ap_int<PACK_SHIFT>(p.range(PACK_SHIFT - 1, 0));
    packed_t rest = p - packed_t(lo);
    hi = ap_int<PACK_W - PACK_SHIFT>(rest >> PACK_SHIFT);
}

// acc[p] (+)= sum_s w[p][s] * x[s] over PE lanes x SIMD inputs of int8 weights, two lanes per DSP48E2
// (mul2: the weights of a PE pair share the input), sums along cascades of DSP_CHAIN products split
// once per chain, then an adder tree over the chains. The int8 and attention engines' MAC array.
template <int PE, int SIMD, int ACC_W, class X>
void packed_mac(const X x[SIMD], const ap_int<8> w[PE][SIMD], typename acc_type<ACC_W>::type acc[PE], bool first) {
    HLSGEN_PRAGMA(HLS INLINE)
    typedef typename acc_type<ACC_W>::type acc_t;
    const int CH = cmin(SIMD, DSP_CHAIN);
    if (PE == 1) {
        acc_t ps = 0;
    mac_single:
        for (int s = 0; s < SIMD; s++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            ps += w[0][s] * x[s];
        }
        acc[0] = first ? ps : acc_t(acc[0] + ps);
        return;
    }
mac_pairs:
    for (int q = 0; q < PE / 2; q++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        acc_t hi_sum = 0, lo_sum = 0;
    mac_chains:
        for (int c = 0; c < SIMD / CH; c++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            packed_t chain = 0;
        mac_chain:
            for (int s = c * CH; s < c * CH + CH; s++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                chain += mul2(w[2 * q][s], w[2 * q + 1][s], ap_int<9>(x[s]));
            }
            ap_int<PACK_SHIFT> lo;
            ap_int<PACK_W - PACK_SHIFT> hi;
            split2(chain, lo, hi);
            hi_sum += hi;
            lo_sum += lo;
        }
        acc[2 * q] = first ? hi_sum : acc_t(acc[2 * q] + hi_sum);
        acc[2 * q + 1] = first ? lo_sum : acc_t(acc[2 * q + 1] + lo_sum);
    }
}

// ---- trace taps (C simulation only) --------------------------------------------------------------
// Every layer output the golden model traces is tapped where the kernel produces it, with its index
// in the golden array ([d0, d1, d2], rank padded on the left with 1s). The testbench defines
// hlsgen_tap and compares against the golden trace; in synthesis the taps vanish.
#ifndef HLSGEN_SYNTH_VIEW
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
