"""Recovery of the demo's planted region-pathway pairs among the ranked links."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.io import read_tsv
from neuropathx.metrics import rank_auc


def truth_recovery(
    links: pd.DataFrame, truth_tsv: str | Path, top_k: int
) -> tuple[pd.DataFrame, dict]:
    """Rank of every planted (pathway, region) pair, and a summary of the recovery.

    ``links`` is the ranked table of ``link_table``. Planted pairs whose pathway was not
    scored (left out by the pathway filters) are listed with ``scored`` false.
    Summary: planted, scored, in_top_k, expected_in_top_k (by chance), auroc (|difference|
    separating planted from other links).
    """
    truth = read_tsv(truth_tsv, required=["pathway", "region", "effect"])
    pairs = truth.groupby(["pathway", "region"], as_index=False)["effect"].sum()
    ranked = links.set_index(["pathway", "region"])
    rows = []
    for _, row in pairs.iterrows():
        key = (row["pathway"], row["region"])
        if key in ranked.index:
            link = ranked.loc[key]
            rows.append(
                {
                    **row,
                    "scored": True,
                    "rank": int(link["rank"]),
                    "difference": link["difference"],
                    "p_perm": link["p_perm"],
                    "in_top_k": bool(link["rank"] <= top_k),
                }
            )
        else:
            rows.append(
                {
                    **row,
                    "scored": False,
                    "rank": np.nan,
                    "difference": np.nan,
                    "p_perm": np.nan,
                    "in_top_k": False,
                }
            )
    # columns named: a scenario without planted pairs (null, additive) gives an empty table
    table = pd.DataFrame(
        rows,
        columns=[
            "pathway",
            "region",
            "effect",
            "scored",
            "rank",
            "difference",
            "p_perm",
            "in_top_k",
        ],
    )
    scored = table[table["scored"].astype(bool)]
    n_links = len(links)
    planted = links.set_index(["pathway", "region"]).index.isin(
        list(map(tuple, scored[["pathway", "region"]].to_numpy()))
    )
    auroc = (
        rank_auc(planted, links["difference"].abs().to_numpy())
        if 0 < planted.sum() < n_links
        else float("nan")
    )
    summary = {
        "planted": int(len(table)),
        "scored": int(len(scored)),
        "in_top_k": int(table["in_top_k"].sum()),
        "top_k": int(top_k),
        "expected_in_top_k": float(len(scored) * min(top_k, n_links) / n_links) if n_links else 0.0,
        "auroc": auroc,
    }
    return table, summary
