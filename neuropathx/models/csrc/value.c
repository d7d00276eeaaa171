/* Region values V = LeakyReLU(I A + c) w2 for N rows of F measures (METHOD.md section 2,
 * with the batch normalisation folded into A and c by the caller), and the gradients of a
 * weighted sum of V in A, c and w2. Hidden width J is small (8): loops run over rows,
 * vectorised, one hidden unit at a time. I (N, F) row-major, A (F, J) row-major.
 * Sums over rows run in the fixed lane order of npx_lanes.h (same bits on any ISA).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npx_lanes.h"

/* I transposed to (F, N), so that each measure is contiguous. */
static float *npx_transpose(int64_t N, int64_t F, const float *I) {
    float *t = malloc(sizeof(float) * (size_t)(N * F + N));
    if (!t) return NULL;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t f = 0; f < F; ++f) t[f * N + n] = I[n * F + f];
    return t;
}

/* h[n] = c_j + sum_f I[n, f] A[f, j] */
static void npx_hidden(int64_t N, int64_t F, int64_t J, int64_t j, const float *it,
                       const float *A, const float *c, float *restrict h) {
    const float cj = c[j];
#pragma omp simd
    for (int64_t n = 0; n < N; ++n) h[n] = cj;
    for (int64_t f = 0; f < F; ++f) {
        const float a = A[f * J + j];
        const float *restrict row = it + f * N;
#pragma omp simd
        for (int64_t n = 0; n < N; ++n) h[n] += row[n] * a;
    }
}

int npx_value_forward(int64_t N, int64_t F, int64_t J, const float *I, const float *A,
                      const float *c, const float *w2, float slope, float *out) {
    float *it = npx_transpose(N, F, I);
    if (!it) return 1;
    float *restrict h = it + N * F;
    memset(out, 0, sizeof(float) * (size_t)N);
    for (int64_t j = 0; j < J; ++j) {
        npx_hidden(N, F, J, j, it, A, c, h);
        const float w = w2[j];
#pragma omp simd
        for (int64_t n = 0; n < N; ++n) out[n] += w * (h[n] > 0.0f ? h[n] : slope * h[n]);
    }
    free(it);
    return 0;
}

int npx_value_backward(int64_t N, int64_t F, int64_t J, const float *I, const float *A,
                       const float *c, const float *w2, float slope, const float *g_out,
                       float *g_A, float *g_c, float *g_w2) {
    float *it = npx_transpose(N, F, I);
    float *g_h = malloc(sizeof(float) * (size_t)(2 * N));
    if (!it || !g_h) {
        free(it);
        free(g_h);
        return 1;
    }
    float *restrict term = g_h + N;
    float *restrict h = it + N * F;
    for (int64_t j = 0; j < J; ++j) {
        npx_hidden(N, F, J, j, it, A, c, h);
        const float w = w2[j];
#pragma omp simd
        for (int64_t n = 0; n < N; ++n) {
            const float on = h[n] > 0.0f ? 1.0f : slope; /* LeakyReLU'(0) = slope, as torch */
            term[n] = g_out[n] * h[n] * on;
            g_h[n] = g_out[n] * w * on;
        }
        g_w2[j] = npx_sum(N, term);
        g_c[j] = npx_sum(N, g_h);
        for (int64_t f = 0; f < F; ++f) {
            const float *restrict row = it + f * N;
#pragma omp simd
            for (int64_t n = 0; n < N; ++n) term[n] = g_h[n] * row[n];
            g_A[f * J + j] = npx_sum(N, term);
        }
    }
    free(it);
    free(g_h);
    return 0;
}
