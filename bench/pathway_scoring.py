"""Benchmark: our vectorised pathway scorer vs plink2 --score (multi-column, scoresums).

Usage: python bench/pathway_scoring.py --samples 5000 --snps 100000 --pathways 200
       [--missing 0.01] [--threads 1] [--seed 0] [--workdir DIR]

Writes a random .bed (raw bytes), random sparse weights (each SNP in 1-3 pathways), times
both scorers on the same weights, compares the SUM columns, prints figures and, as the last
line, one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from neuropathx.genetics.plink_io import BED_MAGIC, bytes_per_variant, open_fileset
from neuropathx.genetics.scoring import score_matrix


def write_random_bed(
    prefix: Path,
    n_samples: int,
    n_snps: int,
    missing: float,
    rng: np.random.Generator,
    chunk: int = 5000,
) -> None:
    """Random genotypes under HWE with per-SNP frequencies, written as raw .bed bytes."""
    nbytes = bytes_per_variant(n_samples)
    with open(f"{prefix}.bed", "wb") as fh:
        fh.write(BED_MAGIC)
        for start in range(0, n_snps, chunk):
            m = min(chunk, n_snps - start)
            freq = rng.uniform(0.05, 0.5, size=(m, 1))
            u = rng.random((m, nbytes * 4), dtype=np.float32)
            # code 0 = two A1 (p^2), 2 = het, 3 = no A1; 1 = missing
            codes = np.where(u < freq**2, 0, np.where(u < freq**2 + 2 * freq * (1 - freq), 2, 3))
            codes = codes.astype(np.uint8)
            if missing > 0:
                codes[rng.random((m, nbytes * 4), dtype=np.float32) < missing] = 1
            codes[:, n_samples:] = 0  # padding bits must be zero
            q = codes.reshape(m, nbytes, 4)
            fh.write(
                (q[..., 0] | (q[..., 1] << 2) | (q[..., 2] << 4) | (q[..., 3] << 6))
                .astype(np.uint8)
                .tobytes()
            )
    ids = np.array([f"rs{i}" for i in range(n_snps)])
    pd.DataFrame(
        {"CHR": 1, "ID": ids, "CM": 0, "BP": np.arange(n_snps) * 100 + 1, "A1": "A", "A2": "G"}
    ).to_csv(f"{prefix}.bim", sep="\t", header=False, index=False)
    iids = [f"S{i}" for i in range(n_samples)]
    pd.DataFrame({"FID": iids, "IID": iids, "PAT": 0, "MAT": 0, "SEX": 0, "PHENO": -9}).to_csv(
        f"{prefix}.fam", sep="\t", header=False, index=False
    )


def random_weights(n_snps: int, n_pathways: int, rng: np.random.Generator) -> sp.csr_matrix:
    """Sparse SNP x pathway weights: each SNP in 1-3 distinct random pathways."""
    k = rng.integers(1, 4, size=n_snps)
    rows = np.repeat(np.arange(n_snps), k)
    cols = np.concatenate([rng.choice(n_pathways, size=j, replace=False) for j in k])
    vals = np.round(rng.normal(0, 0.05, size=len(rows)), 6)
    return sp.csr_matrix((vals, (rows, cols)), shape=(n_snps, n_pathways))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--snps", type=int, default=100_000)
    ap.add_argument("--pathways", type=int, default=200)
    ap.add_argument("--missing", type=float, default=0.01)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)

    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        prefix = Path(tmp) / "bench"
        t0 = time.perf_counter()
        write_random_bed(prefix, args.samples, args.snps, args.missing, rng)
        w = random_weights(args.snps, args.pathways, rng)
        names = [f"PW{j}" for j in range(args.pathways)]
        dense = pd.DataFrame(w.toarray(), columns=names)
        dense.insert(0, "A1", "A")
        dense.insert(0, "ID", [f"rs{i}" for i in range(args.snps)])
        dense.to_csv(Path(tmp) / "weights.tsv", sep="\t", index=False, float_format="%.6g")
        gen_s = time.perf_counter() - t0
        print(
            f"generated {args.samples} samples x {args.snps} SNPs, "
            f"{w.nnz} weights over {args.pathways} pathways in {gen_s:.1f} s"
        )

        t0 = time.perf_counter()
        fileset = open_fileset(prefix)
        ours = score_matrix(fileset, w, threads=args.threads)
        ours_s = time.perf_counter() - t0
        print(f"ours:  {ours_s:.2f} s (threads={args.threads})")

        cmd = [
            "plink2",
            "--bfile",
            str(prefix),
            "--score",
            str(Path(tmp) / "weights.tsv"),
            "1",
            "2",
            "header-read",
            "cols=+scoresums",
            "--score-col-nums",
            f"3-{args.pathways + 2}",
            "--threads",
            str(args.threads),
            "--out",
            str(Path(tmp) / "p2"),
        ]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        plink2_s = time.perf_counter() - t0
        print(f"plink2: {plink2_s:.2f} s (threads={args.threads})")

        ref = pd.read_csv(Path(tmp) / "p2.sscore", sep="\t")
        ref_sums = ref[[f"{n}_SUM" for n in names]].to_numpy()
        diff = np.abs(ours - ref_sums)
        rel = diff / np.maximum(np.abs(ref_sums), 1e-300)
        max_abs = float(diff.max())
        max_rel = float(np.where(diff > 0, rel, 0).max())
        print(
            f"max |ours - plink2| = {max_abs:.3g} (max relative {max_rel:.3g}; plink2 prints "
            f"6 significant digits); speed-up {plink2_s / ours_s:.1f}x"
        )
        print(
            json.dumps(
                {
                    "samples": args.samples,
                    "snps": args.snps,
                    "pathways": args.pathways,
                    "missing": args.missing,
                    "threads": args.threads,
                    "ours_s": round(ours_s, 3),
                    "plink2_s": round(plink2_s, 3),
                    "max_abs_diff": max_abs,
                    "max_rel_diff": max_rel,
                }
            )
        )


if __name__ == "__main__":
    main()
