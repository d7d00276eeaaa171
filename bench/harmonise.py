"""Benchmark: GWAS harmonisation (read + align alleles to a .bim) at real-world sizes.

Usage: python bench/harmonise.py --gwas-rows 10000000 --bim-variants 1000000
       [--seed 0] [--workdir DIR] [--format custom|plink2_glm]

Simulates a .bim of V variants (22 chromosomes, 2 % strand-ambiguous) and a GWAS TSV of R rows
(SNP CHR BP A1 A2 BETA SE P EAF): rows for min(V, R) .bim variants, of which 30 % have their
alleles swapped, 5 % are on the other strand, 1 % have NA statistics, 0.1 % are duplicated;
the remaining rows are at positions absent from the .bim. Then times, in a fresh process,
what the pathway_scores stage does with them: ``read_bim`` + ``read_sumstats`` +
``harmonise``. Prints the outcome counts, and as its last line one JSON object with rows,
seconds (wall), peak_rss_mb (the measuring process's peak resident memory), cpu_seconds
(user + system: on a shared, loaded machine wall time overstates the cost; the 1-minute
load average is printed beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

ROOT = Path(__file__).resolve().parents[1]
BASES = np.array(list("ACGT"))
COMPLEMENT = np.array([3, 2, 1, 0])  # A C G T -> T G C A


def simulate(workdir: Path, rows: int, variants: int, seed: int) -> tuple[Path, Path]:
    """Write bench.bim and gwas.tsv into ``workdir``."""
    rng = np.random.default_rng(seed)
    chrom = np.sort(rng.integers(1, 23, variants))
    pos = np.empty(variants, dtype=np.int64)
    for c in range(1, 23):
        m = chrom == c
        pos[m] = np.sort(rng.choice(240_000_000, m.sum(), replace=False)) + 1
    a1 = rng.integers(0, 4, variants)
    a2 = (a1 + rng.integers(1, 4, variants)) % 4
    redraw = (a2 == COMPLEMENT[a1]) & (rng.random(variants) > 0.06)  # keep ~2 % A/T, C/G
    a2[redraw] = a1[redraw] ^ 1  # A<->C, G<->T: never the complement
    ids = np.char.add("rs", np.arange(1, variants + 1).astype(str))
    bim = pa.table(
        {"c": chrom.astype(str), "id": ids, "cm": np.zeros(variants, np.int8), "bp": pos,
         "a1": BASES[a1], "a2": BASES[a2]}
    )  # fmt: skip
    no_header = pacsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    pacsv.write_csv(bim, workdir / "bench.bim", no_header)

    n_in = min(variants, rows)
    pick = np.sort(rng.choice(variants, n_in, replace=False))
    g1, g2 = a1[pick].copy(), a2[pick].copy()
    u = rng.random(n_in)
    swap = u < 0.30
    g1[swap], g2[swap] = a2[pick][swap], a1[pick][swap]
    flip = (u >= 0.30) & (u < 0.35)
    g1[flip], g2[flip] = COMPLEMENT[g1[flip]], COMPLEMENT[g2[flip]]
    n_out = rows - n_in
    out_chrom = np.arange(n_out) % 22 + 1
    out_pos = 240_000_001 + (np.arange(n_out) // 22) * 7  # unique, beyond every .bim position
    o1 = rng.integers(0, 4, n_out)
    o2 = (o1 + rng.integers(1, 4, n_out)) % 4
    chrom_all = np.concatenate([chrom[pick], out_chrom])
    pos_all = np.concatenate([pos[pick], out_pos])
    e1, e2 = np.concatenate([g1, o1]), np.concatenate([g2, o2])
    snp = np.concatenate([ids[pick], np.char.add("rsx", np.arange(n_out).astype(str))])
    beta = rng.normal(0, 0.02, rows)
    se = rng.uniform(0.005, 0.03, rows)
    p = rng.uniform(0, 1, rows)
    eaf = rng.uniform(0.01, 0.99, rows)
    na = rng.random(rows) < 0.01
    beta[na], se[na], p[na] = np.nan, np.nan, np.nan
    dup = rng.choice(n_in, max(1, n_in // 1000), replace=False)
    order = np.concatenate([np.arange(rows), dup])
    gwas = pa.table(
        {"SNP": snp[order], "CHR": chrom_all[order], "BP": pos_all[order],
         "A1": BASES[e1[order]], "A2": BASES[e2[order]], "BETA": beta[order],
         "SE": se[order], "P": p[order], "EAF": eaf[order]}
    )  # fmt: skip
    with open(workdir / "gwas.tsv", "wb") as fh:
        fh.write(("\t".join(gwas.column_names) + "\n").encode())
        pacsv.write_csv(gwas, fh, no_header)
    return workdir / "bench.bim", workdir / "gwas.tsv"


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(bim_path: str, gwas_path: str) -> None:
    """Time the stage's harmonisation in this process; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    from neuropathx.genetics.gwas_formats import read_sumstats
    from neuropathx.genetics.plink_io import read_bim
    from neuropathx.genetics.sumstats import harmonise, outcome_summary

    start, cpu0 = time.perf_counter(), _cpu_seconds()
    bim = read_bim(bim_path)
    t_bim = time.perf_counter()
    columns = {"eaf": "EAF"}
    gwas = read_sumstats(gwas_path, columns)
    t_read = time.perf_counter()
    table, outcome = harmonise(gwas, bim, a1_freq=lambda rows: np.full(len(rows), 0.3))
    t_end, cpu1 = time.perf_counter(), _cpu_seconds()
    counts = outcome_summary(outcome)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": len(gwas),
                "kept": len(table),
                "read_bim_s": round(t_bim - start, 2),
                "read_sumstats_s": round(t_read - t_bim, 2),
                "harmonise_s": round(t_end - t_read, 2),
                "seconds": round(t_end - start, 2),
                "cpu_seconds": round(cpu1 - cpu0, 2),
                "load_average": round(os.getloadavg()[0], 1),
                "peak_rss_mb": round(peak, 1),
                "outcomes": dict(zip(counts["outcome"], counts["n"].tolist(), strict=True)),
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gwas-rows", type=int, default=1_000_000)
    parser.add_argument("--bim-variants", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--measure", nargs=2, metavar=("BIM", "GWAS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(*args.measure)
        return
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        t0 = time.perf_counter()
        bim, gwas = simulate(Path(tmp), args.gwas_rows, args.bim_variants, args.seed)
        print(f"simulated in {time.perf_counter() - t0:.1f} s ({gwas.stat().st_size / 1e6:.0f} MB)")
        proc = subprocess.run(
            [sys.executable, __file__, "--measure", str(bim), str(gwas)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            sys.exit(f"measurement failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, n in result.pop("outcomes").items():
        print(f"  {name:<30} {n:>10}")
    print(
        f"read .bim {result['read_bim_s']} s, read GWAS {result['read_sumstats_s']} s, "
        f"harmonise {result['harmonise_s']} s"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
