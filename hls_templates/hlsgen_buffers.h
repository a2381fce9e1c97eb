// hlsgen kernel library: banked on-chip buffers whose every access has a compile-time bank.
//
// A buffer of ROWS x COLS values of B bits is NB banks (ARRAY_PARTITION complete on dim 1) of
// words of W lanes: element (r, c) is lane c % W of word r * WPR + c / SPAN in bank (c / W) % NB,
// with SPAN = W * NB lanes and WPR = COLS / SPAN words per row. W is the greatest common divisor of
// the engines' access widths, SPAN their least common multiple (hlsgen/buffers.py; with powers of two
// the narrowest and the widest access), so every access is whole words and never straddles a span:
//   span_read / span_write   one address in every bank: SPAN lanes, the widest access;
//   group_write<A>           A lanes (W <= A <= SPAN) at column c: each bank of the span gets a write
//                            enable that compares its group with c (a decoder, not a data mux);
//   group_read<A>            every bank read at one address, the group of c selected (an A-lane
//                            SPAN/A:1 multiplexer); narrower sequential readers shift a span instead.
// Column arithmetic divides by SPAN and A, which may be 3 x 2^m: udiv (a shift and a multiply), never a
// divider. Bank indices are functions of unrolled loop counters only, and a helper touches each bank at most
// once, so a pipelined loop that reads and writes a buffer uses at most the two ports of each bank.
#ifndef HLSGEN_BUFFERS_H
#define HLSGEN_BUFFERS_H

#include "hlsgen_bits.h"

namespace hlsgen {

template <int B_, int W_, int NB_, int ROWS_, int COLS_>
struct geom {
    static const int B = B_, W = W_, NB = NB_, SPAN = W_ * NB_, ROWS = ROWS_, COLS = COLS_;
    static const int WPR = COLS_ / (W_ * NB_), DEPTH = ROWS_ * (COLS_ / (W_ * NB_));
    typedef ap_uint<B_ * W_> word_t;
    typedef ap_uint<B_ * W_ * NB_> span_t;
};

template <class G>
typename G::span_t span_read(const typename G::word_t buf[G::NB][G::DEPTH], int r, int s) {
    HLSGEN_PRAGMA(HLS INLINE)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = buf complete dim = 1)
    typename G::span_t v = 0;
    const int addr = r * G::WPR + s;
#ifdef HLSGEN_SYNTH_VIEW
span_read_banks:
    for (int j = 0; j < G::NB; j++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        v.range(G::B * G::W * (j + 1) - 1, G::B * G::W * j) = buf[j][addr];
    }
#else
    const int BW = G::B * G::W;
    chunks<G::B * G::SPAN> c;
    for (int i = 0; i <= chunks<G::B * G::SPAN>::N; i++) c.c[i] = 0;
    for (int j = 0; j < G::NB; j++) {
        chunks<BW> w;
        to_chunks<BW>(buf[j][addr], w);
        for (int i = 0; i < chunks<BW>::N; i++) put_bits<G::B * G::SPAN>(c, BW * j + 64 * i, cmin(64, BW - 64 * i), w.c[i]);
    }
    from_chunks<G::B * G::SPAN>(v, c);
#endif
    return v;
}

template <class G>
void span_write(typename G::word_t buf[G::NB][G::DEPTH], int r, int s, typename G::span_t v) {
    HLSGEN_PRAGMA(HLS INLINE)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = buf complete dim = 1)
span_write_banks:
    for (int j = 0; j < G::NB; j++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        buf[j][r * G::WPR + s] = lanes<G::B, G::SPAN, G::W>(v, G::W * j);
    }
}

// A lanes (a multiple of W dividing SPAN) at group `sel` of span word `word` of row r: a write at a
// cursor the caller advances (group_cursor_next), with no column arithmetic on the address path
template <class G, int A>
void group_write_at(typename G::word_t buf[G::NB][G::DEPTH], int r, int word, int sel, ap_uint<G::B * A> v) {
    HLSGEN_PRAGMA(HLS INLINE)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = buf complete dim = 1)
#ifndef HLSGEN_SYNTH_VIEW
    if (word < 0 || word >= G::WPR || sel < 0 || sel >= G::SPAN / A) throw "hlsgen: write cursor out of its row";
#endif
    const int addr = r * G::WPR + word;
group_write_groups:
    for (int g = 0; g < G::SPAN / A; g++) {
        HLSGEN_PRAGMA(HLS UNROLL)
    group_write_banks:
        for (int j = 0; j < A / G::W; j++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (G::SPAN / A == 1 || g == sel) buf[g * (A / G::W) + j][addr] = lanes<G::B, A, G::W>(v, G::W * j);
        }
    }
}

// the (span word, group of A lanes) of column c (a multiple of A). With a 3 x 2^n span this costs a
// multiply (udiv): a row written A lanes at a time takes it once and then advances a cursor
template <class G, int A>
void group_cursor_at(int c, int& word, int& sel) {
    HLSGEN_PRAGMA(HLS INLINE)
    word = udiv<G::SPAN>(c);
    sel = A == G::SPAN ? 0 : udiv<A>(umod<G::SPAN>(c));
}

// A lanes at column c (a multiple of A) of row r
template <class G, int A>
void group_write(typename G::word_t buf[G::NB][G::DEPTH], int r, int c, ap_uint<G::B * A> v) {
    HLSGEN_PRAGMA(HLS INLINE)
    int word, sel;
    group_cursor_at<G, A>(c, word, sel);
    group_write_at<G, A>(buf, r, word, sel, v);
}

// advance a write cursor by GROUPS groups (a compile-time count)
template <class G, int A, int GROUPS>
void group_cursor_next(int& word, int& sel) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int NG = G::SPAN / A;
    if (NG == 1) {
        word += GROUPS;
        return;
    }
    const int s = sel + GROUPS % NG;
    word += GROUPS / NG + (s >= NG ? 1 : 0);
    sel = s >= NG ? s - NG : s;
}

// C simulation: the cursor is the column the golden trace taps (a cursor bug fails here, at its source)
template <class G, int A>
void group_cursor_check(int word, int sel, int c) {
    HLSGEN_PRAGMA(HLS INLINE)
#ifndef HLSGEN_SYNTH_VIEW
    if (word * G::SPAN + sel * A != c) throw "hlsgen: write cursor is not at its column";
#endif
}

// group `sel` of A lanes out of a span (an A-lane SPAN/A:1 multiplexer)
template <class G, int A>
ap_uint<G::B * A> span_group(const typename G::span_t& s, int sel) {
    HLSGEN_PRAGMA(HLS INLINE)
    ap_uint<G::B * A> v = 0;
span_group_groups:
    for (int g = 0; g < G::SPAN / A; g++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        if (g == sel) v = lanes<G::B, G::SPAN, A>(s, A * g);
    }
    return v;
}

template <class G, int A>
ap_uint<G::B * A> group_read(const typename G::word_t buf[G::NB][G::DEPTH], int r, int c) {
    HLSGEN_PRAGMA(HLS INLINE)
    int word, sel;
    group_cursor_at<G, A>(c, word, sel);
    return span_group<G, A>(span_read<G>(buf, r, word), sel);
}

// step j of a row read A lanes at a time (column j * A): SPAN / A is a power of two (a span is the lcm of
// powers of two and at most one 3 x 2^n width), so the word and the group are a shift and a mask of j
template <class G, int A>
ap_uint<G::B * A> group_read_step(const typename G::word_t buf[G::NB][G::DEPTH], int r, int j) {
    HLSGEN_PRAGMA(HLS INLINE)
    static_assert(((G::SPAN / A) & (G::SPAN / A - 1)) == 0, "group_read_step: SPAN / A must be a power of two");
    return span_group<G, A>(span_read<G>(buf, r, udiv<G::SPAN / A>(j)), umod<G::SPAN / A>(j));
}

// lane i of a packed word as a signed / unsigned value of B bits
template <int B, int N>
ap_int<B> lane_s(const ap_uint<B * N>& v, int i) {
    HLSGEN_PRAGMA(HLS INLINE)
    return ap_int<B>(lanes<B, N, 1>(v, i));
}
template <int B, int N>
ap_uint<B> lane_u(const ap_uint<B * N>& v, int i) {
    HLSGEN_PRAGMA(HLS INLINE)
    return lanes<B, N, 1>(v, i);
}

}  // namespace hlsgen

#endif
