/* Eight-lane float vectors (GCC/clang vector extensions) with a fixed summation order.
 *
 * Every reduction in the kernels accumulates into one 8-lane vector, lane i taking the
 * elements i, i+8, i+16, ... in order, and ends with the same pairwise sum of the lanes.
 * The compiler lowers an 8-lane vector to one AVX register, two SSE registers, half an
 * AVX-512 register or scalar code, and each lane's arithmetic is plain IEEE float32
 * (built with -ffp-contract=off, no -ffast-math), so the result has the same bits whatever
 * instruction-set level the library was compiled for. Reductions must never be left to
 * the vectoriser (its order follows the vector width).
 */
#ifndef NPX_LANES_H
#define NPX_LANES_H
#include <stdint.h>
#include <string.h>

#define NPX_LANES 8
typedef float npx_v8f __attribute__((vector_size(32), aligned(32)));
typedef int32_t npx_v8i __attribute__((vector_size(32), aligned(32)));

static inline npx_v8f npx_splat(float x) { return (npx_v8f){x, x, x, x, x, x, x, x}; }

static inline npx_v8f npx_load(const float *p) { /* any alignment */
    npx_v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void npx_store(float *p, npx_v8f v) { memcpy(p, &v, sizeof v); }

/* mask ? a : b, with mask lanes all ones or all zeros (the result of a comparison) */
static inline npx_v8f npx_select(npx_v8i mask, npx_v8f a, npx_v8f b) {
    return (npx_v8f)((mask & (npx_v8i)a) | (~mask & (npx_v8i)b));
}

/* a > b ? a : b and a < b ? a : b per lane (b where either is NaN): the semantics of the x86
 * MAXPS / MINPS instructions, which compute them in one step at every level from SSE on;
 * lane for lane the same result as the generic expression, so the bits do not change. */
#if defined(__AVX__)
#include <immintrin.h>
static inline npx_v8f npx_max(npx_v8f a, npx_v8f b) { return (npx_v8f)_mm256_max_ps((__m256)a, (__m256)b); }
static inline npx_v8f npx_min(npx_v8f a, npx_v8f b) { return (npx_v8f)_mm256_min_ps((__m256)a, (__m256)b); }
#elif defined(__SSE__)
#include <xmmintrin.h>
typedef float npx_v4f __attribute__((vector_size(16), aligned(16)));
static inline npx_v8f npx_halves(__m128 lo, __m128 hi) {
    const npx_v4f l = (npx_v4f)lo, h = (npx_v4f)hi;
    return (npx_v8f){l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]};
}
static inline npx_v8f npx_max(npx_v8f a, npx_v8f b) {
    return npx_halves(_mm_max_ps((__m128){a[0], a[1], a[2], a[3]}, (__m128){b[0], b[1], b[2], b[3]}),
                      _mm_max_ps((__m128){a[4], a[5], a[6], a[7]}, (__m128){b[4], b[5], b[6], b[7]}));
}
static inline npx_v8f npx_min(npx_v8f a, npx_v8f b) {
    return npx_halves(_mm_min_ps((__m128){a[0], a[1], a[2], a[3]}, (__m128){b[0], b[1], b[2], b[3]}),
                      _mm_min_ps((__m128){a[4], a[5], a[6], a[7]}, (__m128){b[4], b[5], b[6], b[7]}));
}
#else
static inline npx_v8f npx_max(npx_v8f a, npx_v8f b) { return npx_select(a > b, a, b); }
static inline npx_v8f npx_min(npx_v8f a, npx_v8f b) { return npx_select(a < b, a, b); }
#endif

/* x > 0 ? x : 0 */
static inline npx_v8f npx_max0(npx_v8f x) { return npx_max(x, npx_splat(0.0f)); }

/* x < lo ? lo : x, then x > hi ? hi : x */
static inline npx_v8f npx_clamp8(npx_v8f x, float lo, float hi) {
    return npx_min(npx_splat(hi), npx_max(npx_splat(lo), x));
}

/* The lanes' sum, always in this order. */
static inline float npx_hsum(npx_v8f v) {
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/* Sum of x[0..n) in the fixed lane order (n need not be a multiple of 8). */
static inline float npx_sum(int64_t n, const float *x) {
    npx_v8f acc = npx_splat(0.0f);
    int64_t i = 0;
    for (; i + NPX_LANES <= n; i += NPX_LANES) acc += npx_load(x + i);
    float tail[NPX_LANES] = {0};
    memcpy(tail, x + i, sizeof(float) * (size_t)(n - i));
    return npx_hsum(acc + npx_load(tail));
}

/* Natural log of positive normal floats: the musl/FreeBSD logf reduction and polynomial
 * (< 1 ulp), as plain lane-wise arithmetic (the same steps as attention_core.fused_log). */
static inline npx_v8f npx_log8(npx_v8f x) {
    npx_v8i bits = (npx_v8i)x + 0x4AFB0D; /* so that the mantissa lands in [sqrt(1/2), sqrt(2)) */
    npx_v8f exponent = __builtin_convertvector((bits >> 23) - 0x7F, npx_v8f);
    npx_v8f f = (npx_v8f)((bits & 0x007FFFFF) + 0x3F3504F3) - 1.0f;
    npx_v8f s = f / (f + 2.0f);
    npx_v8f z = s * s;
    npx_v8f w = z * z;
    npx_v8f r = z * (0.66666662693f + w * 0.28498786688f) + w * (0.40000972152f + w * 0.24279078841f);
    npx_v8f half_f2 = 0.5f * f * f;
    return s * (half_f2 + r) + exponent * 9.0580006145e-06f - half_f2 + f
           + exponent * 6.9313812256e-01f;
}

static inline float npx_log1(float x) { return npx_log8(npx_splat(x))[0]; }

#endif
