"""Fold checks and z-scoring (neuropathx/training/preprocess.py) on small hand-made cohorts.

The expected statistics are computed with the standard library (statistics.fmean / pstdev)
over the training rows picked by hand; the messages are written out in full.
"""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from neuropathx.cohort import CohortArrays
from neuropathx.errors import InputError
from neuropathx.training.preprocess import Standardiser, fold_masks

GENETICS = [[1.0, 10.0], [2.0, 30.0], [4.0, 20.0], [100.0, -50.0], [7.0, 0.0], [-3.0, 5.0]]
# imaging[n][r][f]
IMAGING = [
    [[1.0, 2.0], [3.0, 4.0]],
    [[2.0, 0.0], [5.0, 9.0]],
    [[6.0, 1.0], [4.0, 1.0]],
    [[900.0, 800.0], [700.0, 600.0]],
    [[0.5, 0.25], [8.0, 2.0]],
    [[3.0, 3.0], [3.0, 3.0]],
]
TRAIN = [0, 1, 2, 4]  # subject 3 holds outliers that must not reach the statistics


def cohort(n_pathways: int = 2, genetics=None, imaging=None, labels=None) -> CohortArrays:
    genetics = np.array(GENETICS if genetics is None else genetics, dtype=float)
    imaging = np.array(IMAGING if imaging is None else imaging, dtype=float)
    n = genetics.shape[0]
    return CohortArrays(
        subjects=np.array([f"s{i}" for i in range(n)]),
        labels=np.array([0, 1, 0, 1, 0, 1] if labels is None else labels),
        genetics=genetics,
        pathways=[f"p{j}" for j in range(genetics.shape[1])],
        imaging=imaging,
        regions=[f"r{r}" for r in range(imaging.shape[1])],
        measures=[f"m{f}" for f in range(imaging.shape[2])],
    )


def test_fit_uses_the_training_rows_only_with_population_sd():
    c = cohort()
    mask = np.isin(np.arange(6), TRAIN)
    for rows in (mask, np.array(TRAIN)):
        s = Standardiser.fit(c, rows)
        for p in range(2):
            col = [GENETICS[i][p] for i in TRAIN]
            assert s.genetics_mean[p] == pytest.approx(statistics.fmean(col), abs=1e-12)
            assert s.genetics_sd[p] == pytest.approx(statistics.pstdev(col), abs=1e-12)
        assert s.genetics_mean.shape == (2,) and s.imaging_mean.shape == (2, 2)
        assert s.imaging_sd.shape == (2, 2)
        for r in range(2):
            for f in range(2):
                col = [IMAGING[i][r][f] for i in TRAIN]
                assert s.imaging_mean[r, f] == pytest.approx(statistics.fmean(col), abs=1e-12)
                assert s.imaging_sd[r, f] == pytest.approx(statistics.pstdev(col), abs=1e-12)
    # hand values of the first pathway: mean (1+2+4+7)/4 = 3.5, var (6.25+2.25+0.25+12.25)/4
    assert s.genetics_mean[0] == 3.5 and s.genetics_sd[0] == pytest.approx(np.sqrt(5.25))


def test_transform_z_scores_and_checks_shapes():
    c = cohort()
    s = Standardiser.fit(c, np.array(TRAIN))
    g, im = s.transform(c.genetics, c.imaging)
    for i in range(6):
        for p in range(2):
            col = [GENETICS[k][p] for k in TRAIN]
            z = (GENETICS[i][p] - statistics.fmean(col)) / statistics.pstdev(col)
            assert g[i, p] == pytest.approx(z, abs=1e-12)
        for r in range(2):
            for f in range(2):
                col = [IMAGING[k][r][f] for k in TRAIN]
                z = (IMAGING[i][r][f] - statistics.fmean(col)) / statistics.pstdev(col)
                assert im[i, r, f] == pytest.approx(z, abs=1e-12)
    assert c.genetics[0, 0] == 1.0 and c.imaging[0, 0, 0] == 1.0  # inputs left as they were
    with pytest.raises(ValueError) as err:
        s.transform(c.genetics[:, :1], c.imaging)
    assert str(err.value) == "genetics has 1 columns, standardiser (2,)"
    with pytest.raises(ValueError) as err:
        s.transform(c.genetics, c.imaging[:, :1])
    assert str(err.value) == "imaging has shape (1, 2), standardiser (2, 2)"
    assert list(s.to_dict()) == ["genetics_mean", "genetics_sd", "imaging_mean", "imaging_sd"]
    for key, value in s.to_dict().items():
        assert value is getattr(s, key)


def test_constant_training_columns_are_named_in_order():
    genetics = [row[:] for row in GENETICS]
    imaging = [[r[:] for r in subject] for subject in IMAGING]
    for i in TRAIN:
        genetics[i][1] = 2.0
        imaging[i][0][1] = 5.0
        imaging[i][1][0] = -1.0
    c = cohort(genetics=genetics, imaging=imaging)
    with pytest.raises(InputError) as err:
        Standardiser.fit(c, np.array(TRAIN))
    assert err.value.path is None
    assert str(err.value) == (
        "3 feature column(s) are constant in the training rows (cannot be standardised): "
        "p1, r0__m1, r1__m0"
    )
    # constant over all rows but the training rows vary: fine
    Standardiser.fit(c, np.array([0, 3]))


def test_long_lists_of_names_are_cut_after_ten():
    n_cols = 12
    genetics = np.ones((4, n_cols))
    imaging = np.arange(16, dtype=float).reshape(4, 2, 2)
    c = cohort(genetics=genetics, imaging=imaging, labels=[0, 1, 0, 1])
    with pytest.raises(InputError) as err:
        Standardiser.fit(c, np.arange(4))
    names = ", ".join(f"p{j}" for j in range(10))
    assert str(err.value) == (
        f"12 feature column(s) are constant in the training rows (cannot be standardised): "
        f"{names} ... (2 more)"
    )
    c = cohort(genetics=np.ones((4, 10)), imaging=imaging, labels=[0, 1, 0, 1])
    with pytest.raises(InputError) as err:
        Standardiser.fit(c, np.arange(4))
    assert str(err.value).endswith(f": {names}")
    c = cohort(genetics=np.ones((4, 11)), imaging=imaging, labels=[0, 1, 0, 1])
    with pytest.raises(InputError) as err:
        Standardiser.fit(c, np.arange(4))
    assert str(err.value).endswith(f": {names} ... (1 more)")


ROLES = ["train", "val", "test", "train", "val", "test"]  # labels 0 1 0 1 0 1


def masks_of(roles, **kw) -> dict:
    return fold_masks(cohort(**kw), roles)


def fold_error(roles, **kw) -> str:
    with pytest.raises(InputError) as err:
        fold_masks(cohort(**kw), roles)
    assert err.value.path is None
    return str(err.value)


def test_fold_masks_are_the_roles():
    masks = masks_of(np.array(ROLES))
    assert list(masks) == ["train", "val", "test"]
    assert masks["train"].tolist() == [True, False, False, True, False, False]
    assert masks["val"].tolist() == [False, True, False, False, True, False]
    assert masks["test"].tolist() == [False, False, True, False, False, True]
    assert all(m.dtype == bool for m in masks.values())
    # a list, bytes and unused subjects (role "") are fine; the test part may hold one class
    roles = ["train", "val", "", "train", "val", "test"]
    assert masks_of(roles)["test"].tolist() == [False] * 5 + [True]
    assert masks_of(np.array(ROLES, dtype="S5"))["val"].tolist() == masks["val"].tolist()


def test_fold_roles_of_the_wrong_shape_or_value():
    assert fold_error(ROLES[:5]) == "split roles have shape (5,), cohort has 6 subjects"
    assert fold_error(np.array([ROLES])) == "split roles have shape (1, 6), cohort has 6 subjects"
    roles = ["train", "val", "tset", "train", "validation", "test"]
    assert fold_error(roles) == (
        "unknown split role(s) ['tset', 'validation']; allowed: ['train', 'val', 'test', '']"
    )


def test_each_part_must_hold_subjects():
    assert fold_error(["train", "val", "val", "train", "val", "val"]) == (
        "the fold has no test subjects"
    )
    assert fold_error(["train", "test", "test", "train", "test", "train"]) == (
        "the fold has no val subjects"
    )
    assert fold_error(["val", "val", "test", "test", "val", "test"]) == (
        "the fold has no train subjects"
    )


def test_training_and_validation_parts_need_both_classes():
    # labels 0 1 0 1 0 1
    assert fold_error(["train", "val", "train", "val", "train", "test"]) == (
        "the train part of the fold holds a single class (label [0], 3 subjects); "
        "both patients and controls are needed"
    )
    assert fold_error(
        ["train", "val", "test", "train", "val", "test"], labels=[0, 1, 0, 1, 1, 1]
    ) == (
        "the val part of the fold holds a single class (label [1], 2 subjects); "
        "both patients and controls are needed"
    )


def test_missing_values_name_the_used_subjects_and_columns():
    genetics = [row[:] for row in GENETICS]
    imaging = [[r[:] for r in subject] for subject in IMAGING]
    genetics[1][1] = np.nan
    genetics[4][0] = np.nan
    imaging[5][1][0] = np.nan
    imaging[2][0][0] = np.nan  # subject 2 is unused below: not reported
    roles = ["train", "val", "", "train", "val", "test"]
    assert fold_error(roles, genetics=genetics, imaging=imaging) == (
        "2 subject(s) with missing genetics values: s1, s4 in column(s) p0, p1; "
        "1 subject(s) with missing imaging values: s5 in column(s) r1__m0"
    )
    only_imaging = [[r[:] for r in subject] for subject in IMAGING]
    only_imaging[0][0][1] = np.nan
    assert fold_error(roles, imaging=only_imaging) == (
        "1 subject(s) with missing imaging values: s0 in column(s) r0__m1"
    )
    unused = [[r[:] for r in subject] for subject in IMAGING]
    unused[2][1][1] = np.nan
    assert masks_of(roles, imaging=unused)["train"].sum() == 2


def test_missing_values_of_many_subjects_are_cut_after_ten():
    n = 14
    genetics = np.arange(n * 2, dtype=float).reshape(n, 2)
    genetics[:12, 0] = np.nan
    imaging = np.arange(n * 4, dtype=float).reshape(n, 2, 2)
    labels = [0, 1] * 7
    roles = ["train", "val", "test", "train"] * 3 + ["val", "val"]
    shown = ", ".join(f"s{i}" for i in range(10))
    assert fold_error(roles, genetics=genetics, imaging=imaging, labels=labels) == (
        f"12 subject(s) with missing genetics values: {shown} ... (2 more) in column(s) p0"
    )
