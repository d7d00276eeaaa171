/* Dropout masks from a counter-based hash: mask[i] = 1/keep if u(seed, i) < keep, else 0,
 * with u uniform on [0, 1) in steps of 2^-24. Each element is hashed independently, so the
 * loop vectorises (torch's CPU Bernoulli draws one Mersenne-Twister number at a time).
 * The hash is the "lowbias32" integer mixer (Wellons), applied twice around the 64-bit
 * seed; the seed comes from torch's generator, so torch.manual_seed fixes the masks.
 */
#include <stdint.h>

static inline uint32_t npx_mix(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static inline float npx_keep(int64_t i, uint32_t lo, uint32_t hi, float keep, float scale) {
    const uint32_t bits = npx_mix(npx_mix((uint32_t)i ^ lo) + hi);
    const float u = (float)(bits >> 8) * (1.0f / 16777216.0f);
    return u < keep ? scale : 0.0f;
}

#define NPX_SEED_HALVES(seed)                                                                  \
    const uint32_t lo = npx_mix((uint32_t)(seed)), hi = npx_mix((uint32_t)((seed) >> 32) ^ 0x9e3779b9U)

void npx_dropout_mask(int64_t n, uint64_t seed, float keep, float *mask) {
    NPX_SEED_HALVES(seed);
    const float scale = 1.0f / keep;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) mask[i] = npx_keep(i, lo, hi, keep, scale);
}

/* The head's LeakyReLU then dropout in one pass: mask as npx_dropout_mask (written out for
 * the backward), out = (x > 0 ? x : slope x) * mask, the two roundings of torch's
 * leaky_relu followed by the product. */
void npx_leaky_dropout(int64_t n, const float *x, float slope, uint64_t seed, float keep,
                       float *mask, float *out) {
    NPX_SEED_HALVES(seed);
    const float scale = 1.0f / keep;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
        const float m = npx_keep(i, lo, hi, keep, scale);
        const float h = x[i] > 0.0f ? x[i] : x[i] * slope;
        mask[i] = m;
        out[i] = h * m;
    }
}

/* Its backward: (g mask), times slope where x <= 0 (torch's leaky_relu_backward). */
void npx_leaky_dropout_backward(int64_t n, const float *g, const float *x, const float *mask,
                                float slope, float *out) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
        const float gm = g[i] * mask[i];
        out[i] = x[i] > 0.0f ? gm : gm * slope;
    }
}
