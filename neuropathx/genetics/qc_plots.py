"""QC figure: missingness histograms and heterozygosity F against sample missingness."""

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
