"""Run Snakemake so that every rule's script runs in its emulated conda env (see conda_emulation).

Usage: python conda_emulation_snakemake.py SNAKEMAKE_ARGS...  (env prefixes come from the
NEUROPATHX_EMULATED_ENVS variable: a JSON object, env file path -> env prefix).

Two things differ from a plain run, both patched on Snakemake's PythonScript class:

1. The script runs with ``<env>/bin/python -I`` and ``<env>/bin`` first on PATH, as a conda
   job runs the env's ``python`` after ``conda activate``; ``-I`` also drops PYTHONPATH.
2. Snakemake's preamble appends the launching interpreter's whole ``sys.path`` (its
   site-packages, the editable install of the project, PYTHONPATH entries) so that it can
   unpickle its ``snakemake`` object; under real conda that fallback quietly supplies any
   package an env forgot. Right after the preamble we remove those host entries from
   ``sys.path`` and forget every non-Snakemake module loaded from them, so the script sees
   only its env (and the folder Snakemake adds for local imports, workflow_scripts/).

(NEUROPATHX_EMULATION_HOST_FALLBACK=1 keeps Snakemake's fallback, to show what it hides.)
A script that imports a package its env lacks fails with ModuleNotFoundError; the wrapper
turns that into a message naming the rule, the script, the package and the env file, and
appends it to ``conda_emulation_failures.txt`` in the working directory.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

import snakemake.rules
import snakemake.script
from snakemake.common import get_snakemake_searchpaths
from snakemake.exceptions import WorkflowError

ENVS = {
    str(Path(k).resolve()): v for k, v in json.loads(os.environ["NEUROPATHX_EMULATED_ENVS"]).items()
}
FAILURES = Path("conda_emulation_failures.txt")
JOBS = Path("conda_emulation_jobs.tsv")  # rule, env file, interpreter: one line per job
RULE_ENVS: dict = {}  # rule name -> (rule, its conda: value), recorded as the Snakefile is parsed

_conda_env = snakemake.rules.Rule.conda_env


def _record_env(rule, conda_env):
    _conda_env.fset(rule, conda_env)
    RULE_ENVS[rule.name] = (rule, conda_env)


snakemake.rules.Rule.conda_env = property(_conda_env.fget, _record_env)


def _env_of(rulename: str) -> tuple[str, Path]:
    """The env file a rule names (relative to its rule file, as Snakemake reads it), and its env."""
    env_file = None
    if rulename in RULE_ENVS:
        rule, conda_env = RULE_ENVS[rulename]
        rule_dir = Path(rule.basedir.get_path_or_uri(secret_free=True))
        env_file = str((rule_dir / str(conda_env)).resolve())
    if env_file is None or env_file not in ENVS:
        raise WorkflowError(f"conda emulation: rule {rulename} names no emulated env ({env_file})")
    return env_file, Path(ENVS[env_file])


def _guard(prefix: Path) -> str:
    own = json.loads((prefix / "neuropathx-env.json").read_text())["sys_path"]
    host = [p for p in get_snakemake_searchpaths() if p not in own]
    return (
        "\n######## conda emulation: the job sees its env only ########\n"
        f"_host = {host!r}\n"
        "sys.path[:] = [p for p in sys.path if p not in _host]\n"
        "for _name, _mod in list(sys.modules.items()):\n"
        "    _file = getattr(_mod, '__file__', None) or ''\n"
        "    if not _name.startswith('snakemake') and any(\n"
        "        _file.startswith(h.rstrip('/') + '/') for h in _host\n"
        "    ):\n"
        "        del sys.modules[_name]\n"
        "del _host, _name, _mod, _file\n"
    )


_get_preamble = snakemake.script.PythonScript.get_preamble


def get_preamble(self):
    _, prefix = _env_of(self.rulename)
    if os.environ.get("NEUROPATHX_EMULATION_HOST_FALLBACK") == "1":  # Snakemake's own behaviour
        return _get_preamble(self)
    return _get_preamble(self) + _guard(prefix)


def execute_script(self, fname, edit=False):
    env_file, prefix = _env_of(self.rulename)
    with JOBS.open("a") as out:
        out.write(f"{self.rulename}\t{env_file}\t{prefix / 'bin' / 'python'}\n")
    stderr = Path(f"{fname}.stderr")
    # through Snakemake's shell(), so that benchmarks and resources work as in a real job
    command = (
        f'unset PYTHONPATH; export PATH={shlex.quote(str(prefix / "bin"))}:"$PATH"; '
        f"if {shlex.quote(str(prefix / 'bin' / 'python'))} -I {shlex.quote(fname)} "
        f"2> {shlex.quote(str(stderr))}; then rc=0; else rc=$?; fi; "
        f"cat {shlex.quote(str(stderr))} >&2; exit $rc"
    )
    try:
        self._execute_cmd("{command}", command=command)
    except Exception:
        errors = stderr.read_text() if stderr.exists() else ""
        raise WorkflowError(f"conda emulation: {_explain(self, env_file, errors)}") from None
    finally:
        stderr.unlink(missing_ok=True)


def _explain(script, env_file: str, errors: str) -> str:
    """One line naming rule, script and env; the missing package when that is what failed."""
    missing = re.findall(r"ModuleNotFoundError: No module named '([^']+)'", errors)
    name = Path(str(script.path.get_path_or_uri(secret_free=True))).name
    env = Path(env_file).name
    if missing:
        message = (
            f"rule {script.rulename}: script {name} imports {missing[-1].split('.')[0]!r}, "
            f"which its env {env} does not provide; add the package to envs/{env} "
            "(and pyproject.toml)"
        )
    else:
        message = f"rule {script.rulename}: script {name} failed in env {env}:\n{errors[-3000:]}"
    with FAILURES.open("a") as out:
        out.write(message + "\n")
    return message


snakemake.script.PythonScript.get_preamble = get_preamble
snakemake.script.PythonScript.execute_script = execute_script

if __name__ == "__main__":
    from snakemake.cli import main

    sys.argv = ["snakemake", *sys.argv[1:]]
    main()
