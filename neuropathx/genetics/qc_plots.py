"""QC figures: missingness histograms, heterozygosity F against sample missingness, and
the first two genetic principal components by diagnosis."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from neuropathx.io import atomic_path  # noqa: E402


def plot_qc(
    smiss: pd.DataFrame,
    vmiss: pd.DataFrame,
    het: pd.DataFrame | None,
    settings: dict,
    path: str | Path,
) -> None:
    """Write the three-panel QC figure (input missingness; F vs missingness) to ``path``."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    axes[0].hist(smiss["F_MISS"], bins=40, color="tab:blue")
    axes[0].axvline(settings["mind"], color="red", ls="--", label=f"mind {settings['mind']}")
    axes[0].set(title="Sample missingness (input)", xlabel="fraction missing", ylabel="samples")
    axes[0].legend()
    axes[1].hist(vmiss["F_MISS"], bins=40, color="tab:green")
    axes[1].axvline(settings["geno"], color="red", ls="--", label=f"geno {settings['geno']}")
    axes[1].set(title="Variant missingness (input)", xlabel="fraction missing", ylabel="variants")
    axes[1].legend()
    ax = axes[2]
    if het is not None and len(het):
        merged = het.merge(smiss[["IID", "F_MISS"]], on="IID")
        ax.scatter(merged["F_MISS"], merged["F"], s=10, alpha=0.7)
        mean, sd = merged["F"].mean(), merged["F"].std(ddof=1)
        for sign in (-1, 1):
            ax.axhline(mean + sign * settings["het_sd"] * sd, color="red", ls="--")
        ax.set(
            title=f"Heterozygosity F vs missingness (mean +/- {settings['het_sd']} SD)",
            xlabel="sample missingness",
            ylabel="inbreeding F",
        )
    else:
        ax.text(0.5, 0.5, "heterozygosity step not reached", ha="center", va="center")
        ax.set_axis_off()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)


def plot_pca(
    pcs: pd.DataFrame, diagnosis: pd.Series, outliers: pd.DataFrame, path: str | Path
) -> None:
    """PC1 against PC2, one colour per diagnosis, ancestry outliers circled."""
    fig, ax = plt.subplots(figsize=(6, 5))
    dx = diagnosis.reindex(pcs["participant_id"].to_numpy()).fillna("unknown").to_numpy()
    for value in sorted(set(dx)):
        m = dx == value
        ax.scatter(pcs["PC1"][m], pcs["PC2"][m], s=12, alpha=0.7, label=f"{value} ({m.sum()})")
    flagged = pcs["participant_id"].isin(set(outliers["participant_id"]))
    if flagged.any():
        ax.scatter(
            pcs["PC1"][flagged], pcs["PC2"][flagged], s=80, facecolors="none",
            edgecolors="red", label=f"ancestry outlier ({int(flagged.sum())})",
        )  # fmt: skip
    ax.set(title="Genetic principal components", xlabel="PC1", ylabel="PC2")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    plt.close(fig)
