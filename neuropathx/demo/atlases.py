"""Cortical parcellations of the demo: region names and typical per-region FreeSurfer values.

Typical values are rounded adult means of FreeSurfer 7 ``mris_anatomical_stats`` output
(one hemisphere): white-surface area (mm^2), grey-matter volume (mm^3), mean thickness and
its within-region SD (mm), integrated rectified mean / Gaussian curvature.
"""

from __future__ import annotations

from functools import cache

import pandas as pd

TYPICAL_COLUMNS = ["SurfArea", "GrayVol", "ThickAvg", "ThickStd", "MeanCurv", "GausCurv"]

# Desikan-Killiany (aparc), 34 regions per hemisphere, in FreeSurfer table order.
_DK = [
    ("bankssts", 1000, 2500, 2.55, 0.48, 0.105, 0.020),
    ("caudalanteriorcingulate", 650, 1900, 2.60, 0.62, 0.130, 0.024),
    ("caudalmiddlefrontal", 2250, 6000, 2.55, 0.53, 0.110, 0.021),
    ("cuneus", 1500, 3200, 1.90, 0.45, 0.140, 0.028),
    ("entorhinal", 400, 1900, 3.30, 0.75, 0.125, 0.030),
    ("fusiform", 3200, 9000, 2.70, 0.60, 0.130, 0.026),
    ("inferiorparietal", 4500, 11500, 2.45, 0.55, 0.125, 0.023),
    ("inferiortemporal", 3200, 10000, 2.75, 0.68, 0.130, 0.027),
    ("isthmuscingulate", 950, 2400, 2.40, 0.65, 0.125, 0.024),
    ("lateraloccipital", 4500, 10000, 2.10, 0.50, 0.135, 0.026),
    ("lateralorbitofrontal", 2500, 7000, 2.60, 0.65, 0.130, 0.027),
    ("lingual", 3200, 7000, 1.95, 0.50, 0.135, 0.027),
    ("medialorbitofrontal", 1800, 5000, 2.40, 0.70, 0.135, 0.030),
    ("middletemporal", 3100, 10000, 2.80, 0.60, 0.120, 0.023),
    ("parahippocampal", 650, 1800, 2.65, 0.65, 0.110, 0.025),
    ("paracentral", 1500, 3400, 2.35, 0.55, 0.110, 0.020),
    ("parsopercularis", 1600, 4500, 2.55, 0.50, 0.115, 0.021),
    ("parsorbitalis", 700, 2200, 2.65, 0.55, 0.140, 0.029),
    ("parstriangularis", 1300, 3500, 2.40, 0.50, 0.125, 0.023),
    ("pericalcarine", 1400, 2000, 1.70, 0.40, 0.135, 0.027),
    ("postcentral", 4200, 8200, 1.95, 0.50, 0.110, 0.022),
    ("posteriorcingulate", 1100, 2800, 2.50, 0.55, 0.120, 0.022),
    ("precentral", 5000, 12500, 2.50, 0.60, 0.110, 0.021),
    ("precuneus", 4000, 9500, 2.40, 0.55, 0.120, 0.023),
    ("rostralanteriorcingulate", 700, 2200, 2.80, 0.70, 0.135, 0.027),
    ("rostralmiddlefrontal", 5500, 14500, 2.35, 0.55, 0.130, 0.024),
    ("superiorfrontal", 7800, 21000, 2.70, 0.60, 0.120, 0.022),
    ("superiorparietal", 5500, 11500, 2.20, 0.50, 0.120, 0.022),
    ("superiortemporal", 4000, 11000, 2.75, 0.60, 0.110, 0.021),
    ("supramarginal", 4000, 10500, 2.55, 0.55, 0.120, 0.022),
    ("frontalpole", 250, 850, 2.70, 0.65, 0.160, 0.035),
    ("temporalpole", 450, 2200, 3.50, 0.80, 0.140, 0.035),
    ("transversetemporal", 420, 900, 2.30, 0.45, 0.110, 0.020),
    ("insula", 2100, 6500, 2.95, 0.70, 0.105, 0.025),
]

# Destrieux (aparc.a2009s), 74 regions per hemisphere, in FreeSurfer 7 table order:
# (name, area mm^2, thickness mm); gyri are thicker than sulci.
_DESTRIEUX = [
    ("G_and_S_frontomargin", 900, 2.20), ("G_and_S_occipital_inf", 1300, 2.45),
    ("G_and_S_paracentral", 1100, 2.30), ("G_and_S_subcentral", 1000, 2.50),
    ("G_and_S_transv_frontopol", 600, 2.60), ("G_and_S_cingul-Ant", 1500, 2.65),
    ("G_and_S_cingul-Mid-Ant", 900, 2.65), ("G_and_S_cingul-Mid-Post", 900, 2.55),
    ("G_cingul-Post-dorsal", 300, 2.90), ("G_cingul-Post-ventral", 250, 2.60),
    ("G_cuneus", 1200, 1.90), ("G_front_inf-Opercular", 900, 2.75),
    ("G_front_inf-Orbital", 350, 2.75), ("G_front_inf-Triangul", 750, 2.65),
    ("G_front_middle", 3000, 2.55), ("G_front_sup", 4300, 2.85),
    ("G_Ins_lg_and_S_cent_ins", 400, 3.05), ("G_insular_short", 300, 3.30),
    ("G_occipital_middle", 1700, 2.45), ("G_occipital_sup", 1000, 2.15),
    ("G_oc-temp_lat-fusifor", 1000, 2.75), ("G_oc-temp_med-Lingual", 1800, 2.05),
    ("G_oc-temp_med-Parahip", 850, 2.85), ("G_orbital", 1800, 2.75),
    ("G_pariet_inf-Angular", 1800, 2.60), ("G_pariet_inf-Supramar", 2000, 2.60),
    ("G_parietal_sup", 1800, 2.30), ("G_postcentral", 1200, 2.05),
    ("G_precentral", 1600, 2.55), ("G_precuneus", 1300, 2.50),
    ("G_rectus", 700, 2.45), ("G_subcallosal", 250, 2.55),
    ("G_temp_sup-G_T_transv", 300, 2.45), ("G_temp_sup-Lateral", 1100, 2.95),
    ("G_temp_sup-Plan_polar", 500, 3.20), ("G_temp_sup-Plan_tempo", 650, 2.50),
    ("G_temporal_inf", 1700, 2.90), ("G_temporal_middle", 1900, 2.95),
    ("Lat_Fis-ant-Horizont", 250, 2.20), ("Lat_Fis-ant-Vertical", 250, 2.35),
    ("Lat_Fis-post", 900, 2.30), ("Pole_occipital", 1600, 1.95),
    ("Pole_temporal", 800, 3.45), ("S_calcarine", 1500, 1.75),
    ("S_central", 1700, 1.80), ("S_cingul-Marginalis", 700, 2.30),
    ("S_circular_insula_ant", 350, 2.55), ("S_circular_insula_inf", 750, 2.50),
    ("S_circular_insula_sup", 1000, 2.40), ("S_collat_transv_ant", 450, 2.60),
    ("S_collat_transv_post", 300, 2.05), ("S_front_inf", 1100, 2.25),
    ("S_front_middle", 800, 2.15), ("S_front_sup", 1800, 2.35),
    ("S_interm_prim-Jensen", 350, 2.25), ("S_intrapariet_and_P_trans", 2100, 2.10),
    ("S_oc_middle_and_Lunatus", 550, 2.05), ("S_oc_sup_and_transversal", 800, 2.10),
    ("S_occipital_ant", 450, 2.20), ("S_oc-temp_lat", 700, 2.40),
    ("S_oc-temp_med_and_Lingual", 1000, 2.35), ("S_orbital_lateral", 250, 2.25),
    ("S_orbital_med-olfact", 450, 2.35), ("S_orbital-H_Shaped", 1000, 2.45),
    ("S_parieto_occipital", 1300, 2.15), ("S_pericallosal", 600, 1.60),
    ("S_postcentral", 1400, 2.00), ("S_precentral-inf-part", 1100, 2.30),
    ("S_precentral-sup-part", 850, 2.30), ("S_suborbital", 300, 2.50),
    ("S_subparietal", 800, 2.40), ("S_temporal_inf", 750, 2.30),
    ("S_temporal_sup", 3600, 2.40), ("S_temporal_transverse", 200, 2.30),
]  # fmt: skip

PARCELLATIONS = ("aparc", "aparc.a2009s")


def typical_regional_values(parcellation: str) -> pd.DataFrame:
    """Per-region typical means (index = FreeSurfer StructName, columns TYPICAL_COLUMNS)."""
    return _typical_regional_values(parcellation).copy()


@cache
def _typical_regional_values(parcellation: str) -> pd.DataFrame:
    if parcellation == "aparc":
        table = pd.DataFrame(_DK, columns=["StructName", *TYPICAL_COLUMNS])
    elif parcellation == "aparc.a2009s":
        table = pd.DataFrame(_DESTRIEUX, columns=["StructName", "SurfArea", "ThickAvg"])
        gyral = table["StructName"].str.startswith(("G", "Pole"))
        # grey volume ~ area x thickness (x ~1.1 because the pial surface is larger)
        table["GrayVol"] = (table["SurfArea"] * table["ThickAvg"] * 1.1).round(-1)
        table["ThickStd"] = (0.22 * table["ThickAvg"]).round(2)
        table["MeanCurv"] = gyral.map({True: 0.125, False: 0.115})
        table["GausCurv"] = gyral.map({True: 0.028, False: 0.022})
        table = table[["StructName", *TYPICAL_COLUMNS]]
    else:
        raise ValueError(f"unknown parcellation {parcellation!r}; expected one of {PARCELLATIONS}")
    return table.set_index("StructName")


def region_names(parcellation: str) -> list[str]:
    """FreeSurfer StructNames of one hemisphere of ``parcellation``, in table order."""
    return list(typical_regional_values(parcellation).index)
