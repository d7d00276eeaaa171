import logging

import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.io import atomic_path, check_subject_id, read_tsv, write_id_float_tsv, write_tsv
from neuropathx.logs import log_to_file


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.tsv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    write_tsv(pd.DataFrame({"a": [1.5]}), target)
    assert target.read_text() == "a\n1.5\n"


def test_read_tsv_names_file_and_missing_columns(tmp_path):
    path = tmp_path / "t.tsv"
    with pytest.raises(InputError, match=r"t.tsv: file not found"):
        read_tsv(path)
    path.write_text("")
    with pytest.raises(InputError, match=r"t.tsv: file is empty"):
        read_tsv(path)
    path.write_text("x\ty\n1\t2\n")
    with pytest.raises(InputError, match=r"missing column\(s\) \['z'\]; found \['x', 'y'\]"):
        read_tsv(path, required=["z"])


@pytest.mark.parametrize("bad", ["..", "../a", "a/b", "", ".hidden", "a b", "a..b"])
def test_unsafe_subject_ids(bad):
    with pytest.raises(InputError, match="unsafe as a path"):
        check_subject_id(bad, "participants.tsv")


@pytest.mark.parametrize("good", ["sub-001", "ADNI_002_S_0295", "s1.v2"])
def test_safe_subject_ids(good):
    assert check_subject_id(good) == good


def test_log_to_file_captures_logging_output_and_tracebacks(tmp_path):
    log = tmp_path / "logs" / "stage.log"
    with pytest.raises(ValueError), log_to_file(log):
        logging.getLogger("neuropathx.x").info("hello %d", 3)
        print("printed")
        raise ValueError("bad input")
    text = log.read_text()
    assert "hello 3" in text and "printed" in text
    assert "ValueError: bad input" in text


def test_write_id_float_tsv_round_trips_exact_values(tmp_path):
    df = pd.DataFrame(
        {"participant_id": ["a", "b"], "x": [0.1 + 0.2, float("nan")], "y": [2.239, 1e-300]}
    )
    write_id_float_tsv(df, tmp_path / "t.tsv")
    assert (tmp_path / "t.tsv").read_text().splitlines()[2] == "b\t\t1e-300"
    back = pd.read_csv(tmp_path / "t.tsv", sep="\t")
    pd.testing.assert_frame_equal(back, df)
