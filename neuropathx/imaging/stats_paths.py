"""Where a subject's FreeSurfer stats files are: folder names, parcellation aliases.

Standard library only, so that the workflow can list the files the imaging stage reads while
it builds the DAG (``rules/common.smk``), in the interpreter that runs Snakemake, without the
packages of the stage's environment.
"""

from __future__ import annotations

import csv
import os
import re

HEMISPHERES = ("lh", "rh")
#: Other file names of one parcellation: FreeSurfer 5.3 wrote the DKT atlas as ``DKTatlas40``.
PARCELLATION_ALIASES = {
    "aparc.DKTatlas": ("aparc.DKTatlas40",),
    "aparc.DKTatlas40": ("aparc.DKTatlas",),
}
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # IDs the imaging stage accepts


def stats_file(folder: str, hemi: str, parcellation: str) -> str:
    """``<folder>/stats/<hemi>.<parcellation>.stats``, or the existing file of an alias name
    (``aparc.DKTatlas40`` for ``aparc.DKTatlas``); the first name when none exists."""
    for name in (parcellation, *PARCELLATION_ALIASES.get(parcellation, ())):
        path = os.path.join(folder, "stats", f"{hemi}.{name}.stats")
        if os.path.isfile(path):
            return path
    return os.path.join(folder, "stats", f"{hemi}.{parcellation}.stats")


def subject_folder(subjects_dir: str, subject: str, id_prefix: str = "sub-") -> str:
    """``<subjects_dir>/<subject>``, or the folder named with / without the BIDS prefix
    (``sub-01`` for ``01`` and the reverse) when only that one exists."""
    folder = os.path.join(subjects_dir, subject)
    if id_prefix and not os.path.isdir(folder):
        other = subject.removeprefix(id_prefix) if subject.startswith(id_prefix) else None
        other = other or id_prefix + subject
        if os.path.isdir(os.path.join(subjects_dir, other)):
            return os.path.join(subjects_dir, other)
    return folder


def participant_ids(path: str) -> list[str]:
    """participant_id column of a participants table (empty when it cannot be read yet);
    IDs that are unsafe as folder names are left to the participants check to report."""
    try:
        with open(path, encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error):
        return []
    ids = [(r.get("participant_id") or "").strip() for r in rows]
    return [i for i in ids if _SAFE_ID.fullmatch(i) and ".." not in i]


def stats_files_read(
    subjects_dir: str, participants: str, parcellation: str, id_prefix: str = "sub-"
) -> list[str]:
    """The existing ``?h.<parcellation>.stats`` (or alias) and ``aseg.stats`` files of every
    participant: the files whose change must rerun the imaging stage."""
    names = (parcellation, *PARCELLATION_ALIASES.get(parcellation, ()))
    stats = [f"{h}.{n}.stats" for n in names for h in HEMISPHERES] + ["aseg.stats"]
    files = []
    for subject in participant_ids(participants):
        folder = os.path.join(subject_folder(subjects_dir, subject, id_prefix), "stats")
        files += [os.path.join(folder, f) for f in stats if os.path.isfile(os.path.join(folder, f))]
    return files
