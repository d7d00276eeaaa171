"""Every job-running rule names a conda env that holds what its script imports; env pins
agree with pyproject.toml."""

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from workflow_helpers import REPO

# conda package name -> PyPI name, where they differ; None: not a Python package pin.
CONDA_TO_PYPI = {
    "pytorch": "torch",
    "python": None,
    "pip": None,
    "plink": None,
    "plink2": None,
    "c-compiler": None,  # builds the native kernels
}
ACTIONS = ("script:", "shell:", "run:", "wrapper:", "notebook:")


def _pyproject_pins():
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    pins = {}
    for req in reqs:
        name, sep, version = req.partition("==")
        assert sep, f"pyproject.toml: {req!r} is not an exact pin"
        pins[name.lower()] = version
    return pins


def _rule_blocks():
    for path in sorted((REPO / "rules").glob("*.smk")):
        text = path.read_text()
        for match in re.finditer(r"^rule (\w+):\n((?:[ \t]+.*\n|\n)*)", text, re.M):
            yield path, match.group(1), match.group(2)


def _env_deps(path):
    env = yaml.safe_load(path.read_text())
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep.get("pip", []):
                name, sep, version = pip_dep.partition("==")
                yield name, version if sep else None, "pip"
        else:
            name, _, version = dep.partition("=")
            yield name, version or None, "conda"


def test_every_job_rule_has_an_existing_conda_env():
    checked = 0
    for path, rule, body in _rule_blocks():
        if not any(a in body for a in ACTIONS):
            continue  # target rules run no job
        env = re.search(r"conda:\n\s+\"([^\"]+)\"", body)
        assert env, f"{path.name}: rule {rule} has no conda: env"
        assert (path.parent / env.group(1)).resolve().exists(), f"rule {rule}: {env.group(1)}"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("env", sorted(p.name for p in (REPO / "envs").glob("*.yaml")))
def test_env_pins_are_exact_and_agree_with_pyproject(env):
    pins = _pyproject_pins()
    compared = 0
    for name, version, kind in _env_deps(REPO / "envs" / env):
        assert version, f"envs/{env}: {name} is not pinned"
        assert "*" not in version and "<" not in version and ">" not in version
        pypi = CONDA_TO_PYPI.get(name, name) if kind == "conda" else name
        if pypi is None or pypi.lower() not in pins:
            continue
        assert version == pins[pypi.lower()], (
            f"envs/{env}: {name}={version}, pyproject {pins[pypi.lower()]}"
        )
        compared += 1
    assert compared >= 3, f"envs/{env} shares too few pins with pyproject.toml"


def test_python_env_pins_cover_what_the_library_imports():
    pins = _pyproject_pins()
    for pkg in ("torch", "snakemake", "pandas-plink-ng", "nilearn", "msprime", "numpy"):
        assert pkg in pins


def _module_file(module: str) -> Path | None:
    path = REPO / Path(*module.split("."))
    for candidate in (path / "__init__.py", path.with_suffix(".py")):
        if candidate.exists():
            return candidate
    return None


def _third_party_imports(script: Path) -> set[str]:
    """Top-level third-party modules imported by a script and the neuropathx code it uses."""
    seen, todo, found = set(), [script], set()
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "neuropathx":
                    parts = name.split(".")
                    todo += [f for i in range(1, len(parts) + 1)
                             if (f := _module_file(".".join(parts[:i])))]  # fmt: skip
                elif (script.parent / f"{top}.py").exists():  # a helper beside the scripts
                    todo.append(script.parent / f"{top}.py")
                elif top not in sys.stdlib_module_names:
                    found.add(top)
    return found


def test_every_rule_env_holds_what_its_script_imports():
    """Under --use-conda a job sees only its env: a module it imports must be in it."""
    distributions = importlib.metadata.packages_distributions()
    pypi_to_conda = {v: k for k, v in CONDA_TO_PYPI.items() if v}
    checked = 0
    for path, rule, body in _rule_blocks():
        script = re.search(r'script:\n\s+"([^"]+)"', body)
        env = re.search(r'conda:\n\s+"([^"]+)"', body)
        if not script:
            continue
        in_env = {name.lower() for name, _, _ in _env_deps((path.parent / env.group(1)).resolve())}
        for module in _third_party_imports((path.parent / script.group(1)).resolve()):
            for dist in distributions.get(module, [module]):
                name = pypi_to_conda.get(dist.lower(), dist.lower())
                assert name in in_env, (
                    f"rule {rule}: imports {module} ({dist}), not in {env.group(1)}"
                )
        checked += 1
    assert checked >= 10
