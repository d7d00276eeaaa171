/* NeuroPathX attention terms on the CPU: one fused pass forward, one fused pass backward.
 *
 * Shapes (float32, C-contiguous): qt (B, P, F1), it (B, F1, R), v (B, R).
 * Per entry: s = qt[b,p,:] . it[b,:,r], x = max(s, 0), A = x / (x + k),
 * u = clamp(x / k, lo, hi), d = log(u) - logit_rho (the derivative of the sparsity KL in A),
 * KL entry (without its constant) = A d - log(1 + u).
 * Forward writes per (b, p): rows = sum_r A, fused = sum_r A v, kl = sum_r KL entry, with
 * sum_r log(1 + u) taken as the log of products of up to NPX_LOG_GROUP factors (1 + u),
 * lane by lane: two logs per row of 68 regions instead of nine. The product of g factors
 * rounds g - 1 times (relative error < 5 * 2^-24, absolute < 3e-7 in its log), less than
 * the rounding of the sum of the logs it replaces; log(1 + u) only enters the value of the
 * KL, never its gradient (d).
 * Backward recomputes A and d (cheaper than storing two (B, P, R) tensors) and writes
 * dL/dqt, dL/dit and dL/dv from the gradients of rows, fused and the summed KL; g_it NULL
 * skips dL/dit (the image factors are data in training), which saves a third of the pass.
 * `saved` (NULL, or B*P*2*Rp floats with Rp = R rounded up to 8): the forward stores A and d
 * of every row there and the backward reads them instead of recomputing (same bits, and
 * the backward then skips the scores, the division and the log).
 * Mirrors attention_core._forward_eager / _backward_eager (the reference for the tests).
 * Regions go in blocks of 8 lanes and every sum over regions in the fixed lane order of
 * npx_lanes.h, so the bits do not depend on the instruction set the library is built for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npx_lanes.h"

#define NPX_INLINE static inline __attribute__((always_inline))

static inline int64_t npx_padded(int64_t R) { return (R + NPX_LANES - 1) / NPX_LANES * NPX_LANES; }

/* Each subject's image factors and values copied into zero-padded rows of Rp regions; the
 * padded regions get score 0, so A = 0 there, and `ok` (1 for real regions, 0 for padding)
 * takes their constant -log(1 + lo) out of the KL sum exactly (their factor is 1). */
typedef struct {
    int64_t R, Rp, F1;
    float *it, *v, *ok, *g_it, *g_v; /* F1*Rp, Rp, Rp, F1*Rp, Rp */
    float *block;
} npx_scratch;

static int npx_scratch_init(npx_scratch *w, int64_t R, int64_t F1) {
    w->R = R;
    w->Rp = npx_padded(R);
    w->F1 = F1;
    const int64_t n = w->Rp * (2 * F1 + 3);
    w->block = aligned_alloc(32, sizeof(float) * (size_t)n);
    if (!w->block) return 1;
    memset(w->block, 0, sizeof(float) * (size_t)n);
    w->it = w->block;
    w->v = w->it + F1 * w->Rp;
    w->ok = w->v + w->Rp;
    w->g_it = w->ok + w->Rp;
    w->g_v = w->g_it + F1 * w->Rp;
    for (int64_t r = 0; r < R; ++r) w->ok[r] = 1.0f;
    return 0;
}

static void npx_scratch_load(npx_scratch *w, const float *itb, const float *vb) {
    for (int64_t f = 0; f < w->F1; ++f) memcpy(w->it + f * w->Rp, itb + f * w->R, sizeof(float) * (size_t)w->R);
    memcpy(w->v, vb, sizeof(float) * (size_t)w->R);
}

/* Scores of 8 regions starting at r: sum over f of q[f] it[f, r..r+8), f ascending. */
NPX_INLINE npx_v8f npx_scores8(const float *it, int64_t Rp, int64_t r, const float *q, int64_t F1) {
    npx_v8f s = q[0] * npx_load(it + r);
    for (int64_t f = 1; f < F1; ++f) s += q[f] * npx_load(it + f * Rp + r);
    return s;
}

/* Blocks whose factors (1 + u) go into one log: as many as NPX_LOG_GROUP while (1 + hi)^g
 * stays finite (LOG_CLAMP = 1e-6: hi = 1e6, six blocks; eps = 1e-15: two; below 6e-20: one). */
#define NPX_LOG_GROUP 6
static int npx_log_group(float hi) {
    const double top = 1.0 + (double)hi;
    int group = 1;
    for (double power = top * top; group < NPX_LOG_GROUP && power < 3.0e38; power *= top) ++group;
    return group;
}

/* Multiply one block's factors into the group's product; after `group` of them, add its
 * log to the KL's sum of logs and start a new product. */
NPX_INLINE void npx_take_factor(npx_v8f factor, int group, npx_v8f *product, int *in_group,
                                npx_v8f *sum_log) {
    *product = *in_group ? *product * factor : factor;
    if (++*in_group == group) {
        *sum_log += npx_log8(*product);
        *in_group = 0;
    }
}

/* Blocks of 8 regions staged at a time (rows of more than 8 * NPX_MAX_BLOCKS regions go in
 * several such spans, in order). */
#define NPX_MAX_BLOCKS 16

/* The forward of one row (b, p), in stages over the row's blocks of 8 regions: the scores of
 * all of them, then A and u, then the logs d, then the KL factors. Each stage's blocks are
 * independent, so the processor overlaps their long chains (two divisions and the log's
 * polynomial per block) instead of waiting on one block at a time: about 15 % faster than
 * block after block, with the same operations on every lane and every sum over the blocks
 * in the same order (the same bits). `ones` (only for F1 >= 2): the last image row is 1 in
 * the real regions, so its product q[F1-1] * 1 is q[F1-1] itself; blocks from `nfull` on
 * hold padding, where A = 0 (so A d = 0) and `ok` makes the factor exactly 1 (elsewhere ok
 * is 1 and 1 * u is u). Both skip a product that would not change a bit. `saved`: A then d
 * of the row (Rp each) for the backward, or NULL. */
NPX_INLINE void npx_forward_row(const npx_scratch *w, const float *q, int64_t F1, float k,
                                float inv_k, float logit_rho, float lo, float hi, int group,
                                float *saved, int ones, float *row, float *fused, float *kl_row) {
    const int64_t Rp = w->Rp, blocks = Rp / NPX_LANES, nfull = w->R / NPX_LANES;
    npx_v8f sum_a = npx_splat(0.0f), sum_av = sum_a, sum_ad = sum_a, sum_log = sum_a;
    npx_v8f product = npx_splat(1.0f);
    int in_group = 0; /* factors multiplied into `product` so far */
    npx_v8f s[NPX_MAX_BLOCKS], a[NPX_MAX_BLOCKS], u[NPX_MAX_BLOCKS];
    for (int64_t first = 0; first < blocks; first += NPX_MAX_BLOCKS) {
        const int64_t nb = blocks - first < NPX_MAX_BLOCKS ? blocks - first : NPX_MAX_BLOCKS;
        for (int64_t j = 0; j < nb; ++j) {
            const int64_t r = (first + j) * NPX_LANES;
            if (ones && first + j < nfull) {
                s[j] = q[0] * npx_load(w->it + r);
                for (int64_t f = 1; f < F1 - 1; ++f) s[j] += q[f] * npx_load(w->it + f * Rp + r);
                s[j] += q[F1 - 1];
            } else {
                s[j] = npx_scores8(w->it, Rp, r, q, F1);
            }
        }
        for (int64_t j = 0; j < nb; ++j) {
            const int64_t r = (first + j) * NPX_LANES;
            const npx_v8f x = npx_max0(s[j]);
            a[j] = x / (x + k);
            u[j] = npx_clamp8(x * inv_k, lo, hi);
            if (saved) npx_store(saved + r, a[j]);
            sum_a += a[j];
            sum_av += a[j] * npx_load(w->v + r);
        }
        for (int64_t j = 0; j < nb; ++j) {
            const int64_t r = (first + j) * NPX_LANES;
            const npx_v8f d = npx_log8(u[j]) - logit_rho;
            if (saved) npx_store(saved + Rp + r, d);
            sum_ad += a[j] * d;
        }
        for (int64_t j = 0; j < nb; ++j) {
            const int64_t r = (first + j) * NPX_LANES;
            const npx_v8f factor = (first + j < nfull ? u[j] : npx_load(w->ok + r) * u[j]) + 1.0f;
            npx_take_factor(factor, group, &product, &in_group, &sum_log);
        }
    }
    if (in_group) sum_log += npx_log8(product);
    *row = npx_hsum(sum_a);
    *fused = npx_hsum(sum_av);
    *kl_row = npx_hsum(sum_ad - sum_log);
}

NPX_INLINE void npx_forward_subject(const npx_scratch *w, int64_t P, int64_t F1, const float *qt,
                                    float k, float logit_rho, float lo, float hi, float *rows,
                                    float *fused, float *kl_rows, float *saved, int ones) {
    const float inv_k = 1.0f / k;
    const int group = npx_log_group(hi);
    for (int64_t p = 0; p < P; ++p)
        npx_forward_row(w, qt + p * F1, F1, k, inv_k, logit_rho, lo, hi, group,
                        saved ? saved + 2 * p * w->Rp : NULL, ones, rows + p, fused + p,
                        kl_rows + p);
}

/* Whether the last image row is 1 in every region (the bias row of the factors). */
static int npx_ones_row(const npx_scratch *w) {
    if (w->F1 < 2) return 0;
    const float *row = w->it + (w->F1 - 1) * w->Rp;
    for (int64_t r = 0; r < w->R; ++r)
        if (row[r] != 1.0f) return 0;
    return 1;
}

int npx_attention_forward(int64_t B, int64_t P, int64_t R, int64_t F1, const float *qt,
                          const float *it, const float *v, float k, float logit_rho, float lo,
                          float hi, float *rows, float *fused, float *kl_rows, float *saved) {
    npx_scratch w;
    if (npx_scratch_init(&w, R, F1)) return 1;
    for (int64_t b = 0; b < B; ++b) {
        npx_scratch_load(&w, it + b * F1 * R, v + b * R);
        const float *q = qt + b * P * F1;
        float *rb = rows + b * P, *fb = fused + b * P, *kb = kl_rows + b * P;
        float *sb = saved ? saved + b * P * 2 * w.Rp : NULL;
        const int ones = npx_ones_row(&w);
        /* four measures and the bias: a constant trip count for the compiler */
        if (F1 == 5 && sb && ones)
            npx_forward_subject(&w, P, 5, q, k, logit_rho, lo, hi, rb, fb, kb, sb, 1);
        else if (F1 == 5 && ones)
            npx_forward_subject(&w, P, 5, q, k, logit_rho, lo, hi, rb, fb, kb, NULL, 1);
        else if (F1 == 5)
            npx_forward_subject(&w, P, 5, q, k, logit_rho, lo, hi, rb, fb, kb, sb, 0);
        else
            npx_forward_subject(&w, P, F1, q, k, logit_rho, lo, hi, rb, fb, kb, sb, ones);
    }
    free(w.block);
    return 0;
}

NPX_INLINE void npx_backward_subject(npx_scratch *w, int64_t P, int64_t F1, const float *qt,
                                     float k, float logit_rho, float lo, float hi,
                                     const float *g_rows, const float *g_fused, float g_kl,
                                     float *g_qt, int want_it, const float *saved) {
    const int64_t Rp = w->Rp;
    const float inv_k = 1.0f / k;
    npx_v8f acc[F1];
    for (int64_t p = 0; p < P; ++p) {
        const float *q = qt + p * F1;
        const float gr = g_rows[p], gf = g_fused[p];
        for (int64_t f = 0; f < F1; ++f) acc[f] = npx_splat(0.0f);
        for (int64_t r = 0; r < Rp; r += NPX_LANES) {
            npx_v8f a, g_a = gf * npx_load(w->v + r) + gr;
            if (saved) { /* A and d as the forward computed them: the same bits */
                a = npx_load(saved + 2 * p * Rp + r);
                if (g_kl != 0.0f) g_a = g_a + g_kl * npx_load(saved + (2 * p + 1) * Rp + r);
            } else {
                const npx_v8f x = npx_max0(npx_scores8(w->it, Rp, r, q, F1));
                a = x / (x + k);
                if (g_kl != 0.0f) g_a = g_a + g_kl * (npx_log8(npx_clamp8(x * inv_k, lo, hi)) - logit_rho);
            }
            const npx_v8f not_a = 1.0f - a;
            const npx_v8f g_s = npx_select(a > npx_splat(0.0f), g_a * not_a * not_a * inv_k, npx_splat(0.0f));
            npx_store(w->g_v + r, npx_load(w->g_v + r) + gf * a);
            for (int64_t f = 0; f < F1; ++f) {
                acc[f] += g_s * npx_load(w->it + f * Rp + r);
                if (want_it) {
                    float *g_row = w->g_it + f * Rp + r;
                    npx_store(g_row, npx_load(g_row) + q[f] * g_s);
                }
            }
        }
        for (int64_t f = 0; f < F1; ++f) g_qt[p * F1 + f] = npx_hsum(acc[f]);
    }
}

int npx_attention_backward(int64_t B, int64_t P, int64_t R, int64_t F1, const float *qt,
                           const float *it, const float *v, float k, float logit_rho, float lo,
                           float hi, const float *g_rows, const float *g_fused, float g_kl,
                           float *g_qt, float *g_it, float *g_v, const float *saved) {
    npx_scratch w;
    if (npx_scratch_init(&w, R, F1)) return 1;
    const int64_t Rp = w.Rp;
    /* last subject first: the forward wrote its saved rows last, so they are still cached */
    for (int64_t b = B - 1; b >= 0; --b) {
        npx_scratch_load(&w, it + b * F1 * R, v + b * R);
        memset(w.g_it, 0, sizeof(float) * (size_t)(F1 * Rp));
        memset(w.g_v, 0, sizeof(float) * (size_t)Rp);
        const float *q = qt + b * P * F1, *gr = g_rows + b * P, *gf = g_fused + b * P;
        float *gq = g_qt + b * P * F1;
        /* constant F1 and want_it: the compiler drops the g_it updates when not wanted */
        const float *sb = saved ? saved + b * P * 2 * Rp : NULL;
        if (F1 == 5 && g_it)
            npx_backward_subject(&w, P, 5, q, k, logit_rho, lo, hi, gr, gf, g_kl, gq, 1, sb);
        else if (F1 == 5 && sb)
            npx_backward_subject(&w, P, 5, q, k, logit_rho, lo, hi, gr, gf, g_kl, gq, 0, sb);
        else if (F1 == 5)
            npx_backward_subject(&w, P, 5, q, k, logit_rho, lo, hi, gr, gf, g_kl, gq, 0, NULL);
        else
            npx_backward_subject(&w, P, F1, q, k, logit_rho, lo, hi, gr, gf, g_kl, gq, g_it != NULL, sb);
        if (g_it)
            for (int64_t f = 0; f < F1; ++f)
                memcpy(g_it + (b * F1 + f) * R, w.g_it + f * Rp, sizeof(float) * (size_t)R);
        memcpy(g_v + b * R, w.g_v, sizeof(float) * (size_t)R);
    }
    free(w.block);
    return 0;
}
