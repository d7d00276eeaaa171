"""neuropathx.reporting.attention: fold files stacked, class means and model grouping, with
every value written by hand."""

from pathlib import Path

import numpy as np
import pytest

from neuropathx.errors import InputError
from neuropathx.reporting.attention import (
    AttentionStack,
    class_means,
    group_by_model,
    load_attention,
)

PATHWAYS = ["P0", "P1"]
REGIONS = ["lh_a", "rh_a", "rh_b"]


def _write(path, att, labels, ids, pathways=PATHWAYS, regions=REGIONS, drop=()):
    path.parent.mkdir(parents=True, exist_ok=True)
    data = dict(attention=np.asarray(att), label=np.asarray(labels),
                participant_id=np.asarray(ids), pathways=np.array(pathways),
                regions=np.array(regions))  # fmt: skip
    for key in drop:
        del data[key]
    np.savez(path, **data)
    return path


def _two_folds(tmp_path):
    a = np.arange(12, dtype=np.float64).reshape(2, 2, 3) / 8  # exact in float32
    b = np.arange(18, dtype=np.float16).reshape(3, 2, 3) / 4
    pa = _write(tmp_path / "m/repeat1/fold1/attention.npz", a, [1.0, 0.0], ["s1", "s2"])
    pb = _write(tmp_path / "m/repeat1/fold2/attention.npz", b, [0, 1, 1], [7, 8, 9])
    return [pa, pb], a, b


def test_folds_stacked_in_order_with_their_index(tmp_path):
    paths, a, b = _two_folds(tmp_path)
    stack = load_attention(paths)
    assert stack.attention.dtype == np.float32 and stack.attention.shape == (5, 2, 3)
    np.testing.assert_array_equal(stack.attention[:2], a)
    np.testing.assert_array_equal(stack.attention[2:], b.astype(np.float32))
    assert stack.labels.tolist() == [1, 0, 0, 1, 1]
    assert stack.labels.dtype.kind == "i"
    assert stack.subjects.tolist() == ["s1", "s2", "7", "8", "9"]
    assert stack.fold.tolist() == [0, 0, 1, 1, 1]
    assert stack.pathways == PATHWAYS and stack.regions == REGIONS
    assert isinstance(stack.pathways, list) and isinstance(stack.regions, list)
    assert stack.n_folds == 2


def test_one_file_is_fold_zero(tmp_path):
    paths, a, _ = _two_folds(tmp_path)
    stack = load_attention(paths[:1])
    assert stack.fold.tolist() == [0, 0] and stack.n_folds == 1
    np.testing.assert_array_equal(stack.attention, a)


def test_n_folds_counts_from_the_largest_index():
    empty = np.zeros((0, 1, 1), np.float32)
    none = AttentionStack(
        empty, np.zeros(0), np.zeros(0), np.zeros(0, int), np.zeros(0, int), ["p"], ["r"]
    )
    assert none.n_folds == 0
    att = np.zeros((3, 1, 1), np.float32)
    stack = AttentionStack(
        att, np.zeros(3), np.zeros(3), np.array([0, 3, 1]), np.zeros(3, int), ["p"], ["r"]
    )
    assert stack.n_folds == 4


def test_no_files_is_an_error():
    with pytest.raises(ValueError, match=r"^no attention files given$"):
        load_attention([])


@pytest.mark.parametrize("key", ["attention", "label", "participant_id", "pathways", "regions"])
def test_each_missing_array_is_named(tmp_path, key):
    path = _write(tmp_path / "a.npz", np.zeros((1, 2, 3)), [1], ["s"], drop=[key])
    with pytest.raises(InputError) as err:
        load_attention([path])
    assert err.value.path == path and err.value.problem == f"attention file lacks ['{key}']"


def test_missing_arrays_listed_sorted(tmp_path):
    path = _write(tmp_path / "a.npz", np.zeros((1, 2, 3)), [1], ["s"], drop=["regions", "label"])
    with pytest.raises(InputError, match=r"lacks \['label', 'regions'\]"):
        load_attention([path])


@pytest.mark.parametrize(
    "names", [{"pathways": ["P0", "Px"]}, {"regions": ["lh_a", "rh_a", "rh_x"]}]
)
def test_pathways_or_regions_alone_differing_is_an_error(tmp_path, names):
    first = _write(tmp_path / "a.npz", np.zeros((1, 2, 3)), [1], ["s"])
    second = _write(tmp_path / "b.npz", np.zeros((1, 2, 3)), [0], ["t"], **names)
    with pytest.raises(InputError) as err:
        load_attention([first, second])
    assert err.value.path == second
    assert err.value.problem == f"pathways/regions differ from {first}"


def test_shape_must_match_the_names(tmp_path):
    good = _write(tmp_path / "a.npz", np.zeros((1, 2, 3)), [1], ["s"])
    bad = _write(tmp_path / "b.npz", np.zeros((1, 3, 2)), [0], ["t"])
    with pytest.raises(InputError) as err:
        load_attention([good, bad])
    assert err.value.path == bad
    assert err.value.problem == "attention shape (1, 3, 2) does not match names"
    wrong_r = _write(tmp_path / "c.npz", np.zeros((1, 2, 2)), [0], ["t"])
    with pytest.raises(InputError, match="does not match names"):
        load_attention([wrong_r])


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, attention=np.zeros((1, 2, 3)), label=[1],
             participant_id=np.array([{"x": 1}], dtype=object), pathways=np.array(PATHWAYS),
             regions=np.array(REGIONS))  # fmt: skip
    with pytest.raises(ValueError, match="allow_pickle"):
        load_attention([path])


def test_class_means_by_hand():
    att = np.array([[[1.0, 2.0]], [[3.0, 6.0]], [[10.0, 20.0]], [[0.5, 0.5]]], np.float32)
    labels = np.array([1, 1, 0, 2])  # 2 is neither class and is left out
    stack = AttentionStack(att, labels, np.array(list("abcd")), np.zeros(4, int), np.zeros(4, int),
                           ["p"], ["r", "s"])  # fmt: skip
    patients, controls = class_means(stack)
    np.testing.assert_array_equal(patients, [[2.0, 4.0]])
    np.testing.assert_array_equal(controls, [[10.0, 20.0]])


@pytest.mark.parametrize("labels", [[1, 1], [0, 0]])
def test_class_means_need_both_classes(labels):
    att = np.ones((2, 1, 1), np.float32)
    stack = AttentionStack(att, np.array(labels), np.array(["a", "b"]), np.zeros(2, int),
                           np.zeros(2, int), ["p"], ["r"])  # fmt: skip
    with pytest.raises(ValueError) as err:
        class_means(stack)
    assert str(err.value) == "attention of both patients and controls is needed for the report"


def test_group_by_model_keeps_order_and_strings(tmp_path):
    paths = [
        tmp_path / "results/b_model/repeat2/fold10/attention.npz",
        "results/a/repeat1/fold1/attention.npz",
        tmp_path / "results/b_model/repeat1/fold3/attention.npz",
    ]
    groups = group_by_model(paths)
    assert list(groups) == ["b_model", "a"]
    assert groups == {
        "b_model": [str(paths[0]), str(paths[2])],
        "a": ["results/a/repeat1/fold1/attention.npz"],
    }
    assert all(isinstance(p, str) for ps in groups.values() for p in ps)


@pytest.mark.parametrize(
    "path",
    [
        "m/fold1/attention.npz",  # no repeat directory
        "m/repeat/fold1/attention.npz",  # repeat without a number
        "m/repeat1/fold/attention.npz",  # fold without a number
        "m/repeat1/fold1/attention.npz.bak",  # not the end of the path
        "m/repeat1/fold1/attentionxnpz",  # the dot is literal
        "m/repeatX1/fold1/attention.npz",
        "repeat1/fold1/attention.npz",  # no model directory
    ],
)
def test_group_by_model_refuses_other_layouts(path):
    with pytest.raises(InputError) as err:
        group_by_model(["m/repeat1/fold1/attention.npz", path])
    assert err.value.path == Path(path)
    assert err.value.problem == "path is not of the form <model>/repeat<r>/fold<k>/attention.npz"
