"""Emulate what a `snakemake --use-conda` job sees, without conda (no channel is reachable here).

For each ``envs/*.yaml`` we build a virtual environment that holds exactly that env's packages
at its pins (their PyPI names where conda's differ, plus the dependencies pip resolves for
them, as conda's solver would add its own), without the project and without the host's
site-packages (``python -m venv`` without ``--system-site-packages``). Tools the env declares
(PLINK) are linked into the env's ``bin/`` under the names the conda packages install.

Environments are cached under ``$NEUROPATHX_ENV_CACHE`` (default ``~/.cache/neuropathx-envs``),
one folder per env file, keyed by a hash of the file's text, the host Python and this
module's mapping, so a repeated run reuses them and a changed pin rebuilds only that env.

``conda_emulation_snakemake.py`` then runs the real Snakemake with each rule's script executed
by the interpreter of the env its rule names (see that file for how Snakemake's own
fallback to the host's site-packages is removed).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

# conda package -> PyPI distribution where the names differ.
CONDA_TO_PYPI = {"pytorch": "torch", "pytorch-cpu": "torch", "pytorch-gpu": "torch"}
# conda packages that are not Python distributions: the host tool that stands in for them
# (bin name in the env -> host executables tried in order), or () when nothing is linked.
CONDA_TOOLS = {
    "python": {},
    "c-compiler": {},  # the host's cc is on PATH; the kernels build with it
    "plink2": {"plink2": ("plink2",)},
    "plink": {"plink": ("plink1.9", "plink")},  # bioconda's plink installs `plink`
}
EMULATION_VERSION = "1"  # bump to rebuild every cached env


class EnvBuildError(RuntimeError):
    """An emulated env could not be built (a pin pip cannot install, a tool missing)."""


@dataclass(frozen=True)
class CondaEnvSpec:
    """One envs/*.yaml: its path, Python pin, Python requirements and declared tools."""

    path: Path
    python: str | None
    requirements: tuple[str, ...]
    tools: tuple[str, ...]
    build_strings: dict

    @property
    def key(self) -> str:
        text = self.path.read_text()
        digest = hashlib.sha256(
            "\n".join(
                [text, EMULATION_VERSION, platform.python_version(), repr(CONDA_TO_PYPI)]
            ).encode()
        )
        return f"{self.path.stem}-{digest.hexdigest()[:16]}"


def read_env(path: str | Path) -> CondaEnvSpec:
    """Parse a conda env file into the PyPI requirements the emulation installs."""
    path = Path(path).resolve()
    env = yaml.safe_load(path.read_text())
    python, reqs, tools, builds = None, [], [], {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):  # a pip: section installs from PyPI in conda too
            reqs += list(dep.get("pip", []))
            continue
        name, _, rest = dep.partition("=")
        version, _, build = rest.partition("=")
        if not version:
            raise EnvBuildError(f"{path.name}: {name} has no version pin")
        if build:
            builds[name] = build
        if name == "python":
            python = version
        elif name in CONDA_TOOLS:
            tools.append(name)
        else:
            reqs.append(f"{CONDA_TO_PYPI.get(name, name)}=={version}")
    return CondaEnvSpec(path, python, tuple(reqs), tuple(tools), builds)


def cache_root() -> Path:
    default = Path.home() / ".cache" / "neuropathx-envs"
    return Path(os.environ.get("NEUROPATHX_ENV_CACHE", default))


def env_python(prefix: Path) -> Path:
    return prefix / "bin" / "python"


def _link_tools(spec: CondaEnvSpec, prefix: Path) -> dict:
    """Put the host tools the env declares in its bin/ under the conda package's names.

    Small exec scripts rather than symlinks: Debian's plink2 is a dispatcher that finds its
    binaries relative to its own path. Redone at every use, so a changed host tool is seen.
    """
    linked = {}
    for tool in spec.tools:
        for bin_name, candidates in CONDA_TOOLS[tool].items():
            found = next((shutil.which(c) for c in candidates if shutil.which(c)), None)
            if found is None:
                raise EnvBuildError(
                    f"{spec.path.name} declares {tool}; the emulation links the host's "
                    f"{' or '.join(candidates)} as bin/{bin_name}, but none is on PATH "
                    "(Debian/Ubuntu: sudo apt-get install plink1.9 plink2)"
                )
            exe = prefix / "bin" / bin_name
            exe.unlink(missing_ok=True)
            exe.write_text(f'#!/bin/sh\nexec {found} "$@"\n')
            exe.chmod(0o755)
            out = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
            version = next(iter((out.stdout or out.stderr).strip().splitlines()), "")
            linked[bin_name] = {"host": found, "version": version}
    (prefix / "neuropathx-tools.json").write_text(json.dumps(linked, indent=1))
    return linked


def _check_python(spec: CondaEnvSpec) -> None:
    host = ".".join(platform.python_version_tuple()[:2])
    if (
        spec.python
        and spec.python != host
        and not platform.python_version().startswith(spec.python + ".")
    ):
        raise EnvBuildError(
            f"{spec.path.name} pins python={spec.python}; the emulation builds envs with "
            f"the host interpreter, Python {platform.python_version()}"
        )


def build_env(path: str | Path, root: Path | None = None) -> Path:
    """The cached emulated env of one env file (built on first use); returns its prefix."""
    spec = read_env(path)
    _check_python(spec)
    root = root or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    prefix = root / spec.key
    with open(root / f"{spec.key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs never build one env twice
        if (prefix / "neuropathx-env.json").exists():
            _link_tools(spec, prefix)
            return prefix
        tmp = root / f"{spec.key}.building"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(prefix, ignore_errors=True)  # a build that failed after its rename
        # The venv's python is a link to the host interpreter: after the rename below it
        # still finds its own site-packages (pyvenv.cfg sits beside bin/).
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp)], check=True)
        cmd = [sys.executable, "-m", "pip", "--python", str(env_python(tmp)), "install"]
        cmd += ["--quiet", "--no-input", "--disable-pip-version-check", *spec.requirements]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise EnvBuildError(
                f"{spec.path.name}: pip could not install {' '.join(spec.requirements)}:\n"
                + proc.stdout[-3000:]
                + proc.stderr[-3000:]
            )
        tmp.rename(prefix)
        _link_tools(spec, prefix)
        own_path = subprocess.run(
            [str(env_python(prefix)), "-I", "-c", "import sys, json; print(json.dumps(sys.path))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        record = {
            "env_file": str(spec.path),
            "requirements": list(spec.requirements),
            "build_strings": spec.build_strings,
            "sys_path": json.loads(own_path),
        }
        (prefix / "neuropathx-env.json").write_text(json.dumps(record, indent=1))
    return prefix


def build_envs(paths: list[str | Path], workers: int = 4) -> dict[str, Path]:
    """Build (or reuse) several envs at once: pip mostly waits on downloads and disk."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        prefixes = list(pool.map(build_env, paths))
    return {str(Path(path).resolve()): prefix for path, prefix in zip(paths, prefixes, strict=True)}


def env_record(prefix: Path) -> dict:
    """What an env holds: its requirements, interpreter sys.path and linked tools."""
    record = json.loads((prefix / "neuropathx-env.json").read_text())
    tools = prefix / "neuropathx-tools.json"
    record["tools"] = json.loads(tools.read_text()) if tools.exists() else {}
    return record


def main(argv: list[str]) -> None:
    """Build (or reuse) the emulated envs of the given env files; print seconds per env."""
    import time

    paths = argv or sorted(str(p) for p in Path("envs").glob("*.yaml"))
    start = time.perf_counter()
    for path, prefix in build_envs(paths).items():
        print(f"{path}: {prefix}", flush=True)
    print(json.dumps({"envs": len(paths), "build_seconds": round(time.perf_counter() - start, 1)}))


if __name__ == "__main__":
    main(sys.argv[1:])
