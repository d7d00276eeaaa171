"""Same bits on every x86-64 machine: kernels at every ISA level, pinned PyTorch dispatch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from neuropathx import cpu_dispatch
from neuropathx.models import native_kernel
from neuropathx.reproducibility import CheckFold, compare_builds

LEVELS = native_kernel.available_levels()
needs_kernels = pytest.mark.skipif(
    native_kernel.load() is None, reason=f"C kernels unavailable: {native_kernel.build_error()}"
)


@pytest.fixture
def each_level():
    """Yields the levels; the default level is restored after (builds stay cached)."""
    yield LEVELS
    native_kernel.set_isa_level(None)


def _kernel_outputs() -> list[torch.Tensor]:
    """Every kernel's outputs and gradients on random inputs of awkward sizes (regions and
    rows not multiples of 8 lanes, three measures), with the current level's library."""
    g = torch.Generator().manual_seed(11)
    b, p, r, f1 = 19, 7, 13, 4
    qt, it = torch.randn(b, p, f1, generator=g), torch.randn(b, f1, r, generator=g) * 2
    v, (g_rows, g_fused) = torch.randn(b, r, generator=g), torch.randn(2, b, p, generator=g)
    outs = list(native_kernel.forward(qt, it, v, 0.9, -4.6, 1e-6, 1e6))
    outs += native_kernel.backward(qt, it, v, 0.9, -4.6, 1e-6, 1e6, g_rows, g_fused, 0.3)
    outs += native_kernel.backward(qt, it, v, 0.9, -4.6, 1e-6, 1e6, g_rows, g_fused, 0.0)
    rows, patient = torch.randn(37, 5, generator=g), torch.arange(37) % 3 == 0
    value, grad = native_kernel.pair_l1(rows, patient)
    outs += [torch.tensor([value]), grad]
    flat, weight = torch.randn(301, 3, generator=g), torch.randn(3, 8, generator=g)
    shift, w_out, g_out = (
        torch.randn(8, generator=g),
        torch.randn(8, generator=g),
        torch.randn(301, generator=g),
    )
    outs.append(native_kernel.value_mlp(flat, weight, shift, w_out, 0.2))
    outs += native_kernel.value_mlp_backward(flat, weight, shift, w_out, 0.2, g_out)
    x, kinks = torch.randn(50, generator=g), torch.randn(6, generator=g).sort().values
    table = torch.randn(13, 10, generator=g)
    out, piece = native_kernel.query_rows(x, kinks, table)
    outs += [out, native_kernel.query_rows_backward(x, piece, torch.randn(50, 5, generator=g), 13)]
    for k, width in ((40, 3), (70, 2), (5, 9)):  # blocks of 8 kinks; the plain loops
        kinks = torch.randn(k, generator=g).sort().values
        x = torch.cat([torch.randn(45, generator=g), kinks[::3]])
        table = torch.randn(2 * k + 1, 2 * width, generator=g)
        out, piece = native_kernel.query_rows(x, kinks, table)
        g_out = torch.randn(len(x), width, generator=g)
        outs += [out, piece, native_kernel.query_rows_backward(x, piece, g_out, 2 * k + 1, True)]
    outs.append(native_kernel.dropout_mask(torch.empty(1000), 0.5, seed=3))
    *fwd, saved = native_kernel.forward(qt, it, v, 0.9, -4.6, 1e-6, 1e6, save=True)
    outs += [*fwd, saved]
    args = (qt, it, v, 0.9, -4.6, 1e-6, 1e6, g_rows, g_fused, 0.3, False)
    outs += native_kernel.backward(*args, saved=saved)[::2]  # g_it is not computed
    h = torch.randn(37, 29, generator=g)
    outs += native_kernel.leaky_dropout(h, 0.2, 0.5, seed=5)
    outs.append(
        native_kernel.leaky_dropout_backward(torch.randn(37, 29, generator=g), h, outs[-1], 0.2)
    )
    return outs


@needs_kernels
def test_kernels_give_the_same_bits_at_every_isa_level(each_level):
    results, libraries = {}, {}
    for level in each_level:
        native_kernel.set_isa_level(level)
        assert native_kernel.isa_level() == level
        results[level] = _kernel_outputs()
        libraries[level] = Path(native_kernel.load()._name).name
    base = results[LEVELS[0]]
    for level, outs in results.items():
        for i, (a, b) in enumerate(zip(base, outs, strict=True)):
            assert torch.equal(a, b), f"output {i} differs between {LEVELS[0]} and {level}"
    # one library per level, named after it (the cache key holds the level and the flags)
    assert len(set(libraries.values())) == len(LEVELS)
    assert all(f"-{level}-" in name for level, name in libraries.items())


@needs_kernels
def test_the_sums_are_plain_float32_sums_in_lane_order():
    """pair_l1 of one patient against 11 controls: the lane order of npx_lanes.h, by hand."""
    rows = torch.tensor([[0.1], *[[1.0 + 0.37 * j] for j in range(11)]])
    patient = torch.tensor([True] + [False] * 11)
    value, _ = native_kernel.pair_l1(rows, patient)
    d = (rows[1:, 0] - rows[0, 0]).tolist()  # all positive: |diff| = diff
    lanes = [torch.tensor(d[i], dtype=torch.float32) for i in range(8)]
    for i in range(8, 11):
        lanes[i - 8] = lanes[i - 8] + torch.tensor(d[i], dtype=torch.float32)
    total = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + (
        (lanes[4] + lanes[5]) + (lanes[6] + lanes[7])
    )
    scale = float(torch.tensor(1 / 11, dtype=torch.float32))  # the kernel's float32 1/(n n)
    assert value == float(total) * scale


def test_an_unavailable_level_is_refused_with_the_choices(monkeypatch):
    with pytest.raises(ValueError, match="not available"):
        native_kernel.set_isa_level("x86-64-v9")
    monkeypatch.setenv("NEUROPATHX_KERNEL_ISA", "x86-64-v9")
    with pytest.raises(ValueError, match="NEUROPATHX_KERNEL_ISA"):
        native_kernel.isa_level()


def test_default_level_is_v3_at_most():
    level = native_kernel.isa_level()
    assert level in LEVELS
    assert level != "x86-64-v4"
    assert "-ffp-contract=off" in native_kernel.build_flags()
    assert not any("fast-math" in f or f == "-march=native" for f in native_kernel.build_flags())


def test_pin_sets_the_capability_unless_the_user_chose_one():
    env = {}
    assert cpu_dispatch.pin_cpu_dispatch(env) == {
        "ATEN_CPU_CAPABILITY": "default",
        "MKL_CBWR": "COMPATIBLE",
        "OPENBLAS_CORETYPE": cpu_dispatch.blas_coretype(),
    }
    env = {"ATEN_CPU_CAPABILITY": "avx2"}
    assert cpu_dispatch.pin_cpu_dispatch(env)["ATEN_CPU_CAPABILITY"] == "avx2"
    with pytest.raises(RuntimeError, match="before torch and numpy are imported"):
        cpu_dispatch.pin_cpu_dispatch()  # torch is imported in this process


def test_blas_coretype_follows_avx2():
    assert cpu_dispatch.blas_coretype({"sse4_2", "avx", "avx2", "fma"}) == "Haswell"
    assert cpu_dispatch.blas_coretype({"sse4_2", "avx"}) == "Nehalem"


def test_every_script_job_pins_blas_before_numpy():
    """``_neuropathx_path`` (every script's first import) sets OPENBLAS_CORETYPE before numpy
    loads OpenBLAS, so numpy's BLAS results are the same in local and Slurm jobs."""
    scripts = Path(__file__).resolve().parents[1] / "workflow_scripts"
    code = (
        "import _neuropathx_path, os, sys\n"
        "print(os.environ['OPENBLAS_CORETYPE'], 'numpy' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k not in cpu_dispatch.PINNED}
    env["PYTHONPATH"] = str(scripts)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [cpu_dispatch.blas_coretype(), "False"]
    for script in sorted(scripts.glob("[a-z]*.py")):
        first = next(
            ln for ln in script.read_text().splitlines() if ln.startswith(("import", "from"))
        )
        assert first.startswith("import _neuropathx_path"), script.name


def test_the_training_script_pins_pytorch_before_importing_it():
    """The job's first imports (as in workflow_scripts/train_neuropathx.py) pin the capability
    torch then runs with."""
    scripts = Path(__file__).resolve().parents[1] / "workflow_scripts"
    code = (
        "import _neuropathx_path, _pinned_cpu, json, torch\n"
        "from neuropathx.training.outputs import dispatch_info\n"
        "print(json.dumps(dispatch_info()))"
    )
    env = {k: v for k, v in os.environ.items() if k not in cpu_dispatch.PINNED}
    env["PYTHONPATH"] = str(scripts)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    info = json.loads(done.stdout.strip().splitlines()[-1])
    assert info["aten_cpu_capability"] == "DEFAULT"
    assert info["mkl_cbwr"] == "COMPATIBLE"
    assert info["openblas_coretype"] == cpu_dispatch.blas_coretype()
    head = (scripts / "train_neuropathx.py").read_text().split("\n\n")[1]
    assert head.splitlines()[:2] == [
        "import _neuropathx_path  # noqa: F401  (first: puts the checkout on sys.path)",
        "import _pinned_cpu  # noqa: F401  (before torch: the same CPU kernels on every machine)",
    ]


@needs_kernels
def test_a_tiny_fold_trains_to_the_same_bits_at_every_level(tmp_path):
    """bench/reproducibility.py on a tiny fold: one process per level, plus eager PyTorch."""
    fold = CheckFold(n=120, pathways=6, regions=13, epochs=3, seed=5)
    figures = compare_builds(fold, tmp_path, LEVELS)
    assert figures["identical_across_isa"] is True
    assert figures["levels"] == LEVELS
    # eager PyTorch sums in another order: not the same bits, and the rounding differences
    # grow over the epochs (tests/test_native_kernels.py compares single passes closely)
    assert 0 < figures["max_abs_diff_native_vs_eager"] < 0.2
