import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.reporting.attention import group_by_model, load_attention
from neuropathx.reporting.contrasts import contrast_table, double_centre
from neuropathx.reporting.permutation import subject_attention
from neuropathx.reporting.stage import build_association_report
from neuropathx.reporting.truth import (
    average_precision,
    link_masks,
    planted_pairs,
    truth_check,
)

PATHWAYS = ["P0", "P1", "P2"]
REGIONS = ["lh_a", "lh_b", "rh_a", "rh_b"]


def _attention_files(root, rng, model="neuropathx", folds=3, n=40, effect=0.3, region=0.0):
    paths = []
    for f in range(folds):
        labels = np.array([0, 1] * (n // 2))
        att = rng.uniform(0.1, 0.2, size=(n, 3, 4))
        att[labels == 1, 1, 2] += effect  # planted pair: P1 x rh_a higher in patients
        att[labels == 1, :, 0] += region  # region-wide effect: every pathway with lh_a
        path = root / model / "repeat1" / f"fold{f + 1}" / "attention.npz"
        path.parent.mkdir(parents=True)
        np.savez(path, attention=att.astype(np.float16),
                 participant_id=np.array([f"f{f}s{i}" for i in range(n)]), label=labels,
                 pathways=np.array(PATHWAYS), regions=np.array(REGIONS))  # fmt: skip
        paths.append(path)
    return paths


def test_double_centre_removes_row_and_column_effects(rng):
    rows, cols = rng.normal(size=(3, 1)), rng.normal(size=(1, 4))
    pure = rows + cols + 5.0
    np.testing.assert_allclose(double_centre(pure), 0, atol=1e-12)
    x = rng.normal(size=(2, 3, 4))
    centred = double_centre(x)
    np.testing.assert_allclose(centred.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(centred.mean(axis=-2), 0, atol=1e-12)


def test_pair_contrast_ignores_a_region_wide_effect(tmp_path, rng):
    stack = load_attention(_attention_files(tmp_path, rng, effect=0.3, region=0.5))
    subjects = subject_attention(stack)
    raw = contrast_table(subjects, PATHWAYS, REGIONS, "raw", 400, 0, 0.05)
    pair = contrast_table(subjects, PATHWAYS, REGIONS, "pair", 400, 0, 0.05)
    # raw: the planted pair and all three lh_a links are called
    assert set(raw.loc[raw["called"], "region"]) == {"lh_a", "rh_a"}
    assert set(raw.loc[raw["called"] & (raw["region"] == "lh_a"), "pathway"]) == set(PATHWAYS)
    # pair-specific: the lh_a effect is gone exactly; what is left of lh_a (and elsewhere)
    # is the planted spike spread by the centring: -e/4 * 2/3 in its row, e/12 off it
    top = pair.iloc[0]
    assert (top["pathway"], top["region"]) == ("P1", "rh_a") and top["called"]
    assert top["effect"] == pytest.approx(0.3 * (1 - 1 / 3) * (1 - 1 / 4), abs=0.01)
    lh_a = pair[pair["region"] == "lh_a"].set_index("pathway")["effect"]
    assert lh_a["P1"] == pytest.approx(-0.3 / 4 * 2 / 3, abs=0.01)
    assert lh_a["P0"] == pytest.approx(0.3 / 12, abs=0.01)
    assert raw.set_index(["pathway", "region"]).loc[("P0", "lh_a"), "effect"] == pytest.approx(
        0.5, abs=0.02
    )


def test_planted_pairs_kinds_and_decoys(tmp_path):
    truth = tmp_path / "truth.tsv"
    pd.DataFrame({
        "pathway": ["P0", "P0", "P1", "P2", ""],
        "region": ["lh_a", "lh_b", "rh_a", "", "rh_b"],
        "measure": ["GrayVol"] * 5,
        "effect": [-0.5, -0.4, -0.6, 0.3, 0.2],
        "kind": ["coupling", "pair", "coupling", "additive_pathway", "additive_region"],
    }).to_csv(truth, sep="\t", index=False)  # fmt: skip
    pairs = planted_pairs(truth)
    assert list(map(tuple, pairs[["pathway", "region"]].to_numpy())) == [
        ("P0", "lh_a"), ("P0", "lh_b"), ("P1", "rh_a")]  # fmt: skip
    planted, decoys = link_masks(pairs, PATHWAYS, REGIONS)
    assert planted.sum() == 3
    # decoys: P0 with rh_a (P1's region), P1 with lh_a and lh_b (P0's regions)
    assert {(PATHWAYS[i], REGIONS[j]) for i, j in zip(*np.nonzero(decoys), strict=True)} == {
        ("P0", "rh_a"), ("P1", "lh_a"), ("P1", "lh_b")}  # fmt: skip


def test_average_precision_and_truth_check_by_hand():
    # ranked: pos, neg, pos, neg -> AP = (1/1 + 2/3) / 2
    pos = np.array([True, False, True, False])
    assert average_precision(pos, np.array([4.0, 3.0, 2.0, 1.0])) == pytest.approx(5 / 6)
    pairs = pd.DataFrame({"pathway": ["P0", "P1"], "region": ["lh_a", "rh_a"], "effect": [1, 1]})
    score = np.zeros((3, 4))
    score[0, 0], score[1, 2] = 5, 4  # planted on top
    score[0, 2] = 4.5  # a decoy between them
    check = truth_check({"r": score}, pairs, PATHWAYS, REGIONS).set_index("against")
    assert check.loc["all", "auroc"] == pytest.approx(1 - 1 / (2 * 10))  # 1 of 20 pairs wrong
    # decoys P0-rh_a (4.5) and P1-lh_a (0): planted 5 beats both, planted 4 beats one
    assert check.loc["decoys", "auroc"] == pytest.approx(3 / 4)
    assert check.loc["all", "precision_at_k"] == 0.5 and check.loc["all", "k"] == 2


def test_group_by_model_and_bad_paths(tmp_path, rng):
    a = _attention_files(tmp_path, rng, "neuropathx", folds=2)
    b = _attention_files(tmp_path, rng, "survpath", folds=2)
    groups = group_by_model([*a, *b])
    assert list(groups) == ["neuropathx", "survpath"] and len(groups["survpath"]) == 2
    with pytest.raises(InputError, match="not of the form"):
        group_by_model([tmp_path / "attention.npz"])


def test_attention_files_must_agree(tmp_path, rng):
    paths = _attention_files(tmp_path, rng, folds=2)
    with np.load(paths[1]) as d:
        data = dict(d)
    data["regions"] = np.array(["x", "y", "z", "w"])
    np.savez(paths[1], **data)
    with pytest.raises(InputError, match="pathways/regions differ"):
        load_attention(paths)


def _cohort_files(root, rng, subjects):
    n = len(subjects)
    labels = np.array([int(s.split("s")[-1]) % 2 for s in subjects])
    ids = {"participant_id": subjects}
    pd.DataFrame({**ids, "label": labels}).to_csv(root / "subjects.tsv", sep="\t", index=False)
    genetics = pd.DataFrame({**ids, **{p: rng.normal(size=n) for p in PATHWAYS}})
    genetics.to_csv(root / "genetics.tsv", sep="\t", index=False)
    cols = {f"{r}__{m}": rng.normal(size=n) for r in REGIONS for m in ("GrayVol", "ThickAvg")}
    pd.DataFrame({**ids, **cols}).to_csv(root / "imaging.tsv", sep="\t", index=False)
    roles = np.where(np.arange(n) % 3 == 0, "test", "train")
    pd.DataFrame({"repeat": 1, "fold": 1, **ids, "role": roles}).to_csv(
        root / "splits.tsv", sep="\t", index=False)  # fmt: skip
    return {k: root / f"{k}.tsv" for k in ("subjects", "genetics", "imaging", "splits")}


def test_report_stage_writes_the_contract_files(tmp_path, rng):
    files = _attention_files(tmp_path, rng) + _attention_files(tmp_path, rng, "neuropathx_no_sp")
    truth = tmp_path / "truth.tsv"
    pd.DataFrame({"pathway": ["P1", "P9"], "region": ["rh_a", "lh_a"],
                  "measure": ["ThickAvg", "GrayVol"], "effect": [-0.5, 0.4]}).to_csv(
        truth, sep="\t", index=False)  # fmt: skip
    mapping = tmp_path / "map.tsv"
    pd.DataFrame({"SNP": ["rs1", "rs2", "rs3"], "gene": ["G1", "G2", "G3"],
                  "pathway": ["P1", "P1", "P0"], "BETA": [0.1, -0.3, 0.2]}).to_csv(
        mapping, sep="\t", index=False)  # fmt: skip
    gmt = tmp_path / "sets.gmt"
    gmt.write_text("SET_A\tx\tG1\tG2\nSET_B\tx\tG3\tG2\n")
    stack = load_attention(files[:3])
    cohort = _cohort_files(tmp_path, rng, sorted(set(stack.subjects)))
    names = ("patients", "controls", "links", "links_all", "heatmap", "chord", "truth",
             "truth_check", "enrichment", "enrichment_plot", "markdown")  # fmt: skip
    out = {k: tmp_path / "r" / f"{k}.out" for k in names}
    settings = {"model": "neuropathx", "top_k": 3, "n_permutations": 50, "alpha": 0.05,
                "max_permutations": 2000, "call_on": "p_maxT", "headline": "pair",
                "enrichment_gmt": ""}  # fmt: skip
    build_association_report(group_by_model(files), mapping, tmp_path / "none.tsv", truth,
                             cohort, gmt, out, settings, 0)  # fmt: skip
    links_all = pd.read_csv(out["links_all"], sep="\t")
    assert list(links_all.columns) == ["pathway", "region", "contrast", "effect", "p", "p_maxT",
                                       "q_bh", "called"]  # fmt: skip
    assert len(links_all) == 2 * 12 and set(links_all["contrast"]) == {"raw", "pair"}
    called = links_all[links_all["called"]]
    assert set(map(tuple, called[["pathway", "region"]].to_numpy())) >= {("P1", "rh_a")}
    assert (called["p_maxT"] < 0.05).all()
    top = pd.read_csv(out["links"], sep="\t")
    assert (top.loc[0, "pathway"], top.loc[0, "region"], top.loc[0, "genes"]) == (
        "P1", "rh_a", "G2,G1")  # fmt: skip
    check = pd.read_csv(out["truth_check"], sep="\t")
    assert list(check.columns) == ["ranking", "against", "auroc", "auprc", "precision_at_k", "k"]
    assert set(check["ranking"]) == {"neuropathx_raw", "neuropathx_pair",
                                     "neuropathx_no_sp_raw", "neuropathx_no_sp_pair",
                                     "univariate_product", "elastic_net_interaction"}  # fmt: skip
    assert check.set_index(["ranking", "against"]).loc[("neuropathx_pair", "all"), "auroc"] == 1
    enrichment = pd.read_csv(out["enrichment"], sep="\t")
    assert set(enrichment["term"]) == {"SET_A", "SET_B"}
    text = out["markdown"].read_text()
    assert "1 of 2 planted pairs are among the top 3 pair links" in text
    assert "two-sided permutation test" in text and "Westfall-Young" in text
    for key in ("chord", "enrichment_plot", "heatmap"):
        assert out[key].read_bytes()[:4] == b"\x89PNG"
