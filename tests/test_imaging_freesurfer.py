"""Parsing FreeSurfer .stats files of each FreeSurfer generation, and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from neuropathx.errors import InputError
from neuropathx.imaging.freesurfer import (
    PARC_MEASURES,
    intracranial_volume,
    parse_aseg_stats,
    parse_parc_stats,
    parse_stats_table,
)

DATA = Path(__file__).parent / "data" / "freesurfer"


def test_fs7_aparc_columns_rows_and_measures():
    t = parse_parc_stats(DATA / "fs7" / "lh.aparc.stats", hemi="lh")
    assert t.columns == PARC_MEASURES
    assert t.names == ("bankssts", "caudalanteriorcingulate", "superiorfrontal", "insula")
    assert t.as_dict("ThickAvg") == {
        "bankssts": 2.3,
        "caudalanteriorcingulate": 2.1,
        "superiorfrontal": 2.7,
        "insula": 2.9,
    }
    assert t.column("CurvInd") == [1.8, 1.5, 15.0, 9.1]
    assert t.measures["NumVert"] == 130000
    assert t.measures["WhiteSurfArea"] == 85000.5
    assert t.measures["MeanThickness"] == 2.45
    # "Cortex" is the structure of four measures: keyed by measure name, none is lost
    assert t.measures["CortexVol"] == 480000.0
    assert t.measures["BrainSegVolNotVent"] == 1090000.0
    assert intracranial_volume(t.measures) == 1450000.5
    assert t.header["hemi"] == "lh" and t.header["subjectname"] == "sub-01"


def test_fs6_has_etiv_and_cvs_header():
    t = parse_parc_stats(DATA / "fs6" / "lh.aparc.stats")
    assert t.names == ("bankssts", "entorhinal", "lingual")
    assert t.as_dict("GrayVol")["entorhinal"] == 2100.0
    assert intracranial_volume(t.measures) == 1520000.0
    assert t.header["cvs_version"].startswith("$Id: mris_anatomical_stats.c,v 1.79")


def test_fs6_measure_line_without_comma_after_its_name():
    # FreeSurfer 6.0: "# Measure Cortex, CortexVol Total cortical gray matter volume, v, mm^3"
    for parc in ("aparc", "aparc.a2009s"):
        t = parse_parc_stats(DATA / "fs6" / f"lh.{parc}.stats", hemi="lh")
        assert t.measures["CortexVol"] == 490000.0
        assert list(t.measures) == [
            "NumVert", "WhiteSurfArea", "MeanThickness", "BrainSegVol", "BrainSegVolNotVent",
            "BrainSegVolNotVentSurf", "CortexVol", "SupraTentorialVol",
            "SupraTentorialVolNotVent", "eTIV",
        ]  # fmt: skip
    t = parse_parc_stats(DATA / "fs6" / "lh.aparc.a2009s.stats")
    assert t.names == ("G&S_frontomargin", "G_cingul-Post-dorsal", "S_temporal_transverse")
    assert t.as_dict("ThickAvg")["G_cingul-Post-dorsal"] == 3.14
    assert t.column("CurvInd") == [1.2, 1.1, 0.3]


def test_fs51_aparc_cortex_measures_only():
    t = parse_parc_stats(DATA / "fs51" / "lh.aparc.stats", hemi="lh")
    assert t.header["cvs_version"].startswith("$Id: mris_anatomical_stats.c,v 1.69.2.1")
    assert t.measures == {"NumVert": 119400, "WhiteSurfArea": 80110.7, "MeanThickness": 2.48807}
    assert t.as_dict("GrayVol") == {"bankssts": 2240.0, "cuneus": 4050.0, "precuneus": 9600.0}


def test_fs53_dktatlas40_and_fs7_dktatlas_files():
    t53 = parse_parc_stats(DATA / "fs53" / "lh.aparc.DKTatlas40.stats", hemi="lh")
    t7 = parse_parc_stats(DATA / "fs7" / "lh.aparc.DKTatlas.stats", hemi="lh")
    assert t53.names == ("caudalanteriorcingulate", "cuneus", "insula")
    assert t53.as_dict("SurfArea")["cuneus"] == 2370.0
    assert t53.as_dict("ThickStd") == {
        "caudalanteriorcingulate": 0.7,
        "cuneus": 0.5,
        "insula": 0.69,
    }
    assert t7.names == ("caudalanteriorcingulate", "entorhinal", "insula")
    assert t7.as_dict("GrayVol")["entorhinal"] == 1420.0
    assert intracranial_volume(t7.measures) == 1450000.5


def _fs7_text() -> str:
    return (DATA / "fs7" / "lh.aparc.stats").read_text()


def test_bom_crlf_and_missing_final_newline_parse_the_same(tmp_path):
    ref = parse_parc_stats(DATA / "fs7" / "lh.aparc.stats")
    variants = {
        "bom": "\ufeff" + _fs7_text(),
        "crlf": _fs7_text().replace("\n", "\r\n"),
        "no_final_newline": _fs7_text().rstrip("\n"),
        "all_three": "\ufeff" + _fs7_text().replace("\n", "\r\n").rstrip("\r\n"),
    }
    for name, text in variants.items():
        p = tmp_path / f"{name}.stats"
        p.write_bytes(text.encode("utf-8"))
        t = parse_parc_stats(p, hemi="lh")
        got = (t.names, t.rows, t.measures, t.header)
        assert got == (ref.names, ref.rows, ref.measures, ref.header), name


@pytest.mark.parametrize("cut", [1, 2])  # "9.1" -> "9." / "9": a value cut short, not a row
def test_truncated_last_value_is_an_error_not_a_wrong_number(tmp_path, cut):
    p = tmp_path / "lh.aparc.stats"
    p.write_text(_fs7_text().rstrip("\n")[:-cut])
    with pytest.raises(InputError) as err:
        parse_parc_stats(p)
    msg = str(err.value)
    assert str(p) in msg and "line 65:" in msg
    assert "ends without a newline" in msg and "truncated file" in msg


def test_fs53_lacks_etiv_but_has_cortex_measures():
    t = parse_parc_stats(DATA / "fs53" / "lh.aparc.stats")
    assert set(t.measures) == {"NumVert", "WhiteSurfArea", "MeanThickness"}
    assert t.measures["MeanThickness"] == 2.60213
    assert math.isnan(intracranial_volume(t.measures))
    assert t.as_dict("SurfArea") == {"bankssts": 890.0, "cuneus": 1950.0, "precuneus": 4150.0}


def test_fs4_non_cortical_rows_kept_by_parser_without_header_measures():
    t = parse_parc_stats(DATA / "fs4" / "lh.aparc.stats")
    assert t.names == ("unknown", "bankssts", "corpuscallosum", "cuneus")
    assert t.measures == {}
    assert t.as_dict("ThickStd")["cuneus"] == 0.46


def test_aseg_fs7_volumes_and_etiv():
    t = parse_aseg_stats(DATA / "fs7" / "aseg.stats")
    assert t.columns[:3] == ("Index", "SegId", "NVoxels")
    assert "StructName" not in t.columns  # the name column is taken out wherever it sits
    assert t.as_dict("Volume_mm3") == {
        "Left-Lateral-Ventricle": 3900.5,
        "Left-Hippocampus": 4110.0,
        "Right-Hippocampus": 4270.2,
        "5th-Ventricle": 0.0,
    }
    assert t.as_dict("SegId")["Right-Hippocampus"] == 53
    assert intracranial_volume(t.measures) == 1450000.5


def test_aseg_fs51_icv_naming():
    t = parse_aseg_stats(DATA / "fs51" / "aseg.stats")
    assert "eTIV" not in t.measures
    assert intracranial_volume(t.measures) == 1549336.766171
    assert t.measures["CortexVol"] == 467564.035582


def test_columns_found_by_name_not_position(tmp_path):
    p = tmp_path / "lh.custom.stats"
    p.write_text(
        "# ColHeaders ThickAvg StructName GrayVol SurfArea\n"
        "2.5 regionA 1000 400\n"
        "3.0 regionB 2000 700\n"
    )
    t = parse_parc_stats(p)
    assert t.as_dict("GrayVol") == {"regionA": 1000.0, "regionB": 2000.0}
    assert t.as_dict("ThickAvg") == {"regionA": 2.5, "regionB": 3.0}


HEADER = "# ColHeaders StructName NumVert SurfArea GrayVol ThickAvg ThickStd MeanCurv GausCurv FoldInd CurvInd\n"  # noqa: E501
ROW_A = "bankssts 1400 950 2300 2.520 0.460 0.110 0.022 11 1.2\n"
ROW_B = "cuneus 2900 1950 4100 1.980 0.470 0.150 0.035 38 4.4\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ROW_A + ROW_B, "data row before any '# ColHeaders'"),
        ("# Measure Cortex, NumVert, Number of Vertices, 1, unitless\n", "no '# ColHeaders' line"),
        (HEADER, "no table rows"),
        (HEADER + ROW_A + "cuneus 2900 1950 41", "line 3: expected 10 columns"),
        (HEADER + ROW_A + "cuneus 2900 1950 4100 1.980 0.470 0.150 0.035 38 4.4 9\n", "found 11"),
        (HEADER + ROW_A + ROW_A, "line 3: duplicate region 'bankssts' (first on line 2)"),
        (HEADER + ROW_A.replace("2.520", "2.5x0"), "non-numeric ThickAvg value '2.5x0'"),
        ("# NTableCols 9\n" + HEADER + ROW_A, "'# NTableCols 9' but '# ColHeaders' names 10"),
        ("# ColHeaders NumVert SurfArea\n1 2\n", "lacks StructName"),
        (
            "# Measure Cortex, MeanThickness, Mean Thickness, n/a, mm\n" + HEADER + ROW_A,
            "non-numeric value 'n/a' in '# Measure MeanThickness'",
        ),
    ],
)
def test_bad_stats_tables_name_file_and_problem(tmp_path, text, message):
    p = tmp_path / "lh.aparc.stats"
    p.write_text(text)
    with pytest.raises(InputError, match=None) as err:
        parse_parc_stats(p)
    assert message in str(err.value)
    assert str(p) in str(err.value)


def test_missing_file_and_wrong_kind_of_table(tmp_path):
    with pytest.raises(InputError, match="stats file not found"):
        parse_stats_table(tmp_path / "lh.aparc.stats")
    with pytest.raises(InputError, match="not a cortical parcellation table"):
        parse_parc_stats(DATA / "fs7" / "aseg.stats")
    with pytest.raises(InputError, match="not an aseg table"):
        parse_aseg_stats(DATA / "fs7" / "lh.aparc.stats")
    with pytest.raises(InputError, match="'# hemi lh' but the file is named for rh"):
        parse_parc_stats(DATA / "fs7" / "lh.aparc.stats", hemi="rh")


def test_nan_value_is_parsed_not_rejected(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_text(HEADER + ROW_A.replace("0.460", "nan"))
    assert math.isnan(parse_parc_stats(p).as_dict("ThickStd")["bankssts"])
