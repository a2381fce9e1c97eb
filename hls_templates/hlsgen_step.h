// hlsgen kernel library: one step of the program, as the top's step table (PROG in vit_params.h)
// holds it. The table is rendered from the same steps the cycle model costs and the RTL twin's
// descriptor table holds (hlsgen.schedule.frame_ops); hlsgen/emit_hls.py fills the fields.
#ifndef HLSGEN_STEP_H
#define HLSGEN_STEP_H

namespace hlsgen {

// rows of a step: a constant, the current token count n, or a selector's scored tokens n - 1
enum { ROWS_CONST = 0, ROWS_N = 1, ROWS_M = 2 };
// binary engine output modes (src: 0 = A, 1 = H)
enum { BIN_ACT = 0, BIN_RES = 1, BIN_GELU = 2 };
// int8 engine destinations (src: 0 = I8IN, 1 = a selector's [local; global] features)
enum { I8_POS = 0, I8_LOGITS = 1, I8_LOCAL = 2, I8_Z = 3, I8_GATE = 4 };
// LayerNorm destinations
enum { LN_TO_A = 0, LN_TO_I8IN = 1 };
// softmax uses
enum { SM_ATTN = 0, SM_GATE = 1, SM_PKG = 2 };
// token-selector vector unit sub-steps (hlsgen.ops.SELECT_SUBS order)
enum { SEL_GELU = 0, SEL_GMEAN = 1, SEL_TMEAN = 2, SEL_SCORE = 3, SEL_COMPACT = 4 };

struct step_t {
    int op;                         // shared op code (hlsgen_arch.h OP_*)
    int block;                      // encoder block, -1 outside the blocks
    int rows_from, rows;            // ROWS_*; rows when ROWS_CONST
    int K, O;                       // matmul shape (softmax: the row width when constant)
    int w_word;                     // first AXI word of the weight section
    int rec_bytes, a_bytes, npos;   // weight record: bytes, region A bytes (weights + requantizer), pos entries
    int bias_bytes;
    int tiles, tile_bytes, last_bytes;  // weight tiles: count, bytes of a full tile and of the last one
    int tile_items, last_items;     // realigned items (region A words + pos entries) of a full / the last tile
    int mode, src;                  // engine-specific (the enums above)
    int icol, ocol, r0, head;       // first input column, first output column, first row, head
    int shift, bits;                // requantizer of the step's outputs
    int pidx;                       // constant-table index (LayerNorm, GELU, softmax, selector)
    int cond;                       // 1: skipped when the last token selector pruned nothing
    int tap, tap2;                  // golden trace layers (-1: none)
};

// the weight items of tile t of a matmul step (0 past the last tile)
inline int tile_items(const step_t& st, int t) {
    return t + 1 < st.tiles ? st.tile_items : (t + 1 == st.tiles ? st.last_items : 0);
}

}  // namespace hlsgen

#endif
