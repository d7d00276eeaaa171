"""Known cortical parcellations: the parcels FreeSurfer writes per hemisphere, in file order.

Used to tell "every subject lacks the same parcels" (wrong parcellation or a broken
FreeSurfer run for the whole cohort) from per-subject gaps. Parcellations not listed here
(``aparc.a2009s``, ``BN_Atlas``, custom annotations) are checked across subjects only.
"""

from __future__ import annotations

#: Desikan-Killiany (``aparc``), FreeSurfer 5.3-7.x: 34 cortical parcels per hemisphere.
DESIKAN_KILLIANY = (
    "bankssts",
    "caudalanteriorcingulate",
    "caudalmiddlefrontal",
    "cuneus",
    "entorhinal",
    "fusiform",
    "inferiorparietal",
    "inferiortemporal",
    "isthmuscingulate",
    "lateraloccipital",
    "lateralorbitofrontal",
    "lingual",
    "medialorbitofrontal",
    "middletemporal",
    "parahippocampal",
    "paracentral",
    "parsopercularis",
    "parsorbitalis",
    "parstriangularis",
    "pericalcarine",
    "postcentral",
    "posteriorcingulate",
    "precentral",
    "precuneus",
    "rostralanteriorcingulate",
    "rostralmiddlefrontal",
    "superiorfrontal",
    "superiorparietal",
    "superiortemporal",
    "supramarginal",
    "frontalpole",
    "temporalpole",
    "transversetemporal",
    "insula",
)

#: Desikan-Killiany-Tourville (``aparc.DKTatlas``): DK without bankssts and the two poles.
DKT = tuple(r for r in DESIKAN_KILLIANY if r not in {"bankssts", "frontalpole", "temporalpole"})

KNOWN_PARCELS: dict[str, tuple[str, ...]] = {
    "aparc": DESIKAN_KILLIANY,
    "aparc.pial": DESIKAN_KILLIANY,
    "aparc.DKTatlas": DKT,
    "aparc.DKTatlas40": DKT,
}

#: Rows of older aparc files that are not cortical parcels (FreeSurfer 4.x-5.0, some 6.0).
NON_CORTICAL_ROWS = ("unknown", "corpuscallosum")


def expected_parcels(parcellation: str) -> tuple[str, ...] | None:
    """Parcels FreeSurfer writes for ``parcellation``, or None when not known here."""
    return KNOWN_PARCELS.get(parcellation)
