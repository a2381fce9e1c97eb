// hlsgen kernel library: the image in, the class-token row, the result out (hlsgen.ops.ImageLoad).
//
//   image_load    one DATAFLOW region of two independent chains: the image's AXI words -> patch
//                 rows of I8IN (one PATCH-byte segment of a pixel row per cycle: the im2col of the
//                 patch embedding), and the class-token row (cls + pos[0], int16) from the weight
//                 blob -> X row 0.
//   result_write  logits (LOGITS) and the token count of every block -> the result words.
// Every m_axi access is an unconditional pipelined loop feeding or draining a stream.
#ifndef HLSGEN_IO_H
#define HLSGEN_IO_H

#include <hls_stream.h>

#include "hlsgen_buffers.h"

namespace hlsgen {

template <class C>
void image_dma(const typename C::axi_t* image, hls::stream<typename C::axi_t>& words) {
image_burst:
    for (int i = 0; i < C::IMG_WORDS; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_TRIP(i == 0, true);             // a unit: each word (the scatter starts on the first)
        words.write(image[i]);
    }
}

// pixel (ch, y, x) -> I8IN[patch (y / P) * GRID + x / P][ch * P * P + (y % P) * P + x % P]
template <class C>
void image_scatter(hls::stream<typename C::axi_t>& words, typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH]) {
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = I8IN complete dim = 1)
    const int P = C::PATCH, SEGS = C::AXI_W / (8 * C::PATCH);
    typename C::axi_t sr = 0;
    int ch = 0, y = 0, gx = 0;
image_segments:
    for (int it = 0; it < C::IMG_BYTES / P; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::IO_DEPTH)
        HLSGEN_TRIP(it == 0, it % SEGS == 0);
        const typename C::axi_t w = it % SEGS == 0 ? words.read() : sr;
        sr = w >> (8 * P);
        const ap_uint<8 * C::PATCH> seg = w.range(8 * P - 1, 0);
        group_write<typename C::GI8IN, C::PATCH>(I8IN, (y / P) * C::GRID + gx, ch * P * P + (y % P) * P, seg);
        gx++;
        if (gx == C::GRID) {
            gx = 0;
            y++;
            if (y == C::IMG) {
                y = 0;
                ch++;
            }
        }
    }
}

template <class C>
void cls_dma(const typename C::axi_t* wmem, hls::stream<typename C::axi_t>& words) {
cls_burst:
    for (int i = 0; i < C::CLS_WORDS; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_TRIP(i == 0, true);
        words.write(wmem[C::CLS_WORD + i]);
    }
}

template <class C>
void cls_write(hls::stream<typename C::axi_t>& words, typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH]) {
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = X complete dim = 1)
    const int XW = C::GX::W, PER = C::AXI_W / (16 * C::GX::W);
    typename C::axi_t sr = 0;
cls_lanes:
    for (int it = 0; it < C::D / XW; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::IO_DEPTH)
        HLSGEN_TRIP(it == 0, it % PER == 0);
        const typename C::axi_t w = it % PER == 0 ? words.read() : sr;
        sr = w >> (16 * XW);
        const ap_uint<16 * C::GX::W> v = w.range(16 * XW - 1, 0);
        group_write<typename C::GX, C::GX::W>(X, 0, it * XW, v);
    cls_taps:
        for (int l = 0; l < XW; l++) {
            HLSGEN_PRAGMA(HLS UNROLL)
            HLSGEN_TAP(C::TAP_PATCH, 0, 0, it * XW + l, (lane_s<16, C::GX::W>(v, l)));
        }
    }
}

template <class C>
void image_load(const typename C::axi_t* image, const typename C::axi_t* wmem,
                typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH], typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH]) {
    HLSGEN_ENGINE(image)
    HLSGEN_PRAGMA(HLS DATAFLOW)
    HLSGEN_REGION();
    hls::stream<typename C::axi_t> img("img_words"), cls("cls_words");
    HLSGEN_PRAGMA(HLS STREAM variable = img depth = 4)
    HLSGEN_PRAGMA(HLS STREAM variable = cls depth = 4)
    image_dma<C>(image, img);
    image_scatter<C>(img, I8IN);
    cls_dma<C>(wmem, cls);
    cls_write<C>(cls, X);
}

// ---- result --------------------------------------------------------------------------------------
template <class C>
void result_pack(const typename C::GLOGITS::word_t LOGITS[C::GLOGITS::NB][C::GLOGITS::DEPTH], const int tokens[C::DEPTH],
                 hls::stream<typename C::axi_t>& words) {
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = LOGITS complete dim = 1)
    const int PER = C::AXI_W / 16;
    typename C::axi_t w = 0;
result_values:
    for (int i = 0; i < C::RESULT_WORDS * PER; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LATENCY max = C::IO_DEPTH)
        HLSGEN_TRIP(i == 0, i == 0);
        ap_uint<16> v = 0;
        if (i < C::CLASSES) {
            const ap_uint<16 * C::GLOGITS::W> lanes = group_read<typename C::GLOGITS, C::GLOGITS::W>(LOGITS, 0, (i / C::GLOGITS::W) * C::GLOGITS::W);
            v = lanes >> (16 * (i % C::GLOGITS::W));
        } else if (i < C::CLASSES + C::DEPTH) {
            v = ap_uint<16>(tokens[i - C::CLASSES]);
        }
        w = (v, ap_uint<C::AXI_W - 16>(w >> 16));
        if (i % PER == PER - 1) words.write(w);
    }
}

template <class C>
void result_dma(hls::stream<typename C::axi_t>& words, typename C::axi_t* result) {
result_burst:
    for (int i = 0; i < C::RESULT_WORDS; i++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_TRIP(i == 0, i == 0);
        result[i] = words.read();
    }
}

template <class C>
void result_write(const typename C::GLOGITS::word_t LOGITS[C::GLOGITS::NB][C::GLOGITS::DEPTH], const int tokens[C::DEPTH],
                  typename C::axi_t* result) {
    HLSGEN_PRAGMA(HLS DATAFLOW)
    HLSGEN_REGION();
    hls::stream<typename C::axi_t> words("result_words");
    result_pack<C>(LOGITS, tokens, words);
    result_dma<C>(words, result);
}

}  // namespace hlsgen

#endif
