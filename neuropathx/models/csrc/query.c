/* Pathway queries as a piecewise-linear map of the pathway score (see
 * neuropathx.models.attention_core.piecewise_leaky_mlp for the maths).
 *
 * kinks (K,) sorted ascending; table (2K+1, 2W): row t holds the slopes (first W columns)
 * and offsets (last W) of piece t. Piece of x: i = #kinks < x, i.e. x in (kinks[i-1],
 * kinks[i]] (torch.searchsorted, side left); x equal to kinks[i] takes row i + K + 1
 * (the kink itself). out[n, :] = offsets[piece] + x[n] * slopes[piece].
 * Kinks are distinct in practice (a tie of two leaky units' kinks counts once).
 */
#include <stdint.h>
#include <stdlib.h>

void npx_query_forward(int64_t N, int64_t K, int64_t W, const float *x, const float *kinks,
                       const float *table, float *out, int64_t *piece) {
    enum { CHUNK = 256 };
    int32_t below[CHUNK], equal[CHUNK];
    for (int64_t start = 0; start < N; start += CHUNK) {
        const int64_t n_chunk = N - start < CHUNK ? N - start : CHUNK;
        const float *xs = x + start;
        /* piece = #kinks < x (no branches: a compare per kink, vectorised over x) */
        for (int64_t n = 0; n < n_chunk; ++n) below[n] = equal[n] = 0;
        for (int64_t i = 0; i < K; ++i) {
            const float kink = kinks[i];
#pragma omp simd
            for (int64_t n = 0; n < n_chunk; ++n) {
                below[n] += kink < xs[n];
                equal[n] |= kink == xs[n];
            }
        }
        for (int64_t n = 0; n < n_chunk; ++n) {
            /* on a kink: torch.searchsorted's index i with kinks[i] == x, then row i + K + 1 */
            const int64_t t = below[n] + (equal[n] ? K + 1 : 0);
            const float *row = table + t * 2 * W;
            const float xn = xs[n];
            piece[start + n] = t;
            for (int64_t w = 0; w < W; ++w) out[(start + n) * W + w] = row[W + w] + xn * row[w];
        }
    }
}

/* g_table (2K+1, 2W) = sum over n of [x g_out, g_out] in row piece[n]. Four partial
 * tables (n mod 4) break the chains of read-modify-writes on one row; they are added in a
 * fixed order, so every run gives the same bits. Returns 1 when out of memory. */
int npx_query_backward(int64_t N, int64_t K, int64_t W, const float *x, const int64_t *piece,
                       const float *g_out, float *g_table) {
    const int64_t size = (2 * K + 1) * 2 * W;
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
    for (int64_t i = 0; i < size; ++i)
        g_table[i] = (part[i] + part[size + i]) + (part[2 * size + i] + part[3 * size + i]);
    free(part);
    return 0;
}
