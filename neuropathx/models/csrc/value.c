/* Region values V = LeakyReLU(I A + c) w2 for N rows of F measures (METHOD.md section 2,
 * with the batch normalisation folded into A and c by the caller), and the gradients of a
 * weighted sum of V in A, c and w2. Hidden width J is small (8). I (N, F) row-major,
 * A (F, J) row-major.
 *
 * Vector lanes run over 8 rows, transposed block by block (measure f of the 8 rows in one
 * vector). Each hidden unit's h = c_j + I_n0 A_0j + I_n1 A_1j + ... is formed in registers
 * and used at once: the forward adds w_j LeakyReLU(h) into the rows' output over j in
 * order; the backward keeps its F + 2 sums for unit j in registers over a chunk of rows
 * (transposed once into 4 KiB that stay in L1), so that nothing passes through arrays of
 * h, g_h or terms in memory (the earlier version made ~10 passes over N per unit). Each
 * value sees the same operations in the same order as before. Sums over rows run in the
 * fixed lane order of npx_lanes.h (same bits on any ISA): lane l takes the rows l, l+8,
 * ... in order, and the rows past the last multiple of 8 come in one zero-padded vector
 * (all zeros when N is a multiple of 8), as in npx_sum.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npx_lanes.h"

#define NPX_CHUNK 256 /* rows per transposed chunk (a multiple of 8; 4 KiB for F = 4) */

/* t[f * 8 + l] = I[(n0 + l) F + f] for the first cnt rows of the block, 0 past them */
static inline void npx_block(int64_t F, const float *I, int64_t n0, int64_t cnt, float *t) {
    if (F == 4 && cnt == NPX_LANES) {
        const float *p = I + n0 * 4;
        const npx_v8f v0 = npx_load(p), v1 = npx_load(p + 8), v2 = npx_load(p + 16),
                      v3 = npx_load(p + 24);
        /* rows (0 1), (2 3), (4 5), (6 7) -> measure f of rows 0..3 and 4..7 */
        const npx_v8f lo0 = __builtin_shufflevector(v0, v1, 0, 4, 8, 12, 1, 5, 9, 13);
        const npx_v8f lo1 = __builtin_shufflevector(v0, v1, 2, 6, 10, 14, 3, 7, 11, 15);
        const npx_v8f hi0 = __builtin_shufflevector(v2, v3, 0, 4, 8, 12, 1, 5, 9, 13);
        const npx_v8f hi1 = __builtin_shufflevector(v2, v3, 2, 6, 10, 14, 3, 7, 11, 15);
        npx_store(t, __builtin_shufflevector(lo0, hi0, 0, 1, 2, 3, 8, 9, 10, 11));
        npx_store(t + 8, __builtin_shufflevector(lo0, hi0, 4, 5, 6, 7, 12, 13, 14, 15));
        npx_store(t + 16, __builtin_shufflevector(lo1, hi1, 0, 1, 2, 3, 8, 9, 10, 11));
        npx_store(t + 24, __builtin_shufflevector(lo1, hi1, 4, 5, 6, 7, 12, 13, 14, 15));
        return;
    }
    for (int64_t f = 0; f < F; ++f)
        for (int64_t l = 0; l < NPX_LANES; ++l)
            t[f * NPX_LANES + l] = l < cnt ? I[(n0 + l) * F + f] : 0.0f;
}

/* h = c_j + sum_f I[., f] A[f, j] for the 8 rows of tile t (measure f at t + 8 f) */
static inline npx_v8f npx_h(int64_t F, int64_t J, int64_t j, const float *t, const float *A,
                            const float *c) {
    npx_v8f h = npx_splat(c[j]);
    for (int64_t f = 0; f < F; ++f) h += npx_load(t + f * NPX_LANES) * A[f * J + j];
    return h;
}

/* out[n0..N), 8 rows at a time (the last block may be short) */
static inline __attribute__((always_inline)) void npx_forward_rows(
    int64_t F, int64_t J, const float *I, const float *A, const float *c, const float *w2,
    float slope, int64_t n0, int64_t N, float *t, float *out) {
    for (; n0 < N; n0 += NPX_LANES) {
        const int64_t cnt = N - n0 < NPX_LANES ? N - n0 : NPX_LANES;
        npx_block(F, I, n0, cnt, t);
        npx_v8f o = npx_splat(0.0f);
        for (int64_t j = 0; j < J; ++j) {
            const npx_v8f h = npx_h(F, J, j, t, A, c);
            o += w2[j] * npx_select(h > 0.0f, h, slope * h);
        }
        if (cnt == NPX_LANES)
            npx_store(out + n0, o);
        else
            memcpy(out + n0, &o, sizeof(float) * (size_t)cnt);
    }
}

int npx_value_forward(int64_t N, int64_t F, int64_t J, const float *I, const float *A,
                      const float *c, const float *w2, float slope, float *out) {
    float *t = malloc(sizeof(float) * (size_t)(F * NPX_LANES + 1));
    if (!t) return 1;
    if (F == 4) /* the model's measures: a constant, so that the block stays in registers */
        npx_forward_rows(4, J, I, A, c, w2, slope, 0, N, t, out);
    else
        npx_forward_rows(F, J, I, A, c, w2, slope, 0, N, t, out);
    free(t);
    return 0;
}

/* the sums of rows [n0, n0 + len), len a multiple of 8, onto acc (F + 2 per hidden unit) */
static inline __attribute__((always_inline)) void npx_backward_chunk(
    int64_t F, int64_t J, const float *I, const float *A, const float *c, const float *w2,
    float slope, const float *g_out, int64_t n0, int64_t len, float *t, npx_v8f *acc) {
    for (int64_t b = 0; b < len; b += NPX_LANES) npx_block(F, I, n0 + b, NPX_LANES, t + b * F);
    for (int64_t j = 0; j < J; ++j) {
        const npx_v8f w = npx_splat(w2[j]);
        npx_v8f *a = acc + j * (F + 2);
        npx_v8f a_w = a[0], a_c = a[1], a_A[F];
        for (int64_t f = 0; f < F; ++f) a_A[f] = a[2 + f];
        for (int64_t b = 0; b < len; b += NPX_LANES) {
            const float *tb = t + b * F;
            const npx_v8f h = npx_h(F, J, j, tb, A, c), go = npx_load(g_out + n0 + b);
            const npx_v8f on = npx_select(h > 0.0f, npx_splat(1.0f), npx_splat(slope));
            const npx_v8f g_h = go * w * on;
            a_w += go * h * on;
            a_c += g_h;
            for (int64_t f = 0; f < F; ++f) a_A[f] += g_h * npx_load(tb + f * NPX_LANES);
        }
        a[0] = a_w;
        a[1] = a_c;
        for (int64_t f = 0; f < F; ++f) a[2 + f] = a_A[f];
    }
}

int npx_value_backward(int64_t N, int64_t F, int64_t J, const float *I, const float *A,
                       const float *c, const float *w2, float slope, const float *g_out,
                       float *g_A, float *g_c, float *g_w2) {
    const int64_t K = F + 2; /* sums per hidden unit: w2, c, then A[0..F) */
    float *t = malloc(sizeof(float) * (size_t)(F * NPX_CHUNK + NPX_LANES));
    npx_v8f *acc = aligned_alloc(32, sizeof(npx_v8f) * (size_t)(J * K + 1));
    if (!t || !acc) {
        free(t);
        free(acc);
        return 1;
    }
    float *g = t + F * NPX_CHUNK; /* g_out of the tail block, zero-padded */
    for (int64_t q = 0; q < J * K; ++q) acc[q] = npx_splat(0.0f);
    const int64_t n_full = N / NPX_LANES * NPX_LANES;
    for (int64_t n0 = 0; n0 < n_full; n0 += NPX_CHUNK) {
        const int64_t len = n_full - n0 < NPX_CHUNK ? n_full - n0 : NPX_CHUNK;
        if (F == 4)
            npx_backward_chunk(4, J, I, A, c, w2, slope, g_out, n0, len, t, acc);
        else
            npx_backward_chunk(F, J, I, A, c, w2, slope, g_out, n0, len, t, acc);
    }
    /* the rows past n_full (none when N is a multiple of 8): one zero-padded vector */
    const int64_t cnt = N - n_full;
    npx_block(F, I, n_full, cnt, t);
    memset(g, 0, sizeof(float) * NPX_LANES);
    memcpy(g, g_out + n_full, sizeof(float) * (size_t)cnt);
    npx_v8i live;
    for (int64_t l = 0; l < NPX_LANES; ++l) live[l] = l < cnt ? -1 : 0;
    const npx_v8f zero = npx_splat(0.0f), go = npx_load(g);
    for (int64_t j = 0; j < J; ++j) {
        const npx_v8f w = npx_splat(w2[j]);
        npx_v8f *a = acc + j * K;
        const npx_v8f h = npx_h(F, J, j, t, A, c);
        const npx_v8f on = npx_select(h > 0.0f, npx_splat(1.0f), npx_splat(slope));
        const npx_v8f g_h = go * w * on;
        g_w2[j] = npx_hsum(a[0] + npx_select(live, go * h * on, zero));
        g_c[j] = npx_hsum(a[1] + npx_select(live, g_h, zero));
        for (int64_t f = 0; f < F; ++f) {
            const npx_v8f term = g_h * npx_load(t + f * NPX_LANES);
            g_A[f * J + j] = npx_hsum(a[2 + f] + npx_select(live, term, zero));
        }
    }
    free(t);
    free(acc);
    return 0;
}
