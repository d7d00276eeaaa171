/* Pathway queries as a piecewise-linear map of the pathway score (see
 * neuropathx.models.attention_core.piecewise_leaky_mlp for the maths).
 *
 * kinks (K,) sorted ascending; table (2K+1, 2W): row t holds the slopes (first W columns)
 * and offsets (last W) of piece t. Piece of x: i = #kinks < x, i.e. x in (kinks[i-1],
 * kinks[i]] (torch.searchsorted, side left); x equal to kinks[i] takes row i + K + 1
 * (the kink itself). out[n, :] = offsets[piece] + x[n] * slopes[piece].
 * Kinks are distinct in practice (a tie of two leaky units' kinks counts once).
 *
 * Shaped for speed without changing a bit: the search only yields integers (#kinks < x and
 * whether one equals x), and each output is the same one product and one sum as the plain
 * loop (kept for W > 8 or K > 64). With AVX2 the search takes eight x at a time in
 * registers, in two levels: the kinks in blocks of S (4, or 8 for K > 32; at most 8
 * blocks, NaN past the end, which no comparison counts), a count of the blocks whose last
 * kink is < x (the block holding kink #kinks<x, as the kinks are sorted), then that
 * block's S kinks fetched by one lane permute each and counted: K / S + S compares per x
 * instead of K. Without AVX2 every kink is compared, vectorised over a chunk of x. Every
 * piece's slopes and offsets sit in one padded 8-lane row each, so a row of out is one
 * 8-lane multiply and add stored whole (the next row overwrites the spare lanes; the last
 * rows go through a buffer) instead of W scalar ones.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npx_lanes.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

typedef int64_t npx_v8l __attribute__((vector_size(64), aligned(64)));

enum { NPX_QUERY_W = 8, NPX_QUERY_K = 64 }; /* widest rows and most kinks of the fast path */

/* lt = #kinks < x and eq = -1 where some kink == x, for x[0 .. m) (m <= 256): every kink,
 * the loop over x left to the vectoriser (counts: any width gives the same) */
static void npx_search_all(int64_t K, const float *kinks, int64_t m, const float *x,
                           int32_t *lt, int32_t *eq) {
    for (int64_t n = 0; n < m; ++n) lt[n] = eq[n] = 0;
    for (int64_t i = 0; i < K; ++i) {
        const float kink = kinks[i];
#pragma omp simd
        for (int64_t n = 0; n < m; ++n) {
            lt[n] += kink < x[n];
            eq[n] |= -(kink == x[n]);
        }
    }
}

#if defined(__AVX2__)
/* the same in two levels: last[b] = the last kink of block b (b < 7, NaN for the last
 * block and beyond), cols[i] lane b = kinks[b S + i] (NaN past K); AVX2 intrinsics, as the
 * vector extensions' compares go through mask registers with AVX-512 */
static inline __attribute__((always_inline)) void npx_search_blocks(
    const int S, const __m256 *last, const __m256 *cols, __m256 xv, npx_v8i *lt, npx_v8i *eq) {
    __m256i block = _mm256_setzero_si256(), l = block, e = block;
    for (int b = 0; b < 7; ++b)
        block = _mm256_sub_epi32(block, _mm256_castps_si256(_mm256_cmp_ps(last[b], xv, _CMP_LT_OQ)));
    for (int i = 0; i < S; ++i) {
        const __m256 k = _mm256_permutevar8x32_ps(cols[i], block);
        l = _mm256_sub_epi32(l, _mm256_castps_si256(_mm256_cmp_ps(k, xv, _CMP_LT_OQ)));
        e = _mm256_or_si256(e, _mm256_castps_si256(_mm256_cmp_ps(k, xv, _CMP_EQ_OQ)));
    }
    *lt = (npx_v8i)_mm256_add_epi32(_mm256_mullo_epi32(block, _mm256_set1_epi32(S)), l);
    *eq = (npx_v8i)e;
}
#endif

/* pieces t and rows of out for x[start .. start + m) (m <= 8, lanes of xv); rows before
 * n_fast are stored as 8 lanes in place */
static inline __attribute__((always_inline)) void npx_query_rows8(
    int64_t start, int64_t m, int64_t W, int64_t n_fast, npx_v8f xv, npx_v8i t,
    const npx_v8f *slopes, const npx_v8f *offsets, float *out, int64_t *piece) {
    if (m == 8) {
        const npx_v8l t64 = __builtin_convertvector(t, npx_v8l);
        memcpy(piece + start, &t64, sizeof t64);
    } else {
        for (int64_t j = 0; j < m; ++j) piece[start + j] = t[j];
    }
    for (int64_t j = 0; j < m; ++j) {
        const int64_t n = start + j;
        const npx_v8f row = offsets[t[j]] + npx_splat(xv[j]) * slopes[t[j]];
        if (start + 8 <= n_fast || n < n_fast) {
            npx_store(out + n * W, row);
        } else {
            float tmp[NPX_LANES];
            npx_store(tmp, row);
            memcpy(out + n * W, tmp, (size_t)W * sizeof(float));
        }
    }
}

void npx_query_forward(int64_t N, int64_t K, int64_t W, const float *x, const float *kinks,
                       const float *table, float *out, int64_t *piece) {
    if (W > NPX_QUERY_W || K > NPX_QUERY_K) {
        for (int64_t n = 0; n < N; ++n) {
            int64_t below = 0, equal = 0;
            for (int64_t i = 0; i < K; ++i) {
                below += kinks[i] < x[n];
                equal |= kinks[i] == x[n];
            }
            /* on a kink: torch.searchsorted's index i with kinks[i] == x, then row i + K + 1 */
            const int64_t t = below + (equal ? K + 1 : 0);
            const float *row = table + t * 2 * W;
            piece[n] = t;
            for (int64_t w = 0; w < W; ++w) out[n * W + w] = row[W + w] + x[n] * row[w];
        }
        return;
    }
    npx_v8f slopes[2 * NPX_QUERY_K + 1], offsets[2 * NPX_QUERY_K + 1];
    for (int64_t t = 0; t < 2 * K + 1; ++t) {
        float s[NPX_LANES] = {0}, o[NPX_LANES] = {0};
        for (int64_t w = 0; w < W; ++w) {
            s[w] = table[t * 2 * W + w];
            o[w] = table[t * 2 * W + W + w];
        }
        slopes[t] = npx_load(s);
        offsets[t] = npx_load(o);
    }
    const int64_t n_fast = N * W >= NPX_LANES ? (N * W - NPX_LANES) / W + 1 : 0;
    int64_t start = 0;
#if defined(__AVX2__)
    if (K > 0) {
        const npx_v8i on_kink = (npx_v8i){0} + (int32_t)(K + 1);
        npx_v8i lt, eq;
        const int S = K <= 32 ? 4 : 8;
        __m256 cols[8], last[7];
        for (int i = 0; i < S; ++i) {
            float v[NPX_LANES];
            for (int b = 0; b < 8; ++b) v[b] = b * S + i < K ? kinks[b * S + i] : NAN;
            cols[i] = _mm256_loadu_ps(v);
        }
        for (int b = 0; b < 7; ++b) last[b] = _mm256_set1_ps((b + 1) * S < K ? kinks[b * S + S - 1] : NAN);
        for (; start + 8 <= N; start += 8) { /* S a constant in each loop: unrolled */
            const npx_v8f xv = npx_load(x + start);
            if (S == 4) npx_search_blocks(4, last, cols, (__m256)xv, &lt, &eq);
            else npx_search_blocks(8, last, cols, (__m256)xv, &lt, &eq);
            npx_query_rows8(start, 8, W, n_fast, xv, lt + (eq & on_kink), slopes, offsets, out, piece);
        }
        if (start < N) {
            float xb[NPX_LANES] = {0};
            memcpy(xb, x + start, (size_t)(N - start) * sizeof(float));
            const npx_v8f xv = npx_load(xb);
            npx_search_blocks(S, last, cols, (__m256)xv, &lt, &eq);
            npx_query_rows8(start, N - start, W, n_fast, xv, lt + (eq & on_kink), slopes, offsets,
                            out, piece);
        }
        return;
    }
#endif
    enum { CHUNK = 256 };
    int32_t lt_chunk[CHUNK], eq_chunk[CHUNK];
    for (; start < N; start += CHUNK) {
        const int64_t m = N - start < CHUNK ? N - start : CHUNK;
        npx_search_all(K, kinks, m, x + start, lt_chunk, eq_chunk);
        for (int64_t j = 0; j < m; j += 8) {
            float xb[NPX_LANES] = {0};
            int32_t tb[NPX_LANES] = {0};
            const int64_t mj = m - j < 8 ? m - j : 8;
            memcpy(xb, x + start + j, (size_t)mj * sizeof(float));
            for (int64_t i = 0; i < mj; ++i) tb[i] = lt_chunk[j + i] + (eq_chunk[j + i] & (int32_t)(K + 1));
            npx_v8i t;
            memcpy(&t, tb, sizeof t);
            npx_query_rows8(start + j, mj, W, n_fast, npx_load(xb), t, slopes, offsets, out, piece);
        }
    }
}

/* g_table (2K+1, 2W) = sum over n of [x g_out, g_out] in row piece[n]; stacked != 0: the
 * same numbers as (2(2K+1), W), the x g_out halves of all rows, then the g_out halves
 * (the [slopes; offsets] layout of attention_core.query_table's lhs @ m). Four partial
 * tables (n mod 4) break the chains of read-modify-writes on one row; they are added in a
 * fixed order, so every run gives the same bits. For W <= 8 each partial row is two padded
 * 8-lane vectors (x g, then g): one multiply and two adds per n, lane w the same sum in
 * the same order as the plain loop (kept for W > 8). Returns 1 when out of memory. */
int npx_query_backward(int64_t N, int64_t K, int64_t W, int64_t stacked, const float *x,
                       const int64_t *piece, const float *g_out, float *g_table) {
    const int64_t rows = 2 * K + 1;
    /* row t: x g_out at t stride, g_out at g_half + t stride */
    const int64_t stride = stacked ? W : 2 * W, g_half = stacked ? rows * W : W;
    if (W > NPX_QUERY_W) {
        const int64_t size = rows * 2 * W;
        float *part = calloc((size_t)(4 * size), sizeof(float));
        if (!part) return 1;
        for (int64_t n = 0; n < N; ++n) {
            float *row = part + (n & 3) * size + piece[n] * 2 * W;
            const float *g = g_out + n * W;
            for (int64_t w = 0; w < W; ++w) {
                row[w] += x[n] * g[w];
                row[W + w] += g[w];
            }
        }
        for (int64_t i = 0; i < size; ++i) {
            const int64_t t = i / (2 * W), w = i % (2 * W);
            g_table[w < W ? t * stride + w : g_half + t * stride + w - W] =
                (part[i] + part[size + i]) + (part[2 * size + i] + part[3 * size + i]);
        }
        free(part);
        return 0;
    }
    const size_t bytes = (size_t)(4 * rows * 2) * sizeof(npx_v8f); /* a multiple of 64 */
    npx_v8f *part = aligned_alloc(64, bytes);
    if (!part) return 1;
    memset(part, 0, bytes);
    npx_v8f *p0 = part, *p1 = part + 2 * rows, *p2 = part + 4 * rows, *p3 = part + 6 * rows;
    const int64_t n_fast = N * W >= NPX_LANES ? (N * W - NPX_LANES) / W + 1 : 0;
    int64_t n = 0;
    for (; n + 4 <= n_fast; n += 4) { /* 8 lanes of g_out read in place */
        const npx_v8f g0 = npx_load(g_out + n * W), g1 = npx_load(g_out + (n + 1) * W);
        const npx_v8f g2 = npx_load(g_out + (n + 2) * W), g3 = npx_load(g_out + (n + 3) * W);
        npx_v8f *r0 = p0 + piece[n] * 2, *r1 = p1 + piece[n + 1] * 2;
        npx_v8f *r2 = p2 + piece[n + 2] * 2, *r3 = p3 + piece[n + 3] * 2;
        r0[0] += npx_splat(x[n]) * g0;
        r0[1] += g0;
        r1[0] += npx_splat(x[n + 1]) * g1;
        r1[1] += g1;
        r2[0] += npx_splat(x[n + 2]) * g2;
        r2[1] += g2;
        r3[0] += npx_splat(x[n + 3]) * g3;
        r3[1] += g3;
    }
    for (; n < N; ++n) {
        float tmp[NPX_LANES] = {0};
        memcpy(tmp, g_out + n * W, (size_t)W * sizeof(float));
        const npx_v8f g = npx_load(tmp);
        npx_v8f *row = part + ((n & 3) * rows + piece[n]) * 2;
        row[0] += npx_splat(x[n]) * g;
        row[1] += g;
    }
    for (int64_t t = 0; t < rows; ++t) {
        const npx_v8f xg = (p0[2 * t] + p1[2 * t]) + (p2[2 * t] + p3[2 * t]);
        const npx_v8f g = (p0[2 * t + 1] + p1[2 * t + 1]) + (p2[2 * t + 1] + p3[2 * t + 1]);
        for (int64_t w = 0; w < W; ++w) {
            g_table[t * stride + w] = xg[w];
            g_table[g_half + t * stride + w] = g[w];
        }
    }
    free(part);
    return 0;
}
