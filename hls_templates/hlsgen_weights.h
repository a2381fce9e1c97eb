// hlsgen kernel library: the weight stream of the matmul engines (hlsgen/emit_blob.py layout).
//
// A matmul step's weight section is O channel records of rec_bytes bytes, word-aligned at its start
// (w_word); tile t holds records [t*PE, t*PE + PE) back to back, so one tile is one burst. A record
// is region A (the channel's weights and its requantizer multiplier and bias, a_bytes bytes) then
// region B (npos int16 pos-embed values: the patch embedding only).
//   weights_dma      per tile one unconditional pipelined loop of AXI words: one burst request
//                    (the m_axi adapter's FIFO holds max_read_burst_length x num_read_outstanding words)
//   weights_realign  the byte realigner: per record ceil(a_bytes / AXI_BYTES) words of region A, each
//                    starting at a record byte that is a multiple of AXI_BYTES, then one item per
//                    pos-embed value; a two-word funnel shifter over the burst, one item per cycle.
// Both run as tasks of the matmul DATAFLOW region (hlsgen_matmul.h) beside the engine that consumes
// the items; C simulation checks that the engine consumes exactly what the realigner produces.
#ifndef HLSGEN_WEIGHTS_H
#define HLSGEN_WEIGHTS_H

#include <hls_stream.h>

#include "hlsgen_bits.h"
#include "hlsgen_step.h"

namespace hlsgen {

// the records a tile of a matmul step streams (sizes from the step: no multiplier in the stream)
struct tile_plan {
    int tiles, tile_bytes, last_bytes;  // tiles of PE records; bytes of a full tile and of the last one
    int tile_items, last_items;         // items the realigner makes of a full / the last tile
    int rec_bytes, a_bytes, npos;       // record bytes, region A bytes, pos-embed entries
    int w_word;                         // first AXI word of the section
};

template <int AXI_W>
void dma_records(const ap_uint<AXI_W>* wmem, const tile_plan tp, hls::stream<ap_uint<AXI_W> >& words) {
    const int WB = AXI_W / 8;
    long b0 = 0;                                         // the tile's first byte in the section
dma_tiles:
    for (int t = 0; t < tp.tiles; t++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = 1024)
        const int nbytes = t + 1 < tp.tiles ? tp.tile_bytes : tp.last_bytes;
        const long first = tp.w_word + b0 / WB;
        const int nw = (int)((b0 + nbytes - 1) / WB - b0 / WB + 1);
    dma_burst:
        for (int i = 0; i < nw; i++) {
            HLSGEN_PRAGMA(HLS PIPELINE II = 1)
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = 4096)
            HLSGEN_TRIP(i == 0, i == 0);
            words.write(wmem[first + i]);
        }
        b0 += tp.tile_bytes;
    }
}

// Items of a tile: per record, a_words = ceil(a_bytes / WB) words of region A, then npos 2-byte items.
template <int AXI_W>
void realign_records(const tile_plan tp, hls::stream<ap_uint<AXI_W> >& words, hls::stream<ap_uint<AXI_W> >& items) {
    const int WB = AXI_W / 8;
    const int a_words = (tp.a_bytes + WB - 1) / WB;
    const int per_rec = a_words + tp.npos;
    long b0 = 0;
realign_tiles:
    for (int t = 0; t < tp.tiles; t++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = 1024)
        const bool last = t + 1 == tp.tiles;
        const int nbytes = last ? tp.last_bytes : tp.tile_bytes;
        const int nitems = last ? tp.last_items : tp.tile_items;
        const int skew = (int)(b0 % WB);                     // tile start within its first word
        const int nw = (int)((b0 + nbytes - 1) / WB - b0 / WB + 1);
        ap_uint<AXI_W> cur = words.read();
        ap_uint<AXI_W> nxt = nw > 1 ? words.read() : ap_uint<AXI_W>(0);
        int have = nw > 1 ? 2 : 1, wi = 0, k = 0;
        long rec = skew;                                     // the record's first byte, in the tile's words
        long pos = skew;                                     // the item's first byte
    realign_items:
        for (int it = 0; it < nitems; it++) {
            HLSGEN_PRAGMA(HLS PIPELINE II = 1)
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = 65536)
            HLSGEN_PRAGMA(HLS LATENCY max = 2)   // word select and shift: a stream-to-stream stage
            HLSGEN_TRIP(it == 0, k == 0);
            if (pos / WB > wi) {                             // at most one word further per item
                cur = nxt;
                if (have < nw) {
                    nxt = words.read();
                    have++;
                } else {
                    nxt = 0;
                }
                wi++;
            }
            items.write(funnel<AXI_W>(cur, nxt, 8 * (int)(pos % WB)));
            k++;
            if (k == per_rec) {
                k = 0;
                rec += tp.rec_bytes;
                pos = rec;
            } else {
                pos += k < a_words ? WB : (k == a_words ? tp.a_bytes - (a_words - 1) * WB : 2);
            }
        }
        b0 += tp.tile_bytes;
    }
}

// the weight records of a matmul step
template <class C>
tile_plan plan_of(const step_t& st) {
    HLSGEN_PRAGMA(HLS INLINE)
    tile_plan tp;
    tp.tiles = st.tiles;
    tp.tile_bytes = st.tile_bytes;
    tp.last_bytes = st.last_bytes;
    tp.tile_items = st.tile_items;
    tp.last_items = st.last_items;
    tp.rec_bytes = st.rec_bytes;
    tp.a_bytes = st.a_bytes;
    tp.npos = st.npos;
    tp.w_word = st.w_word;
    return tp;
}

template <class C>
void weights_dma(const typename C::axi_t* wmem, const step_t& st, hls::stream<typename C::axi_t>& words) {
    dma_records<C::AXI_W>(wmem, plan_of<C>(st), words);
}

template <class C>
void weights_realign(const step_t& st, hls::stream<typename C::axi_t>& words, hls::stream<typename C::axi_t>& items) {
    realign_records<C::AXI_W>(plan_of<C>(st), words, items);
}

// the requantizer constants of a record: multiplier and bias at byte `at` of region A, found in the
// item that holds their last byte (k) and the one before it (prev)
template <int AXI_W>
void record_consts(ap_uint<AXI_W> item, ap_uint<AXI_W> prev, int k, int at, int bias_bytes, mult_t& m, bias_t& b) {
    HLSGEN_PRAGMA(HLS INLINE)
    const int WB = AXI_W / 8;
    const ap_uint<3 * AXI_W> win = (ap_uint<AXI_W>(0), item, prev);
    const int byte = at - (k - 1) * WB;                  // in [1, 2 WB)
    const ap_uint<64> f = ap_uint<64>(win >> (8 * byte));
    m = mult_t(f.range(15, 0));
    ap_int<48> b48 = ap_int<48>(f.range(63, 16));
    b = bias_bytes == REQ_BIAS_BYTES ? bias_t(ap_int<32>(b48)) : bias_t(b48);
}

// ---- tile fills: one item of a tile's weight records per call (inlined into the engine's loop) -------
// A word of region A (item fk of lane fp's record) goes to bank fk % WSTEP of that lane's record words:
// each bank index is an unrolled counter, so every write has a fixed bank.
template <int AXI_W, int PE, int WPR, int WSTEP>
void fill_word(const ap_uint<AXI_W> item, int half, int fp, int fk, ap_uint<AXI_W> wbuf[2][PE][WPR]) {
    HLSGEN_PRAGMA(HLS INLINE)
fill_lanes:
    for (int p = 0; p < PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        if (p == fp) {
        fill_banks:
            for (int q = 0; q < WSTEP; q++) {
                HLSGEN_PRAGMA(HLS UNROLL)
                if (q == fk % WSTEP) wbuf[half][p][(fk / WSTEP) * WSTEP + q] = item;
            }
        }
    }
}

// The binary engine's records as WSTEP banks of record words (word a * WSTEP + q in bank q, address a):
// WSTEP may be 3, so bank and address are counted by the caller (fq, fa), not computed with % and /.
template <int AXI_W, int PE, int WSTEP, int WPB>
void fill_banked(const ap_uint<AXI_W> item, int half, int fp, int fq, int fa, ap_uint<AXI_W> wbuf[2][PE][WSTEP][WPB]) {
    HLSGEN_PRAGMA(HLS INLINE)
fill_banked_lanes:
    for (int p = 0; p < PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
    fill_banked_banks:
        for (int q = 0; q < WSTEP; q++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            if (p == fp && q == fq) wbuf[half][p][q][fa] = item;
        }
    }
}

// the next record word: bank fq, address fa (fa * WSTEP + fq counts the words)
template <int WSTEP>
void next_word(int& fq, int& fa) {
    HLSGEN_PRAGMA(HLS INLINE)
    if (fq == WSTEP - 1) {
        fq = 0;
        fa++;
    } else {
        fq++;
    }
}

// lane fp's requantizer constants, taken when item fk holds their last byte (fk == c_last)
template <int AXI_W, int PE>
void fill_consts(const ap_uint<AXI_W> item, const ap_uint<AXI_W> prev, int fp, int fk, int c_last, int at,
                 int bias_bytes, mult_t m[PE], bias_t b[PE]) {
    HLSGEN_PRAGMA(HLS INLINE)
    mult_t mv;
    bias_t bv;
    record_consts<AXI_W>(item, prev, fk, at, bias_bytes, mv, bv);
fill_const_lanes:
    for (int p = 0; p < PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        if (fk == c_last && p == fp) {
            m[p] = mv;
            b[p] = bv;
        }
    }
}

// a new tile: the constants filled during the last one become the current ones
template <int PE>
void swap_consts(mult_t m_front[PE], bias_t b_front[PE], const mult_t m_back[PE], const bias_t b_back[PE]) {
    HLSGEN_PRAGMA(HLS INLINE)
swap_lanes:
    for (int p = 0; p < PE; p++) {
        HLSGEN_PRAGMA(HLS UNROLL)
        m_front[p] = m_back[p];
        b_front[p] = b_back[p];
    }
}

}  // namespace hlsgen

#endif
