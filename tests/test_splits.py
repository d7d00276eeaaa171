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


# Regression tests that kill the mutants tests/mutation/SUMMARY.md listed as surviving.


def test_every_repeat_and_fold_is_numbered_from_one_with_the_requested_folds():
    labels = np.array([0] * 12 + [1] * 8)
    subjects = np.array([f"s{i}" for i in range(20)])
    splits = make_splits(subjects, labels, 2, 4, 0.25, 0)  # 4 folds: not sklearn's default 5
    assert sorted(splits["repeat"].unique()) == [1, 2]
    assert sorted(splits["fold"].unique()) == [1, 2, 3, 4]
    tests_per_fold = splits[splits.role == "test"].groupby(["repeat", "fold"]).size()
    assert tests_per_fold.tolist() == [5] * 8  # 20 subjects / 4 folds


def test_splits_use_the_documented_seeds():
    """splits.tsv must not change between versions: StratifiedKFold(seed + repeat), then the
    validation part by train_test_split(seed + 1000 * repeat + fold), re-derived here."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    subjects, labels, splits = _splits(seed=11)
    for repeat, fold in [(2, 3), (3, 5)]:
        skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=11 + repeat)
        train_idx, test_idx = list(skf.split(subjects, labels))[fold - 1]
        _, val_idx = train_test_split(
            train_idx, test_size=0.125, stratify=labels[train_idx],
            random_state=11 + 1000 * repeat + fold,
        )  # fmt: skip
        part = splits.query("repeat == @repeat and fold == @fold")
        assert sorted(part[part.role == "test"].participant_id) == sorted(subjects[test_idx])
        assert sorted(part[part.role == "val"].participant_id) == sorted(subjects[val_idx])


def test_exactly_folds_subjects_per_class_is_enough():
    subjects = np.array([f"s{i}" for i in range(10)])
    splits = make_splits(subjects, np.array([0] * 5 + [1] * 5), 1, 5, 0.25, 0)
    assert len(splits) == 5 * 10


def test_too_few_subjects_message_counts_each_class():
    with pytest.raises(ValueError, match=r"5-fold CV .*found 5 controls and 3 patients$"):
        make_splits(np.array(list("abcdefgh")), np.array([0, 0, 0, 0, 0, 1, 1, 1]), 1, 5, 0.1, 0)
    with pytest.raises(ValueError, match="found 8 controls and 0 patients"):  # one class only
        make_splits(np.array(list("abcdefgh")), np.zeros(8, dtype=int), 1, 5, 0.1, 0)


def test_fold_roles_reads_numeric_looking_ids_as_strings(tmp_path):
    subjects = np.array(["007", "010", "100"])
    path = tmp_path / "splits.tsv"
    path.write_text("repeat\tfold\tparticipant_id\trole\n1\t1\t007\ttrain\n1\t1\t010\ttest\n")
    roles = fold_roles(path, subjects, 1, 1)
    assert roles.tolist() == ["train", "test", ""]  # '' for a subject without a role
    assert roles.dtype == object


@pytest.mark.parametrize("column", ["repeat", "fold", "participant_id", "role"])
def test_fold_roles_names_a_missing_column(tmp_path, column):
    subjects, _, splits = _splits()
    path = tmp_path / "splits.tsv"
    splits.drop(columns=column).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=rf"splits.tsv: missing column\(s\) \['{column}'\]"):
        fold_roles(path, subjects, 1, 1)


def test_fold_roles_error_messages_name_the_file_and_what_is_wrong(tmp_path):
    subjects, _, splits = _splits()
    path = tmp_path / "splits.tsv"
    splits.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError, match=r"splits.tsv: no rows for repeat 9, fold 1$"):
        fold_roles(path, subjects, 9, 1)
    with pytest.raises(InputError) as err:
        fold_roles(path, subjects[6:], 1, 1)
    assert str(err.value).endswith("subject(s) not in the cohort: ['s0', 's1', 's2', 's3', 's4']")
    assert err.value.path == path
    bad = splits.copy()
    bad.loc[bad.index[:2], "role"] = ["training", "holdout"]
    bad.to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError) as err:
        fold_roles(path, subjects, 1, 1)
    assert err.value.path == path
    assert err.value.problem == (
        "unknown role(s) ['holdout', 'training']; expected ['train', 'val', 'test']"
    )
    first = splits.query("repeat == 1 and fold == 1")
    pd.concat([splits, first.iloc[:6]]).to_csv(path, sep="\t", index=False)
    with pytest.raises(InputError) as err:
        fold_roles(path, subjects, 1, 1)
    assert err.value.path == path
    dup = [str(s) for s in first.participant_id.iloc[:5]]
    assert err.value.problem == f"subject(s) with two roles in repeat 1 fold 1: {dup}"
