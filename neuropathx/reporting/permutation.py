"""Permutation p-values of link contrasts that stay calibrated when CV is repeated.

The unit of the test is the subject. The attention of a test subject comes from the model
of the fold it was tested in, and with ``cv.repeats`` R > 1 every subject is tested once per
repeat, by R different models. Permuting labels independently in each fold file (what this
module replaced) gives the same subject different permuted labels in different repeats,
while its real label is the same in all of them: the R nearly identical copies of a
subject then count as R independent observations and the null distribution is far too
narrow (53 % of null links had p < 0.05 with 10 repeats).

We therefore (1) centre each fold's attention on its own test-subject mean, which removes
model-to-model offsets (each fold trains its own model from its own initialisation) and,
because folds are stratified, leaves the patient-control difference almost unchanged;
(2) take, for the test, only the first CV repeat (``tested_repeat``): there every subject is
tested exactly once, by one fold model, so each subject is one row and (3) one permutation of
the subjects' labels is the exchangeable unit. The estimates the report prints (contrasts,
stability) still average each subject's fold-centred attention over every repeat it was
tested in; only the p-values, max-T and BH q-values come from the first repeat. Averaging
over repeats before permuting (the design this replaced) is not calibrated: the repeats'
fold models were trained on the other subjects' real labels, and the average over R models
accumulates that label-related pattern in null test attention (pair-specific max-T
family-wise error 0.133 with 10 repeats, below), which no permutation of fixed attention can
see.

Null hypothesis of each link's p-value: the subject's label is exchangeable with respect
to its fold-centred first-repeat attention of that link, i.e. patients and controls
have the same distribution of that link's attention. The test is two-sided: the statistic
is |t| of the pooled two-sample t, a monotone function of |Ā_PAT − Ā_ND| under permutation
(total sum and sum of squares are permutation-invariant), so the marginal p-value is that of
the difference itself; standardising matters only for max-T. ``p = (1 + #{b: |t_b| ≥
|t_obs|}) / (1 + B)``. The family-wise p-value is single-step max-T (Westfall & Young
1993): ``p_maxT = (1 + #{b: max_links |t_b| ≥ |t_obs|}) / (1 + B)``, which controls the
FWER over all links of one contrast under subset pivotality. The models are not retrained
per permutation: the test is conditional on the trained fold models, and the null
calibration benchmark (``bench/null_calibration.py``) measures how well that holds.
Measured (``bench/null_calibration.py``: 200 subjects, 12 x 16 links, 5 folds, 60 null
cohorts each): share of null links with p < 0.05 0.052 (raw) / 0.049 (pair), family-wise
error of max-T 0.05 / 0.05, whatever the number of repeats (only the first one's attention
enters the test); the replaced pooled design with 10 repeats gave 0.056 / 0.052 and 0.033 / 0.133
(the pair-specific max-T anti-conservative: its few links had the same sign in 70-80 % of
the 50 fold models). The test stays conditional on the trained fold models; an exact null
would retrain under permuted labels, B times per fold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from neuropathx.reporting.attention import AttentionStack


@dataclass
class SubjectAttention:
    """One fold-centred, repeat-averaged attention matrix per subject."""

    attention: np.ndarray  # (N, P, R) float64
    labels: np.ndarray  # (N,) 1 = patient
    subjects: np.ndarray  # (N,)
    times_tested: np.ndarray  # (N,) number of folds (repeats) each subject was tested in


@dataclass
class PermutationResult:
    """Per-link two-sided permutation statistics of one contrast, each (P, R)."""

    t: np.ndarray
    p: np.ndarray
    p_maxT: np.ndarray
    n_permutations: int


def tested_repeat(stack: AttentionStack) -> int:
    """The repeat whose test attention the p-values use: the first (lowest-numbered) one."""
    return int(stack.repeat.min())


def subject_attention(
    stack: AttentionStack, centre_folds: bool = True, repeat: int | None = None
) -> SubjectAttention:
    """Average each subject's (optionally fold-centred) attention over the folds it was tested in.

    ``repeat``: use only that CV repeat's folds, in which a subject must be tested at most once
    (the p-values' design; module docstring). A subject must have the same label in every
    fold file; otherwise ``ValueError`` names it.
    """
    if repeat is not None:
        rows = stack.repeat == repeat
        if not rows.any():
            raise ValueError(f"no attention file of repeat {repeat}")
        stack = replace(
            stack,
            attention=stack.attention[rows],
            labels=stack.labels[rows],
            subjects=stack.subjects[rows],
            fold=stack.fold[rows],
            repeat=stack.repeat[rows],
        )
    att = stack.attention.astype(np.float64)
    if centre_folds:
        att = att.copy()
        for f in np.unique(stack.fold):
            rows = stack.fold == f
            att[rows] -= att[rows].mean(axis=0)
    subjects, index = np.unique(stack.subjects, return_inverse=True)
    counts = np.bincount(index, minlength=len(subjects))
    if repeat is not None and counts.max() > 1:
        raise ValueError(
            f"subject {subjects[np.argmax(counts)]} is tested in {counts.max()} folds of "
            f"repeat {repeat}; each repeat must test a subject at most once"
        )
    sums = np.zeros((len(subjects),) + att.shape[1:])
    np.add.at(sums, index, att)
    labels = np.full(len(subjects), -1)
    labels[index] = stack.labels
    clash = np.flatnonzero(
        np.bincount(index, weights=stack.labels, minlength=len(subjects)) != labels * counts
    )
    if len(clash):
        raise ValueError(
            f"subject {subjects[clash[0]]} has different labels in different attention files"
        )
    return SubjectAttention(sums / counts[:, None, None], labels, subjects, counts)


def pooled_t(diff: np.ndarray, total_ss: np.ndarray, n1: int, n0: int) -> np.ndarray:
    """Pooled two-sample t from the mean difference and the (invariant) centred total SS."""
    n = n1 + n0
    within = np.maximum(total_ss - (n1 * n0 / n) * diff**2, 0.0)
    scale = np.sqrt(within / (n - 2) * (1.0 / n1 + 1.0 / n0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    return t


def contrast_weights(labels: np.ndarray) -> np.ndarray:
    """Row weights w with w @ X = mean(X[patients]) − mean(X[controls]); rows (..., N)."""
    labels = np.asarray(labels)
    n1 = (labels == 1).sum(axis=-1, keepdims=True)
    n0 = (labels == 0).sum(axis=-1, keepdims=True)
    return np.where(labels == 1, 1.0 / n1, -1.0 / n0)


def permutation_test(
    values: np.ndarray, labels: np.ndarray, n_permutations: int, seed: int, chunk: int = 0
) -> PermutationResult:
    """Two-sided permutation p and max-T p of every column's patient-control difference.

    ``values``: (N, ...) one row per subject; ``labels`` (N,). The B permuted contrasts of a
    chunk are one (chunk × N) @ (N × links) product. The same seed gives the same
    permutations whatever the values, so contrasts tested with one seed share them.
    """
    shape = values.shape[1:]
    flat = values.reshape(len(values), -1).astype(np.float64)
    flat = flat - flat.mean(axis=0)
    labels = np.asarray(labels).astype(int)
    n1, n0 = int((labels == 1).sum()), int((labels == 0).sum())
    if n1 < 2 or n0 < 2:
        raise ValueError(f"permutation test needs 2+ patients and controls; got {n1} and {n0}")
    total_ss = (flat**2).sum(axis=0)
    chunk = chunk or int(np.clip(4_000_000 // flat.shape[1], 1, 2000))  # ~32 MB per null chunk
    observed = np.abs(pooled_t(contrast_weights(labels) @ flat, total_ss, n1, n0))
    # the B x N @ N x links product runs in float32 (twice as fast); a permuted |t| within
    # 1e-5 (relative) of the observed one counts as reaching it, which errs conservative
    flat32 = flat.astype(np.float32)
    threshold = observed * (1 - 1e-5)
    exceed = np.zeros_like(observed)
    exceed_max = np.zeros_like(observed)
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_permutations:
        size = min(chunk, n_permutations - done)
        perms = rng.permuted(np.broadcast_to(labels, (size, len(labels))), axis=1)
        diff = contrast_weights(perms).astype(np.float32) @ flat32
        null = np.abs(pooled_t(diff.astype(np.float64), total_ss, n1, n0))
        exceed += (null >= threshold).sum(axis=0)
        exceed_max += (null.max(axis=1)[:, None] >= threshold).sum(axis=0)
        done += size
    t = pooled_t(contrast_weights(labels) @ flat, total_ss, n1, n0)
    if n_permutations == 0:
        nan = np.full(shape, np.nan)
        return PermutationResult(t.reshape(shape), nan, nan.copy(), 0)
    scale = 1.0 + n_permutations
    return PermutationResult(
        t.reshape(shape),
        ((1 + exceed) / scale).reshape(shape),
        ((1 + exceed_max) / scale).reshape(shape),
        n_permutations,
    )


def permutations_needed(n_links: int, alpha: float, minimum: int, maximum: int) -> int:
    """Permutations so that one link can pass BH at ``alpha``: p floor 1/(B+1) ≤ alpha/links."""
    return int(min(maximum, max(minimum, np.ceil(n_links / alpha))))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH false-discovery-rate q-values of an array of p-values (NaN stays NaN)."""
    flat = np.asarray(p, dtype=float).ravel()
    q = np.full_like(flat, np.nan)
    ok = np.flatnonzero(~np.isnan(flat))
    if len(ok):
        order = ok[np.argsort(flat[ok], kind="stable")]
        ranked = flat[order] * len(ok) / np.arange(1, len(ok) + 1)
        q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q.reshape(np.shape(p))
