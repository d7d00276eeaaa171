"""Figures of the association report: attention heatmaps and a chord diagram of top links."""

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


def chord_diagram(links: pd.DataFrame, path, title: str = "top region-pathway links") -> None:
    """Pathways on the left arc, regions on the right; one ribbon per link.

    Ribbon width follows |difference|; red: stronger attention in patients, blue: controls.
    """
    paths_ = list(dict.fromkeys(links["pathway"]))
    regs = list(dict.fromkeys(links["region"]))

    def arc(names, start, stop):
        angles = np.linspace(start, stop, len(names) + 2)[1:-1]
        return {n: (np.cos(a), np.sin(a), a) for n, a in zip(names, angles, strict=True)}

    left = arc(paths_, np.pi * 0.6, np.pi * 1.4)
    right = arc(regs, -np.pi * 0.4, np.pi * 0.4)
    fig, ax = plt.subplots(figsize=(9, 9))
    ax.add_patch(plt.Circle((0, 0), 1, fill=False, lw=0.5, color="grey"))
    top = np.abs(links["difference"]).max() or 1.0
    for _, link in links.iterrows():
        (x0, y0, _), (x1, y1, _) = left[link["pathway"]], right[link["region"]]
        verts = [(x0, y0), (0, 0), (x1, y1)]
        curve = MplPath(verts, [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3])
        colour = "tab:red" if link["difference"] > 0 else "tab:blue"
        ax.add_patch(
            PathPatch(
                curve,
                fill=False,
                lw=0.5 + 4 * abs(link["difference"]) / top,
                color=colour,
                alpha=0.6,
            )
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
    _save(fig, path)
