/* NeuroPathX attention terms on the CPU: one fused pass forward, one fused pass backward.
 *
 * Shapes (float32, C-contiguous): qt (B, P, F1), it (B, F1, R), v (B, R).
 * Per entry: s = qt[b,p,:] . it[b,:,r], x = max(s, 0), A = x / (x + k),
 * u = clamp(x / k, lo, hi), d = log(u) - logit_rho (the derivative of the sparsity KL in A),
 * KL entry (without its constant) = A d - log(1 + u).
 * Forward writes per (b, p): rows = sum_r A, fused = sum_r A v, kl = sum_r KL entry.
 * Backward recomputes A and d (cheaper than storing two (B, P, R) tensors) and writes
 * dL/dqt, dL/dit and dL/dv from the gradients of rows, fused and the summed KL.
 * Mirrors attention_core._forward_eager / _backward_eager (the reference for the tests).
 * Built at first use by neuropathx.models.native_kernel with -O3 -march=native; the
 * reductions over regions are vectorised with OpenMP SIMD pragmas (no -ffast-math), so one
 * binary gives the same bits every run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Natural log of a positive normal float: the musl/FreeBSD logf reduction and polynomial
 * (< 1 ulp), written as plain arithmetic so that the region loop vectorises. */
static inline float npx_log(float x) {
    int32_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits += 0x4AFB0D; /* so that the mantissa lands in [sqrt(1/2), sqrt(2)) */
    float exponent = (float)((bits >> 23) - 0x7F);
    int32_t mbits = (bits & 0x007FFFFF) + 0x3F3504F3;
    float m;
    memcpy(&m, &mbits, sizeof m);
    float f = m - 1.0f;
    float s = f / (f + 2.0f);
    float z = s * s;
    float w = z * z;
    float r = z * (0.66666662693f + w * 0.28498786688f) + w * (0.40000972152f + w * 0.24279078841f);
    float half_f2 = 0.5f * f * f;
    return s * (half_f2 + r) + exponent * 9.0580006145e-06f - half_f2 + f
           + exponent * 6.9313812256e-01f;
}

static inline float npx_clamp(float x, float lo, float hi) {
    x = x < lo ? lo : x;
    return x > hi ? hi : x;
}

/* Regions are processed in blocks of 8 (one AVX vector): each subject's image factors and
 * values are copied into zero-padded scratch rows, so the padded regions get score 0, A = 0
 * and add nothing but the constant -log(1 + lo) to the KL, which is taken back out. */
#define NPX_BLOCK 8
static inline int64_t npx_padded(int64_t R) { return (R + NPX_BLOCK - 1) / NPX_BLOCK * NPX_BLOCK; }

typedef struct {
    int64_t R, Rp, F1;
    float *it, *v, *s, *g_s, *g_it, *g_v; /* padded rows: F1*Rp, Rp, Rp, Rp, F1*Rp, Rp */
    float *block;
} npx_scratch;

static int npx_scratch_init(npx_scratch *w, int64_t R, int64_t F1) {
    w->R = R;
    w->Rp = npx_padded(R);
    w->F1 = F1;
    const int64_t n = w->Rp * (2 * F1 + 4);
    w->block = aligned_alloc(32, sizeof(float) * (size_t)n);
    if (!w->block) return 1;
    memset(w->block, 0, sizeof(float) * (size_t)n);
    w->it = w->block;
    w->v = w->it + F1 * w->Rp;
    w->s = w->v + w->Rp;
    w->g_s = w->s + w->Rp;
    w->g_it = w->g_s + w->Rp;
    w->g_v = w->g_it + F1 * w->Rp;
    return 0;
}

static void npx_scratch_load(npx_scratch *w, const float *itb, const float *vb) {
    for (int64_t f = 0; f < w->F1; ++f) memcpy(w->it + f * w->Rp, itb + f * w->R, sizeof(float) * (size_t)w->R);
    memcpy(w->v, vb, sizeof(float) * (size_t)w->R);
}

/* s[r] = q . it[:, r] for every (padded) region r. */
static inline void npx_scores(const npx_scratch *w, const float *q) {
    const int64_t Rp = w->Rp;
    float *restrict s = w->s;
    const float *restrict it = w->it;
#pragma omp simd aligned(s, it : 32)
    for (int64_t r = 0; r < Rp; ++r) s[r] = q[0] * it[r];
    for (int64_t f = 1; f < w->F1; ++f) {
        const float qf = q[f];
        const float *restrict row = it + f * Rp;
#pragma omp simd aligned(s, row : 32)
        for (int64_t r = 0; r < Rp; ++r) s[r] += qf * row[r];
    }
}

int npx_attention_forward(int64_t B, int64_t P, int64_t R, int64_t F1, const float *qt,
                          const float *it, const float *v, float k, float logit_rho, float lo,
                          float hi, float *rows, float *fused, float *kl_rows) {
    npx_scratch w;
    if (npx_scratch_init(&w, R, F1)) return 1;
    const float inv_k = 1.0f / k;
    const float pad_kl = (float)(w.Rp - R) * npx_log(lo + 1.0f);
    const int64_t Rp = w.Rp;
    const float *restrict s = w.s;
    const float *restrict vp = w.v;
    for (int64_t b = 0; b < B; ++b) {
        npx_scratch_load(&w, it + b * F1 * R, v + b * R);
        for (int64_t p = 0; p < P; ++p) {
            const int64_t bp = b * P + p;
            npx_scores(&w, qt + bp * F1);
            float sum_a = 0.0f, sum_av = 0.0f, sum_kl = 0.0f;
#pragma omp simd aligned(s, vp : 32) reduction(+ : sum_a, sum_av, sum_kl)
            for (int64_t r = 0; r < Rp; ++r) {
                const float x = s[r] > 0.0f ? s[r] : 0.0f;
                const float a = x / (x + k);
                const float u = npx_clamp(x * inv_k, lo, hi);
                const float d = npx_log(u) - logit_rho;
                sum_a += a;
                sum_av += a * vp[r];
                sum_kl += a * d - npx_log(u + 1.0f);
            }
            rows[bp] = sum_a;
            fused[bp] = sum_av;
            kl_rows[bp] = sum_kl + pad_kl;
        }
    }
    free(w.block);
    return 0;
}

int npx_attention_backward(int64_t B, int64_t P, int64_t R, int64_t F1, const float *qt,
                           const float *it, const float *v, float k, float logit_rho, float lo,
                           float hi, const float *g_rows, const float *g_fused, float g_kl,
                           float *g_qt, float *g_it, float *g_v) {
    npx_scratch w;
    if (npx_scratch_init(&w, R, F1)) return 1;
    const float inv_k = 1.0f / k;
    const int64_t Rp = w.Rp;
    const float *restrict s = w.s;
    const float *restrict vp = w.v;
    float *restrict g_s = w.g_s;
    float *restrict g_vp = w.g_v;
    for (int64_t b = 0; b < B; ++b) {
        npx_scratch_load(&w, it + b * F1 * R, v + b * R);
        memset(w.g_it, 0, sizeof(float) * (size_t)(F1 * Rp));
        memset(g_vp, 0, sizeof(float) * (size_t)Rp);
        for (int64_t p = 0; p < P; ++p) {
            const int64_t bp = b * P + p;
            const float *q = qt + bp * F1;
            const float gr = g_rows[bp], gf = g_fused[bp];
            npx_scores(&w, q);
            if (g_kl != 0.0f) {
#pragma omp simd aligned(s, vp, g_s, g_vp : 32)
                for (int64_t r = 0; r < Rp; ++r) {
                    const float x = s[r] > 0.0f ? s[r] : 0.0f;
                    const float a = x / (x + k);
                    const float d = npx_log(npx_clamp(x * inv_k, lo, hi)) - logit_rho;
                    const float not_a = 1.0f - a;
                    const float g_a = gf * vp[r] + gr + g_kl * d;
                    g_s[r] = (float)(a > 0.0f) * (g_a * not_a * not_a * inv_k);
                    g_vp[r] += gf * a;
                }
            } else {
#pragma omp simd aligned(s, vp, g_s, g_vp : 32)
                for (int64_t r = 0; r < Rp; ++r) {
                    const float x = s[r] > 0.0f ? s[r] : 0.0f;
                    const float a = x / (x + k);
                    const float not_a = 1.0f - a;
                    const float g_a = gf * vp[r] + gr;
                    g_s[r] = (float)(a > 0.0f) * (g_a * not_a * not_a * inv_k);
                    g_vp[r] += gf * a;
                }
            }
            for (int64_t f = 0; f < F1; ++f) {
                const float *restrict row = w.it + f * Rp;
                float *restrict g_row = w.g_it + f * Rp;
                const float qf = q[f];
                float acc = 0.0f;
#pragma omp simd aligned(row, g_row, g_s : 32) reduction(+ : acc)
                for (int64_t r = 0; r < Rp; ++r) {
                    acc += g_s[r] * row[r];
                    g_row[r] += qf * g_s[r];
                }
                g_qt[bp * F1 + f] = acc;
            }
        }
        for (int64_t f = 0; f < F1; ++f)
            memcpy(g_it + (b * F1 + f) * R, w.g_it + f * Rp, sizeof(float) * (size_t)R);
        memcpy(g_v + b * R, g_vp, sizeof(float) * (size_t)R);
    }
    free(w.block);
    return 0;
}
