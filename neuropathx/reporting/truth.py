"""Recovery of the demo's planted region-pathway pairs by any ranking of links.

A ranking is a (P, R) score matrix (higher = stronger link): NeuroPathX's |t| of the raw or
pair-specific contrast, an ablation's, or a model-free ranking (``model_free``). Each is
scored two ways. *Against all links*: planted pairs vs every other link. *Against decoys*:
planted pairs vs decoys, i.e. a causal pathway paired with a region planted for another
causal pathway. Decoys share both main effects with planted pairs (their pathway and their
region both matter for diagnosis), so only a ranking that sees the pairing beats chance
(AUROC 0.5) there; the "all links" figure rewards any ranking that finds the right regions
and pathways. Metrics: AUROC, AUPRC (average precision) and precision@K with K = the number
of planted pairs that can be ranked (pathway scored, region measured).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.io import read_tsv
from neuropathx.metrics import rank_auc

# values of the truth file's optional ``kind`` column that plant a region-pathway pair
PAIR_KINDS = ("coupling", "pair", "interaction")
TRUTH_CHECK_COLUMNS = ["ranking", "against", "auroc", "auprc", "precision_at_k", "k"]


def planted_pairs(truth_tsv: str | Path) -> pd.DataFrame:
    """Planted (pathway, region) pairs with their summed effect.

    Rows whose ``kind`` (when the column exists) is not a pair kind, and rows with an empty
    pathway or region (main effects), are not pairs.
    """
    truth = read_tsv(truth_tsv, required=["pathway", "region", "effect"], dtype=str)
    if "kind" in truth.columns:
        truth = truth[truth["kind"].isin(PAIR_KINDS)]
    truth = truth[truth["pathway"].fillna("").ne("") & truth["region"].fillna("").ne("")]
    truth = truth.assign(effect=truth["effect"].astype(float))
    return truth.groupby(["pathway", "region"], as_index=False)["effect"].sum()


def link_masks(
    pairs: pd.DataFrame, pathways: list[str], regions: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(P, R) boolean masks of planted links and of decoy links among the ranked ones."""
    p_index = {p: i for i, p in enumerate(pathways)}
    r_index = {r: i for i, r in enumerate(regions)}
    planted = np.zeros((len(pathways), len(regions)), dtype=bool)
    for pathway, region in pairs[["pathway", "region"]].itertuples(index=False):
        if pathway in p_index and region in r_index:
            planted[p_index[pathway], r_index[region]] = True
    decoys = np.zeros_like(planted)
    for pathway, own in pairs.groupby("pathway")["region"]:
        if pathway not in p_index:
            continue
        others = set(pairs.loc[pairs["pathway"] != pathway, "region"]) - set(own)
        for region in others & set(r_index):
            decoys[p_index[pathway], r_index[region]] = True
    return planted, decoys & ~planted


def average_precision(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall curve as average precision (ties share a threshold)."""
    positive = np.asarray(positive, dtype=bool)
    if not positive.any():
        return float("nan")
    order = np.argsort(-score, kind="stable")
    s, y = score[order], positive[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # end of each tie block
    tp = np.cumsum(y)[last]
    precision = tp / (last + 1)
    recall_gain = np.diff(np.r_[0, tp]) / positive.sum()
    return float((precision * recall_gain).sum())


def recovery_metrics(positive: np.ndarray, score: np.ndarray, k: int) -> dict:
    """AUROC, AUPRC and precision@k of positives among the given links (1-d arrays)."""
    positive = np.asarray(positive, dtype=bool)
    ok = 0 < positive.sum() < len(positive)
    top = np.argsort(-score, kind="stable")[:k]
    return {
        "auroc": rank_auc(positive, score) if ok else float("nan"),
        "auprc": average_precision(positive, score) if ok else float("nan"),
        "precision_at_k": float(positive[top].mean()) if k else float("nan"),
        "k": int(k),
    }


def truth_check(
    rankings: dict[str, np.ndarray], pairs: pd.DataFrame, pathways: list[str], regions: list[str]
) -> pd.DataFrame:
    """One row per (ranking, against ∈ {all, decoys}) with AUROC, AUPRC, precision@K."""
    planted, decoys = link_masks(pairs, pathways, regions)
    k = int(planted.sum())
    rows = []
    for name, score in rankings.items():
        score = np.asarray(score, dtype=float)
        if score.shape != planted.shape:
            raise ValueError(f"ranking {name}: shape {score.shape}, links are {planted.shape}")
        rows.append(
            {
                "ranking": name,
                "against": "all",
                **recovery_metrics(planted.ravel(), score.ravel(), k),
            }
        )
        pool = (planted | decoys).ravel()
        rows.append(
            {
                "ranking": name,
                "against": "decoys",
                **recovery_metrics(planted.ravel()[pool], score.ravel()[pool], k),
            }
        )
    return pd.DataFrame(rows, columns=TRUTH_CHECK_COLUMNS)


def planted_ranks(
    pairs: pd.DataFrame, links: pd.DataFrame, top_k: int
) -> tuple[pd.DataFrame, dict]:
    """Rank, effect and p of every planted pair in one ranked link table, and a summary."""
    ranked = links.set_index(["pathway", "region"])
    table = pairs.copy()
    keys = list(zip(pairs["pathway"], pairs["region"], strict=True))
    table["scored"] = [key in ranked.index for key in keys]
    for column in ("rank", "effect", "p", "p_maxT"):
        table[column if column != "effect" else "link_effect"] = [
            ranked.loc[key, column] if key in ranked.index else np.nan for key in keys
        ]
    table["in_top_k"] = table["rank"] <= top_k
    n_links, scored = len(links), int(table["scored"].sum())
    summary = {
        "planted": int(len(table)),
        "scored": scored,
        "in_top_k": int(table["in_top_k"].sum()),
        "top_k": int(top_k),
        "expected_in_top_k": float(scored * min(top_k, n_links) / n_links) if n_links else 0.0,
    }
    return table, summary
