import numpy as np
import pytest

from neuropathx.reporting.attention import AttentionStack
from neuropathx.reporting.permutation import (
    benjamini_hochberg,
    permutation_test,
    permutations_needed,
    pooled_t,
    subject_attention,
)


def _repeated_null_stack(rng, n=80, repeats=5, folds=4, links=(6, 5), subject_sd=1.0):
    """Null attention tested once per repeat: a strong per-subject component shared by all
    repeats (as a subject's attention is), plus fold-model offsets and noise."""
    labels = rng.permutation(np.arange(n) % 2)
    person = subject_sd * rng.normal(size=(n, *links))
    mats, lab, subj, fold_ids = [], [], [], []
    k = 0
    for _ in range(repeats):
        order = rng.permutation(n)
        for part in np.array_split(order, folds):
            offset = rng.normal(size=links)
            mats.append(person[part] + offset + 0.2 * rng.normal(size=(len(part), *links)))
            lab.append(labels[part])
            subj.append(np.array([f"s{i}" for i in part]))
            fold_ids.append(np.full(len(part), k))
            k += 1
    names = [f"P{i}" for i in range(links[0])], [f"r{i}" for i in range(links[1])]
    return AttentionStack(np.concatenate(mats), np.concatenate(lab), np.concatenate(subj),
                          np.concatenate(fold_ids), *names)  # fmt: skip


def _per_fold_permutation_p(stack, n_perm, rng):
    """The replaced method: labels permuted independently inside every fold file."""
    flat = stack.attention.reshape(len(stack.labels), -1)

    def diff(labels):
        return flat[labels == 1].mean(0) - flat[labels == 0].mean(0)

    observed = np.abs(diff(stack.labels))
    exceed = np.zeros_like(observed)
    for _ in range(n_perm):
        labels = stack.labels.copy()
        for f in range(stack.n_folds):
            idx = np.flatnonzero(stack.fold == f)
            labels[idx] = rng.permutation(labels[idx])
        exceed += np.abs(diff(labels)) >= observed
    return (1 + exceed) / (1 + n_perm)


def test_repeats_are_calibrated_where_per_fold_permutation_is_not(rng):
    ours, old = [], []
    for seed in range(12):
        stack = _repeated_null_stack(np.random.default_rng(seed))
        subjects = subject_attention(stack)
        ours.append(permutation_test(subjects.attention, subjects.labels, 300, seed).p.ravel())
        if seed < 4:
            old.append(_per_fold_permutation_p(stack, 200, rng))
    assert 0.03 < np.mean(np.concatenate(ours) < 0.05) < 0.08
    assert np.mean(np.concatenate(old) < 0.05) > 0.2  # the bug: same subject, new label


def test_subject_average_equals_pooled_contrast(rng):
    stack = _repeated_null_stack(rng, repeats=3)
    subjects = subject_attention(stack, centre_folds=False)
    assert subjects.attention.shape == (80, 6, 5) and (subjects.times_tested == 3).all()
    pooled = (stack.attention[stack.labels == 1].mean(0)
              - stack.attention[stack.labels == 0].mean(0))  # fmt: skip
    mine = (subjects.attention[subjects.labels == 1].mean(0)
            - subjects.attention[subjects.labels == 0].mean(0))  # fmt: skip
    np.testing.assert_allclose(mine, pooled, rtol=1e-10)


def test_label_clash_names_the_subject(rng):
    stack = _repeated_null_stack(rng, repeats=2)
    first = np.flatnonzero(stack.subjects == "s3")[0]
    stack.labels[first] = 1 - stack.labels[first]
    with pytest.raises(ValueError, match="subject s3 has different labels"):
        subject_attention(stack)


def test_planted_link_reaches_the_floor_and_max_t(rng):
    labels = np.arange(60) % 2
    values = rng.normal(size=(60, 4, 3))
    values[labels == 1, 2, 1] += 3.0
    res = permutation_test(values, labels, 499, seed=0)
    assert res.p[2, 1] == pytest.approx(1 / 500) and res.p_maxT[2, 1] == pytest.approx(1 / 500)
    assert (res.p_maxT >= res.p - 1e-12).all()
    assert np.delete(res.p_maxT.ravel(), 2 * 3 + 1).min() > 0.05
    # the t matches scipy's pooled two-sample t
    from scipy import stats

    t = stats.ttest_ind(values[labels == 1, 2, 1], values[labels == 0, 2, 1]).statistic
    assert res.t[2, 1] == pytest.approx(t)


def test_pooled_t_by_hand():
    x = np.array([1.0, 2.0, 3.0, 6.0, 7.0, 8.0])
    d = 5.0  # patients (last 3) minus controls
    ss = ((x - x.mean()) ** 2).sum()
    # within SS = 2 + 2 = 4; s2 = 1; se = sqrt(2/3)
    assert pooled_t(np.array([d]), np.array([ss]), 3, 3)[0] == pytest.approx(5 / np.sqrt(2 / 3))


def test_same_seed_same_permutations(rng):
    labels = np.arange(30) % 2
    a, b = rng.normal(size=(30, 5)), rng.normal(size=(30, 5))
    pa = permutation_test(np.hstack([a, b]), labels, 200, 3).p
    np.testing.assert_array_equal(pa[:5], permutation_test(a, labels, 200, 3).p)


def test_permutations_needed_and_bh():
    assert permutations_needed(2720, 0.05, 1000, 200000) == 54400
    assert permutations_needed(10, 0.05, 1000, 200000) == 1000
    assert permutations_needed(37000, 0.05, 1000, 200000) == 200000
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.2, np.nan]))
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert np.isnan(q[4])
