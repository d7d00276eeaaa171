import numpy as np
import pytest

from neuropathx.reporting.attention import AttentionStack, file_repeat
from neuropathx.reporting.contrasts import CONTRASTS, contrast_table
from neuropathx.reporting.permutation import (
    benjamini_hochberg,
    permutation_test,
    permutations_needed,
    pooled_t,
    subject_attention,
)
from neuropathx.reporting.stage import link_tables


def _repeated_null_stack(rng, n=80, repeats=5, folds=4, links=(6, 5), subject_sd=1.0):
    """Null attention tested once per repeat: a strong per-subject component shared by all
    repeats (as a subject's attention is), plus fold-model offsets and noise."""
    labels = rng.permutation(np.arange(n) % 2)
    person = subject_sd * rng.normal(size=(n, *links))
    mats, lab, subj, fold_ids, repeat_ids = [], [], [], [], []
    k = 0
    for repeat in range(repeats):
        order = rng.permutation(n)
        for part in np.array_split(order, folds):
            offset = rng.normal(size=links)
            mats.append(person[part] + offset + 0.2 * rng.normal(size=(len(part), *links)))
            lab.append(labels[part])
            subj.append(np.array([f"s{i}" for i in part]))
            fold_ids.append(np.full(len(part), k))
            repeat_ids.append(np.full(len(part), repeat + 1))
            k += 1
    names = [f"P{i}" for i in range(links[0])], [f"r{i}" for i in range(links[1])]
    return AttentionStack(np.concatenate(mats), np.concatenate(lab), np.concatenate(subj),
                          np.concatenate(fold_ids), np.concatenate(repeat_ids),
                          *names)  # fmt: skip


def _learner_null_stack(rng, n=60, repeats=10, folds=5, links=(4, 5), noise=0.2):
    """Null labels, but every fold "model" learns from its training labels, as a real one does:
    test attention z_i * (b + noise), b = mean over training subjects of s_j z_j (s = centred
    label, z a subject's feature of the link), noise = the model's own (init, SGD). A test
    subject's attention thus holds the other folds' labels: the cross term the permutation
    of fixed attention sees once, however many repeats are averaged."""
    labels = rng.permutation(np.arange(n) % 2)
    s, z = labels - labels.mean(), rng.normal(size=(n, *links))
    mats, lab, subj, fold_ids, repeat_ids = [], [], [], [], []
    for repeat in range(repeats):
        order = rng.permutation(n)
        for part in np.array_split(order, folds):
            train = np.setdiff1d(order, part)
            b = (s[train, None, None] * z[train]).mean(0) + noise * rng.normal(size=links)
            mats.append(z[part] * b)
            lab.append(labels[part])
            subj.append(part.astype(str))
            fold_ids.append(np.full(len(part), len(fold_ids)))
            repeat_ids.append(np.full(len(part), repeat + 1))
    names = [f"P{i}" for i in range(links[0])], [f"r{i}" for i in range(links[1])]
    return AttentionStack(np.concatenate(mats), np.concatenate(lab), np.concatenate(subj),
                          np.concatenate(fold_ids), np.concatenate(repeat_ids),
                          *names)  # fmt: skip


def test_report_p_values_test_one_repeat_not_the_pooled_repeats():
    """The report's p-values (link_tables) stay calibrated on a learning null with 10 repeats,
    where testing the repeat-averaged attention (the replaced design) is anti-conservative:
    going back to pooling repeats for the p-values fails this test."""
    settings = {"top_k": 5, "alpha": 0.05, "call_on": "p_maxT"}
    report, pooled = [], []
    for seed in range(120):
        stack = _learner_null_stack(np.random.default_rng(seed))
        tables = link_tables(stack, settings, seed, 200)
        report += [tables[c]["p"].to_numpy() for c in CONTRASTS]
        everyone = subject_attention(stack)
        for c in CONTRASTS:
            table = contrast_table(everyone, *_names(stack), c, 200, seed, 0.05)
            pooled.append(table["p"].to_numpy())
    assert 0.04 < np.mean(np.concatenate(report) < 0.05) < 0.062
    assert np.mean(np.concatenate(pooled) < 0.05) > 0.07


def _names(stack):
    return stack.pathways, stack.regions


def test_p_values_ignore_later_repeats_estimates_use_all(rng):
    stack = _repeated_null_stack(rng, repeats=3)
    settings = {"top_k": 5, "alpha": 0.05, "call_on": "p_maxT"}
    before = link_tables(stack, settings, 0, 300)["raw"].set_index(["pathway", "region"])
    later = stack.repeat > 1
    stack.attention[later & (stack.labels == 1), 2, 3] += 5.0  # a huge effect, repeats 2-3 only
    after = link_tables(stack, settings, 0, 300)["raw"].set_index(["pathway", "region"])
    after = after.loc[before.index]
    np.testing.assert_array_equal(after["p"], before["p"])
    np.testing.assert_array_equal(after["p_maxT"], before["p_maxT"])
    # the effect is the class difference of fold-centred attention over all 3 repeats
    assert after.loc[("P2", "r3"), "effect"] == pytest.approx(
        _class_difference(stack, stack.repeat > 0)[2, 3]
    )
    assert after.loc[("P2", "r3"), "effect"] > before.loc[("P2", "r3"), "effect"] + 2.5
    assert after.loc[("P2", "r3"), "rank"] == 1
    # repeat stability: top 5 in repeats 2 and 3 (the effect dwarfs the rest), so >= 2/3
    assert after.loc[("P2", "r3"), "repeat_stability"] >= 2 / 3


def test_one_repeat_tests_each_subject_once(rng):
    stack = _repeated_null_stack(rng, repeats=2)
    first = subject_attention(stack, repeat=1)
    assert (first.times_tested == 1).all() and len(first.labels) == 80
    np.testing.assert_allclose(
        first.attention[first.labels == 1].mean(0) - first.attention[first.labels == 0].mean(0),
        _class_difference(stack, stack.repeat == 1),
    )
    stack.repeat[:] = 1  # two repeats' files claimed as one: subjects tested twice in it
    with pytest.raises(ValueError, match="tested in 2 folds of repeat 1"):
        subject_attention(stack, repeat=1)
    with pytest.raises(ValueError, match="no attention file of repeat 7"):
        subject_attention(stack, repeat=7)


def _class_difference(stack, rows):
    """Ā_PAT − Ā_ND of fold-centred attention over the given rows, by hand."""
    att = stack.attention.astype(float).copy()
    for f in np.unique(stack.fold):
        att[stack.fold == f] -= att[stack.fold == f].mean(0)
    lab = stack.labels[rows]
    return att[rows][lab == 1].mean(0) - att[rows][lab == 0].mean(0)


def test_file_repeat_from_the_path():
    assert file_repeat("results/train/neuropathx/repeat10/fold3/attention.npz") == 10
    assert file_repeat("elsewhere/attention.npz") == 0


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
