"""Table 1 layout of results/evaluate/summary.md: the paper's rows, in its order."""

import pandas as pd

from neuropathx.evaluation import paper_table_order


def test_paper_rows_in_paper_order_then_the_extra_baselines():
    names = ["cca", "gmind", "logreg_concat", "neuropathx", "neuropathx_no_path"]
    names += ["neuropathx_no_sp", "survpath", "logreg_imaging"]
    summary = pd.DataFrame({"model": names, "auc_mean": range(len(names))})
    table = paper_table_order(summary)
    assert list(table["model"]) == [
        "CCA", "G-MIND", "SurvPATH", "NeuroPathX w/o L_path", "NeuroPathX w/o L_sp",
        "NeuroPathX", "logreg_concat", "logreg_imaging",
    ]  # fmt: skip
    # the values travel with their rows
    assert table.set_index("model").loc["SurvPATH", "auc_mean"] == names.index("survpath")


def test_missing_paper_rows_are_left_out():
    table = paper_table_order(pd.DataFrame({"model": ["custom", "neuropathx"], "x": [1, 2]}))
    assert list(table["model"]) == ["NeuroPathX", "custom"]
    assert list(table["x"]) == [2, 1]
