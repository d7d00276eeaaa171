"""Genome build of a GWAS against the genotypes: a mismatch check and chain-file liftover.

A GWAS on GRCh38 matched by chr:pos to genotypes on GRCh37 matches almost nothing, and the
few positions that do match are mostly other variants; scores would quietly use them. The
check compares the two files where both name the same rsID: in one build their positions
agree (a few rsIDs are merged or remapped), across builds almost none do.

Liftover reads a UCSC chain file (``hg38ToHg19.over.chain.gz`` style: ``chain score tName
tSize tStrand tStart tEnd qName qSize qStrand qStart qEnd id`` then ``size dt dq`` lines,
0-based half-open coordinates, t = the GWAS's build, q = the genotypes'). A position is
lifted when exactly one aligned block covers it; others (in a gap, or in several chains)
become ``dropped_not_lifted``. Positions on a reverse-strand chain land on the other strand;
the harmonisation then sees them as strand flips.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.genetics.sumstats import normalise_chrom

MIN_SHARED_RSIDS = 20  # fewer shared rsIDs than this: too few to judge the build
MIN_POSITION_AGREEMENT = 0.5  # same build: nearly all agree; different builds: nearly none


def check_build(
    gwas: pd.DataFrame, bim: pd.DataFrame, gwas_path: str | Path, bim_path: str | Path
) -> dict:
    """Stop when GWAS and genotypes look like different builds; return the figures."""
    live = gwas["OUTCOME"].astype(object).to_numpy() == "" if "OUTCOME" in gwas else True
    snp = gwas["SNP"].astype(object).to_numpy()
    rs = pd.Series(snp).astype(str).str.startswith("rs").to_numpy() & live
    hit = pd.Index(bim["ID"]).get_indexer(snp[rs])
    shared = hit >= 0
    figures = {"shared_rsids": int(shared.sum()), "position_agreement": float("nan")}
    if shared.sum() < MIN_SHARED_RSIDS:
        return figures
    rows = np.flatnonzero(rs)[shared]
    bim_rows = hit[shared]
    g_chr = normalise_chrom(gwas["CHR"].iloc[rows].astype(str)).to_numpy()
    b_chr = normalise_chrom(bim["CHR"].iloc[bim_rows].astype(str)).to_numpy()
    g_bp, b_bp = gwas["BP"].to_numpy()[rows], bim["BP"].to_numpy()[bim_rows]
    same_chr = g_chr == b_chr
    agree = float(np.mean(same_chr & (g_bp == b_bp)))
    off_by_one = float(np.mean(same_chr & (np.abs(g_bp - b_bp) == 1)))
    figures["position_agreement"] = agree
    if agree >= MIN_POSITION_AGREEMENT:
        return figures
    hint = (
        f" ({off_by_one:.0%} differ by exactly 1 bp: one file may be 0-based)"
        if off_by_one > 0.5
        else ""
    )
    raise InputError(
        gwas_path,
        f"looks like a different genome build from the genotypes {bim_path}: of "
        f"{int(shared.sum())} rsIDs in both files only {agree:.1%} have the same chromosome "
        f"and position{hint}. Lift the GWAS over to the genotypes' build "
        "(pathway_scores.liftover_chain: a UCSC chain file such as hg38ToHg19.over.chain.gz "
        "for a GRCh38 GWAS and GRCh37 genotypes), or match by rsID (pathway_scores.match_by: "
        "rsid); pathway_scores.build_check: false skips this check",
    )


@dataclass(frozen=True)
class Chain:
    """Aligned blocks of a chain file, one row per block (0-based, half-open)."""

    t_chrom: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    q_chrom: np.ndarray
    q_start: np.ndarray  # on the q strand of the chain
    q_size: np.ndarray
    q_reverse: np.ndarray


def read_chain(path: str | Path) -> Chain:
    """Parse a UCSC chain file (plain or gzipped) into blocks."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, "chain file not found")
    opener = gzip.open if path.suffix == ".gz" else open
    cols: dict[str, list] = {k: [] for k in Chain.__dataclass_fields__}
    header = None
    with opener(path, "rt") as fh:
        for number, line in enumerate(fh, 1):
            parts = line.split()
            if not parts or line.startswith("#"):
                continue
            if parts[0] == "chain":
                if len(parts) < 12:
                    raise InputError(path, f"line {number}: chain header needs 12 fields")
                header = parts
                t_pos, q_pos = int(parts[5]), int(parts[10])
                continue
            if header is None:
                raise InputError(path, f"line {number}: block before any 'chain' header")
            size = int(parts[0])
            cols["t_chrom"].append(header[2])
            cols["t_start"].append(t_pos)
            cols["t_end"].append(t_pos + size)
            cols["q_chrom"].append(header[7])
            cols["q_start"].append(q_pos)
            cols["q_size"].append(int(header[8]))
            cols["q_reverse"].append(header[9] == "-")
            if len(parts) >= 3:
                t_pos += size + int(parts[1])
                q_pos += size + int(parts[2])
    if not cols["t_start"]:
        raise InputError(path, "no alignment blocks: not a UCSC chain file")
    chroms = {k: normalise_chrom(pd.Series(cols[k])).to_numpy() for k in ("t_chrom", "q_chrom")}
    return Chain(**{k: chroms.get(k, np.asarray(v)) for k, v in cols.items()})


def lift_positions(chain: Chain, chrom: np.ndarray, bp: np.ndarray):
    """1-based positions on normalised chromosomes -> (chrom, bp, lifted mask)."""
    out_chr = np.asarray(chrom, dtype=object).copy()
    out_bp = np.zeros(len(bp), dtype=np.int64)
    lifted = np.zeros(len(bp), dtype=bool)
    pos0 = np.asarray(bp, dtype=np.int64) - 1
    for c in np.unique(chain.t_chrom):
        rows = np.flatnonzero(out_chr == c)
        if not len(rows):
            continue
        blocks = np.flatnonzero(chain.t_chrom == c)
        blocks = blocks[np.argsort(chain.t_start[blocks], kind="stable")]
        starts, ends = chain.t_start[blocks], np.sort(chain.t_end[blocks])
        p = pos0[rows]
        covering = np.searchsorted(starts, p, "right") - np.searchsorted(ends, p, "right")
        cand = np.searchsorted(starts, p, "right") - 1
        block = blocks[np.maximum(cand, 0)]
        ok = (covering == 1) & (cand >= 0) & (p < chain.t_end[block])
        for i in np.flatnonzero((covering == 1) & ~ok):  # covered by an earlier, longer block
            inside = blocks[(chain.t_start[blocks] <= p[i]) & (p[i] < chain.t_end[blocks])]
            block[i], ok[i] = inside[0], True
        b = block[ok]
        q0 = chain.q_start[b] + (p[ok] - chain.t_start[b])
        q0 = np.where(chain.q_reverse[b], chain.q_size[b] - q0 - 1, q0)
        out_chr[rows[ok]] = chain.q_chrom[b]
        out_bp[rows[ok]] = q0 + 1
        lifted[rows[ok]] = True
    return out_chr, out_bp, lifted


def liftover_sumstats(gwas: pd.DataFrame, chain_path: str | Path) -> pd.DataFrame:
    """GWAS positions lifted with a chain file; unliftable rows marked dropped_not_lifted."""
    chain = read_chain(chain_path)
    cat = gwas["CHR"].astype("category")
    names = normalise_chrom(pd.Series(cat.cat.categories.astype(str))).to_numpy(object)
    chrom = np.append(names, "")[cat.cat.codes.to_numpy()]  # code -1 (missing) -> ""
    new_chr, new_bp, lifted = lift_positions(chain, chrom, gwas["BP"].to_numpy())
    out = gwas.copy()
    live = out["OUTCOME"].astype(object).to_numpy() == ""
    outcome = out["OUTCOME"].astype(object).to_numpy()
    outcome[live & ~lifted] = "dropped_not_lifted"
    out["OUTCOME"] = pd.Categorical(outcome, categories=out["OUTCOME"].cat.categories)
    out["CHR"] = pd.Categorical(np.where(lifted, new_chr, chrom).astype(str))
    out["BP"] = np.where(lifted, new_bp, out["BP"].to_numpy())
    return out
