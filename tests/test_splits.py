import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.splits import fold_roles, make_splits


def _splits(n=100, repeats=3, folds=5, seed=1):
    labels = np.array([0] * 60 + [1] * 40)[:n]
    subjects = np.array([f"s{i}" for i in range(n)])
    return subjects, labels, make_splits(subjects, labels, repeats, folds, 0.125, seed)


def test_every_subject_tested_once_per_repeat_and_one_role_per_fold():
    subjects, labels, splits = _splits()
    for (_, _), part in splits.groupby(["repeat", "fold"]):
        assert part["participant_id"].is_unique  # no subject has two roles in a fold
        assert set(part["participant_id"]) == set(subjects)  # every subject has a role
    tested = splits[splits["role"] == "test"].groupby("repeat")["participant_id"]
    for _, ids in tested:
        assert sorted(ids) == sorted(subjects)  # tested exactly once per repeat


def test_splits_are_stratified_and_sized():
    subjects, labels, splits = _splits()
    part = splits[(splits["repeat"] == 1) & (splits["fold"] == 1)]
    lab = dict(zip(subjects, labels, strict=True))
    test = part[part["role"] == "test"]["participant_id"].map(lab)
    val = part[part["role"] == "val"]["participant_id"].map(lab)
    assert len(test) == 20 and test.sum() == 8  # 40% patients, exactly
    assert len(val) == 10 and val.sum() == 4  # 12.5% of the 80 training subjects


def test_splits_are_seeded():
    a = _splits(seed=3)[2]
    b = _splits(seed=3)[2]
    c = _splits(seed=4)[2]
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_repeats_differ():
    splits = _splits()[2]
    t1 = set(splits.query("repeat == 1 and fold == 1 and role == 'test'")["participant_id"])
    t2 = set(splits.query("repeat == 2 and fold == 1 and role == 'test'")["participant_id"])
    assert t1 != t2


def test_too_few_subjects_per_class():
    with pytest.raises(ValueError, match="at least 5 subjects per class"):
        make_splits(np.array(list("abcdefgh")), np.array([0, 0, 0, 0, 0, 1, 1, 1]), 1, 5, 0.1, 0)


def test_fold_roles_aligns_to_subject_order(tmp_path):
    subjects, _, splits = _splits()
    path = tmp_path / "splits.tsv"
    splits.to_csv(path, sep="\t", index=False)
    roles = fold_roles(path, subjects[::-1], 2, 3)
    part = splits.query("repeat == 2 and fold == 3").set_index("participant_id")["role"]
    assert list(roles) == [part[s] for s in subjects[::-1]]


def test_fold_roles_errors(tmp_path):
    subjects, _, splits = _splits()
    path = tmp_path / "splits.tsv"
    splits.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="no rows for repeat 9"):
        fold_roles(path, subjects, 9, 1)
    with pytest.raises(InputError, match="not in the cohort"):
        fold_roles(path, subjects[:10], 1, 1)
    bad = pd.concat([splits, splits.iloc[[0]]])
    bad.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match="two roles"):
        fold_roles(path, subjects, 1, 1)
