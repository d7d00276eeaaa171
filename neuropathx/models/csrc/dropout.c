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

void npx_dropout_mask(int64_t n, uint64_t seed, float keep, float *mask) {
    const uint32_t lo = npx_mix((uint32_t)seed), hi = npx_mix((uint32_t)(seed >> 32) ^ 0x9e3779b9U);
    const float scale = 1.0f / keep;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) {
        const uint32_t bits = npx_mix(npx_mix((uint32_t)i ^ lo) + hi);
        const float u = (float)(bits >> 8) * (1.0f / 16777216.0f);
        mask[i] = u < keep ? scale : 0.0f;
    }
}
