// hlsgen kernel library: one matmul step as a canonical DATAFLOW region (hlsgen.ops.LinearBinary,
// LinearInt8): weights_dma -> weights_realign -> matmul_compute, connected by streams; the compute
// task runs the binary or the int8 engine (one call site each).
#ifndef HLSGEN_MATMUL_H
#define HLSGEN_MATMUL_H

#include <cstdio>
#include <cstdlib>

#include "hlsgen_binary.h"
#include "hlsgen_int8.h"

namespace hlsgen {

// ---- the matmul step: weight DMA, realigner, engine ------------------------------------------------
template <class C>
void matmul_compute(const step_t& st, int rows, hls::stream<typename C::axi_t>& items,
                    const typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH],
                    typename C::GH::word_t H[C::GH::NB][C::GH::DEPTH],
                    typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
                    typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH],
                    const typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH],
                    const typename C::GGLOB::word_t GLOB[C::GGLOB::NB][C::GGLOB::DEPTH],
                    typename C::GLOGITS::word_t LOGITS[C::GLOGITS::NB][C::GLOGITS::DEPTH],
                    typename C::GLOCAL::word_t LOCAL[C::GLOCAL::NB][C::GLOCAL::DEPTH],
                    typename C::GZ::word_t Z[C::GZ::NB][C::GZ::DEPTH],
                    typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH], const gelu_t& gp, const rq_t& grq) {
    if (st.op == OP_BIN)
        binary_compute<C>(st, rows, items, A, H, QKV, X, gp, grq);
    else
        int8_compute<C>(st, rows, items, I8IN, GLOB, X, LOGITS, LOCAL, Z, S);
#ifndef HLSGEN_SYNTH_VIEW
    if (!items.empty()) {
        std::fprintf(stderr, "csim: the matmul engine left weight items unread (record layout mismatch)\n");
        std::exit(3);
    }
#endif
}

template <class C>
void matmul_region(const typename C::axi_t* wmem, const step_t& st, int rows,
                   const typename C::GA::word_t A[C::GA::NB][C::GA::DEPTH],
                   typename C::GH::word_t H[C::GH::NB][C::GH::DEPTH],
                   typename C::GQKV::word_t QKV[C::GQKV::NB][C::GQKV::DEPTH],
                   typename C::GX::word_t X[C::GX::NB][C::GX::DEPTH],
                   const typename C::GI8IN::word_t I8IN[C::GI8IN::NB][C::GI8IN::DEPTH],
                   const typename C::GGLOB::word_t GLOB[C::GGLOB::NB][C::GGLOB::DEPTH],
                   typename C::GLOGITS::word_t LOGITS[C::GLOGITS::NB][C::GLOGITS::DEPTH],
                   typename C::GLOCAL::word_t LOCAL[C::GLOCAL::NB][C::GLOCAL::DEPTH],
                   typename C::GZ::word_t Z[C::GZ::NB][C::GZ::DEPTH],
                   typename C::GS::word_t S[C::GS::NB][C::GS::DEPTH], const gelu_t& gp, const rq_t& grq) {
    HLSGEN_PRAGMA(HLS DATAFLOW)
    HLSGEN_REGION();
    hls::stream<typename C::axi_t> words("words"), items("items");
    HLSGEN_PRAGMA(HLS STREAM variable = words depth = 4)
    HLSGEN_PRAGMA(HLS STREAM variable = items depth = 32)
    weights_dma<C>(wmem, st, words);
    weights_realign<C>(st, words, items);
    matmul_compute<C>(st, rows, items, A, H, QKV, X, I8IN, GLOB, LOGITS, LOCAL, Z, S, gp, grq);
}

}  // namespace hlsgen

#endif
