"""The C kernels of ``csrc/``: built at first use into one library, loaded with ctypes.

The shared library is compiled once per source, compiler, flags and instruction-set level into
a cache folder (``$NEUROPATHX_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/neuropathx`` or
``~/.cache/neuropathx``); concurrent jobs may build it at the same time (each writes its own
file, then renames it into place). Reproducible across machines: the level is a fixed,
documented one (x86-64-v3 where the CPU has it, else x86-64-v2, else baseline x86-64;
``$NEUROPATHX_KERNEL_ISA`` or :func:`set_isa_level` choose another), there is no
floating-point contraction or fast-math, and every reduction runs in the fixed lane order
of ``csrc/npx_lanes.h``, so all levels give the same bits (tests/test_reproducibility.py).
Without a C compiler :func:`load` returns ``None`` with the reason in :func:`build_error` and
the callers use the PyTorch passes instead. The attention
kernels split the batch over :func:`set_threads` threads (``training.threads``).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import torch

CSRC = Path(__file__).with_name("csrc")
SOURCES = sorted(CSRC.glob("*.c"))
HEADERS = sorted(CSRC.glob("*.h"))
FLAGS = [
    "-O3",
    "-funroll-loops",
    "-fopenmp-simd",  # `omp simd` on element-wise loops only: reductions are written out
    "-fno-math-errno",
    "-fno-trapping-math",
    "-ffp-contract=off",  # no fused multiply-add: a*b+c rounds twice on every ISA
    "-Wno-psabi",
    "-fPIC",
    "-shared",
]
# x86-64 micro-architecture levels (psABI) and the /proc/cpuinfo flags each one needs
X86_LEVELS = {
    "x86-64": ("sse2",),
    "x86-64-v2": ("cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"),
    "x86-64-v3": ("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"),
    "x86-64-v4": ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"),
}
DEFAULT_LEVEL = "x86-64-v3"  # the highest level chosen by default (v4 is no faster here)
_ERRORS: list[str] = []
_LEVEL: dict[str, str | None] = {"name": None}
MIN_CHUNK = 8  # subjects per thread at least (smaller batches run on one thread)
_THREADS = {"n": 1}

_I64, _F32, _PTR = ctypes.c_int64, ctypes.c_float, ctypes.c_void_p
_SIGNATURES = {  # name: (argument types, return type)
    "npx_attention_forward": ([_I64] * 4 + [_PTR] * 3 + [_F32] * 4 + [_PTR] * 4, ctypes.c_int),
    "npx_attention_backward": (
        [_I64] * 4 + [_PTR] * 3 + [_F32] * 4 + [_PTR] * 2 + [_F32] + [_PTR] * 4,
        ctypes.c_int,
    ),
    "npx_query_forward": ([_I64] * 3 + [_PTR] * 5, None),
    "npx_query_backward": ([_I64] * 4 + [_PTR] * 4, ctypes.c_int),
    "npx_pair_l1": ([_I64] * 2 + [_PTR] * 3, ctypes.c_double),
    "npx_value_forward": ([_I64] * 3 + [_PTR] * 4 + [_F32, _PTR], ctypes.c_int),
    "npx_value_backward": ([_I64] * 3 + [_PTR] * 4 + [_F32] + [_PTR] * 4, ctypes.c_int),
    "npx_dropout_mask": ([_I64, ctypes.c_uint64, _F32, _PTR], None),
    "npx_leaky_dropout": ([_I64, _PTR, _F32, ctypes.c_uint64, _F32, _PTR, _PTR], None),
    "npx_leaky_dropout_backward": ([_I64] + [_PTR] * 3 + [_F32, _PTR], None),
    "npx_centre": ([_I64] * 2 + [_PTR] * 3, None),
    "npx_image_factors": ([_I64] * 3 + [_PTR] * 2, None),
}


def cache_dir() -> Path:
    """Where built kernels are kept."""
    if os.environ.get("NEUROPATHX_KERNEL_CACHE"):
        return Path(os.environ["NEUROPATHX_KERNEL_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "neuropathx"


def _cpu_flags() -> set[str]:
    """The CPU feature flags of /proc/cpuinfo (empty where there is none)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return set()
    return {f for line in lines if line.startswith("flags") for f in line.split(":", 1)[1].split()}


def cpu_model() -> str:
    """The CPU model name (``/proc/cpuinfo``; else what ``platform`` says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def available_levels() -> list[str]:
    """The x86-64 levels this CPU can run, lowest first (``[""]`` off x86-64: the compiler's
    default target)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return [""]
    flags, levels = _cpu_flags(), []
    for level, needs in X86_LEVELS.items():
        if not flags.issuperset(needs):
            break
        levels.append(level)
    return levels or ["x86-64"]


def isa_level() -> str:
    """The level the kernels are built for: :func:`set_isa_level`, else
    ``$NEUROPATHX_KERNEL_ISA``, else the highest available up to :data:`DEFAULT_LEVEL`."""
    chosen = _LEVEL["name"] or os.environ.get("NEUROPATHX_KERNEL_ISA")
    levels = available_levels()
    if chosen:
        if chosen not in levels:
            raise ValueError(
                f"kernel ISA level {chosen!r} is not one this CPU can run ({levels}); "
                "set NEUROPATHX_KERNEL_ISA to one of them or unset it"
            )
        return chosen
    capped = [lv for lv in levels if lv in ("", "x86-64", "x86-64-v2", DEFAULT_LEVEL)]
    return capped[-1]


def set_isa_level(level: str | None) -> None:
    """Build and load the kernels for ``level`` from now on (None: the default)."""
    if level is not None and level not in available_levels():
        raise ValueError(f"kernel ISA level {level!r} not available: {available_levels()}")
    _LEVEL["name"] = level
    load.cache_clear()


def build_flags() -> list[str]:
    """The compiler flags of the current level's build."""
    level = isa_level()
    return FLAGS + ([f"-march={level}", "-mtune=generic"] if level else [])


def _compiler() -> str | None:
    return shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc") or shutil.which("clang")


def _build(compiler: str) -> Path:
    """Compile the kernel into the cache (or reuse a build of the same key); its path."""
    version = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
    source = b"\0".join(path.read_bytes() for path in SOURCES + HEADERS)
    flags = build_flags()
    key = hashlib.sha256(
        b"\0".join([source, " ".join(flags).encode(), version.encode(), isa_level().encode()])
    ).hexdigest()[:16]
    target = cache_dir() / f"neuropathx_kernels-{isa_level() or 'default'}-{key}.so"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    done = subprocess.run(
        [compiler, *flags, f"-I{CSRC}", *map(str, SOURCES), "-o", tmp],
        capture_output=True,
        text=True,
    )
    if done.returncode == 0:
        os.replace(tmp, target)
        return target
    os.unlink(tmp)
    raise RuntimeError(f"{compiler} {' '.join(flags)}: {done.stderr.strip()[-500:]}")


def build_info() -> dict:
    """What the kernels run as, for metrics.json: level, flags, compiler, CPU model."""
    compiler = _compiler()
    version = ""
    if compiler:
        out = subprocess.run([compiler, "--version"], capture_output=True, text=True).stdout
        version = out.splitlines()[0] if out else ""
    return {
        "isa_level": isa_level() or "compiler default",
        "flags": " ".join(build_flags()),
        "compiler": version,
        "built": load() is not None,
        "cpu_model": cpu_model(),
    }


@cache
def load() -> ctypes.CDLL | None:
    """The kernel library, built if needed; None (reason in :func:`build_error`) if it can't.
    Built or found once per process."""
    return build_and_load()


def build_and_load() -> ctypes.CDLL | None:
    """:func:`load` without the per-process memo."""
    compiler = _compiler()
    if compiler is None:
        _ERRORS.append("no C compiler found (set CC, or install gcc / clang)")
        return None
    try:
        lib = ctypes.CDLL(str(_build(compiler)))
    except (OSError, RuntimeError, subprocess.SubprocessError) as error:
        _ERRORS.append(f"building the C kernels failed: {error}")
        return None
    for name, (argtypes, restype) in _SIGNATURES.items():
        getattr(lib, name).argtypes = argtypes
        getattr(lib, name).restype = restype
    _ERRORS.clear()  # an earlier failure no longer applies
    return lib


def build_error() -> str | None:
    """Why :func:`load` returned None (None if it did not, or was not called)."""
    return _ERRORS[-1] if _ERRORS else None


def supports(*tensors: torch.Tensor) -> bool:
    """True when the kernel can take these tensors (CPU float32) and it is built."""
    ok = all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors)
    return ok and load() is not None


def _ptr(t: torch.Tensor) -> int:
    return t.data_ptr()


def set_threads(n: int) -> None:
    """Threads the attention kernels split a batch over (default 1)."""
    if n < 1:
        raise ValueError(f"kernel threads must be >= 1, got {n}")
    _THREADS["n"] = int(n)


def _subject_chunks(n: int) -> list[slice]:
    """Contiguous chunks of the batch, one per kernel thread (:func:`set_threads`)."""
    threads = min(_THREADS["n"], n // MIN_CHUNK)
    bounds = [n * i // max(threads, 1) for i in range(max(threads, 1) + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _over_subjects(call, n: int, what: str) -> None:
    """Run ``call(chunk)`` for every chunk of subjects, on threads when there are several
    (ctypes releases the GIL during the call). Subjects are independent in the attention
    kernels, so the result is the same bits whatever the number of threads."""
    chunks = _subject_chunks(n)
    if len(chunks) == 1:
        statuses = [call(chunks[0])]
    else:
        statuses = list(_pool(len(chunks)).map(call, chunks))
    if any(statuses):
        raise MemoryError(f"{what} kernel: out of memory")


@cache
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="neuropathx-kernel")


def forward(qt, it, v, k: float, logit_rho: float, lo: float, hi: float, save: bool = False):
    """Row sums, fused ``A V`` and per-row KL (each (B, P)) from the factors, in one pass.

    ``save=True`` also returns A and ∂KL/∂A of every entry, (B, P, 2, R rounded up to 8),
    for :func:`backward` (which then need not recompute them: same bits, a faster pass)."""
    qt, it, v = qt.contiguous(), it.contiguous(), v.contiguous()
    b, p, f1 = qt.shape
    r = it.shape[2]
    rows, fused, kl_rows = (qt.new_empty(b, p) for _ in range(3))
    saved = qt.new_empty(b, p, 2, -(-r // 8) * 8) if save else None

    def call(s: slice) -> int:
        return load().npx_attention_forward(
            s.stop - s.start, p, r, f1, _ptr(qt[s]), _ptr(it[s]), _ptr(v[s]),
            k, logit_rho, lo, hi, _ptr(rows[s]), _ptr(fused[s]), _ptr(kl_rows[s]),
            _ptr(saved[s]) if save else None,
        )  # fmt: skip

    _over_subjects(call, b, "attention")
    return (rows, fused, kl_rows, saved) if save else (rows, fused, kl_rows)


def backward(
    qt, it, v, k: float, logit_rho: float, lo: float, hi: float, g_rows, g_fused, g_kl,
    need_it: bool = True, saved: torch.Tensor | None = None,
):  # fmt: skip
    """Gradients for qt, it and v, recomputing A (and ∂KL/∂A) from the factors, or reading
    them from ``saved`` (:func:`forward` with ``save=True``, same inputs); with
    ``need_it=False`` the gradient for it is None and not computed (a faster pass)."""
    qt, it, v = qt.contiguous(), it.contiguous(), v.contiguous()
    g_rows, g_fused = g_rows.contiguous(), g_fused.contiguous()
    b, p, f1 = qt.shape
    r = it.shape[2]
    g_qt, g_v = torch.empty_like(qt), torch.empty_like(v)
    g_it = torch.empty_like(it) if need_it else None
    g_kl = float(g_kl)
    if saved is not None and (saved.shape[:3] != (b, p, 2) or not saved.is_contiguous()):
        raise ValueError(f"saved attention of shape {tuple(saved.shape)} for ({b}, {p}) rows")

    def call(s: slice) -> int:
        return load().npx_attention_backward(
            s.stop - s.start, p, r, f1, _ptr(qt[s]), _ptr(it[s]), _ptr(v[s]), k, logit_rho,
            lo, hi, _ptr(g_rows[s]), _ptr(g_fused[s]), g_kl, _ptr(g_qt[s]),
            _ptr(g_it[s]) if need_it else None, _ptr(g_v[s]),
            _ptr(saved[s]) if saved is not None else None,
        )  # fmt: skip

    _over_subjects(call, b, "attention")
    return g_qt, g_it, g_v


def query_rows(x, kinks, table):
    """``table[piece] · [x, 1]`` per x with the piece of each x among the sorted ``kinks``:
    the (N, W) rows and the (N,) int64 pieces (for :func:`query_rows_backward`)."""
    x, kinks, table = x.contiguous(), kinks.contiguous(), table.contiguous()
    width = table.shape[1] // 2
    out = x.new_empty(len(x), width)
    piece = torch.empty(len(x), dtype=torch.int64)
    load().npx_query_forward(
        len(x), len(kinks), width, _ptr(x), _ptr(kinks), _ptr(table), _ptr(out), _ptr(piece)
    )
    return out, piece


def query_rows_backward(x, piece, g_out, n_rows: int, stacked: bool = False):
    """Gradient of :func:`query_rows` in ``table`` ((n_rows, 2W)); ``stacked=True``: the same
    numbers as (2 n_rows, W), every row's slope half, then every row's offset half (the
    ``torch.cat([g[:, :W], g[:, W:]], 0)`` of it, without the copy)."""
    g_out = g_out.contiguous()
    width = g_out.shape[1]
    g_table = g_out.new_empty(2 * n_rows, width) if stacked else g_out.new_empty(n_rows, 2 * width)
    status = load().npx_query_backward(
        len(x), (n_rows - 1) // 2, width, int(stacked), _ptr(x), _ptr(piece), _ptr(g_out),
        _ptr(g_table),
    )  # fmt: skip
    if status:
        raise MemoryError("query kernel: out of memory")
    return g_table


def pair_l1(rows, is_patient):
    """Mean over patient-control pairs of ``‖s_n - s_m‖_1`` and its gradient in ``rows``."""
    rows = rows.contiguous()
    flags = is_patient.to(torch.uint8).contiguous()
    grad = torch.empty_like(rows)
    value = load().npx_pair_l1(rows.shape[0], rows.shape[1], _ptr(rows), _ptr(flags), _ptr(grad))
    if value < 0:
        raise ValueError("pair_l1 needs both patients and controls (or ran out of memory)")
    return value, grad


def value_mlp(flat, weight, shift, w_out, slope: float):
    """``LeakyReLU(flat weight + shift) w_out`` per row: flat (N, F), weight (F, J), shift
    and w_out (J,); returns (N,)."""
    flat, weight = flat.contiguous(), weight.contiguous()
    shift, w_out = shift.contiguous(), w_out.contiguous()
    n, f = flat.shape
    out = flat.new_empty(n)
    status = load().npx_value_forward(
        n, f, weight.shape[1], _ptr(flat), _ptr(weight), _ptr(shift), _ptr(w_out), slope, _ptr(out)
    )
    if status:
        raise MemoryError("value kernel: out of memory")
    return out


def value_mlp_backward(flat, weight, shift, w_out, slope: float, g_out):
    """Gradients of :func:`value_mlp` in weight, shift and w_out."""
    flat, weight = flat.contiguous(), weight.contiguous()
    shift, w_out, g_out = shift.contiguous(), w_out.contiguous(), g_out.contiguous()
    n, f = flat.shape
    g_weight, g_shift, g_w_out = (torch.empty_like(t) for t in (weight, shift, w_out))
    status = load().npx_value_backward(
        n, f, weight.shape[1], _ptr(flat), _ptr(weight), _ptr(shift), _ptr(w_out), slope,
        _ptr(g_out), _ptr(g_weight), _ptr(g_shift), _ptr(g_w_out),
    )  # fmt: skip
    if status:
        raise MemoryError("value kernel: out of memory")
    return g_weight, g_shift, g_w_out


def dropout_mask(like: torch.Tensor, p: float, seed: int) -> torch.Tensor:
    """A dropout mask shaped like ``like``: 1/(1-p) with probability 1-p, else 0."""
    mask = torch.empty_like(like, memory_format=torch.contiguous_format)
    load().npx_dropout_mask(mask.numel(), seed, 1.0 - p, _ptr(mask))
    return mask


def leaky_dropout(x: torch.Tensor, slope: float, p: float, seed: int):
    """``LeakyReLU(x) * mask`` with the mask of :func:`dropout_mask` (same seed, same mask)
    in one pass; returns (output, mask)."""
    x = x.contiguous()
    mask, out = torch.empty_like(x), torch.empty_like(x)
    load().npx_leaky_dropout(x.numel(), _ptr(x), slope, seed, 1.0 - p, _ptr(mask), _ptr(out))
    return out, mask


def leaky_dropout_backward(g: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, slope: float):
    """Gradient of :func:`leaky_dropout` in x."""
    g = g.contiguous()
    out = torch.empty_like(x)
    load().npx_leaky_dropout_backward(x.numel(), _ptr(g), _ptr(x), _ptr(mask), slope, _ptr(out))
    return out


def centre(flat: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """``flat - mean`` for (N, F) rows and (F,) means (the same bits as ATen's)."""
    flat, mean = flat.contiguous(), mean.contiguous()
    out = torch.empty_like(flat)
    load().npx_centre(flat.shape[0], flat.shape[1], _ptr(flat), _ptr(mean), _ptr(out))
    return out


def image_factors(imaging: torch.Tensor) -> torch.Tensor:
    """(B, F + 1, R): ``imaging`` (B, R, F) by measure, then a row of ones."""
    imaging = imaging.contiguous()
    b, r, f = imaging.shape
    it = imaging.new_empty(b, f + 1, r)
    load().npx_image_factors(b, r, f, _ptr(imaging), _ptr(it))
    return it
