"""Every job-running rule names a conda env that holds what its script imports and nothing it
does not use; env pins agree with pyproject.toml and with envs/README.md (channel, evidence)."""

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
    "pytorch-cpu": "torch",
    "pytorch-gpu": "torch",
    "python": None,
    "pip": None,
    "plink": None,
    "plink2": None,
    "c-compiler": None,  # builds the native kernels
}
ACTIONS = ("script:", "shell:", "run:", "wrapper:", "notebook:")
# conda: directives that call a helper of rules/common.smk -> every env the helper may return
CONDA_HELPERS = {"train_env()": ("../envs/train.yaml", "../envs/train-gpu.yaml")}
# Where the newest release on the env's channel is older than the PyPI pin of pyproject.toml,
# the env pins the channel's release (envs/README.md has the evidence): pyproject -> env.
CHANNEL_LAGS = {
    "scikit-learn": ("1.9.1", "1.9.0"),
    "matplotlib": ("3.11.2", "3.11.0"),
    "msprime": ("1.4.4", "1.4.1"),
    "nibabel": ("5.4.2", "5.4.0"),
    "gseapy": ("1.3.1", "1.3.0"),
    "pyyaml": ("6.0.4", "6.0.3"),
}
# Non-Python packages an env may pin, and the library module that needs each.
TOOLS = {
    "plink": "neuropathx/genetics/plink_cli.py",
    "plink2": "neuropathx/genetics/plink_cli.py",
    "c-compiler": "neuropathx/models/native_kernel.py",
}
# Pinned for code another issue is adding (remove the entry once something imports it).
PLANNED = {"gseapy": ("analysis.yaml", "issue 13: gene-set enrichment in the report")}


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


def _rule_envs(path: Path, body: str) -> list[Path]:
    """The env files a rule may run in (a helper call lists every env it can choose)."""
    match = re.search(r"conda:\n\s+(.+)", body)
    if not match:
        return []
    spec = match.group(1).strip()
    names = CONDA_HELPERS.get(spec, (spec.strip('"'),))
    return [(path.parent / name).resolve() for name in names]


def test_every_job_rule_has_an_existing_conda_env():
    checked = 0
    for path, rule, body in _rule_blocks():
        if not any(a in body for a in ACTIONS):
            continue  # target rules run no job
        envs = _rule_envs(path, body)
        assert envs, f"{path.name}: rule {rule} has no conda: env"
        for env in envs:
            assert env.exists(), f"rule {rule}: {env}"
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
        expected = pins[pypi.lower()]
        if pypi.lower() in CHANNEL_LAGS:
            assert CHANNEL_LAGS[pypi.lower()][0] == expected, (
                f"pyproject pins {pypi}=={expected}: update CHANNEL_LAGS and envs/{env}"
            )
            expected = CHANNEL_LAGS[pypi.lower()][1]
        assert version == expected, f"envs/{env}: {name}={version}, expected {expected}"
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


def _imports_by_env() -> dict[Path, dict[str, set[str]]]:
    """env file -> {PyPI distribution imported -> scripts importing it}, over every rule."""
    distributions = importlib.metadata.packages_distributions()
    found: dict[Path, dict[str, set[str]]] = {}
    for path, _rule, body in _rule_blocks():
        script = re.search(r'script:\n\s+"([^"]+)"', body)
        if not script:
            continue
        script_path = (path.parent / script.group(1)).resolve()
        for env in _rule_envs(path, body):
            per_env = found.setdefault(env, {})
            for module in _third_party_imports(script_path):
                for dist in distributions.get(module, [module]):
                    per_env.setdefault(dist.lower(), set()).add(f"{script_path.name} ({module})")
    return found


def _env_names(env: Path) -> set[str]:
    """Distribution names an env provides (conda names mapped to PyPI's)."""
    return {
        (CONDA_TO_PYPI.get(name, name) or name).lower()
        for name, _, kind in _env_deps(env)
        if kind == "pip" or CONDA_TO_PYPI.get(name, name) is not None
    }


def test_every_rule_env_holds_what_its_script_imports():
    """Under --use-conda a job sees only its env: a module it imports must be in it."""
    found = _imports_by_env()
    assert len(found) >= 6  # every env file, the GPU one included
    for env, imports in found.items():
        provided = _env_names(env)
        for dist, scripts in imports.items():
            assert dist in provided, (
                f"{', '.join(sorted(scripts))} imports {dist}, not in envs/{env.name}"
            )


def test_no_env_pins_what_its_scripts_do_not_use():
    library = {p.relative_to(REPO).as_posix() for p in (REPO / "neuropathx").rglob("*.py")}
    for env, imports in _imports_by_env().items():
        for name, _version, kind in _env_deps(env):
            pypi = (CONDA_TO_PYPI.get(name, name) or name).lower() if kind == "conda" else name
            if name in ("python", "pip") or PLANNED.get(pypi, ("",))[0] == env.name:
                continue
            if name in TOOLS:
                assert TOOLS[name] in library, f"envs/{env.name}: {name} for {TOOLS[name]}"
                continue
            assert pypi in imports, (
                f"envs/{env.name} pins {name}, but no script run in it imports {pypi}: drop it"
            )


def _readme_table() -> dict[tuple[str, str], tuple[str, str]]:
    """envs/README.md pin table: (package, version) -> (channel, evidence)."""
    rows = {}
    for line in (REPO / "envs" / "README.md").read_text().splitlines():
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("package", "") and not set(cells[0]) <= {"-"}:
            rows[(cells[0], cells[1])] = (cells[2], cells[3])
    return rows


@pytest.mark.parametrize("env", sorted(p.name for p in (REPO / "envs").glob("*.yaml")))
def test_every_pin_has_its_channel_and_evidence_in_envs_readme(env):
    table = _readme_table()
    spec = yaml.safe_load((REPO / "envs" / env).read_text())
    channels = spec["channels"]
    assert channels[0] == "conda-forge", f"envs/{env}: conda-forge comes first"
    assert channels[-1] == "nodefaults" and channels.count("nodefaults") == 1
    for name, version, kind in _env_deps(REPO / "envs" / env):
        if kind == "pip" or name == "python":
            continue
        assert (name, version) in table, f"envs/{env}: {name}={version} not in envs/README.md"
        channel, evidence = table[(name, version)]
        assert channel in channels, f"envs/{env}: {name} comes from {channel}, not listed"
        assert evidence, f"envs/README.md: {name}={version} has no evidence"
    assert ("bioconda" in channels) == any(
        table.get((n, v), ("",))[0] == "bioconda" for n, v, _ in _env_deps(REPO / "envs" / env)
    ), f"envs/{env}: list bioconda exactly when a package comes from it"


def _common_helpers(training: dict) -> dict:
    """rules/common.smk's helpers, run with a config whose training section is given."""
    namespace = {"config": {"demo": {"enabled": True}, "training": training}}
    namespace.update(WorkflowError=RuntimeError, multiext=None, expand=None)
    exec(compile((REPO / "rules" / "common.smk").read_text(), "common.smk", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(
    ("training", "env"),
    [
        ({"device": "cpu", "gpus": 0}, "../envs/train.yaml"),
        ({"device": "auto", "gpus": 0}, "../envs/train.yaml"),
        ({"device": "auto", "gpus": 1}, "../envs/train-gpu.yaml"),
        ({"device": "cuda", "gpus": 0}, "../envs/train-gpu.yaml"),
    ],
)
def test_training_env_follows_the_gpu_request(training, env):
    assert _common_helpers(training)["train_env"]() == env
    assert env in CONDA_HELPERS["train_env()"]
