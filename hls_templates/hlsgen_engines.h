// hlsgen kernel library: the matrix engines and the LayerNorm pass.
//
//   linear_binary  Y = X.W, W in {-1,+1} packed 1 bit each: PE output lanes x SIMD input lanes of
//                  gate-and-add (sum_w x = 2 * sum_{w=+1} x - sum x; sum x is shared by all PEs),
//                  the per-channel requantizer, then a fused epilogue (k-bit store, residual add,
//                  or GELU + requantizer). Golden: quant.golden.linear_binary (+ residual_add, gelu).
//   linear_i8      int8 weights on the DSP engine (patch embedding with the pos-embed add, head,
//                  token-selector MLPs). Golden: quant.golden.linear_int8.
//   attn_qk/attn_av per head Q.K^T and P.V on the attention engine. Golden: attn_qk, attn_av.
//   layernorm_op   integer LayerNorm + per-channel affine requantizer. Golden: layernorm.
//
// Loop structure (hlsgen/ops.py's cycle model): weights stream from DDR in tiles of PE output
// channels into a ping-pong buffer (tile t+1 loads while tile t computes); per tile one II=1
// pipelined loop over rows x ceil(K/SIMD) with the requantizer epilogue at the end of each row.
//
// The config struct C (generated in vit_params.h) holds every static size and width.
#ifndef HLSGEN_ENGINES_H
#define HLSGEN_ENGINES_H

#include "hlsgen_common.h"
#include "hlsgen_nonlinear.h"

namespace hlsgen {

enum { OUT_ACT = 0, OUT_RES = 1, OUT_GELU = 2 };

// One binary layer: its blob section holds O channel records of
//   ceil(K/8) bytes of weight bits (bit k of byte k/8 at position k%8; 1 = +1, 0 = -1),
//   int16 requantizer multiplier, int(8*bias_bytes) requantizer bias (little endian).
struct bin_layer_t {
    long long w_off;      // byte offset of the section in the weight blob
    int K, O;             // input / output channels (K % SIMD == 0, O % PE == 0)
    int in_off, out_off;  // column offsets in the activation buffer
    int mode;             // OUT_ACT, OUT_RES or OUT_GELU
    int shift, bits;      // requantizer shift and output width
    int bias_bytes;
    int tap, tap2;        // trace layer ids: requantized output; residual sum / GELU output
};

// ---- binary engine -----------------------------------------------------------------------------
// Tile t of a binary layer: PE consecutive channel records, one burst from DDR.
template <class C>
void bin_load_tile(const ap_uint<C::AXI_W>* wmem, const bin_layer_t& L, int t,
                   ap_uint<C::SIMD> w[C::PE][C::BK_MAX / C::SIMD], mult_t m[C::PE], bias_t b[C::PE]) {
    const int kbytes = (L.K + 7) / 8;
    blob_reader<C::AXI_W> rd(wmem, L.w_off + (long long)t * C::PE * (kbytes + 2 + L.bias_bytes));
bin_load:
    for (int p = 0; p < C::PE; p++) {
        for (int j = 0; j < kbytes; j++) {
            HLSGEN_PRAGMA(HLS PIPELINE II = 1)
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::BK_MAX / 8)
            ap_uint<8> byte = rd.byte();
            if (C::SIMD % 8 == 0) {
                const int k = 8 * j;
                w[p][k / C::SIMD].range(k % C::SIMD + 7, k % C::SIMD) = byte;
            } else {
                for (int bit = 0; bit < 8; bit++) {
                    const int k = 8 * j + bit;
                    if (k < L.K) w[p][k / C::SIMD][k % C::SIMD] = byte[bit];
                }
            }
        }
        m[p] = rd.field(2);
        b[p] = rd.field(L.bias_bytes);
    }
}

template <class C>
void bin_compute_tile(const ap_uint<C::SIMD> w[C::PE][C::BK_MAX / C::SIMD], const mult_t m[C::PE],
                      const bias_t b[C::PE], const bin_layer_t& L, int t, int n,
                      typename C::act_t act[C::N_MAX][C::ACT_COLS], res_t x[C::N_MAX][C::D],
                      const gelu_t& gq, const rq_t& grq) {
    typedef typename acc_type<C::BIN_ACC_W + 1>::type acc_t;
    typedef typename acc_type<C::BIN_PS_W>::type ps_t;
    const int ks_n = L.K / C::SIMD;
    acc_t acc[C::PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
    acc_t sx = 0;
    int r = 0, ks = 0;
bin_rows_k:
    for (int it = 0; it < n * ks_n; it++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::BK_MAX / C::SIMD)
        if (ks == 0) {
            for (int p = 0; p < C::PE; p++) acc[p] = 0;
            sx = 0;
        }
        ps_t xv[C::SIMD];
        HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = xv complete)
        ps_t xs = 0;
        for (int s = 0; s < C::SIMD; s++) {
            xv[s] = act[r][L.in_off + ks * C::SIMD + s];
            xs += xv[s];
        }
        sx += xs;
    bin_pe:
        for (int p = 0; p < C::PE; p++) {
            // gate-and-add: each lane passes x where the weight bit is 1 (+1), else 0
            ps_t ps = 0;
            for (int c = 0; c < (C::SIMD + 63) / 64; c++) {
                const int lo = 64 * c, nb = cmin(64, C::SIMD - 64 * c);
                const ap_uint<64> bits = C::SIMD <= 64 ? ap_uint<64>(w[p][ks]) : ap_uint<64>(w[p][ks].range(lo + nb - 1, lo));
                const unsigned long long ub = bits.to_uint64();
                for (int s = 0; s < nb; s++) ps += xv[lo + s] & -(ps_t)((ub >> s) & 1);
            }
            acc[p] += ps;
        }
        if (ks == ks_n - 1) {
        bin_epilogue:
            for (int p = 0; p < C::PE; p++) {
                const int o = t * C::PE + p;
                const acc_t val = 2 * acc[p] - sx;
                HLSGEN_CHECK_RANGE(val, C::BIN_ACC_W);
                ap_int<RES_W> y = requant<C::BIN_ACC_W, RES_W>(ap_int<C::BIN_ACC_W>(val), m[p], b[p], L.shift, L.bits);
                HLSGEN_TAP(L.tap, 0, r, o, y);
                if (L.mode == OUT_ACT) {
                    act[r][L.out_off + o] = y;
                } else if (L.mode == OUT_RES) {
                    x[r][o] = residual_add(x[r][o], y);
                    HLSGEN_TAP(L.tap2, 0, r, o, x[r][o]);
                } else {
                    ap_int<C::GELU::OUT_W> g = gelu<typename C::GELU>(ap_int<C::GELU::IN_W>(y), gq);
                    typename C::act_t a = requant<C::GELU::OUT_W, C::K_BITS>(g, grq);
                    act[r][L.out_off + o] = a;
                    HLSGEN_TAP(L.tap2, 0, r, o, a);
                }
            }
            ks = 0;
            r++;
        } else {
            ks++;
        }
    }
}

// One step of the tile pipeline: load tile t+1 into one buffer while tile t computes from the other.
template <class C>
void bin_tile_step(const ap_uint<C::AXI_W>* wmem, const bin_layer_t& L, int t, int tiles, int n,
                   ap_uint<C::SIMD> w_next[C::PE][C::BK_MAX / C::SIMD], mult_t m_next[C::PE], bias_t b_next[C::PE],
                   const ap_uint<C::SIMD> w_cur[C::PE][C::BK_MAX / C::SIMD], const mult_t m_cur[C::PE],
                   const bias_t b_cur[C::PE], typename C::act_t act[C::N_MAX][C::ACT_COLS],
                   res_t x[C::N_MAX][C::D], const gelu_t& gq, const rq_t& grq) {
    HLSGEN_PRAGMA(HLS DATAFLOW)
    if (t + 1 < tiles) bin_load_tile<C>(wmem, L, t + 1, w_next, m_next, b_next);
    bin_compute_tile<C>(w_cur, m_cur, b_cur, L, t, n, act, x, gq, grq);
}

template <class C>
void linear_binary(const ap_uint<C::AXI_W>* wmem, const bin_layer_t& L, int n,
                   typename C::act_t act[C::N_MAX][C::ACT_COLS], res_t x[C::N_MAX][C::D],
                   const gelu_t& gq, const rq_t& grq) {
    // ping-pong weight tiles (the double buffer of the cycle model)
    static ap_uint<C::SIMD> w_ping[C::PE][C::BK_MAX / C::SIMD], w_pong[C::PE][C::BK_MAX / C::SIMD];
    static mult_t m_ping[C::PE], m_pong[C::PE];
    static bias_t b_ping[C::PE], b_pong[C::PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = w_ping complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = w_pong complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = m_ping complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = m_pong complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = b_ping complete)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = b_pong complete)
    const int tiles = L.O / C::PE;
    bin_load_tile<C>(wmem, L, 0, w_ping, m_ping, b_ping);       // the first load is exposed
bin_tiles:
    for (int t = 0; t < tiles; t++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::BO_MAX / C::PE)
        if (t % 2 == 0)
            bin_tile_step<C>(wmem, L, t, tiles, n, w_pong, m_pong, b_pong, w_ping, m_ping, b_ping, act, x, gq, grq);
        else
            bin_tile_step<C>(wmem, L, t, tiles, n, w_ping, m_ping, b_ping, w_pong, m_pong, b_pong, act, x, gq, grq);
    }
}

// ---- int8 engine -------------------------------------------------------------------------------
// One int8 layer: O channel records of K int8 weights, int16 multiplier, bias, and (patch
// embedding only) a pos-embed column of `pos` int16 values added to the output (saturating).
struct i8_layer_t {
    long long w_off;
    int K, O, in_off;
    int shift, bits, bias_bytes;
    int pos;          // rows of the pos-embed column per record (0: none)
};

// Output: with L.pos, x[x_row0 + r][o] = residual_add(y, pos); else o16[o_off + r * o_stride + o] = y.
template <class C>
void linear_i8(const ap_uint<C::AXI_W>* wmem, const i8_layer_t& L, int n, const ap_int<8> in[C::I8_ROWS][C::I8_COLS],
               res_t x[C::N_MAX][C::D], int x_row0, ap_int<16> o16[C::I8O_SIZE], int o_off, int o_stride, int tap) {
    typedef typename acc_type<C::I8_ACC_W>::type acc_t;
    static ap_int<8> wbuf[C::I8_PE][C::I8_KMAX];
    static res_t pbuf[C::I8_PE][C::N_MAX];
    mult_t mbuf[C::I8_PE];
    bias_t bbuf[C::I8_PE];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = wbuf cyclic factor = C::I8_SIMD dim = 2)
    blob_reader<C::AXI_W> rd(wmem, L.w_off);
    const int ks_n = (L.K + C::I8_SIMD - 1) / C::I8_SIMD;
    const int tiles = (L.O + C::I8_PE - 1) / C::I8_PE;
i8_tiles:
    for (int t = 0; t < tiles; t++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::I8_OMAX / C::I8_PE)
        const int nch = cmin(C::I8_PE, L.O - t * C::I8_PE);   // the last tile may be ragged
    i8_load:
        for (int p = 0; p < C::I8_PE; p++) {
            for (int k = 0; k < ks_n * C::I8_SIMD; k++) {
                HLSGEN_PRAGMA(HLS PIPELINE II = 1)
                HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::I8_KMAX)
                wbuf[p][k] = (p < nch && k < L.K) ? ap_int<8>(rd.byte()) : ap_int<8>(0);
            }
            if (p < nch) {
                mbuf[p] = rd.field(2);
                bbuf[p] = rd.field(L.bias_bytes);
                for (int j = 0; j < L.pos; j++) {
                    HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 0 max = C::N_MAX)
                    pbuf[p][j] = rd.field(2);
                }
            }
        }
        acc_t acc[C::I8_PE];
        HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
        int r = 0, ks = 0;
    i8_rows_k:
        for (int it = 0; it < n * ks_n; it++) {
            HLSGEN_PRAGMA(HLS PIPELINE II = 1)
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::I8_ROWS * C::I8_KMAX / C::I8_SIMD)
            if (ks == 0)
                for (int p = 0; p < C::I8_PE; p++) acc[p] = 0;
            int xv[C::I8_SIMD];
            for (int s = 0; s < C::I8_SIMD; s++) xv[s] = in[r][L.in_off + ks * C::I8_SIMD + s];
            for (int p = 0; p < C::I8_PE; p++) {
                acc_t ps = 0;
                for (int s = 0; s < C::I8_SIMD; s++) ps += xv[s] * (int)wbuf[p][ks * C::I8_SIMD + s];
                acc[p] += ps;
            }
            if (ks == ks_n - 1) {
            i8_epilogue:
                for (int p = 0; p < C::I8_PE; p++) {
                    if (p < nch) {
                        const int o = t * C::I8_PE + p;
                        HLSGEN_CHECK_RANGE(acc[p], C::I8_ACC_W);
                        ap_int<16> y = requant<C::I8_ACC_W, 16>(ap_int<C::I8_ACC_W>(acc[p]), mbuf[p], bbuf[p], L.shift, L.bits);
                        if (L.pos) {
                            x[x_row0 + r][o] = residual_add(y, pbuf[p][r]);
                            HLSGEN_TAP(tap, 0, x_row0 + r, o, x[x_row0 + r][o]);
                        } else {
                            o16[o_off + r * o_stride + o] = y;
                            HLSGEN_TAP(tap, 0, r, o, y);
                        }
                    }
                }
                ks = 0;
                r++;
            } else {
                ks++;
            }
        }
    }
}

// ---- attention engine --------------------------------------------------------------------------
// S = rq(Q_h . K_h^T): PE over keys, SIMD over the head dim; the stationary tile holds PE keys.
template <class C>
void attn_qk(const typename C::act_t act[C::N_MAX][C::ACT_COLS], int n, int h, const rq_t& rq,
             typename C::wide_t S[C::N_MAX][C::N_MAX], int tap) {
    typedef typename acc_type<C::QK_ACC_W>::type acc_t;
    const int q_off = C::QKV_OFF + h * C::HD, k_off = C::QKV_OFF + C::D + h * C::HD;
    int kbuf[C::ATT_PE][C::HD];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = kbuf complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = kbuf cyclic factor = C::ATT_SIMD dim = 2)
    const int ds_n = C::HD / C::ATT_SIMD;
qk_tiles:
    for (int kt = 0; kt < (n + C::ATT_PE - 1) / C::ATT_PE; kt++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = (C::N_MAX + C::ATT_PE - 1) / C::ATT_PE)
        for (int p = 0; p < C::ATT_PE; p++)
            for (int j = 0; j < C::HD; j++) {
                HLSGEN_PRAGMA(HLS PIPELINE II = 1)
                const int key = kt * C::ATT_PE + p;
                kbuf[p][j] = key < n ? (int)act[key][k_off + j] : 0;   // the last key tile is masked
            }
        acc_t acc[C::ATT_PE];
        HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
        int r = 0, ds = 0;
    qk_rows_d:
        for (int it = 0; it < n * ds_n; it++) {
            HLSGEN_PRAGMA(HLS PIPELINE II = 1)
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * C::HD / C::ATT_SIMD)
            if (ds == 0)
                for (int p = 0; p < C::ATT_PE; p++) acc[p] = 0;
            int qv[C::ATT_SIMD];
            for (int s = 0; s < C::ATT_SIMD; s++) qv[s] = act[r][q_off + ds * C::ATT_SIMD + s];
            for (int p = 0; p < C::ATT_PE; p++) {
                acc_t ps = 0;
                for (int s = 0; s < C::ATT_SIMD; s++) ps += qv[s] * kbuf[p][ds * C::ATT_SIMD + s];
                acc[p] += ps;
            }
            if (ds == ds_n - 1) {
                for (int p = 0; p < C::ATT_PE; p++) {
                    const int key = kt * C::ATT_PE + p;
                    if (key < n) {
                        HLSGEN_CHECK_RANGE(acc[p], C::QK_ACC_W);
                        S[r][key] = requant<C::QK_ACC_W, C::W_BITS>(ap_int<C::QK_ACC_W>(acc[p]), rq);
                        HLSGEN_TAP(tap, h, r, key, S[r][key]);
                    }
                }
                ds = 0;
                r++;
            } else {
                ds++;
            }
        }
    }
}

// O_h = rq(P_h . V_h): PE over the head dim, SIMD over keys (ragged: masked); the stationary tile
// holds PE channels x n tokens of V. Writes the merged-heads layout act[r][O_OFF + h*HD + c].
template <class C>
void attn_av(typename C::act_t act[C::N_MAX][C::ACT_COLS], const typename C::prob_t P[C::N_MAX][C::N_MAX],
             int n, int h, const rq_t& rq, int tap) {
    typedef typename acc_type<C::AV_ACC_W>::type acc_t;
    const int v_off = C::QKV_OFF + 2 * C::D + h * C::HD;
    const int NP = (C::N_MAX + C::ATT_SIMD - 1) / C::ATT_SIMD * C::ATT_SIMD;
    int vbuf[C::ATT_PE][NP];
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = vbuf complete dim = 1)
    HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = vbuf cyclic factor = C::ATT_SIMD dim = 2)
    const int ks_n = (n + C::ATT_SIMD - 1) / C::ATT_SIMD;
av_tiles:
    for (int ct = 0; ct < C::HD / C::ATT_PE; ct++) {
        for (int j = 0; j < NP; j++)
            for (int p = 0; p < C::ATT_PE; p++) {
                HLSGEN_PRAGMA(HLS PIPELINE II = 1)
                vbuf[p][j] = j < n ? (int)act[j][v_off + ct * C::ATT_PE + p] : 0;
            }
        acc_t acc[C::ATT_PE];
        HLSGEN_PRAGMA(HLS ARRAY_PARTITION variable = acc complete)
        int r = 0, ks = 0;
    av_rows_k:
        for (int it = 0; it < n * ks_n; it++) {
            HLSGEN_PRAGMA(HLS PIPELINE II = 1)
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX * ((C::N_MAX + C::ATT_SIMD - 1) / C::ATT_SIMD))
            if (ks == 0)
                for (int p = 0; p < C::ATT_PE; p++) acc[p] = 0;
            int pv[C::ATT_SIMD];
            for (int s = 0; s < C::ATT_SIMD; s++) {
                const int j = ks * C::ATT_SIMD + s;
                pv[s] = j < n ? (int)P[r][j] : 0;
            }
            for (int p = 0; p < C::ATT_PE; p++) {
                acc_t ps = 0;
                for (int s = 0; s < C::ATT_SIMD; s++) ps += pv[s] * vbuf[p][ks * C::ATT_SIMD + s];
                acc[p] += ps;
            }
            if (ks == ks_n - 1) {
                for (int p = 0; p < C::ATT_PE; p++) {
                    const int c = ct * C::ATT_PE + p;
                    HLSGEN_CHECK_RANGE(acc[p], C::AV_ACC_W);
                    typename C::act_t o = requant<C::AV_ACC_W, C::K_BITS>(ap_int<C::AV_ACC_W>(acc[p]), rq);
                    act[r][C::O_OFF + h * C::HD + c] = o;
                    HLSGEN_TAP(tap, 0, r, h * C::HD + c, o);
                }
                ks = 0;
                r++;
            } else {
                ks++;
            }
        }
    }
}

// Softmax of one head's score rows (quant.golden.softmax), row-pipelined.
template <class C>
void softmax_rows(const typename C::wide_t S[C::N_MAX][C::N_MAX], typename C::prob_t P[C::N_MAX][C::N_MAX], int n,
                  int h, const softmax_t& q, int tap) {
sm_rows:
    for (int r = 0; r < n; r++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        typename C::wide_t row[C::N_MAX];
        typename C::prob_t out[C::N_MAX];
        for (int j = 0; j < C::N_MAX; j++) row[j] = j < n ? S[r][j] : typename C::wide_t(0);
        softmax_row<typename C::SM, C::N_MAX>(row, out, n, q);
        for (int j = 0; j < n; j++) {
            HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
            P[r][j] = out[j];
            HLSGEN_TAP(tap, h, r, j, out[j]);
        }
    }
}

// ---- LayerNorm pass ----------------------------------------------------------------------------
// One row: the LayerNorm core, then the per-channel affine requantizer to k bits.
template <class C>
void layernorm_affine_row(const res_t xr[C::D], typename C::act_t out[C::D], const ln_t& q, const rsqrt_t& rs,
                          const long long mult[C::D], const long long bias[C::D], int shift, int bits) {
    ap_int<C::LN::OUT_W> y[C::D];
    layernorm_row<typename C::LN>(xr, y, q, rs);
ln_affine:
    for (int c = 0; c < C::D; c++) {
        HLSGEN_PRAGMA(HLS PIPELINE II = 1)
        out[c] = requant<C::LN::OUT_W, C::K_BITS>(y[c], mult_t(mult[c]), bias_t(bias[c]), shift, bits);
    }
}

// LayerNorm of rows [0, n) of x into act[r][out_off + c] (quant.golden.layernorm).
template <class C>
void layernorm_op(const res_t x[C::N_MAX][C::D], int n, typename C::act_t act[C::N_MAX][C::ACT_COLS], int out_off,
                  const ln_t& q, const rsqrt_t& rs, const long long mult[C::D], const long long bias[C::D], int shift,
                  int bits, int tap) {
ln_rows:
    for (int r = 0; r < n; r++) {
        HLSGEN_PRAGMA(HLS LOOP_TRIPCOUNT min = 1 max = C::N_MAX)
        res_t xr[C::D];
        typename C::act_t out[C::D];
        for (int c = 0; c < C::D; c++) xr[c] = x[r][c];
        layernorm_affine_row<C>(xr, out, q, rs, mult, bias, shift, bits);
        for (int c = 0; c < C::D; c++) {
            act[r][out_off + c] = out[c];
            HLSGEN_TAP(tap, 0, r, c, out[c]);
        }
    }
}

}  // namespace hlsgen

#endif
