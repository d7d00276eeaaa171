/* The regional measures' two layouts of the model, built in one plain pass each.
 *
 * npx_centre: out[n, f] = x[n, f] - mean[f] for N rows of F measures (the centred rows whose
 * Gram matrix is the measures' covariance); the same single subtraction per element as
 * ATen's `x - mean`, so the same bits, without its slow broadcasting loop (4 columns).
 * npx_image_factors: it[b, f, r] = x[b, r, f] and it[b, F, r] = 1 (B, F + 1, R): the image
 * factors of the scores (the measures by region, then the key's shift row); copies only.
 */
#include <stdint.h>

void npx_centre(int64_t N, int64_t F, const float *x, const float *mean, float *out) {
    if (F == 4) { /* the four FreeSurfer measures: a constant trip count for the compiler */
        for (int64_t n = 0; n < N; ++n)
            for (int64_t f = 0; f < 4; ++f) out[n * 4 + f] = x[n * 4 + f] - mean[f];
        return;
    }
    for (int64_t n = 0; n < N; ++n)
        for (int64_t f = 0; f < F; ++f) out[n * F + f] = x[n * F + f] - mean[f];
}

void npx_image_factors(int64_t B, int64_t R, int64_t F, const float *x, float *it) {
    for (int64_t b = 0; b < B; ++b) {
        const float *xb = x + b * R * F;
        float *ib = it + b * (F + 1) * R;
        for (int64_t f = 0; f < F; ++f)
            for (int64_t r = 0; r < R; ++r) ib[f * R + r] = xb[r * F + f];
        for (int64_t r = 0; r < R; ++r) ib[F * R + r] = 1.0f;
    }
}
