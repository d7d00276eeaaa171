/* Pathway-similarity loss, L1 over every patient-control pair (METHOD.md section 3):
 * loss = sum_p sum_{i patient, j control} |s_ip - s_jp| / (n_pat n_ctrl), and its gradient
 * in s (sign(s_ip - s_jp), zero at ties like the subgradient of |0|), in one pass.
 * rows (B, P) row-major; is_patient (B,) 0/1. Returns the loss; grad (B, P) is written.
 * Sums over controls run in the fixed lane order of npx_lanes.h (same bits on any ISA).
 */
#include <stdint.h>
#include <stdlib.h>

#include "npx_lanes.h"

double npx_pair_l1(int64_t B, int64_t P, const float *rows, const uint8_t *is_patient,
                   float *grad) {
    int64_t n_pat = 0;
    for (int64_t b = 0; b < B; ++b) n_pat += is_patient[b] != 0;
    const int64_t n_ctrl = B - n_pat;
    const int64_t n_pad = (n_ctrl + NPX_LANES - 1) / NPX_LANES * NPX_LANES;
    float *buf = aligned_alloc(32, sizeof(float) * (size_t)(3 * n_pad + 3 * NPX_LANES));
    int64_t *index = malloc(sizeof(int64_t) * (size_t)B);
    if (!buf || !index || n_pat == 0 || n_ctrl == 0) {
        free(buf);
        free(index);
        return -1.0;
    }
    float *ctrl = buf, *g_ctrl = buf + n_pad, *ok = buf + 2 * n_pad; /* padded to 8 lanes */
    for (int64_t j = 0; j < n_pad; ++j) ok[j] = j < n_ctrl ? 1.0f : 0.0f;
    int64_t ip = 0, ic = n_pat; /* patients first, then controls */
    for (int64_t b = 0; b < B; ++b) index[is_patient[b] ? ip++ : ic++] = b;
    const float scale = (float)(1.0 / ((double)n_pat * (double)n_ctrl));
    double total = 0.0;
    for (int64_t p = 0; p < P; ++p) {
        for (int64_t j = 0; j < n_pad; ++j) {
            ctrl[j] = j < n_ctrl ? rows[index[n_pat + j] * P + p] : 0.0f;
            g_ctrl[j] = 0.0f;
        }
        float sum_p = 0.0f;
        for (int64_t i = 0; i < n_pat; ++i) {
            const float s = rows[index[i] * P + p];
            npx_v8f sum = npx_splat(0.0f), g = sum;
            for (int64_t j = 0; j < n_pad; j += NPX_LANES) {
                const npx_v8f diff = s - npx_load(ctrl + j), zero = npx_splat(0.0f);
                const npx_v8f one = npx_load(ok + j); /* 0 on padded lanes */
                const npx_v8f sign = npx_select(diff > zero, one, zero) - npx_select(diff < zero, one, zero);
                sum += sign * diff;
                g += sign;
                npx_store(g_ctrl + j, npx_load(g_ctrl + j) - sign);
            }
            sum_p += npx_hsum(sum);
            grad[index[i] * P + p] = npx_hsum(g) * scale;
        }
        for (int64_t j = 0; j < n_ctrl; ++j) grad[index[n_pat + j] * P + p] = g_ctrl[j] * scale;
        total += sum_p;
    }
    free(buf);
    free(index);
    return total * scale;
}
