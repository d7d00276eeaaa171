"""Figures of the association report: attention heatmaps and chord diagrams of top links."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import PathPatch  # noqa: E402
from matplotlib.path import Path as MplPath  # noqa: E402

from neuropathx.io import atomic_path  # noqa: E402


def _save(fig, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format="png", bbox_inches="tight")
    plt.close(fig)


save_figure = _save


def new_figure(size: tuple[float, float]):
    """One-panel figure (for other reporting modules, so they need no matplotlib setup)."""
    return plt.subplots(figsize=size)


def attention_heatmaps(
    patients: np.ndarray, controls: np.ndarray, pathways: list[str], regions: list[str], path
) -> None:
    """Three panels: mean attention of patients, of controls, and their difference."""
    diff = patients - controls
    size = (max(8, 0.12 * len(regions) + 3), max(4, 0.15 * len(pathways) + 2))
    fig, axes = plt.subplots(3, 1, figsize=(size[0], 3 * size[1]))
    vmax = max(patients.max(), controls.max())
    lim = np.abs(diff).max() or 1.0
    panels = (
        (patients, "mean attention, patients (Ā_PAT)", "viridis", 0, vmax),
        (controls, "mean attention, controls (Ā_ND)", "viridis", 0, vmax),
        (diff, "Ā_PAT − Ā_ND", "RdBu_r", -lim, lim),
    )
    for ax, (mat, title, cmap, lo, hi) in zip(axes, panels, strict=True):
        im = ax.imshow(mat, aspect="auto", cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title)
        ax.set_yticks(range(len(pathways)), pathways, fontsize=5)
        ax.set_xticks(range(len(regions)), regions, fontsize=4, rotation=90)
        fig.colorbar(im, ax=ax, fraction=0.02)
    fig.tight_layout()
    _save(fig, path)


def class_chord_diagrams(
    patients: np.ndarray,
    controls: np.ndarray,
    difference: pd.DataFrame,
    pathways: list[str],
    regions: list[str],
    top_k: int,
    path,
) -> None:
    """Paper-style chords of the top_k strongest links of Ā_PAT and of Ā_ND, and of the contrast.

    ``difference``: the ranked link table of the headline contrast (columns pathway, region,
    effect); its first top_k rows are drawn in the third panel.
    """
    fig, axes = plt.subplots(1, 3, figsize=(27, 9))
    for ax, mat, name in ((axes[0], patients, "Ā_PAT"), (axes[1], controls, "Ā_ND")):
        top = np.argsort(-mat.ravel(), kind="stable")[:top_k]
        j, r = np.unravel_index(top, mat.shape)
        _draw_chord(
            ax,
            [pathways[i] for i in j],
            [regions[i] for i in r],
            mat.ravel()[top],
            f"strongest {top_k} links of {name}",
            signed=False,
        )
    head = difference.head(top_k)
    _draw_chord(
        axes[2],
        head["pathway"],
        head["region"],
        head["effect"],
        f"top {top_k} links of the contrast (red: patients higher)",
        signed=True,
    )
    fig.tight_layout()
    _save(fig, path)


def _draw_chord(ax, link_pathways, link_regions, values, title: str, signed: bool) -> None:
    link_pathways, link_regions = list(link_pathways), list(link_regions)
    values = np.asarray(values, dtype=float)
    paths_ = list(dict.fromkeys(link_pathways))
    regs = list(dict.fromkeys(link_regions))

    def arc(names, start, stop):
        angles = np.linspace(start, stop, len(names) + 2)[1:-1]
        return {n: (np.cos(a), np.sin(a), a) for n, a in zip(names, angles, strict=True)}

    left = arc(paths_, np.pi * 0.6, np.pi * 1.4)
    right = arc(regs, -np.pi * 0.4, np.pi * 0.4)
    ax.add_patch(plt.Circle((0, 0), 1, fill=False, lw=0.5, color="grey"))
    top = np.abs(values).max() if len(values) else 1.0
    top = top or 1.0
    for pathway, region, value in zip(link_pathways, link_regions, values, strict=True):
        (x0, y0, _), (x1, y1, _) = left[pathway], right[region]
        curve = MplPath(
            [(x0, y0), (0, 0), (x1, y1)], [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3]
        )
        colour = ("tab:red" if value > 0 else "tab:blue") if signed else "tab:green"
        ax.add_patch(
            PathPatch(curve, fill=False, lw=0.5 + 4 * abs(value) / top, color=colour, alpha=0.6)
        )
    for names, side in ((left, "right"), (right, "left")):
        for name, (x, y, a) in names.items():
            ax.plot(x, y, "o", color="black", ms=4)
            rot = np.degrees(a) + (180 if side == "right" else 0)
            ax.text(
                1.05 * x,
                1.05 * y,
                name,
                fontsize=7,
                rotation=rot,
                ha=side,
                va="center",
                rotation_mode="anchor",
            )
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title)
