"""Benchmark: the pathway_scores stage against plink's own clump + score on the same inputs.

Usage: python bench/pathway_stage.py --run DIR   (a workflow copy whose demo has run at least
       to genotype_qc, e.g. after `snakemake --cores 2 pathway_scores`)

Times (wall and CPU of this process and its children): our whole stage
(``build_pathway_scores``: read + harmonise + clump with plink1.9 + map + score), then
plink1.9 ``--clump`` of the stage's harmonised table followed by plink2 ``--score`` of the
stage's pathway weights (``cols=+scoresums``), which is the plink-only chain for the same
result (it does not read or harmonise the GWAS). Last line: one JSON object.
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

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from neuropathx.genetics.stage import build_pathway_scores  # noqa: E402


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(fn):
    wall, cpu = time.perf_counter(), _cpu()
    fn()
    return round(time.perf_counter() - wall, 2), round(_cpu() - cpu, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True)
    args = parser.parse_args()
    demo, qc = args.run / "results/demo", str(args.run / "results/genotype_qc/qc")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stage"
        ours = _timed(
            lambda: build_pathway_scores(
                qc, str(demo / "gwas_sumstats.tsv"), str(demo / "genes.loc"),
                str(demo / "pathways.gmt"), str(out), settings={}, threads=1,
            )
        )  # fmt: skip
        harmonised = pd.read_csv(out / "harmonised_sumstats.tsv", sep="\t")
        harmonised.to_csv(Path(tmp) / "assoc.tsv", sep="\t", index=False)
        mapping = pd.read_csv(out / "snp_gene_pathway.tsv", sep="\t")
        kept = list(pd.read_csv(out / "pathway_scores.tsv", sep="\t", nrows=1).columns[1:])
        weights = (
            mapping[mapping["pathway"].isin(kept)]
            .drop_duplicates(["SNP", "pathway"])
            .pivot(index="SNP", columns="pathway", values="BETA")
            .fillna(0.0)[kept]
        )
        a1 = pd.read_csv(f"{qc}.bim", sep="\t", header=None).set_index(1)[4]
        weights.insert(0, "A1", a1[weights.index].to_numpy())
        weights.index.name = "ID"
        weights.to_csv(Path(tmp) / "w.tsv", sep="\t")

        def plink_chain():
            clump = ["plink1.9", "--bfile", qc, "--keep-allele-order", "--clump",
                     f"{tmp}/assoc.tsv", "--clump-p1", "0.1", "--clump-p2", "0.1",
                     "--clump-r2", "0.1", "--clump-kb", "50", "--threads", "1",
                     "--out", f"{tmp}/c"]  # fmt: skip
            score = ["plink2", "--bfile", qc, "--score", f"{tmp}/w.tsv", "1", "2",
                     "header-read", "cols=+scoresums", "--score-col-nums",
                     f"3-{len(kept) + 2}", "--threads", "1", "--out", f"{tmp}/s"]  # fmt: skip
            for cmd in (clump, score):
                subprocess.run(cmd, check=True, capture_output=True)

        plink = _timed(plink_chain)
    result = {
        "gwas_rows": int(sum(1 for _ in open(demo / "gwas_sumstats.tsv")) - 1),
        "pathways": len(kept),
        "stage_seconds": ours[0],
        "stage_cpu_seconds": ours[1],
        "plink_clump_score_seconds": plink[0],
        "plink_clump_score_cpu_seconds": plink[1],
        "load_average": round(os.getloadavg()[0], 1),
    }
    print(
        f"pathway_scores stage {ours[0]} s wall ({ours[1]} s CPU); plink1.9 clump + plink2 "
        f"score {plink[0]} s wall ({plink[1]} s CPU)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
