"""The imaging stage on FreeSurfer input: table layout, planted values, QC, exclusions, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from neuropathx.errors import InputError
from neuropathx.imaging.freesurfer import PARC_MEASURES
from neuropathx.imaging.parcellations import DESIKAN_KILLIANY
from neuropathx.imaging.stage import build_imaging_features
from neuropathx.imaging.synthetic import random_parc_values, write_subject_stats

DATA = Path(__file__).parent / "data" / "freesurfer"
MEASURES = ["GrayVol", "SurfArea", "ThickAvg", "ThickStd"]


def _cohort(tmp_path: Path, n: int = 8, seed: int = 0) -> tuple[Path, Path, dict]:
    rng = np.random.default_rng(seed)
    fs = tmp_path / "fs"
    truth = {}
    ids = [f"sub-{i:02d}" for i in range(n)]
    for k, s in enumerate(ids):
        values = {h: random_parc_values(rng, 34) for h in ("lh", "rh")}
        write_subject_stats(fs, s, values, etiv=1_400_000.0 + 1000 * k)
        truth[s] = values
    participants = tmp_path / "participants.tsv"
    pd.DataFrame({"participant_id": ids, "diagnosis": "CN", "age": 70}).to_csv(
        participants, sep="\t", index=False
    )
    return fs, participants, truth


def _run(fs, participants, out, threads=1, **settings):
    build_imaging_features(str(fs), str(participants), str(out), settings=settings, threads=threads)
    return pd.read_csv(out / "regional_features.tsv", sep="\t")


def test_features_layout_and_values_match_planted(tmp_path):
    fs, participants, truth = _cohort(tmp_path)
    out = tmp_path / "out"
    feats = _run(fs, participants, out)
    expected_cols = ["participant_id"] + [
        f"{h}_{r}__{m}" for h in ("lh", "rh") for r in DESIKAN_KILLIANY for m in MEASURES
    ]
    assert list(feats.columns) == expected_cols
    assert feats["participant_id"].tolist() == sorted(truth)
    j = [PARC_MEASURES.index(m) for m in MEASURES]
    for i, s in enumerate(feats["participant_id"]):
        want = np.concatenate([truth[s]["lh"][:, j].ravel(), truth[s]["rh"][:, j].ravel()])
        np.testing.assert_allclose(feats.iloc[i, 1:].to_numpy(float), want, rtol=1e-12)

    glob = pd.read_csv(out / "global_measures.tsv", sep="\t")
    assert list(glob.columns[:8]) == [
        "participant_id", "eTIV", "lh_NumVert", "lh_WhiteSurfArea", "lh_MeanThickness",
        "rh_NumVert", "rh_WhiteSurfArea", "rh_MeanThickness",
    ]  # fmt: skip
    np.testing.assert_allclose(glob["eTIV"], 1_400_000.0 + 1000 * np.arange(8))
    s0 = truth["sub-00"]["rh"]
    assert glob.loc[0, "rh_WhiteSurfArea"] == pytest.approx(s0[:, 1].sum())
    assert glob.loc[0, "rh_NumVert"] == s0[:, 0].sum()

    excluded = pd.read_csv(out / "excluded_subjects.tsv", sep="\t")
    assert list(excluded.columns) == ["participant_id", "reason"] and excluded.empty


def test_aparcstats2table_layout(tmp_path):
    fs, participants, truth = _cohort(tmp_path, n=3)
    out = tmp_path / "out"
    _run(fs, participants, out, measures=["ThickAvg", "SurfArea", "NumVert"])
    files = sorted(p.name for p in (out / "aparcstats2table").iterdir())
    assert files == [
        "lh.aparc.area.tsv",
        "lh.aparc.thickness.tsv",
        "rh.aparc.area.tsv",
        "rh.aparc.thickness.tsv",
    ]  # fmt: skip  (NumVert has no aparcstats2table measure)
    lines = (out / "aparcstats2table" / "rh.aparc.thickness.tsv").read_text().splitlines()
    header = lines[0].split("\t")
    assert header[:3] == ["rh.aparc.thickness", "rh_bankssts_thickness",
                          "rh_caudalanteriorcingulate_thickness"]  # fmt: skip
    assert header[-3:] == ["rh_MeanThickness_thickness", "BrainSegVolNotVent", "eTIV"]
    assert len(header) == 1 + 34 + 3
    row = lines[2].split("\t")
    assert row[0] == "sub-01"
    assert float(row[1]) == truth["sub-01"]["rh"][0, 3]
    assert row[-1] == "1401000.0"
    area = (out / "aparcstats2table" / "lh.aparc.area.tsv").read_text().splitlines()[0]
    assert area.split("\t")[-3] == "lh_WhiteSurfArea_area"


def test_qc_lists_planted_flags_without_removing_them(tmp_path):
    fs, participants, truth = _cohort(tmp_path, n=12)
    p = fs / "sub-03" / "stats" / "lh.aparc.stats"
    text = p.read_text()
    # plant: bankssts ThickAvg huge (outlier), cuneus ThickStd nan, insula GrayVol zero
    lines = text.splitlines()
    at = {ln.split()[0]: k for k, ln in enumerate(lines) if ln and not ln.startswith("#")}
    f = lines[at["bankssts"]].split()
    f[4] = "9.999"
    lines[at["bankssts"]] = " ".join(f)
    f = lines[at["cuneus"]].split()
    f[5] = "nan"
    lines[at["cuneus"]] = " ".join(f)
    f = lines[at["insula"]].split()
    f[3] = "0"
    lines[at["insula"]] = " ".join(f)
    p.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    feats = _run(fs, participants, out, outlier_z=4.0)
    assert feats.loc[3, "lh_bankssts__ThickAvg"] == 9.999  # listed, never removed
    qc = pd.read_csv(out / "imaging_qc.tsv", sep="\t")
    assert list(qc.columns) == ["participant_id", "region", "measure", "value", "flag", "robust_z"]
    sub3 = qc[qc["participant_id"] == "sub-03"]
    got = set(zip(sub3["region"], sub3["measure"], sub3["flag"], strict=True))
    assert ("lh_bankssts", "ThickAvg", "robust_outlier") in got
    assert ("lh_cuneus", "ThickStd", "missing_value") in got
    assert ("lh_insula", "GrayVol", "non_positive") in got
    col = feats["lh_bankssts__ThickAvg"].to_numpy()
    med = np.median(col)
    z = (9.999 - med) / (1.4826 * np.median(np.abs(col - med)))
    row = sub3[(sub3["region"] == "lh_bankssts") & (sub3["flag"] == "robust_outlier")]
    assert row["robust_z"].iloc[0] == pytest.approx(z, rel=1e-6)
    assert (qc["flag"] == "robust_outlier").sum() == (
        np.abs(_robust_z(feats.iloc[:, 1:].to_numpy(float))) > 4.0
    ).sum()


def _robust_z(x):
    med = np.nanmedian(x, axis=0)
    mad = 1.4826 * np.nanmedian(np.abs(x - med), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - med) / mad
    return np.nan_to_num(z, nan=0.0)


def test_threads_give_identical_tables(tmp_path):
    fs, participants, _ = _cohort(tmp_path, n=6)
    a = _run(fs, participants, tmp_path / "a", threads=1)
    b = _run(fs, participants, tmp_path / "b", threads=2)
    pd.testing.assert_frame_equal(a, b)


def _old_layout_subject(fs: Path, subject: str, source: Path) -> None:
    stats = fs / subject / "stats"
    stats.mkdir(parents=True)
    text = source.read_text()
    # a parcellation name without a known parcel list: checked across subjects only
    shutil.copy(source, stats / "lh.aparc.old.stats")
    (stats / "rh.aparc.old.stats").write_text(text.replace("# hemi lh", "# hemi rh"))


def test_old_layout_rows_excluded_and_counted_and_etiv_from_aseg(tmp_path):
    fs = tmp_path / "fs"
    for s in ("a1", "a2"):
        _old_layout_subject(fs, s, DATA / "fs4" / "lh.aparc.stats")
    shutil.copy(DATA / "fs51" / "aseg.stats", fs / "a1" / "stats" / "aseg.stats")
    participants = tmp_path / "p.tsv"
    participants.write_text("participant_id\na1\na2\n")
    out = tmp_path / "out"
    feats = _run(fs, participants, out, parcellation="aparc.old", measures=["ThickAvg"])
    assert list(feats.columns) == [
        "participant_id", "lh_bankssts__ThickAvg", "lh_cuneus__ThickAvg",
        "rh_bankssts__ThickAvg", "rh_cuneus__ThickAvg",
    ]  # fmt: skip
    regions = pd.read_csv(out / "excluded_regions.tsv", sep="\t")
    counted = zip(regions["hemisphere"], regions["region"], regions["n_subjects"], strict=True)
    assert sorted(counted) == [
        ("lh", "corpuscallosum", 2), ("lh", "unknown", 2),
        ("rh", "corpuscallosum", 2), ("rh", "unknown", 2),
    ]  # fmt: skip
    glob = pd.read_csv(out / "global_measures.tsv", sep="\t")
    assert glob.loc[0, "eTIV"] == pytest.approx(1549336.766171)  # FS 5.1 aseg "ICV"
    assert np.isnan(glob.loc[1, "eTIV"])  # no aseg.stats: unknown, not invented


# ---------------------------------------------------------------- bad input


def _drop_region(fs: Path, subject: str, hemi: str, region: str) -> Path:
    p = fs / subject / "stats" / f"{hemi}.aparc.stats"
    p.write_text("".join(ln for ln in p.read_text().splitlines(True) if not ln.startswith(region)))
    return p


def test_subject_missing_a_region_error_or_drop(tmp_path):
    fs, participants, _ = _cohort(tmp_path, n=5)
    p = _drop_region(fs, "sub-02", "rh", "precuneus")
    with pytest.raises(InputError, match="subject sub-02: lacks region 'precuneus'") as err:
        _run(fs, participants, tmp_path / "o1")
    assert str(p) in str(err.value)
    feats = _run(fs, participants, tmp_path / "o2", missing="drop")
    assert "sub-02" not in feats["participant_id"].tolist() and len(feats) == 4
    ex = pd.read_csv(tmp_path / "o2" / "excluded_subjects.tsv", sep="\t")
    assert ex["participant_id"].tolist() == ["sub-02"]
    assert "lacks region 'precuneus'" in ex["reason"].iloc[0]


def test_subject_with_extra_region_is_the_odd_one(tmp_path):
    fs, participants, _ = _cohort(tmp_path, n=5)
    p = fs / "sub-04" / "stats" / "lh.aparc.stats"
    p.write_text(p.read_text() + "extraregion 10 10 10 2.0 0.5 0.1 0.02 1 0.1\n")
    with pytest.raises(InputError, match="subject sub-04: has region 'extraregion'"):
        _run(fs, participants, tmp_path / "o")


def test_every_subject_lacking_the_same_regions_is_one_error(tmp_path):
    fs, participants, _ = _cohort(tmp_path, n=4)
    for s in [f"sub-{i:02d}" for i in range(4)]:
        _drop_region(fs, s, "lh", "frontalpole")
    for missing in ("error", "drop"):
        with pytest.raises(
            InputError, match=r"all 4 subjects lack lh region\(s\) \['frontalpole'\]"
        ):
            _run(fs, participants, tmp_path / missing, missing=missing)


def test_missing_folder_and_file_error_or_drop(tmp_path):
    fs, participants, _ = _cohort(tmp_path, n=4)
    shutil.rmtree(fs / "sub-01")
    (fs / "sub-03" / "stats" / "rh.aparc.stats").unlink()
    with pytest.raises(InputError, match="subject sub-01: FreeSurfer subject folder not found"):
        _run(fs, participants, tmp_path / "o1")
    _run(fs, participants, tmp_path / "o2", missing="drop")
    ex = pd.read_csv(tmp_path / "o2" / "excluded_subjects.tsv", sep="\t")
    assert ex["participant_id"].tolist() == ["sub-01", "sub-03"]
    assert "rh.aparc.stats: stats file not found" in ex["reason"].iloc[1]


def test_malformed_file_error_names_file_and_line_or_subject_dropped(tmp_path):
    fs, participants, _ = _cohort(tmp_path, n=3)
    p = fs / "sub-01" / "stats" / "lh.aparc.stats"
    p.write_text(p.read_text()[:-20])  # last row cut mid-line
    with pytest.raises(InputError, match=r"subject sub-01: line \d+: expected 10 columns") as err:
        _run(fs, participants, tmp_path / "o1")
    assert str(p) in str(err.value)
    feats = _run(fs, participants, tmp_path / "o2", missing="drop")
    assert feats["participant_id"].tolist() == ["sub-00", "sub-02"]
    ex = pd.read_csv(tmp_path / "o2" / "excluded_subjects.tsv", sep="\t")
    assert ex["participant_id"].tolist() == ["sub-01"]
    assert str(p) in ex["reason"].iloc[0] and "expected 10 columns" in ex["reason"].iloc[0]


def test_dktatlas40_found_for_dktatlas_and_unknown_name_lists_what_exists(tmp_path):
    fs, participants, truth = _cohort(tmp_path, n=3)
    for s in ("sub-00", "sub-01", "sub-02"):  # FreeSurfer 5.3 naming of the DKT atlas
        for hemi in ("lh", "rh"):
            text = (fs / s / "stats" / f"{hemi}.aparc.stats").read_text()
            rows = [
                ln for ln in text.splitlines(True)
                if ln.split()[:1] not in (["bankssts"], ["frontalpole"], ["temporalpole"])
            ]  # fmt: skip
            (fs / s / "stats" / f"{hemi}.aparc.DKTatlas40.stats").write_text("".join(rows))
    feats = _run(fs, participants, tmp_path / "o1", parcellation="aparc.DKTatlas")
    assert feats.shape == (3, 1 + 2 * 31 * 4)
    assert feats["lh_cuneus__GrayVol"].tolist() == pytest.approx(
        [
            truth[s]["lh"][DESIKAN_KILLIANY.index("cuneus"), PARC_MEASURES.index("GrayVol")]
            for s in ("sub-00", "sub-01", "sub-02")
        ]
    )
    with pytest.raises(InputError) as err:
        _run(fs, participants, tmp_path / "o2", parcellation="aparc.a2009s")
    assert "lh.aparc.a2009s.stats" in str(err.value)
    assert "parcellations found there: ['aparc', 'aparc.DKTatlas40']" in str(err.value)


def test_missing_etiv_warned_and_listed_in_qc(tmp_path, caplog):
    fs, participants, _ = _cohort(tmp_path, n=3)
    for hemi in ("lh", "rh"):  # FreeSurfer 5.3 aparc files carry no eTIV; no aseg.stats here
        p = fs / "sub-02" / "stats" / f"{hemi}.aparc.stats"
        p.write_text("".join(ln for ln in p.read_text().splitlines(True) if "eTIV" not in ln))
    with caplog.at_level("WARNING"):
        _run(fs, participants, tmp_path / "o")
    assert "1 subject(s) without eTIV" in caplog.text and "sub-02" in caplog.text
    qc = pd.read_csv(tmp_path / "o" / "imaging_qc.tsv", sep="\t")
    row = qc[qc["flag"] == "missing_eTIV"]
    assert row[["participant_id", "region", "measure"]].values.tolist() == [
        ["sub-02", "global", "eTIV"]
    ]
    glob = pd.read_csv(tmp_path / "o" / "global_measures.tsv", sep="\t")
    assert glob["eTIV"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize("bad_id", ["..", "../etc", "a/b"])
def test_unsafe_subject_ids_rejected(tmp_path, bad_id):
    fs, _, _ = _cohort(tmp_path, n=2)
    participants = tmp_path / "bad.tsv"
    participants.write_text(f"participant_id\nsub-00\n{bad_id}\n")
    with pytest.raises(InputError, match="unsafe as a path component") as err:
        _run(fs, participants, tmp_path / "o")
    assert str(participants) in str(err.value)


def test_bad_settings_named():
    with pytest.raises(ValueError, match="'measures'"):
        build_imaging_features("x", "y", "z", settings={"measures": ["Thickness"]})
    with pytest.raises(ValueError, match="'parcellation'"):
        build_imaging_features("x", "y", "z", settings={"parcellation": "../aparc"})
