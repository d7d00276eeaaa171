"""Volumetric input: regional mean and volume from NIfTI images and a label atlas (nilearn)."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from nilearn.datasets import load_mni152_gm_template
from nilearn.image import resample_img

from neuropathx.errors import InputError
from neuropathx.imaging.stage import build_imaging_features
from neuropathx.imaging.volumetric import atlas_on_grid, read_atlas_labels

BOXES = {3: ("left_box", (slice(2, 6), slice(3, 8), slice(2, 6))),
         7: ("right_box", (slice(14, 18), slice(10, 16), slice(4, 8))),
         9: ("deep_box", (slice(8, 12), slice(14, 18), slice(12, 16)))}  # fmt: skip


@pytest.fixture(scope="module")
def gm_template():
    """nilearn's MNI152 grey-matter template (1 mm), cropped around the brain centre so the
    test stays fast."""
    return load_mni152_gm_template().slicer[40:136, 48:168, 40:136]


def _atlas(template) -> nib.Nifti1Image:
    """Boxes on a 4 mm grid covering the template's field of view (resampled to 1 mm later)."""
    affine = template.affine.copy()
    # shifted by 0.4 template voxels so no 1 mm voxel centre is halfway between two atlas
    # voxels: nearest-neighbour sampling then has one answer (see _nearest_labels)
    affine[:3, 3] += 0.4 * affine[:3, :3].sum(axis=1)
    affine[:3, :3] *= 4
    data = np.zeros((24, 30, 24), dtype=np.int16)
    for index, (_, box) in BOXES.items():
        data[box] = index
    return nib.Nifti1Image(data, affine)


def _nearest_labels(atlas: nib.Nifti1Image, image: nib.Nifti1Image) -> np.ndarray:
    """The atlas label at every voxel centre of ``image``, by nearest-neighbour sampling
    written out with the two affines (independent of nilearn's resampling); 0 outside."""
    ijk = np.indices(image.shape[:3]).reshape(3, -1)
    world = image.affine[:3, :3] @ ijk + image.affine[:3, 3:]
    inv = np.linalg.inv(atlas.affine)
    vox = np.floor(inv[:3, :3] @ world + inv[:3, 3:] + 0.5).astype(int)
    data = np.asarray(atlas.dataobj)
    inside = np.all((vox >= 0) & (vox < np.array(data.shape)[:, None]), axis=0)
    labels = np.zeros(ijk.shape[1], dtype=data.dtype)
    labels[inside] = data[tuple(vox[:, inside])]
    return labels.reshape(image.shape[:3])


def test_atlas_on_grid_is_nearest_neighbour_sampling(gm_template):
    atlas = _atlas(gm_template)
    expected = _nearest_labels(atlas, gm_template)
    assert {int(v) for v in np.unique(expected)} == {0, *BOXES}
    np.testing.assert_array_equal(np.asarray(atlas_on_grid(atlas, gm_template).dataobj), expected)


def _write_inputs(tmp_path, template, n_images=2):
    atlas = _atlas(template)
    nib.save(atlas, tmp_path / "atlas.nii")
    labels = pd.DataFrame({"index": list(BOXES), "name": [n for n, _ in BOXES.values()]})
    labels.to_csv(tmp_path / "labels.tsv", sep="\t", index=False)
    imgs = tmp_path / "images"
    imgs.mkdir()
    gm = template.get_fdata()
    subject_imgs = {}
    for k in range(n_images):
        scaled = nib.Nifti1Image((gm * (1 + 0.5 * k)).astype(np.float32), template.affine)
        nib.save(scaled, imgs / f"s{k}.nii")
        subject_imgs[f"s{k}"] = scaled
    pd.DataFrame(
        {"participant_id": list(subject_imgs), "image": [f"images/{s}.nii" for s in subject_imgs]}
    ).to_csv(tmp_path / "images.tsv", sep="\t", index=False)
    pd.DataFrame({"participant_id": list(subject_imgs), "diagnosis": "CN"}).to_csv(
        tmp_path / "participants.tsv", sep="\t", index=False
    )
    return atlas, subject_imgs


def _settings(tmp_path, **extra):
    return {
        "input": "volumetric",
        "images": str(tmp_path / "images.tsv"),
        "atlas": str(tmp_path / "atlas.nii"),
        "atlas_labels": str(tmp_path / "labels.tsv"),
        **extra,
    }


def test_regional_mean_and_volume_match_numpy(tmp_path, gm_template):
    atlas, subject_imgs = _write_inputs(tmp_path, gm_template)
    out = tmp_path / "out"
    build_imaging_features("unused", str(tmp_path / "participants.tsv"), str(out),
                           settings=_settings(tmp_path))  # fmt: skip
    feats = pd.read_csv(out / "regional_features.tsv", sep="\t")
    assert list(feats.columns) == ["participant_id"] + [
        f"{n}__{m}" for n, _ in BOXES.values() for m in ("mean", "volume")
    ]
    labels_1mm = _nearest_labels(atlas, gm_template)
    for i, (subject, img) in enumerate(subject_imgs.items()):
        data = img.get_fdata()
        for index, (name, _) in BOXES.items():
            mask = labels_1mm == index
            # nearest resampling of 4 mm boxes to 1 mm: 4^3 voxels per atlas voxel
            box = BOXES[index][1]
            n_atlas_voxels = np.prod([s.stop - s.start for s in box])
            assert mask.sum() == 64 * n_atlas_voxels  # boxes lie inside the field of view
            assert feats.loc[i, f"{name}__volume"] == mask.sum() * 1.0  # 1 mm^3 voxels
            assert feats.loc[i, f"{name}__mean"] == pytest.approx(data[mask].mean(), rel=1e-5)
        assert feats.loc[i, "participant_id"] == subject
    # the second image is the first × 1.5: means scale, volumes do not
    values = feats.iloc[:, 1:].to_numpy(float)
    np.testing.assert_allclose(values[1, 0::2], 1.5 * values[0, 0::2], rtol=1e-5)
    assert (values[1, 1::2] == values[0, 1::2]).all()


def test_image_on_coarser_grid_uses_its_voxel_volume(tmp_path, gm_template):
    atlas, _ = _write_inputs(tmp_path, gm_template, n_images=1)
    coarse_affine = gm_template.affine.copy()
    coarse_affine[:3, :3] *= 2
    coarse = resample_img(
        gm_template,
        target_affine=coarse_affine,
        target_shape=(48, 60, 48),
        interpolation="linear",
        force_resample=True,
        copy_header=True,
    )
    nib.save(coarse, tmp_path / "images" / "s0.nii")
    out = tmp_path / "out"
    build_imaging_features("unused", str(tmp_path / "participants.tsv"), str(out),
                           settings=_settings(tmp_path))  # fmt: skip
    feats = pd.read_csv(out / "regional_features.tsv", sep="\t")
    labels_2mm = _nearest_labels(atlas, coarse)
    mask = labels_2mm == 7
    assert feats.loc[0, "right_box__volume"] == mask.sum() * 8.0
    assert feats.loc[0, "right_box__mean"] == pytest.approx(coarse.get_fdata()[mask].mean(), 1e-5)


def test_missing_image_error_or_drop(tmp_path, gm_template):
    _write_inputs(tmp_path, gm_template)
    (tmp_path / "images" / "s1.nii").unlink()
    with pytest.raises(InputError, match="subject s1: .*s1.nii: image not found"):
        build_imaging_features("unused", str(tmp_path / "participants.tsv"),
                               str(tmp_path / "o1"), settings=_settings(tmp_path))  # fmt: skip
    build_imaging_features("unused", str(tmp_path / "participants.tsv"), str(tmp_path / "o2"),
                           settings=_settings(tmp_path, missing="drop"))  # fmt: skip
    ex = pd.read_csv(tmp_path / "o2" / "excluded_subjects.tsv", sep="\t")
    assert ex["participant_id"].tolist() == ["s1"]


def test_atlas_and_labels_must_agree(tmp_path, gm_template):
    _write_inputs(tmp_path, gm_template, n_images=1)
    pd.DataFrame({"index": [3, 7], "name": ["left_box", "right_box"]}).to_csv(
        tmp_path / "labels.tsv", sep="\t", index=False
    )
    with pytest.raises(InputError, match=r"atlas labels \[9\] not in atlas_labels"):
        build_imaging_features("unused", str(tmp_path / "participants.tsv"),
                               str(tmp_path / "o"), settings=_settings(tmp_path))  # fmt: skip
    (tmp_path / "bad.tsv").write_text("index\tname\n3\ta\n3\tb\n")
    with pytest.raises(InputError, match="duplicate index or name"):
        read_atlas_labels(tmp_path / "bad.tsv")
