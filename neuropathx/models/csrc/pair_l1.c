/* Pathway-similarity loss, L1 over every patient-control pair (METHOD.md section 3):
 * loss = sum_p sum_{i patient, j control} |s_ip - s_jp| / (n_pat n_ctrl), and its gradient
 * in s (sign(s_ip - s_jp), zero at ties like the subgradient of |0|), in one pass.
 * rows (B, P) row-major; is_patient (B,) 0/1. Returns the loss; grad (B, P) is written.
 *
 * Sums over controls run in the fixed lane order of npx_lanes.h (same bits on any ISA):
 * patient i's sum for pathway p has 8 partial sums, k taking the controls k, k+8, ... in
 * order (then 0 * s_ip, the slot of a padded block, where k >= n_ctrl mod 8 > 0), combined
 * as npx_hsum; these add up over patients in order, then over pathways into a double.
 * The vector lanes run over 8 pathways at a time (not over controls, as before), so that
 * the 8 partial sums and the patient's gradient stay in registers, the loads are
 * contiguous and no sum goes across lanes. The gradients are sums of -1, 0 and 1: integer
 * counts (exact in any order), kept as int32 and converted once. A term sign(d) d is d
 * with the sign bit flipped where d < 0 (d itself at a tie, signed zero included, and
 * where d is NaN). A NaN loss gets the bits of the first NaN term, in the order p, i, k,
 * j (a float add of two NaNs returns either, as the compiler orders the operands): the
 * same on any ISA.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npx_lanes.h"

/* patient s against control c for 8 pathways: the term into partial sum acc, sign(s - c)
 * into the patient's g and subtracted from the control's *gc */
#define NPX_PAIR(acc, c, gc)                                                                \
    do {                                                                                    \
        const npx_v8f d_ = s - (c);                                                         \
        const npx_v8i lt_ = d_ < zero, m_ = lt_ - (d_ > zero);                              \
        acc += (npx_v8f)((npx_v8i)d_ ^ (lt_ & sign_bit));                                   \
        g += m_;                                                                            \
        *(gc) -= m_;                                                                        \
    } while (0)

/* the first w lanes of v to p */
static inline void npx_put(float *p, npx_v8f v, int64_t w) {
    if (w == NPX_LANES)
        npx_store(p, v);
    else
        memcpy(p, &v, sizeof(float) * (size_t)w);
}

/* The first NaN term, in the order of the sums (see above). */
static float npx_first_nan(int64_t P, const float *rows, const int64_t *index, int64_t n_pat,
                           int64_t n_ctrl) {
    const int64_t n_pad = (n_ctrl + NPX_LANES - 1) / NPX_LANES * NPX_LANES;
    for (int64_t p = 0; p < P; ++p)
        for (int64_t i = 0; i < n_pat; ++i)
            for (int64_t k = 0; k < NPX_LANES; ++k)
                for (int64_t j = k; j < n_pad; j += NPX_LANES) {
                    const volatile float c = j < n_ctrl ? rows[index[n_pat + j] * P + p] : 0.0f;
                    const volatile float d = rows[index[i] * P + p] - c;
                    const volatile float t = 0.0f * d; /* d where d is NaN, as sign(d) d */
                    if (t != t) return t;
                }
    return 0.0f;
}

double npx_pair_l1(int64_t B, int64_t P, const float *rows, const uint8_t *is_patient,
                   float *grad) {
    int64_t n_pat = 0;
    for (int64_t b = 0; b < B; ++b) n_pat += is_patient[b] != 0;
    const int64_t n_ctrl = B - n_pat;
    /* 8 pathways of every subject (patients first), then the controls' gradients */
    float *buf = aligned_alloc(32, sizeof(float) * (size_t)(NPX_LANES * (B + n_ctrl)));
    int64_t *index = malloc(sizeof(int64_t) * (size_t)B);
    if (!buf || !index || n_pat == 0 || n_ctrl == 0) {
        free(buf);
        free(index);
        return -1.0;
    }
    const float *pat = buf, *ctrl = buf + NPX_LANES * n_pat;
    npx_v8i *g_ctrl = (npx_v8i *)(buf + NPX_LANES * B);
    int64_t ip = 0, ic = n_pat; /* patients first, then controls */
    for (int64_t b = 0; b < B; ++b) index[is_patient[b] ? ip++ : ic++] = b;
    const float scale = (float)(1.0 / ((double)n_pat * (double)n_ctrl));
    const npx_v8f zero = npx_splat(0.0f);
    const npx_v8i sign_bit = (npx_v8i)npx_splat(-0.0f);
    const int64_t n_full = n_ctrl / NPX_LANES * NPX_LANES, rest = n_ctrl - n_full;
    double total = 0.0;
    for (int64_t p0 = 0; p0 < P; p0 += NPX_LANES) {
        const int64_t w = P - p0 < NPX_LANES ? P - p0 : NPX_LANES; /* pathways p0.. p0+w */
        for (int64_t b = 0; b < B; ++b) {
            float *dst = buf + NPX_LANES * b;
            if (w == NPX_LANES) {
                npx_store(dst, npx_load(rows + index[b] * P + p0));
            } else {
                memset(dst, 0, sizeof(float) * NPX_LANES);
                memcpy(dst, rows + index[b] * P + p0, sizeof(float) * (size_t)w);
            }
        }
        memset(g_ctrl, 0, sizeof(npx_v8i) * (size_t)n_ctrl);
        npx_v8f sum_p = zero;
        for (int64_t i = 0; i < n_pat; ++i) {
            const npx_v8f s = npx_load(pat + NPX_LANES * i);
            npx_v8f a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            npx_v8f a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            npx_v8i g = (npx_v8i)zero;
            const float *c = ctrl;
            npx_v8i *gc = g_ctrl;
            for (int64_t j = 0; j < n_full; j += NPX_LANES, c += 8 * NPX_LANES, gc += 8) {
                NPX_PAIR(a0, npx_load(c), gc);
                NPX_PAIR(a1, npx_load(c + 8), gc + 1);
                NPX_PAIR(a2, npx_load(c + 16), gc + 2);
                NPX_PAIR(a3, npx_load(c + 24), gc + 3);
                NPX_PAIR(a4, npx_load(c + 32), gc + 4);
                NPX_PAIR(a5, npx_load(c + 40), gc + 5);
                NPX_PAIR(a6, npx_load(c + 48), gc + 6);
                NPX_PAIR(a7, npx_load(c + 56), gc + 7);
            }
            if (rest) { /* the last rest controls, then 0 * s in the partial sums past them */
                const npx_v8f pad = zero * s;
                if (rest > 0) NPX_PAIR(a0, npx_load(c), gc); else a0 += pad;
                if (rest > 1) NPX_PAIR(a1, npx_load(c + 8), gc + 1); else a1 += pad;
                if (rest > 2) NPX_PAIR(a2, npx_load(c + 16), gc + 2); else a2 += pad;
                if (rest > 3) NPX_PAIR(a3, npx_load(c + 24), gc + 3); else a3 += pad;
                if (rest > 4) NPX_PAIR(a4, npx_load(c + 32), gc + 4); else a4 += pad;
                if (rest > 5) NPX_PAIR(a5, npx_load(c + 40), gc + 5); else a5 += pad;
                if (rest > 6) NPX_PAIR(a6, npx_load(c + 48), gc + 6); else a6 += pad;
                a7 += pad;
            }
            sum_p += ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
            npx_put(grad + index[i] * P + p0, __builtin_convertvector(g, npx_v8f) * scale, w);
        }
        for (int64_t j = 0; j < n_ctrl; ++j) {
            const npx_v8f g = __builtin_convertvector(g_ctrl[j], npx_v8f) * scale;
            npx_put(grad + index[n_pat + j] * P + p0, g, w);
        }
        for (int64_t k = 0; k < w; ++k) total += sum_p[k];
    }
    if (total != total) total = npx_first_nan(P, rows, index, n_pat, n_ctrl);
    free(buf);
    free(index);
    return total * scale;
}
