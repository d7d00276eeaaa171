"""Host-side helpers of the local Slurm harness: Debian packages, ports, processes."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

PACKAGES = ("munge", "slurmctld", "slurmd", "slurm-client", "slurmdbd", "mariadb-server")
# stop order: compute side first, the database last, munge (auth for all of them) at the end
DAEMONS = ("slurmd", "slurmctld", "slurmdbd", "mariadbd", "munged")


class ClusterUnavailable(RuntimeError):
    """This machine cannot host the test cluster (not root, packages not installable)."""


class ClusterStartError(RuntimeError):
    """A daemon did not come up; the message names its log file."""


def log(message: str) -> None:
    """Print a progress line to stderr (shown by ``pytest -s`` and in CI logs)."""
    print(f"[local-slurm] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- packages


def missing_packages(packages: Sequence[str] = PACKAGES) -> list[str]:
    """Debian packages from ``packages`` that are not installed."""
    if shutil.which("dpkg-query") is None:
        return list(packages)
    missing = []
    for package in packages:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in out.stdout:
            missing.append(package)
    return missing


def _apt(args: list[str], log_path: Path) -> int:
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with open(log_path, "a") as fh:
        return subprocess.run(
            ["apt-get", "-o", "DPkg::Lock::Timeout=300", *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
            check=False,
        ).returncode


def ensure_packages(log_dir: Path) -> None:
    """Install the missing Debian packages; ``apt-get update`` only if the first try fails.

    Raises
    ------
    ClusterUnavailable
        Not root, no apt-get, or the installation failed.
    """
    missing = missing_packages()
    if not missing:
        return
    if os.geteuid() != 0:
        raise ClusterUnavailable(f"packages missing ({' '.join(missing)}) and not root")
    if shutil.which("apt-get") is None:
        raise ClusterUnavailable(f"packages missing ({' '.join(missing)}) and no apt-get")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / "apt-install.log"
    log(f"installing {' '.join(missing)} (log: {log_path})")
    # keep the package scripts from starting services (there is no systemd anyway)
    policy = Path("/usr/sbin/policy-rc.d")
    added_policy = not policy.exists()
    if added_policy:
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
    try:
        install = ["install", "-y", "-qq", "--no-install-recommends", *missing]
        rc = _apt(install, log_path)
        if rc != 0:
            rc = _apt(["update", "-qq"], log_path) or _apt(install, log_path)
    finally:
        if added_policy:
            policy.unlink(missing_ok=True)
    if rc != 0 or missing_packages():
        raise ClusterUnavailable(f"apt-get install failed (rc={rc}), see {log_path}")


# ---------------------------------------------------------------- helpers


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports of 127.0.0.1 that are free right now."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:``port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pid_is(pid: int, comm: str) -> bool:
    """Whether process ``pid`` is alive and its command name is ``comm``."""
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() == comm
    except OSError:
        return False


def stop_pid(pid: int, comm: str, timeout: float = 15.0) -> None:
    """SIGTERM process ``pid`` if it is ``comm``; SIGKILL it if still alive after ``timeout``."""
    if not pid_is(pid, comm):
        return
    log(f"stopping {comm} (pid {pid})")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap our own children so /proc entry goes
        if not pid_is(pid, comm):
            return
        time.sleep(0.1)
    log(f"{comm} (pid {pid}) ignored SIGTERM, sending SIGKILL")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def stop_child(proc: subprocess.Popen, name: str, timeout: float = 15.0) -> None:
    """SIGTERM our child ``proc``; SIGKILL it if still alive after ``timeout``."""
    if proc.poll() is not None:
        return
    t0 = time.monotonic()
    proc.terminate()
    try:
        proc.wait(timeout)
        log(f"stopped {name} (pid {proc.pid}) in {time.monotonic() - t0:.1f} s")
    except subprocess.TimeoutExpired:
        log(f"{name} (pid {proc.pid}) ignored SIGTERM, sending SIGKILL")
        proc.kill()
        proc.wait()


def stop_by_pid_files(base: Path, timeout: float = 15.0) -> None:
    """Stop every daemon whose PID file is under ``base/run`` (a cluster left by a crash)."""
    for comm in DAEMONS:
        pid_file = base / "run" / f"{comm}.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        stop_pid(pid, comm, timeout)
        pid_file.unlink(missing_ok=True)


def wait_until(what: str, check, timeout: float, log_file: Path | None = None) -> None:
    """Poll ``check()`` every 0.1 s until true; raise ClusterStartError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    tail = ""
    if log_file is not None and log_file.exists():
        tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-20:])
    raise ClusterStartError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")
