import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.reporting.attention import (
    benjamini_hochberg,
    link_table,
    load_attention,
    permutation_pvalues,
)
from neuropathx.reporting.stage import build_association_report
from neuropathx.reporting.truth import truth_recovery

PATHWAYS = ["P0", "P1", "P2"]
REGIONS = ["lh_a", "lh_b", "rh_a", "rh_b"]


def _attention_files(tmp_path, rng, folds=3, n=40, effect=0.3):
    paths = []
    for f in range(folds):
        labels = np.array([0, 1] * (n // 2))
        att = rng.uniform(0.1, 0.2, size=(n, 3, 4))
        att[labels == 1, 1, 2] += effect  # planted: P1 x rh_a higher in patients
        path = tmp_path / f"fold{f}.npz"
        np.savez(
            path,
            attention=att.astype(np.float16),
            participant_id=np.array([f"f{f}s{i}" for i in range(n)]),
            label=labels,
            pathways=np.array(PATHWAYS),
            regions=np.array(REGIONS),
        )
        paths.append(path)
    return paths


def test_link_table_ranks_planted_link_first(tmp_path, rng):
    stack = load_attention(_attention_files(tmp_path, rng))
    assert stack.attention.shape == (120, 3, 4) and stack.n_folds == 3
    links = link_table(stack, n_permutations=200, top_k=2, seed=0)
    top = links.iloc[0]
    assert (top["pathway"], top["region"], top["rank"]) == ("P1", "rh_a", 1)
    pat = stack.attention[stack.labels == 1, 1, 2].mean()
    ctl = stack.attention[stack.labels == 0, 1, 2].mean()
    assert top["difference"] == pytest.approx(pat - ctl, rel=1e-5)
    assert top["stability"] == 1.0  # top in every fold
    assert top["p_perm"] == pytest.approx(1 / 201)  # never exceeded by a permutation
    assert links["p_perm"].iloc[1:].min() > 0.01  # null links are not significant


def test_permutation_pvalues_are_uniform_under_the_null(tmp_path, rng):
    stack = load_attention(_attention_files(tmp_path, rng, effect=0.0))
    p = permutation_pvalues(stack, 400, seed=1)
    assert 0.3 < p.mean() < 0.7
    assert (p >= 1 / 401).all() and (p <= 1).all()


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    # sorted 0.01, 0.03, 0.04, 0.2 (m = 4): 0.04, 0.06, 0.0533, 0.2 -> monotone 0.04, 0.0533, ...
    q = benjamini_hochberg(p)
    np.testing.assert_allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.2])
    assert np.isnan(q[4])


def test_attention_files_must_agree(tmp_path, rng):
    paths = _attention_files(tmp_path, rng, folds=2)
    with np.load(paths[1]) as d:
        data = dict(d)
    data["regions"] = np.array(["x", "y", "z", "w"])
    np.savez(paths[1], **data)
    with pytest.raises(InputError, match="pathways/regions differ"):
        load_attention(paths)


def test_truth_recovery_and_report(tmp_path, rng):
    paths = _attention_files(tmp_path, rng)
    truth = tmp_path / "truth.tsv"
    pd.DataFrame(
        {
            "pathway": ["P1", "P9"],
            "region": ["rh_a", "lh_a"],
            "measure": ["ThickAvg", "GrayVol"],
            "effect": [-0.5, 0.4],
        }
    ).to_csv(truth, sep="\t", index=False)
    stack = load_attention(paths)
    links = link_table(stack, 50, 3, 0)
    table, summary = truth_recovery(links, truth, top_k=3)
    assert summary["planted"] == 2 and summary["scored"] == 1 and summary["in_top_k"] == 1
    assert summary["expected_in_top_k"] == pytest.approx(3 / 12)
    assert summary["auroc"] == 1.0
    mapping = tmp_path / "map.tsv"
    pd.DataFrame(
        {"SNP": ["rs1", "rs2"], "gene": ["G1", "G2"], "pathway": ["P1", "P1"], "BETA": [0.1, -0.3]}
    ).to_csv(mapping, sep="\t", index=False)
    names = ("patients", "controls", "links", "heatmap", "chord", "truth", "markdown")
    out = {k: tmp_path / "r" / f"{k}.out" for k in names}
    settings = {"model": "neuropathx", "top_k": 3, "n_permutations": 20}
    build_association_report(paths, mapping, tmp_path / "none.tsv", truth, out, settings, 0)
    top = pd.read_csv(out["links"], sep="\t")
    assert top.loc[0, "genes"] == "G2,G1"  # strongest |BETA| first
    assert "1 of 2 planted region-pathway pairs are among the top 3" in out["markdown"].read_text()
    assert out["chord"].read_bytes()[:4] == b"\x89PNG"
    pat = pd.read_csv(out["patients"], sep="\t", index_col=0)
    assert list(pat.index) == PATHWAYS and list(pat.columns) == REGIONS
