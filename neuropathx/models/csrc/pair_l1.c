/* Pathway-similarity loss, L1 over every patient-control pair (METHOD.md section 3):
 * loss = sum_p sum_{i patient, j control} |s_ip - s_jp| / (n_pat n_ctrl), and its gradient
 * in s (sign(s_ip - s_jp), zero at ties like the subgradient of |0|), in one pass.
 * rows (B, P) row-major; is_patient (B,) 0/1. Returns the loss; grad (B, P) is written.
 */
#include <stdint.h>
#include <stdlib.h>

double npx_pair_l1(int64_t B, int64_t P, const float *rows, const uint8_t *is_patient,
                   float *grad) {
    int64_t n_pat = 0;
    for (int64_t b = 0; b < B; ++b) n_pat += is_patient[b] != 0;
    const int64_t n_ctrl = B - n_pat;
    float *buf = malloc(sizeof(float) * (size_t)(2 * B + 2));
    int64_t *index = malloc(sizeof(int64_t) * (size_t)B);
    if (!buf || !index || n_pat == 0 || n_ctrl == 0) {
        free(buf);
        free(index);
        return -1.0;
    }
    float *ctrl = buf, *g_ctrl = buf + n_ctrl;
    int64_t ip = 0, ic = n_pat; /* patients first, then controls */
    for (int64_t b = 0; b < B; ++b) index[is_patient[b] ? ip++ : ic++] = b;
    const float scale = (float)(1.0 / ((double)n_pat * (double)n_ctrl));
    double total = 0.0;
    for (int64_t p = 0; p < P; ++p) {
        for (int64_t j = 0; j < n_ctrl; ++j) {
            ctrl[j] = rows[index[n_pat + j] * P + p];
            g_ctrl[j] = 0.0f;
        }
        float sum_p = 0.0f;
        for (int64_t i = 0; i < n_pat; ++i) {
            const float s = rows[index[i] * P + p];
            float sum = 0.0f, g = 0.0f;
#pragma omp simd reduction(+ : sum, g)
            for (int64_t j = 0; j < n_ctrl; ++j) {
                const float diff = s - ctrl[j];
                const float sign = (float)(diff > 0.0f) - (float)(diff < 0.0f);
                sum += sign * diff;
                g += sign;
                g_ctrl[j] -= sign;
            }
            sum_p += sum;
            grad[index[i] * P + p] = g * scale;
        }
        for (int64_t j = 0; j < n_ctrl; ++j) grad[index[n_pat + j] * P + p] = g_ctrl[j] * scale;
        total += sum_p;
    }
    free(buf);
    free(index);
    return total * scale;
}
