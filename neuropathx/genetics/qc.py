"""Genotype quality control with plink2, one filter per call so each removal has one cause.

Steps, in this order (each on the samples and variants that survived the previous ones,
always reading the input fileset with ``--keep``/``--extract``):

1. ``variant_missingness``: plink2 ``--geno`` (variants missing in > ``geno`` of samples);
2. ``sample_missingness``: plink2 ``--mind`` (samples missing > ``mind`` of variants);
3. ``sex_check``: plink1.9 ``--check-sex``, only when chromosome X variants are present
   (otherwise a summary row says it was skipped); removes samples whose recorded sex (1/2)
   disagrees with the genotype-inferred sex; samples with unknown recorded sex are kept;
4. ``maf``: plink2 ``--maf`` (minor allele frequency < ``maf``);
5. ``hwe``: plink2 ``--hwe`` (HWE exact test p < ``hwe``; in controls only when
   ``hwe_controls_only``, controls = rows of participants.tsv whose
   ``participants.diagnosis_column`` equals ``participants.control_value``);
6. ``heterozygosity``: plink2 ``--het`` on LD-pruned variants; drops samples with
   |F - mean F| > ``het_sd`` SD;
7. ``relatedness``: plink2 ``--king-cutoff`` (KING-robust kinship > ``king_cutoff``; one of
   each related pair dropped; duplicates have kinship ~0.5 and fall here too, reason
   ``duplicate_or_related``). KING-robust needs no LD pruning and is noisier on fewer
   variants, so by default it uses every QC'd variant (``king_on_pruned`` switches to the
   pruned set: on the demo's 20 Mb genome the pruned set's noise flags 7 unrelated pairs,
   all variants 1).

LD pruning uses plink2 ``--indep-pairwise`` with ``prune`` passed as given: ``[200, 50, 0.2]``
is a 200-variant window moved 50 variants at a time with r^2 threshold 0.2 (classic PLINK
semantics); ``["200kb", 1, 0.2]`` is a 200 kb window (plink2 requires step 1 then).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from neuropathx.errors import InputError
from neuropathx.genetics.plink_cli import PLINK1, read_id_list, run_plink
from neuropathx.genetics.plink_io import PlinkFileset

QC_DEFAULTS = {
    "geno": 0.05,
    "mind": 0.05,
    "maf": 0.01,
    "hwe": 1e-6,
    "hwe_controls_only": False,
    "het_sd": 3.0,
    "king_cutoff": 0.0884,
    "prune": [200, 50, 0.2],
    "king_on_pruned": False,
    "input_format": "bed",
    "bgen_sample": "",
}
SUMMARY_COLUMNS = [
    "step",
    "samples_before",
    "samples_removed",
    "samples_after",
    "variants_before",
    "variants_removed",
    "variants_after",
    "note",
]
X_CHROMS = {"X", "23", "CHRX"}  # plink1.9 --check-sex reads chromosome X only
MIN_SAMPLES_FOR_FREQ = 50  # plink2 refuses to estimate frequencies from fewer samples


@dataclass
class QcState:
    """Samples (IIDs) and variants (IDs) still in, and what each step removed."""

    fileset: PlinkFileset
    work: Path
    log_dir: Path
    threads: int
    samples: list[str]
    variants: list[str]
    removed_samples: list[tuple[str, str, str, str]] = field(default_factory=list)
    removed_variants: list[tuple[str, str, str]] = field(default_factory=list)
    summary: list[dict] = field(default_factory=list)
    het: pd.DataFrame | None = None

    def filter_args(self) -> list[str]:
        """--keep/--extract arguments for the current samples and variants."""
        keep, extract = self.work / "keep.txt", self.work / "extract.txt"
        fam = self.fileset.fam.set_index("IID").loc[self.samples]
        pd.DataFrame({"FID": fam["FID"], "IID": fam.index}).to_csv(
            keep, sep="\t", header=False, index=False
        )
        extract.write_text("\n".join(self.variants) + "\n")
        return ["--bfile", self.fileset.prefix, "--keep", str(keep), "--extract", str(extract)]

    def plink(self, args: list[str], name: str, binary: str = "plink2") -> Path:
        return run_plink(args, self.work / name, self.log_dir, binary=binary, threads=self.threads)

    def record(
        self,
        step: str,
        samples_out: dict[str, str] | None = None,
        variants_out: dict[str, str] | None = None,
        note: str = "",
    ) -> None:
        """Remove the given samples/variants (ID -> reason) and add the step's summary row."""
        samples_out, variants_out = samples_out or {}, variants_out or {}
        fid = self.fileset.fam.set_index("IID")["FID"]
        row = {
            "step": step,
            "samples_before": len(self.samples),
            "variants_before": len(self.variants),
            "note": note,
        }
        self.removed_samples += [
            (fid[i], i, step, samples_out[i]) for i in self.samples if i in samples_out
        ]
        self.removed_variants += [
            (v, step, variants_out[v]) for v in self.variants if v in variants_out
        ]
        self.samples = [s for s in self.samples if s not in samples_out]
        self.variants = [v for v in self.variants if v not in variants_out]
        row.update(samples_after=len(self.samples), variants_after=len(self.variants))
        row["samples_removed"] = row["samples_before"] - row["samples_after"]
        row["variants_removed"] = row["variants_before"] - row["variants_after"]
        self.summary.append(row)


def _survivors_filter(
    state: QcState,
    step: str,
    flag: list[str],
    kind: str,
    reason: str,
    extra: list[str] | None = None,
) -> None:
    """Run one plink2 filter and record everything it dropped (kind: 'variants'/'samples')."""
    write = "--write-snplist" if kind == "variants" else "--write-samples"
    out = state.plink(state.filter_args() + flag + (extra or []) + [write], step)
    if kind == "variants":
        kept = set(read_id_list(f"{out}.snplist"))
        state.record(step, variants_out={v: reason for v in state.variants if v not in kept})
    else:
        kept = set(read_id_list(f"{out}.id"))
        state.record(step, samples_out={s: reason for s in state.samples if s not in kept})


def _sex_check(state: QcState) -> None:
    bim = state.fileset.bim.set_index("ID").loc[state.variants]
    if not bim["CHR"].astype(str).str.upper().isin(X_CHROMS).any():
        state.record("sex_check", note="skipped: no chromosome X variants")
        return
    out = state.plink(state.filter_args() + ["--check-sex"], "sex_check", binary=PLINK1)
    table = pd.read_csv(f"{out}.sexcheck", sep=r"\s+", dtype={"IID": str})
    bad = table[table["PEDSEX"].isin([1, 2]) & (table["PEDSEX"] != table["SNPSEX"])]
    state.record(
        "sex_check",
        samples_out={
            r.IID: f"recorded sex {r.PEDSEX} != genotype sex {r.SNPSEX} (F={r.F:.3f})"
            for r in bad.itertuples()
        },
    )


def _hwe(state: QcState, p: float, controls: list[str] | None) -> None:
    if controls is None:
        _survivors_filter(state, "hwe", ["--hwe", str(p)], "variants", f"hwe_p<{p}")
        return
    control_set = set(controls)
    in_controls = [s for s in state.samples if s in control_set]
    if not in_controls:
        raise InputError(None, "hwe_controls_only: no control samples left in the genotypes")
    saved = state.samples
    state.samples = in_controls  # test HWE in controls, keep all samples afterwards
    out = state.plink(state.filter_args() + ["--hwe", str(p), "--write-snplist"], "hwe")
    state.samples = saved
    kept = set(read_id_list(f"{out}.snplist"))
    state.record(
        "hwe",
        variants_out={v: f"hwe_p<{p}_in_controls" for v in state.variants if v not in kept},
        note=f"tested in {len(in_controls)} controls",
    )


def _freq_args(state: QcState, name: str) -> list[str]:
    """--read-freq for plink2 steps that need frequencies when samples are few."""
    if len(state.samples) >= MIN_SAMPLES_FOR_FREQ:
        return []
    out = state.plink(state.filter_args() + ["--freq"], f"{name}_freq")
    return ["--read-freq", f"{out}.afreq"]


def _prune(state: QcState, prune: list) -> list[str]:
    window, step, r2 = (str(x) for x in prune)
    out = state.plink(state.filter_args() + ["--indep-pairwise", window, step, r2], "prune")
    pruned = read_id_list(f"{out}.prune.in")
    if not pruned:
        raise InputError(state.fileset.bed_path, "no variants left after LD pruning")
    return pruned


def _heterozygosity(state: QcState, pruned: list[str], het_sd: float) -> None:
    saved, pruned_set = state.variants, set(pruned)
    state.variants = [v for v in saved if v in pruned_set]
    out = state.plink(state.filter_args() + ["--het"] + _freq_args(state, "het"), "het")
    state.variants = saved
    het = pd.read_csv(f"{out}.het", sep="\t", dtype={"IID": str})
    f = het["F"].to_numpy(float)
    mean, sd = f.mean(), f.std(ddof=1)
    out_mask = np.abs(f - mean) > het_sd * sd
    state.het = het
    state.record(
        "heterozygosity",
        samples_out={
            iid: f"F={fv:.4f} outside mean {mean:.4f} +/- {het_sd} SD ({sd:.4f})"
            for iid, fv in zip(het["IID"][out_mask], f[out_mask], strict=True)
        },
        note=f"{len(pruned)} pruned variants; mean F {mean:.4f}, SD {sd:.4f}",
    )


def _relatedness(state: QcState, pruned: list[str] | None, cutoff: float) -> None:
    saved = state.variants
    if pruned is not None:
        pruned_set = set(pruned)
        state.variants = [v for v in saved if v in pruned_set]
    out = state.plink(state.filter_args() + ["--king-cutoff", str(cutoff)], "king")
    state.variants = saved
    dropped = read_id_list(f"{out}.king.cutoff.out.id")
    state.record(
        "relatedness",
        samples_out={s: f"duplicate_or_related (KING kinship > {cutoff})" for s in dropped},
    )


def run_qc_steps(
    fileset: PlinkFileset,
    work: Path,
    log_dir: Path,
    settings: dict,
    controls: list[str] | None,
    threads: int = 1,
) -> QcState:
    """Run every QC step in order; return the final state (kept IDs, removal records)."""
    s = {**QC_DEFAULTS, **settings}
    state = QcState(
        fileset,
        work,
        log_dir,
        threads,
        samples=list(fileset.fam["IID"]),
        variants=list(fileset.bim["ID"]),
    )
    _survivors_filter(
        state,
        "variant_missingness",
        ["--geno", str(s["geno"])],
        "variants",
        f"missing_rate>{s['geno']}",
    )
    _survivors_filter(
        state,
        "sample_missingness",
        ["--mind", str(s["mind"])],
        "samples",
        f"missing_rate>{s['mind']}",
    )
    _sex_check(state)
    _survivors_filter(state, "maf", ["--maf", str(s["maf"])], "variants", f"maf<{s['maf']}")
    _hwe(state, s["hwe"], controls if s["hwe_controls_only"] else None)
    pruned = _prune(state, s["prune"])
    _heterozygosity(state, pruned, float(s["het_sd"]))
    _relatedness(state, pruned if s["king_on_pruned"] else None, float(s["king_cutoff"]))
    if not state.samples or not state.variants:
        raise InputError(fileset.bed_path, "QC removed every sample or every variant")
    return state


def summary_table(state: QcState) -> pd.DataFrame:
    """Per-step counts, one row per step, in the order run."""
    return pd.DataFrame(state.summary)[SUMMARY_COLUMNS]
