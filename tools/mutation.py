"""Mutation testing, one module at a time, with mutmut (`make mutation`).

For each module in tests/mutation/modules.toml: copy the tracked files of the checkout to a
scratch directory, configure mutmut there to mutate only that module and to run only the test
files listed for it, run it, and collect the verdict of every mutant. Mutants listed in
tests/mutation/equivalents.toml (with a reason) count as equivalent, not as survivors.
Writes tests/mutation/SUMMARY.md (per module: killed, survived, equivalent, timeouts,
runtime); the last line printed is one JSON object with the same figures.

    python tools/mutation.py                      # every module in modules.toml
    python tools/mutation.py neuropathx/splits.py # one module
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUTATION_DIR = ROOT / "tests" / "mutation"
KILLED = {"killed", "timeout", "segfault", "suspicious"}  # a test noticed the change


def tracked_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    return [f for f in out.stdout.splitlines() if (ROOT / f).is_file()]


def scratch_copy(module: str, tests: list[str]) -> Path:
    """A copy of the checkout whose pyproject.toml configures mutmut for ``module``."""
    work = Path(tempfile.mkdtemp(prefix="npx-mutation-"))
    for f in tracked_files():
        (work / f).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / f, work / f)
    lines = [
        "",
        "[tool.mutmut]",
        'source_paths = ["neuropathx"]',
        'also_copy = ["schemas", "config"]',  # tests compare defaults with the schema
        f"only_mutate = [{json.dumps(module)}]",
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}",
        'pytest_add_cli_args = ["-x", "-q", "-p", "no:cacheprovider"]',
        'process_isolation = "forkserver"',  # torch is not fork-safe after pytest imported it
        "use_git_change_detection = false",
        "",
    ]
    with open(work / "pyproject.toml", "a") as fh:
        fh.write("\n".join(lines))
    return work


def mutant_verdicts(work: Path) -> dict[str, str]:
    """mutant name -> status, from `mutmut results --all true`."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work, check=True,
        capture_output=True, text=True,
    )  # fmt: skip
    verdicts = {}
    for line in out.stdout.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            verdicts[name] = status.strip()
    return verdicts


def run_module(module: str, tests: list[str], children: int, only: list[str] | None = None) -> dict:
    """Mutate ``module`` (only the mutants named in ``only``, if given); its verdicts."""
    work = scratch_copy(module, tests)
    # The venv's editable install would import the unmutated checkout; PYTHONPATH must win,
    # and must exist before Python starts (a missing path entry is cached as "no finder").
    (work / "mutants").mkdir()
    env = dict(os.environ, PYTHONPATH=str(work / "mutants"), CI="")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *(only or [])],
        cwd=work, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"mutmut failed on {module} (scratch copy kept in {work})")
    verdicts = mutant_verdicts(work)
    if only is not None:
        verdicts = {n: verdicts[n] for n in only if n in verdicts}
    changes = {n: mutant_change(work, n) for n, s in verdicts.items() if s not in KILLED}
    shutil.rmtree(work, ignore_errors=True)
    return {
        "module": module, "tests": tests, "seconds": round(seconds), "verdicts": verdicts,
        "changes": changes,
    }  # fmt: skip


def mutant_change(work: Path, name: str) -> str:
    """The changed line of a mutant, as ``- old  + new`` (from `mutmut show`)."""
    out = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", name], cwd=work, capture_output=True, text=True
    ).stdout
    lines = [ln for ln in out.splitlines() if ln[:1] in "-+" and ln[:3] not in ("---", "+++")]
    return "  ".join(" ".join(ln.split()) for ln in lines)


def summarise(result: dict, equivalents: dict[str, str], before: dict | None = None) -> dict:
    """Figures of one module; ``before``: the row of a full run whose survivors were rerun
    (mutants killed then stay killed: tests are only ever added; equivalents of that row not
    rerun, and still listed, stay equivalent)."""
    verdicts = result["verdicts"]
    carried = [n for n in (before or {}).get("equivalents", {}) if n not in verdicts]
    equivalent = sorted({*(n for n in verdicts if n in equivalents), *carried} & set(equivalents))
    killed = sorted(n for n, s in verdicts.items() if s in KILLED and n not in equivalents)
    survived = sorted(n for n, s in verdicts.items() if s not in KILLED and n not in equivalents)
    killed_before = before["killed"] if before else 0
    considered = killed_before + len(killed) + len(survived)
    return {
        "module": result["module"],
        "mutants": before["mutants"] if before else len(verdicts),
        "killed": killed_before + len(killed),
        "survived": len(survived),
        "equivalent": len(equivalent),
        "killed_pct": (
            round(100 * (killed_before + len(killed)) / considered, 1) if considered else 100.0
        ),
        "seconds": before["seconds"] if before else result["seconds"],
        "rerun_seconds": result["seconds"] if before else None,
        "survivors": {n: result["changes"].get(n, verdicts[n]) for n in survived},
        "equivalents": {n: equivalents[n] for n in equivalent},
        "tests": result["tests"],
    }


def rerun(row: dict) -> str:
    return f" (+{row['rerun_seconds']} s)" if row.get("rerun_seconds") else ""


def write_summary(rows: list[dict], path: Path) -> None:
    old = {}
    if path.with_suffix(".json").exists():
        old = {r["module"]: r for r in json.loads(path.with_suffix(".json").read_text())}
    old.update({r["module"]: r for r in rows})
    rows = [old[m] for m in sorted(old)]
    path.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")
    out = [
        "# Mutation testing summary",
        "",
        "Written by `make mutation` (tools/mutation.py, mutmut 3.8.1); do not edit by hand.",
        "Killed % counts killed / (killed + survived); equivalent mutants (same behaviour as the",
        "original, reasons below and in equivalents.toml) are left out of it.",
        "",
        "Runtime: the full run (then the rerun of its survivors after new tests), one worker,",
        "on the shared 2-core machine under load.",
        "",
        "| module | tests run | mutants | killed | survived | equivalent | killed % | runtime |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| `{r['module']}` | {', '.join(Path(t).name for t in r['tests'])} | {r['mutants']} "
            f"| {r['killed']} | {r['survived']} | {r['equivalent']} | {r['killed_pct']} "
            f"| {r['seconds']} s{rerun(r)} |"
        )
    for r in rows:
        if r["survivors"] or r["equivalents"]:
            out += ["", f"## `{r['module']}`", ""]
            out += [f"- survived: `{n}`: `{s}`" for n, s in r["survivors"].items()]
            out += [f"- equivalent: `{n}`: {why}" for n, why in r["equivalents"].items()]
    path.write_text("\n".join(out) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all listed)")
    parser.add_argument("--children", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument(
        "--survivors", action="store_true",
        help="rerun only the survivors and equivalents of the last full run (after new tests)",
    )  # fmt: skip
    parser.add_argument(
        "--skip-equivalents", action="store_true",
        help="with --survivors: rerun the survivors only, keeping the listed equivalents "
        "(each equivalent runs every test that covers it: slow where those train models)",
    )  # fmt: skip
    args = parser.parse_args()
    summary_json = MUTATION_DIR / "SUMMARY.json"
    previous = {}
    if summary_json.exists():
        previous = {r["module"]: r for r in json.loads(summary_json.read_text())}
    table = tomllib.loads((MUTATION_DIR / "modules.toml").read_text())["modules"]
    equivalents_file = MUTATION_DIR / "equivalents.toml"
    equivalents = tomllib.loads(equivalents_file.read_text()) if equivalents_file.exists() else {}
    unknown = [m for m in args.modules if m not in table]
    if unknown:
        raise SystemExit(f"not in tests/mutation/modules.toml: {unknown}")
    rows = []
    for module in args.modules or list(table):
        before = previous.get(module) if args.survivors else None
        if args.survivors and before is None:
            raise SystemExit(f"{module}: no full run in {summary_json} to take survivors from")
        only = None
        if before:
            equivalents_too = [] if args.skip_equivalents else before["equivalents"]
            only = [*before["survivors"], *equivalents_too]
        if only == []:
            continue
        result = run_module(module, table[module]["tests"], args.children, only)
        row = summarise(result, equivalents.get(module, {}), before)
        print(
            f"{module}: {row['killed']} killed, {row['survived']} survived, "
            f"{row['equivalent']} equivalent of {row['mutants']} ({row['seconds']} s)",
            flush=True,
        )
        rows.append(row)
        write_summary([row], MUTATION_DIR / "SUMMARY.md")  # merged with earlier modules' rows
    figures = {r["module"]: {k: r[k] for k in ("killed", "survived", "equivalent", "seconds")}
               for r in rows}  # fmt: skip
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
