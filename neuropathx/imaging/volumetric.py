"""Regional features from volumetric images (e.g. grey-matter probability maps) and a label atlas.

Per region: ``mean`` = mean image value over the label (nilearn ``NiftiLabelsMasker``) and
``volume`` = voxel count of the label × voxel volume, both on the image's grid after the
atlas is resampled to it with nearest-neighbour interpolation (labels are never blended).
Note: for images that share one grid (e.g. all in MNI space), ``volume`` is the same for
every subject; it varies only with native-space images.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nilearn.image import resample_to_img
from nilearn.maskers import NiftiLabelsMasker

from neuropathx.errors import InputError
from neuropathx.features import feature_column
from neuropathx.io import read_tsv

VOLUMETRIC_MEASURES = ("mean", "volume")
_BATCH = 32


def read_atlas_labels(path: str | Path) -> pd.DataFrame:
    """Atlas label table (``index``, ``name``): unique positive integer indices, unique names."""
    labels = read_tsv(path, required=["index", "name"], dtype={"name": str})
    if labels["index"].isna().any() or labels["name"].isna().any():
        raise InputError(path, "empty index or name cell")
    try:
        index = labels["index"].astype(float)
    except ValueError:
        raise InputError(path, "non-numeric value in column 'index'") from None
    if (index != index.round()).any() or (index <= 0).any():
        raise InputError(path, "index must hold positive integers (0 is the background)")
    dup = labels.loc[labels["index"].duplicated() | labels["name"].duplicated()]
    if len(dup):
        raise InputError(path, f"duplicate index or name: {dup.to_dict('records')[:3]}")
    return pd.DataFrame({"index": index.astype(int), "name": labels["name"].str.strip()})


def _load_image(path: Path, what: str) -> nib.Nifti1Image:
    if not path.is_file():
        raise InputError(path, f"{what} not found")
    try:
        img = nib.load(path)
    except Exception as exc:  # nibabel raises several types for unreadable files
        raise InputError(path, f"cannot read {what} as NIfTI: {exc}") from None
    if len(img.shape) == 4 and img.shape[3] == 1:
        img = nib.Nifti1Image(np.asarray(img.dataobj)[..., 0], img.affine, img.header)
    if len(img.shape) != 3:
        raise InputError(path, f"{what} must be a 3-D scalar map, found shape {img.shape}")
    return img


def _check_atlas(atlas: nib.Nifti1Image, path: Path, labels: pd.DataFrame) -> None:
    data = np.asarray(atlas.dataobj)
    if not np.array_equal(data, np.round(data)):
        raise InputError(path, "atlas holds non-integer values: expected a label image")
    present = {int(v) for v in np.unique(data)} - {0}
    listed = set(labels["index"])
    if present - listed:
        raise InputError(path, f"atlas labels {sorted(present - listed)[:10]} not in atlas_labels")
    if listed - present:
        raise InputError(path, f"atlas_labels indices {sorted(listed - present)[:10]} absent")


def atlas_on_grid(atlas: nib.Nifti1Image, image: nib.Nifti1Image) -> nib.Nifti1Image:
    """The atlas resampled to the image grid with nearest-neighbour interpolation."""
    return resample_to_img(
        atlas, image, interpolation="nearest", force_resample=True, copy_header=True
    )


def regional_volumetric_values(
    images: list[nib.Nifti1Image], grid_atlas: nib.Nifti1Image, indices: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Mean image value (images × labels) and volume in mm³ (labels) of each label in
    ``indices``, for images sharing the grid of ``grid_atlas`` (:func:`atlas_on_grid`).

    A label that vanished in resampling has mean NaN and volume 0.
    """
    labels = np.asarray(grid_atlas.dataobj).astype(np.int64)
    counts = np.bincount(labels.ravel(), minlength=max(indices) + 1)
    # 9 significant digits: the determinant of a 2 mm affine comes out as 7.999999999999998
    voxel_mm3 = float(f"{abs(np.linalg.det(grid_atlas.affine[:3, :3])):.9g}")
    volumes = np.array([counts[i] * voxel_mm3 for i in indices], dtype=float)
    means = np.full((len(images), len(indices)), np.nan)
    if not images:
        return means, volumes
    masker = NiftiLabelsMasker(labels_img=grid_atlas, resampling_target=None, strategy="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nilearn warns about dropped or empty labels
        masker.fit()
        # one transform per batch: nilearn's per-call overhead dwarfs the per-image work
        for start in range(0, len(images), _BATCH):
            batch = images[start : start + _BATCH]
            values = np.atleast_2d(masker.transform(batch))
            means[start : start + len(batch)] = _by_index(masker, values, indices)
    return means, volumes


def _by_index(masker: NiftiLabelsMasker, values: np.ndarray, indices: list[int]) -> np.ndarray:
    column = {int(v): k for k, v in masker.region_ids_.items() if k != "background"}
    out = np.full((values.shape[0], len(indices)), np.nan)
    for j, index in enumerate(indices):
        if index in column:
            out[:, j] = values[:, column[index]]
    return out


def extract_volumetric_features(
    images: dict[str, str | Path],
    atlas_path: str | Path,
    labels: pd.DataFrame,
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """``participant_id`` + ``<region>__mean``/``<region>__volume`` for each subject image.

    Returns the table (subjects in input order) and ``(participant_id, reason)`` of images
    that are missing (the caller decides whether that is an error). Unreadable images raise
    InputError.
    """
    atlas_path = Path(atlas_path)
    atlas = _load_image(atlas_path, "atlas image")
    _check_atlas(atlas, atlas_path, labels)
    indices = [int(i) for i in labels["index"]]
    columns = [feature_column(n, m) for n in labels["name"] for m in VOLUMETRIC_MEASURES]
    missing: list[tuple[str, str]] = []
    by_grid: dict[tuple, list[tuple[str, nib.Nifti1Image]]] = {}
    for subject, path in images.items():
        path = Path(path)
        if not path.is_file():
            missing.append((subject, f"{path}: image not found"))
            continue
        image = _load_image(path, "image")
        by_grid.setdefault((image.shape, image.affine.tobytes()), []).append((subject, image))
    rows: dict[str, np.ndarray] = {}
    for group in by_grid.values():  # images sharing a grid share one resampled atlas
        grid_atlas = atlas_on_grid(atlas, group[0][1])
        means, volumes = regional_volumetric_values([im for _, im in group], grid_atlas, indices)
        for (subject, _), m in zip(group, means, strict=True):
            rows[subject] = np.column_stack([m, volumes]).ravel()
    ids = [s for s in images if s in rows]
    table = pd.DataFrame(
        np.array([rows[s] for s in ids]).reshape(len(ids), len(columns)), columns=columns
    )
    table.insert(0, "participant_id", ids)
    return table, missing
