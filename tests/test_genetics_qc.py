"""Genotype QC: same result as plink2 run step by step by hand; every removal accounted for."""

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.genetics import stage
from neuropathx.genetics.plink_cli import PlinkError, run_plink
from neuropathx.genetics.plink_io import open_fileset, read_bim, read_fam, write_fileset
from neuropathx.genetics.qc import run_qc_steps
from neuropathx.genetics.simulate import default_tables, write_qc_fixture
from neuropathx.genetics.stage import run_genotype_qc

pytestmark = pytest.mark.plink


def _plink2(args: str) -> None:
    subprocess.run(f"plink2 {args} --threads 1", shell=True, check=True, capture_output=True)


def _oracle(raw: Path, d: Path, het_sd: float = 3.0) -> Path:
    """The QC chain written directly with plink2 --make-bed at every step."""
    _plink2(f"--bfile {raw} --geno 0.05 --make-bed --out {d}/s1")
    _plink2(f"--bfile {d}/s1 --mind 0.05 --make-bed --out {d}/s2")
    _plink2(f"--bfile {d}/s2 --maf 0.01 --make-bed --out {d}/s3")
    _plink2(f"--bfile {d}/s3 --hwe 1e-6 --make-bed --out {d}/s4")
    _plink2(f"--bfile {d}/s4 --indep-pairwise 200 50 0.2 --out {d}/prune")
    _plink2(f"--bfile {d}/s4 --extract {d}/prune.prune.in --het --out {d}/het")
    het = pd.read_csv(f"{d}/het.het", sep="\t")
    f = het["F"]
    het.loc[(f - f.mean()).abs() > het_sd * f.std(), ["#FID", "IID"]].to_csv(
        f"{d}/het_out.txt", sep="\t", header=False, index=False
    )
    _plink2(f"--bfile {d}/s4 --remove {d}/het_out.txt --make-bed --out {d}/s5")
    _plink2(f"--bfile {d}/s5 --king-cutoff 0.0884 --out {d}/king")
    _plink2(f"--bfile {d}/s5 --remove {d}/king.king.cutoff.out.id --make-bed --out {d}/s6")
    return d / "s6"


@pytest.fixture(scope="module")
def qc_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qc")
    planted = write_qc_fixture(tmp / "raw", seed=0)
    run_genotype_qc(str(tmp / "raw"), str(tmp / "out"), settings={}, threads=1)
    (tmp / "oracle").mkdir()
    return tmp, planted, _oracle(tmp / "raw", tmp / "oracle")


# First of the qc_run tests on purpose: mutmut credits the module fixture's QC run to the
# first test that uses it, and runs only that test of them against each qc.py mutant.
def test_summary_reasons_and_notes_match_the_plink2_chain(qc_run):
    """Every count of qc_summary.tsv, every removal with its reason, from the filesets of the
    plink2 chain run by hand (s1..s6); the heterozygosity figures from its own het.het."""
    tmp, _, oracle = qc_run
    d, out = oracle.parent, tmp / "out"
    fams = [read_fam(tmp / "raw.fam")] + [read_fam(f"{d}/s{k}.fam") for k in range(1, 7)]
    bims = [read_bim(tmp / "raw.bim")] + [read_bim(f"{d}/s{k}.bim") for k in range(1, 7)]
    n = [len(f) for f in fams]  # raw, geno, mind, maf, hwe, het, king
    m = [len(b) for b in bims]
    het = pd.read_csv(f"{d}/het.het", sep="\t", dtype={"IID": str})
    mean, sd = het["F"].mean(), het["F"].std(ddof=1)
    n_pruned = len((d / "prune.prune.in").read_text().split())
    # (step, samples before, after, variants before, after, note): sex check adds no step
    # to the chain (no X variants), so it sits between the mind and maf filesets
    steps = [
        ("variant_missingness", n[0], n[1], m[0], m[1], ""),
        ("sample_missingness", n[1], n[2], m[1], m[2], ""),
        ("sex_check", n[2], n[2], m[2], m[2], "skipped: no chromosome X variants"),
        ("maf", n[2], n[3], m[2], m[3], ""),
        ("hwe", n[3], n[4], m[3], m[4], ""),
        ("heterozygosity", n[4], n[5], m[4], m[5],
         f"{n_pruned} pruned variants; mean F {mean:.4f}, SD {sd:.4f}"),
        ("relatedness", n[5], n[6], m[5], m[6], ""),
    ]  # fmt: skip
    summary = pd.read_csv(out / "qc_summary.tsv", sep="\t", keep_default_na=False)
    assert summary.columns.tolist() == [
        "step", "samples_before", "samples_removed", "samples_after", "variants_before",
        "variants_removed", "variants_after", "note",
    ]  # fmt: skip
    assert summary.values.tolist() == [
        [s, sb, sb - sa, sa, vb, vb - va, va, note] for s, sb, sa, vb, va, note in steps
    ]
    assert n[0] > n[1] or m[0] > m[1]  # the chain removes something at each planted step
    samples = pd.read_csv(out / "removed_samples.tsv", sep="\t", dtype=str)
    variants = pd.read_csv(out / "removed_variants.tsv", sep="\t", dtype=str)
    f_of = dict(zip(het["IID"], het["F"], strict=True))
    expected_s = []
    for k, step in ((2, "sample_missingness"), (5, "heterozygosity"), (6, "relatedness")):
        gone = fams[k - 1][~fams[k - 1]["IID"].isin(fams[k]["IID"])]
        for fid, iid in zip(gone["FID"], gone["IID"], strict=True):
            reason = {
                "sample_missingness": "missing_rate>0.05",
                "heterozygosity": f"F={f_of.get(iid, np.nan):.4f} outside mean {mean:.4f} "
                f"+/- 3.0 SD ({sd:.4f})",
                "relatedness": "duplicate_or_related (KING kinship > 0.0884)",
            }[step]
            expected_s.append([fid, iid, step, reason])
    assert samples.values.tolist() == expected_s
    expected_v = []
    for k, step, reason in ((1, "variant_missingness", "missing_rate>0.05"),
                            (3, "maf", "maf<0.01"), (4, "hwe", "hwe_p<1e-06")):  # fmt: skip
        gone = bims[k - 1].loc[~bims[k - 1]["ID"].isin(bims[k]["ID"]), "ID"]
        expected_v += [[v, step, reason] for v in gone]
    assert variants.values.tolist() == expected_v


def test_same_as_plink2_by_hand(qc_run):
    tmp, _, oracle = qc_run
    ours = tmp / "out" / "qc"
    assert list(read_fam(f"{ours}.fam")["IID"]) == list(read_fam(f"{oracle}.fam")["IID"])
    assert list(read_bim(f"{ours}.bim")["ID"]) == list(read_bim(f"{oracle}.bim")["ID"])
    assert Path(f"{ours}.bed").read_bytes() == Path(f"{oracle}.bed").read_bytes()


def test_king_on_pruned_or_all_variants_as_plink2_by_hand(qc_run, tmp_path):
    """A KING cutoff between the highest unrelated-pair kinship on the pruned variants and on
    all QC'd variants (plink2 --make-king-table by hand on the chain's post-het fileset s5):
    each setting removes what plink2 --king-cutoff removes on its own variant set, and the
    two differ."""
    tmp, _, oracle = qc_run
    d = oracle.parent
    sets = {False: "", True: f"--extract {d}/prune.prune.in"}
    top = {}
    for on_pruned, extract in sets.items():
        _plink2(f"--bfile {d}/s5 {extract} --make-king-table --out {tmp_path}/k{on_pruned}")
        kin = pd.read_csv(f"{tmp_path}/k{on_pruned}.kin0", sep="\t")["KINSHIP"]
        top[on_pruned] = kin[kin < 0.3].max()  # the planted duplicates (0.5) left out
    assert top[True] != top[False]
    cutoff = float(top[True] + top[False]) / 2
    removed = {}
    for on_pruned, extract in sets.items():
        _plink2(f"--bfile {d}/s5 {extract} --king-cutoff {cutoff} --out {tmp_path}/o{on_pruned}")
        expected = set(pd.read_csv(f"{tmp_path}/o{on_pruned}.king.cutoff.out.id", sep="\t")["IID"])
        out = tmp_path / f"out{on_pruned}"
        settings = {"king_cutoff": cutoff, "king_on_pruned": on_pruned}
        run_genotype_qc(str(tmp / "raw"), str(out), settings=settings, threads=1)
        samples = pd.read_csv(out / "removed_samples.tsv", sep="\t")
        removed[on_pruned] = set(samples.loc[samples["step"] == "relatedness", "IID"])
        assert removed[on_pruned] == expected, on_pruned
    assert removed[True] != removed[False]


def test_planted_problems_removed_by_their_step(qc_run):
    tmp, planted, _ = qc_run
    samples = pd.read_csv(tmp / "out" / "removed_samples.tsv", sep="\t").set_index("IID")
    variants = pd.read_csv(tmp / "out" / "removed_variants.tsv", sep="\t").set_index("ID")
    assert set(variants.loc[planted.high_missing_variants, "step"]) == {"variant_missingness"}
    assert set(samples.loc[planted.high_missing_samples, "step"]) == {"sample_missingness"}
    assert set(variants.loc[planted.rare_variants, "step"]) == {"maf"}
    assert set(variants.loc[planted.hwe_variants, "step"]) == {"hwe"}
    assert set(samples.loc[planted.het_samples, "step"]) == {"heterozygosity"}
    first, second = planted.duplicate_pairs[0]
    assert (first in samples.index) != (second in samples.index)
    dup = second if second in samples.index else first
    assert samples.loc[dup, "step"] == "relatedness"
    assert "duplicate_or_related" in samples.loc[dup, "reason"]


def test_every_sample_and_variant_accounted_for(qc_run):
    tmp, _, _ = qc_run
    out = tmp / "out"
    summary = pd.read_csv(out / "qc_summary.tsv", sep="\t")
    assert list(summary["step"]) == [
        "variant_missingness",
        "sample_missingness",
        "sex_check",
        "maf",
        "hwe",
        "heterozygosity",
        "relatedness",
    ]
    assert "skipped" in summary.set_index("step").loc["sex_check", "note"]
    for kind in ("samples", "variants"):
        np.testing.assert_array_equal(
            summary[f"{kind}_before"] - summary[f"{kind}_removed"], summary[f"{kind}_after"]
        )
        np.testing.assert_array_equal(
            summary[f"{kind}_before"].iloc[1:], summary[f"{kind}_after"].iloc[:-1]
        )
    removed_s = pd.read_csv(out / "removed_samples.tsv", sep="\t")
    removed_v = pd.read_csv(out / "removed_variants.tsv", sep="\t")
    per_step_s = removed_s["step"].value_counts().reindex(summary["step"], fill_value=0)
    per_step_v = removed_v["step"].value_counts().reindex(summary["step"], fill_value=0)
    assert list(per_step_s) == list(summary["samples_removed"])
    assert list(per_step_v) == list(summary["variants_removed"])
    raw_fam, raw_bim = read_fam(tmp / "raw.fam"), read_bim(tmp / "raw.bim")
    kept_fam, kept_bim = read_fam(out / "qc.fam"), read_bim(out / "qc.bim")
    assert sorted(list(removed_s["IID"]) + list(kept_fam["IID"])) == sorted(raw_fam["IID"])
    assert sorted(list(removed_v["ID"]) + list(kept_bim["ID"])) == sorted(raw_bim["ID"])
    assert (out / "qc_plots.png").stat().st_size > 10_000
    assert (out / "plink_logs" / "hwe.log").exists()
    assert not list(out.glob(".qc_work_*"))


def test_hwe_in_controls_only(tmp_path):
    write_qc_fixture(tmp_path / "raw", seed=1)
    fam = read_fam(tmp_path / "raw.fam")
    # ADNI-style coding: column DX, controls CN, patients AD (as config/examples/own-cohort)
    diagnosis = np.where(np.arange(len(fam)) % 2 == 0, "CN", "AD")
    pd.DataFrame({"participant_id": fam["IID"], "DX": diagnosis}).to_csv(
        tmp_path / "participants.tsv", sep="\t", index=False
    )
    coding = {"diagnosis_column": "DX", "case_value": "AD", "control_value": "CN"}
    run_genotype_qc(
        str(tmp_path / "raw"),
        str(tmp_path / "out"),
        settings={"hwe_controls_only": True},
        participants=str(tmp_path / "participants.tsv"),
        coding=coding,
        threads=2,
    )
    out = tmp_path / "out"
    summary = pd.read_csv(out / "qc_summary.tsv", sep="\t").set_index("step")
    assert "controls" in summary.loc["hwe", "note"]
    # one log per plink call, named after its step (the controls-only HWE call too), and
    # every step ran with the threads it was given: plink2 echoes them under "Options in effect"
    logs = sorted((out / "plink_logs").iterdir())
    assert [f.stem for f in logs] == [
        "het", "hwe", "input_missingness", "king", "maf", "prune", "qc",
        "sample_missingness", "variant_missingness",
    ]  # fmt: skip
    assert [f.stem for f in logs if "\n  --threads 2\n" not in f.read_text()] == []
    # oracle, independent of what the pipeline removed: plink2's own --geno, --mind and --maf
    # chain (no X: no sex check), then --hwe on the controls (CN) left
    raw, d = tmp_path / "raw", tmp_path
    _plink2(f"--bfile {raw} --geno 0.05 --make-bed --out {d}/h1")
    _plink2(f"--bfile {d}/h1 --mind 0.05 --make-bed --out {d}/h2")
    _plink2(f"--bfile {d}/h2 --maf 0.01 --make-bed --out {d}/h3")
    pre = read_fam(f"{d}/h3.fam")
    keep = pre[pre["IID"].isin(set(fam["IID"][diagnosis == "CN"]))]
    keep[["FID", "IID"]].to_csv(d / "keep.txt", sep="\t", header=False, index=False)
    _plink2(f"--bfile {d}/h3 --keep {d}/keep.txt --hwe 1e-6 --write-snplist --out {d}/o")
    removed_v = pd.read_csv(out / "removed_variants.tsv", sep="\t")
    gone_v = set(read_bim(raw.with_suffix(".bim"))["ID"]) - set(read_bim(f"{d}/h3.bim")["ID"])
    bim = read_bim(tmp_path / "raw.bim")
    passing = set((tmp_path / "o.snplist").read_text().split())
    failing = set(bim["ID"]) - gone_v - passing
    assert failing and failing == set(removed_v.loc[removed_v["step"] == "hwe", "ID"])
    assert set(removed_v.loc[removed_v["step"] == "hwe", "reason"]) == {"hwe_p<1e-06_in_controls"}
    assert summary.loc["hwe", "samples_removed"] == 0
    assert summary.loc["hwe", "note"] == f"tested in {len(keep)} controls"
    with pytest.raises(InputError, match=r"participants\.tsv: .*no row has DX == 'control'.*CN"):
        run_genotype_qc(
            str(tmp_path / "raw"),
            str(tmp_path / "out3"),
            settings={"hwe_controls_only": True},
            participants=str(tmp_path / "participants.tsv"),
            coding={"diagnosis_column": "DX"},
        )
    # controls listed, but none of them genotyped: stops at the HWE step, no file to name
    ghosts = pd.DataFrame(
        {"participant_id": ["ghost1", *fam["IID"]], "DX": ["CN"] + ["AD"] * len(fam)}
    )
    ghosts.to_csv(tmp_path / "ghosts.tsv", sep="\t", index=False)
    with pytest.raises(InputError) as err:
        run_genotype_qc(
            str(tmp_path / "raw"),
            str(tmp_path / "out4"),
            settings={"hwe_controls_only": True},
            participants=str(tmp_path / "ghosts.tsv"),
            coding=coding,
        )
    assert err.value.path is None
    assert err.value.problem == "hwe_controls_only: no control samples left in the genotypes"
    with pytest.raises(InputError, match="no participants table"):
        run_genotype_qc(
            str(tmp_path / "raw"), str(tmp_path / "out2"), settings={"hwe_controls_only": True}
        )


def test_plink_failure_shows_log_tail(tmp_path):
    with pytest.raises(PlinkError, match=r"(?s)plink2 failed.*--- end of log.*Error"):
        run_plink(
            ["--bfile", str(tmp_path / "absent"), "--freq"], tmp_path / "x", tmp_path / "logs"
        )
    assert (tmp_path / "logs" / "x.log").exists()


def test_sex_check_with_x_variants(tmp_path):
    rng = np.random.default_rng(5)
    n, m = 60, 400
    sex = np.where(np.arange(n) % 2 == 0, 1, 2)
    freq = rng.uniform(0.2, 0.5, (m, 1))
    geno = rng.binomial(2, freq, (m, n)).astype(float)
    males = sex == 1
    geno[:, males] = 2 * rng.binomial(1, freq, (m, males.sum()))  # hemizygous: no hets
    geno[:, 1] = 2 * rng.binomial(1, freq[:, 0])  # recorded female, genotypes male
    geno[:, 2] = rng.binomial(2, freq[:, 0])  # recorded male, genotypes female
    geno[:, 5] = 2 * rng.binomial(1, freq[:, 0])  # sex unknown (0) below: kept either way
    sex[[3, 5]] = 0
    bim, fam = default_tables(n, m, n_chrom=2)
    bim["CHR"] = bim["CHR"].replace({"2": "X"})  # half autosomal (for --het), half X
    x = (bim["CHR"] == "X").to_numpy()
    geno[~x] = rng.binomial(2, freq[~x], (int((~x).sum()), n))
    fam["SEX"] = sex.astype(str)
    fam["FID"] = fam["IID"] = [str(1001 + k) for k in range(n)]  # numeric-looking IDs stay IDs
    write_fileset(tmp_path / "raw", geno, bim, fam)
    run_genotype_qc(str(tmp_path / "raw"), str(tmp_path / "out"), settings={"hwe": 1e-50})
    removed = pd.read_csv(tmp_path / "out" / "removed_samples.tsv", sep="\t", dtype=str)
    by_sex = removed[removed["step"] == "sex_check"]
    assert list(by_sex["IID"]) == [fam["IID"][1], fam["IID"][2]]
    assert by_sex["reason"].iloc[0].startswith("recorded sex 2 != genotype sex 1 (F=")
    assert by_sex["reason"].iloc[1].startswith("recorded sex 1 != genotype sex 2 (F=")
    assert (
        by_sex["reason"]
        .str.fullmatch(r"recorded sex \d != genotype sex \d \(F=-?\d\.\d{3}\)")
        .all()
    )
    assert not set(fam["IID"][[3, 5]]) & set(removed["IID"])
    assert (tmp_path / "out" / "plink_logs" / "sex_check.log").exists()


def _boundary_fileset(prefix: Path) -> dict[str, str]:
    """100 unrelated samples x 400 HWE variants, with one case just inside and one just
    outside each of the --geno 0.05, --mind 0.05 and --maf 0.01 thresholds."""
    rng = np.random.default_rng(11)
    n, m = 100, 400
    geno = rng.binomial(2, rng.uniform(0.25, 0.5, (m, 1)), (m, n)).astype(float)
    geno[0, 90:94] = np.nan  # variant missing in 4% of samples: kept
    geno[1, 90:96] = np.nan  # 6%: removed
    geno[10:28, 0] = np.nan  # sample missing 18 of the 399 variants left (4.5%): kept
    geno[30:52, 1] = np.nan  # 22 of 399 (5.5%): removed
    geno[2] = 2.0
    geno[2, 5] = 1.0  # one minor allele in 198 (0.5%): removed
    geno[3] = 2.0
    geno[3, 5:7] = 1.0  # two minor alleles in 198 (1.01%): kept
    bim, fam = default_tables(n, m, n_chrom=2, spacing=200_000)
    fam["FID"] = [f"fam{k // 2}" for k in range(n)]  # family IDs other than the IIDs
    # the removed sample is literally FID "FID", IID "IID": plink2 reads a 'FID IID' first
    # line of a --keep file as that sample, so a header there would bring it back
    fam.loc[1, ["FID", "IID"]] = ["FID", "IID"]
    write_fileset(prefix, geno, bim, fam)
    ids = dict(zip(["v_in", "v_out", "maf_out", "maf_in"], bim["ID"][:4], strict=True))
    return ids | {"s_in": fam["IID"][0], "s_out": fam["IID"][1]}


def test_samples_and_variants_just_inside_and_outside_each_threshold(tmp_path):
    ids = _boundary_fileset(tmp_path / "raw")
    settings = {"het_sd": 100.0, "king_cutoff": 0.45}  # het: below; KING is noisy on 400
    run_genotype_qc(str(tmp_path / "raw"), str(tmp_path / "out"), settings=settings, threads=1)
    samples = pd.read_csv(tmp_path / "out" / "removed_samples.tsv", sep="\t")
    variants = pd.read_csv(tmp_path / "out" / "removed_variants.tsv", sep="\t")
    assert dict(zip(samples["IID"], samples["step"], strict=True)) == {
        ids["s_out"]: "sample_missingness"
    }
    assert samples["FID"].tolist() == ["FID"]  # its family ID, not its IID
    assert dict(zip(variants["ID"], variants["step"], strict=True)) == {
        ids["v_out"]: "variant_missingness",
        ids["maf_out"]: "maf",
    }
    kept = set(read_bim(tmp_path / "out" / "qc.bim")["ID"])
    assert {ids["v_in"], ids["maf_in"]} <= kept
    kept_samples = set(read_fam(tmp_path / "out" / "qc.fam")["IID"])
    assert ids["s_in"] in kept_samples and ids["s_out"] not in kept_samples
    assert len(kept_samples) == 99


def test_no_variant_left_after_ld_pruning_names_the_fileset(tmp_path):
    # 60 samples, every variant monomorphic: --maf 0 keeps them (and HWE p = 1), but plink2
    # --indep-pairwise removes every monomorphic variant (checked by hand: empty .prune.in)
    bim, fam = default_tables(60, 20, n_chrom=1)
    write_fileset(tmp_path / "raw", np.zeros((20, 60)), bim, fam)
    with pytest.raises(InputError) as err:
        run_genotype_qc(str(tmp_path / "raw"), str(tmp_path / "out"), settings={"maf": 0.0})
    assert err.value.path == tmp_path / "raw.bed"
    assert err.value.problem == "no variants left after LD pruning"
    assert (tmp_path / "out" / "plink_logs" / "prune.log").exists()
    # run_qc_steps called on its own: one plink thread unless told otherwise, and controls
    # given without hwe_controls_only are not used (HWE tested in all 60)
    (tmp_path / "work").mkdir()
    fileset, logs = open_fileset(tmp_path / "raw"), tmp_path / "logs"
    with pytest.raises(InputError, match="no variants left after LD pruning"):
        run_qc_steps(fileset, tmp_path / "work", logs, {"maf": 0.0}, list(fam["IID"][:10]))
    assert "\n  --threads 1\n" in (logs / "prune.log").read_text()
    assert "\n--keep: 60 samples remaining.\n" in (logs / "hwe.log").read_text()


def test_heterozygosity_cut_just_inside_and_outside(tmp_path, monkeypatch):
    """F from plink2 --het by hand; the cut exactly at the second most extreme sample (kept:
    the cut is |F - mean| > het_sd SD), and 0.2 % either side of it (that separates SD with
    n-1 from SD with n). The plot gets plink2's F of every sample tested."""
    write_qc_fixture(tmp_path / "raw", seed=0)
    oracle_dir = tmp_path / "oracle"
    oracle_dir.mkdir()
    _oracle(tmp_path / "raw", oracle_dir)  # writes het.het: F of the samples before the cut
    het = pd.read_csv(oracle_dir / "het.het", sep="\t", dtype={"IID": str})
    z = ((het["F"] - het["F"].mean()).abs() / het["F"].std(ddof=1)).sort_values(ascending=False)
    first, second = z.index[:2]
    f = het["F"].to_numpy(float)
    sd, gap = f.std(ddof=1), abs(f[second] - f.mean())
    tie = gap / sd  # nudged to the float where tie * sd == gap exactly
    for _ in range(8):
        if tie * sd == gap:
            break
        tie = np.nextafter(tie, np.inf if tie * sd < gap else -np.inf)
    assert tie * sd == gap
    cases = {
        float(tie): {het["IID"][first]},
        z.iloc[1] * 1.002: {het["IID"][first]},
        z.iloc[1] * 0.998: {het["IID"][first], het["IID"][second]},
    }
    plotted = []
    real_plot = stage.plot_qc
    monkeypatch.setattr(stage, "plot_qc", lambda *a: plotted.append(a[2]) or real_plot(*a))
    for i, (het_sd, expected) in enumerate(cases.items()):
        out = tmp_path / f"out{i}"
        run_genotype_qc(str(tmp_path / "raw"), str(out), settings={"het_sd": het_sd}, threads=1)
        samples = pd.read_csv(out / "removed_samples.tsv", sep="\t", dtype={"IID": str})
        assert set(samples.loc[samples["step"] == "heterozygosity", "IID"]) == expected, het_sd
    assert len(plotted) == 3
    pd.testing.assert_frame_equal(plotted[0], het)  # the whole of plink2's .het table


def test_fifty_samples_left_need_no_frequency_file(tmp_path):
    # plink2 estimates frequencies (and LD) itself from >= 50 samples; 53 planted, 3 of them
    # high-missing, leaves exactly 50 at --het: no --freq / --read-freq step. (Below 50,
    # plink2 refuses the LD pruning that comes first, on the same samples.)
    write_qc_fixture(tmp_path / "raw", seed=3, n_samples=53, n_variants=600)
    run_genotype_qc(str(tmp_path / "raw"), str(tmp_path / "out"), settings={}, threads=1)
    summary = pd.read_csv(tmp_path / "out" / "qc_summary.tsv", sep="\t").set_index("step")
    assert summary.loc["heterozygosity", "samples_before"] == 50
    logs = tmp_path / "out" / "plink_logs"
    assert (logs / "het.log").exists() and not (logs / "het_freq.log").exists()
    assert "--read-freq" not in (logs / "het.log").read_text()
