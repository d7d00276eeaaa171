"""Population structure: plink2 PCs equal an independent numpy PCA; planted outliers found."""

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics.plink_io import write_fileset
from neuropathx.genetics.population import run_population_pca
from neuropathx.genetics.simulate import default_tables

pytestmark = pytest.mark.plink
N_A, N_B, N_C, M = 90, 90, 3, 1500


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    """Two close populations (A, B) and three samples of a distant one (C), unlinked SNPs."""
    tmp = tmp_path_factory.mktemp("pca")
    rng = np.random.default_rng(4)
    p_a = rng.uniform(0.15, 0.85, (M, 1))
    p_b = np.clip(p_a + rng.normal(0, 0.12, (M, 1)), 0.02, 0.98)
    p_c = rng.uniform(0.02, 0.98, (M, 1))
    geno = np.hstack(
        [rng.binomial(2, p, (M, n)) for p, n in ((p_a, N_A), (p_b, N_B), (p_c, N_C))]
    ).astype(float)
    n = N_A + N_B + N_C
    bim, fam = default_tables(n, M, n_chrom=2, spacing=100_000)
    write_fileset(tmp / "g", geno, bim, fam)
    dx = np.where(np.arange(n) % 2 == 0, "CN", "AD")
    pd.DataFrame({"participant_id": fam["IID"], "DX": dx}).to_csv(
        tmp / "participants.tsv", sep="\t", index=False
    )
    return tmp, geno, fam


def _run(tmp, name, **settings):
    out = tmp / name
    out.mkdir()
    return run_population_pca(
        str(tmp / "g"),
        out,
        prune=[200, 50, 0.9],
        settings={"n_pcs": 4, **settings},
        participants=str(tmp / "participants.tsv"),
        coding={"diagnosis_column": "DX"},
    ), out


def _numpy_pcs(geno, k):
    """Eigenvectors of the standardised-genotype relationship matrix (plink2's --pca)."""
    p = geno.mean(axis=1, keepdims=True) / 2
    x = (geno - 2 * p) / np.sqrt(2 * p * (1 - p))
    vals, vecs = np.linalg.eigh(x.T @ x / len(x))
    return vecs[:, ::-1][:, :k], vals[::-1][:k]


def test_pcs_equal_numpy_pca_and_follow_the_contract(structured):
    tmp, geno, fam = structured
    pcs, out = _run(tmp, "exact")
    table = pd.read_csv(out / "pcs.tsv", sep="\t", dtype={"participant_id": str})
    assert list(table.columns) == ["participant_id", "PC1", "PC2", "PC3", "PC4"]
    assert list(table["participant_id"]) == list(fam["IID"])
    expected, values = _numpy_pcs(geno, 4)  # unlinked SNPs: pruning at r2 0.9 keeps all
    for i in range(4):
        r = np.corrcoef(table[f"PC{i + 1}"], expected[:, i])[0, 1]
        assert abs(r) > 0.999, (i, r)
    eig = pd.read_csv(out / "pca_eigenvalues.tsv", sep="\t")
    np.testing.assert_allclose(eig["eigenvalue"], values, rtol=2e-3)
    # the three distant samples: ancestry outliers; nobody else
    outliers = pd.read_csv(out / "ancestry_outliers.tsv", sep="\t")
    assert set(outliers["participant_id"]) == set(fam["IID"][-N_C:])
    assert (outliers["sd_from_mean"].abs() > 6).all()
    # A and B are separated by one of the leading PCs
    group = np.r_[np.zeros(N_A), np.ones(N_B)]
    best = max(abs(np.corrcoef(table[f"PC{i}"][: N_A + N_B], group)[0, 1]) for i in (1, 2))
    assert best > 0.9
    assert (out / "pca_plot.png").stat().st_size > 10_000


def test_approx_pca_agrees_with_exact(structured):
    tmp, _, _ = structured
    exact, _ = _run(tmp, "exact2")
    approx, out = _run(tmp, "approx", approx_min_samples=10)
    assert "approx" in (out / "plink_logs" / "pca.log").read_text()
    for i in (1, 2):
        assert abs(np.corrcoef(exact[f"PC{i}"], approx[f"PC{i}"])[0, 1]) > 0.99


def test_too_many_pcs_for_the_samples(structured):
    tmp, _, _ = structured
    with pytest.raises(InputError, match=r"g\.bed: genotype_qc\.pca\.n_pcs is 500 but only 183"):
        _run(tmp, "many", n_pcs=500)
