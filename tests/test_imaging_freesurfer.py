"""Parsing FreeSurfer .stats files of each FreeSurfer generation, and bad input."""

from __future__ import annotations

import math
import os
import subprocess
import sys
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


def _parse_text(tmp_path, text, name="lh.aparc.stats"):
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p, parse_stats_table(p)


def _error(call, *args):
    with pytest.raises(InputError) as err:
        call(*args)
    return err.value


def test_fs7_header_keys_kept_and_others_ignored():
    # the header lines of interest in the 7.4.1 file, values as written (sysname, user,
    # cmdline, SUBJECTS_DIR ... are not kept)
    t = parse_parc_stats(DATA / "fs7" / "lh.aparc.stats")
    assert t.header == {
        "CreationTime": "2024/03/01-10:00:00-GMT",
        "generating_program": "mris_anatomical_stats",
        "cvs_version": "7.4.1",
        "subjectname": "sub-01",
        "hemi": "lh",
        "AnnotationFile": "../label/lh.aparc.annot",
    }
    assert list(t.measures) == [
        "NumVert", "WhiteSurfArea", "MeanThickness", "BrainSegVol", "BrainSegVolNotVent",
        "BrainSegVolNotVentSurf", "CortexVol", "SupraTentorialVol", "SupraTentorialVolNotVent",
        "eTIV",
    ]  # fmt: skip
    assert t.rows[0] == [3500.0, 1100.0, 2500.0, 2.3, 0.4, 0.055, 0.012, 18.0, 1.8]
    assert t.path == DATA / "fs7" / "lh.aparc.stats"


def test_missing_column_named_with_what_the_file_has(tmp_path):
    p, t = _parse_text(tmp_path, "# ColHeaders StructName GrayVol SurfArea\nr1 1.5 2.5\n")
    err = _error(t.column, "ThickAvg")
    assert err.path == p
    assert err.problem == "no column 'ThickAvg' in '# ColHeaders' (found ['GrayVol', 'SurfArea'])"
    assert t.column("SurfArea") == [2.5]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # 7.x: five fields
        ("# Measure Cortex, NumVert, Number of Vertices, 130000, unitless", ("NumVert", 130000)),
        # 6.0: no comma after the name, four fields
        ("# Measure Cortex, CortexVol Total cortical gray matter volume, 4.5e5, mm^3",
         ("CortexVol", 450000.0)),
        # four fields whose last is a number: no units, the name is the second field
        ("# Measure Cortex, MeanThickness, Mean Thickness, 2.5", ("MeanThickness", 2.5)),
        # more fields than five: the value is still the fourth
        ("# Measure BrainSeg, BrainSegVol, Brain Segmentation Volume, 1.0, mm^3, x",
         ("BrainSegVol", 1.0)),
    ],
)  # fmt: skip
def test_measure_line_layouts(tmp_path, line, expected):
    _, t = _parse_text(tmp_path, line + "\n" + HEADER + ROW_A)
    assert list(t.measures.items()) == [expected]


@pytest.mark.parametrize(
    "line",
    [
        "# Measure Cortex, NumVert, 130000",
        "# Measure Cortex, , Number of Vertices, 130000, unitless",
        "# Measure Cortex, , 4.5e5, mm^3",
        "# Measure Cortex NumVert 130000",
    ],
)
def test_malformed_measure_lines(tmp_path, line):
    p = tmp_path / "lh.aparc.stats"
    p.write_text("# hemi lh\n" + line + "\n" + HEADER + ROW_A)
    err = _error(parse_stats_table, p)
    assert err.path == p
    assert err.problem == (
        f"line 2: malformed '# Measure' line {line!r}; expected '# Measure <structure>, "
        "<name>, <description>, <value>, <units>'"
    )


def test_non_numeric_measure_value_message(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_text("# Measure Cortex, NumVert, Number of Vertices, unitless\n" + HEADER + ROW_A)
    assert _error(parse_stats_table, p).problem == (
        "line 1: non-numeric value 'unitless' in '# Measure NumVert'; expected '# Measure "
        "<structure>, <name>, <description>, <value>, <units>'"
    )


def test_header_lines_that_only_look_like_measures_or_headers(tmp_path):
    # free 7.x lines ("# BrainVolStatsFixed ...", "# Measurements ...") are not measures
    text = (
        "# Measurements follow\n# BrainVolStatsFixed-NotNeeded because voxelvolume=1mm3\n"
        "# hemi   rh  \n# subjectname\n# NTab note\n# ColH note\n# Meas note\n" + HEADER + ROW_A
    )
    _, t = _parse_text(tmp_path, text)
    assert t.measures == {} and t.header == {"hemi": "rh"} and t.names == ("bankssts",)


def test_row_messages_name_line_columns_and_region(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_text(HEADER + ROW_A + "cuneus 2900 1950 41\n")
    assert _error(parse_stats_table, p).problem == (
        "line 3: expected 10 columns (StructName NumVert SurfArea GrayVol ThickAvg ThickStd "
        "MeanCurv GausCurv FoldInd CurvInd), found 4: 'cuneus 2900 1950 41' (truncated or "
        "malformed row)"
    )
    # the name column in the middle: the bad value is named by its own column
    p.write_text("# ColHeaders ThickAvg StructName GrayVol SurfArea\n2.5 regionA 1000 4x0\n")
    assert _error(parse_stats_table, p).problem == (
        "line 2, region 'regionA': non-numeric SurfArea value '4x0' (expected a number)"
    )
    p.write_text("# ColHeaders ThickAvg StructName GrayVol SurfArea\n2.5 regionA 1e3 400\n"
                 "abc regionB 1000 400\n")  # fmt: skip
    assert _error(parse_stats_table, p).problem == (
        "line 3, region 'regionB': non-numeric ThickAvg value 'abc' (expected a number)"
    )


def test_header_checks_messages(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_text("# ColHeaders StructName GrayVol GrayVol\nr 1 2\n")
    assert _error(parse_stats_table, p).path == p
    assert _error(parse_stats_table, p).problem == (
        "line 1: repeated column name in ['StructName', 'GrayVol', 'GrayVol']"
    )
    p.write_text("# hemi lh\n# ColHeaders NumVert SurfArea\n1 2\n")
    assert _error(parse_stats_table, p).problem == (
        "line 2: '# ColHeaders' lacks StructName: ['NumVert', 'SurfArea']"
    )
    p.write_text("# NTableCols 3\n# ColHeaders StructName GrayVol\nr 1\n")
    assert _error(parse_stats_table, p).problem == (
        "line 2: '# NTableCols 3' but '# ColHeaders' names 2 columns"
    )
    _, t = _parse_text(tmp_path, "# NTableCols 2\n# ColHeaders StructName GrayVol\nr 1\n")
    assert t.columns == ("GrayVol",) and t.rows == [[1.0]]
    for bad in ("# NTableCols ten", "# NTableCols"):
        p.write_text(bad + "\n" + HEADER + ROW_A)
        err = _error(parse_stats_table, p)
        assert err.path == p and err.problem == f"line 1: malformed {bad!r}"


def test_data_row_before_header_and_blank_lines(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_text("# hemi lh\n\n   \nbankssts 1 2\n" + HEADER)
    assert _error(parse_stats_table, p).problem == (
        "line 4: data row before any '# ColHeaders' line: 'bankssts 1 2'"
    )
    # blank and comment lines inside the table are skipped
    _, t = _parse_text(tmp_path, "\n  \n" + HEADER + ROW_A + "\n   \n# a note\n" + ROW_B)
    assert t.names == ("bankssts", "cuneus")
    assert t.rows[1] == [2900.0, 1950.0, 4100.0, 1.98, 0.47, 0.15, 0.035, 38.0, 4.4]


def test_file_level_problems(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_bytes(b"# ColHeaders StructName GrayVol\nr \xff\xfe\n")
    err = _error(parse_stats_table, p)
    assert err.path == p and err.problem == "not a text file (cannot decode as UTF-8)"
    err = _error(parse_stats_table, tmp_path / "none.stats")
    assert err.path == tmp_path / "none.stats" and err.problem == "stats file not found"
    p.write_text("# hemi lh\n")
    assert _error(parse_stats_table, p).problem == (
        "no '# ColHeaders' line: not a FreeSurfer stats table"
    )
    p.write_text(HEADER + "# only a comment\n")
    assert _error(parse_stats_table, p).problem == (
        "no table rows after '# ColHeaders' (empty or truncated file)"
    )
    # text given directly (no file read), with a byte-order mark
    t = parse_stats_table(tmp_path / "not_there.stats", "\ufeff" + HEADER + ROW_A)
    assert t.names == ("bankssts",) and t.path == tmp_path / "not_there.stats"


def test_cr_only_line_ends_and_final_newline_forms(tmp_path):
    ref = parse_stats_table(tmp_path / "x", HEADER + ROW_A + ROW_B)
    for text in (
        (HEADER + ROW_A + ROW_B).replace("\n", "\r"),
        HEADER + ROW_A + ROW_B.rstrip("\n"),
        HEADER + ROW_A + ROW_B + "# trailing comment",
    ):
        t = parse_stats_table(tmp_path / "x", text)
        assert (t.names, t.rows) == (ref.names, ref.rows)


def test_last_row_without_newline_checked_against_the_row_above(tmp_path):
    def parse(text):
        return _error(parse_stats_table, tmp_path / "lh.aparc.stats", text).problem

    end = (
        "truncated file (interrupted copy?). Copy the file again from the FreeSurfer output; "
        "if it is complete, add a final newline"
    )
    head = "# ColHeaders StructName GrayVol ThickAvg\n"
    assert parse(head + "a 1 2.50\nb 2 3.1") == (
        "line 3: the file ends without a newline and its last value '3.1' has a different "
        "number of decimals than the row above ('2.50'): " + end
    )
    # a column printed without decimals cannot tell a cut value
    assert parse(head + "a 1 2\nb 2 3") == (
        "line 3: the file ends without a newline and its last value '3' has a different "
        "number of decimals than the row above ('2'): " + end
    )
    assert parse(head + "b 2 3.10") == (
        "line 2: the file ends without a newline and its last value '3.10' cannot be checked "
        "against the row above: " + end
    )
    # the row above is the last data row before it, past comments and blank lines
    t = parse_stats_table(tmp_path / "x", head + "a 1 2.50\n\n# note\nb 2 .75")
    assert t.column("ThickAvg") == [2.5, 0.75]
    t = parse_stats_table(tmp_path / "x", head + "a 1 .5\nb 2 .7")
    assert t.column("ThickAvg") == [0.5, 0.7]
    assert "'2.' has a different number" in parse(head + "a 1 2.5\nb 2 2.")
    # with a final line end (LF or old-Mac CR) the decimals are never compared
    t = parse_stats_table(tmp_path / "x", (head + "a 1 2.50\nb 2 3.1\n").replace("\n", "\r"))
    assert t.column("ThickAvg") == [2.5, 3.1]
    assert parse_stats_table(tmp_path / "x", head + "a 1 2.50\nb 2 3.1\n").names == ("a", "b")
    # a point and no digits after it is zero decimals, on both rows: a complete value
    t = parse_stats_table(tmp_path / "x", head + "a 1 2.\nb 2 3.")
    assert t.column("ThickAvg") == [2.0, 3.0]


def test_parc_and_aseg_table_checks_messages(tmp_path):
    p = tmp_path / "lh.aparc.stats"
    p.write_text("# ColHeaders StructName NumVert SurfArea\nr 1 2\n")
    err = _error(parse_parc_stats, p)
    assert err.path == p and err.problem == (
        "not a cortical parcellation table: '# ColHeaders' lacks ['GrayVol', 'ThickAvg'] "
        "(found ['NumVert', 'SurfArea'])"
    )
    p.write_text("# ColHeaders StructName SurfArea GrayVol ThickAvg\nr 1 2 3\n")
    assert parse_parc_stats(p, hemi="rh").names == ("r",)  # no '# hemi' line to check
    err = _error(parse_parc_stats, DATA / "fs7" / "rh.aparc.stats", "lh")
    assert err.path == DATA / "fs7" / "rh.aparc.stats"
    assert err.problem == "'# hemi rh' but the file is named for lh"
    p.write_text("# ColHeaders StructName NVoxels\nr 1\n")
    err = _error(parse_aseg_stats, p)
    assert err.path == p
    assert err.problem == "not an aseg table: no Volume_mm3 column (found ['NVoxels'])"


def test_intracranial_volume_prefers_etiv():
    assert intracranial_volume({"ICV": 1.0, "eTIV": 2.0}) == 2.0
    assert intracranial_volume({"ICV": 1.5, "NumVert": 3.0}) == 1.5
    assert math.isnan(intracranial_volume({"NumVert": 3.0}))


def test_utf8_header_read_as_utf8_under_a_posix_locale(tmp_path):
    # FreeSurfer writes user names and paths into the header (here a non-ASCII
    # SUBJECTS_DIR); on a cluster node with a POSIX locale the file is still UTF-8
    p = tmp_path / "lh.aparc.stats"
    text = "# SUBJECTS_DIR /data/M\u00fcller\n# hemi lh\n" + HEADER + ROW_A
    p.write_bytes(("\ufeff" + text).encode("utf-8"))
    code = (
        "import sys; from neuropathx.imaging.freesurfer import parse_parc_stats; "
        "t = parse_parc_stats(sys.argv[1], hemi='lh'); print(t.names, t.header)"
    )
    env = dict(os.environ, LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    out = subprocess.run(
        [sys.executable, "-c", code, str(p)], env=env, capture_output=True, text=True,
        encoding="utf-8",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "('bankssts',) {'hemi': 'lh'}"
    here = parse_parc_stats(p, hemi="lh")  # the same as under this process's locale
    assert out.stdout.strip() == f"{here.names} {here.header}"
