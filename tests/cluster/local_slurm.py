"""A real one-node Slurm cluster on localhost, private to one test session.

Debian 12 packages (Slurm 22.05, munge 0.5, MariaDB 10.11); must run as root. Every file
(configs, state, logs, PID files, the munge key and socket, the MariaDB datadir and socket)
lives under one base folder, every daemon listens on a free port of 127.0.0.1, and
``SLURM_CONF`` points the Slurm commands at the private ``slurm.conf``, so nothing else on
the machine is touched. Daemons run in the foreground as children of this process and are
stopped by PID: SIGTERM, then SIGKILL after a timeout.

Use as a context manager::

    with local_slurm(tmp_path / "slurm") as cluster:
        subprocess.run(["sbatch", "--wrap", "hostname"], env=cluster.env, check=True)

or from a shell: ``python tests/cluster/local_slurm.py up DIR`` (prints the ``export
SLURM_CONF=...`` line) and ``python tests/cluster/local_slurm.py down DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from slurm_conf import DB_PASS, DB_USER, NODE, slurm_conf, slurmdbd_conf
from slurm_host import (
    DAEMONS,
    ClusterStartError,
    ClusterUnavailable,
    ensure_packages,
    free_ports,
    log,
    pid_is,
    port_open,
    stop_by_pid_files,
    stop_child,
    wait_until,
)

__all__ = ["ClusterStartError", "ClusterUnavailable", "SlurmCluster", "local_slurm", "pid_is"]

# character devices present everywhere, standing in for GPU device files
FAKE_GPU_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/urandom", "/dev/random")


# ---------------------------------------------------------------- the cluster


@dataclass
class SlurmCluster:
    """A private single-node Slurm cluster whose files all live under ``base``."""

    base: Path
    cpus: int = 0
    mem_mb: int = 0
    fake_gpus: int = 1
    partition: str = "debug"
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)
    start_seconds: float = 0.0

    # paths -----------------------------------------------------------
    @property
    def conf_dir(self) -> Path:
        """Folder of slurm.conf, gres.conf and slurmdbd.conf."""
        return self.base / "etc"

    @property
    def run_dir(self) -> Path:
        """Folder of PID files and sockets."""
        return self.base / "run"

    @property
    def log_dir(self) -> Path:
        """Folder of the daemons' log files."""
        return self.base / "log"

    @property
    def munge_socket(self) -> Path:
        """The private munged socket (AuthInfo=socket=... in the Slurm configs)."""
        return self.run_dir / "munge" / "munge.socket"

    @property
    def db_socket(self) -> Path:
        """The private MariaDB admin socket."""
        return self.run_dir / "mysqld" / "mysqld.sock"

    @property
    def env(self) -> dict[str, str]:
        """``os.environ`` plus ``SLURM_CONF`` for this cluster (pass to every subprocess)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SBATCH_"))}
        env["SLURM_CONF"] = str(self.conf_dir / "slurm.conf")
        # snakemake-executor-plugin-slurm-jobstep 0.6 drops every SLURM_* variable but the
        # job id before its nested `srun`, SLURM_CONF included; a cluster whose config is
        # not in /etc/slurm then fails with "DNS SRV lookup failed". The srun shim in
        # bin/ restores it from this variable.
        env["LOCAL_SLURM_CONF"] = env["SLURM_CONF"]
        env["PATH"] = f"{self.base / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    # commands --------------------------------------------------------
    def run(self, args: Sequence[str], check: bool = True) -> subprocess.CompletedProcess:
        """Run a Slurm client command against this cluster, capturing text output."""
        return subprocess.run(
            list(args), env=self.env, capture_output=True, text=True, check=check, timeout=60
        )

    def node_state(self) -> str:
        """The node's short state from ``sinfo`` ('idle', 'mix', 'down*', ...), or ''."""
        out = self.run(["sinfo", "-h", "-N", "-n", NODE, "-o", "%t"], check=False)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout else ""

    def sacct_jobs(self) -> list[dict[str, str]]:
        """Every job known to accounting: id, name, comment, state, exit code, allocated TRES."""
        fields = ["JobID", "JobName", "Comment", "State", "ExitCode", "AllocTRES"]
        out = self.run(
            [
                "sacct",
                "-a",
                "-X",
                "-n",
                "-P",
                "-S",
                "now-1days",
                "-o",
                ",".join(f"{f}%500" for f in fields),
            ]
        )
        return [dict(zip(fields, line.split("|"), strict=True)) for line in out.stdout.splitlines()]

    # start -----------------------------------------------------------
    def _spawn(self, name: str, args: list[str], user: str | None = None) -> int:
        """Start a foreground daemon as our child, record its PID; return the PID."""
        drop = {"user": user, "group": user, "extra_groups": []} if user else {}
        with open(self.log_dir / f"{name}.out", "ab") as out:
            proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # a Ctrl-C on the test does not hit the daemons
                cwd=self.base,
                **drop,
            )
        self.procs[name] = proc
        self.pids[name] = proc.pid
        (self.run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
        return proc.pid

    def _check_alive(self, name: str) -> None:
        if self.procs[name].poll() is not None:
            out = self.log_dir / f"{name}.out"
            text = out.read_text(errors="replace")[-3000:] if out.exists() else ""
            raise ClusterStartError(f"{name} exited during start-up; {out}:\n{text}")

    def write_configs(self) -> None:
        """Write slurm.conf, gres.conf and slurmdbd.conf into ``conf_dir``."""
        srun = shutil.which("srun", path=os.environ.get("PATH", os.defpath)) or "/usr/bin/srun"
        shim = self.base / "bin" / "srun"
        shim.write_text(
            "#!/bin/sh\n# restores SLURM_CONF that the slurm-jobstep plugin drops\n"
            f'export SLURM_CONF="${{SLURM_CONF:-$LOCAL_SLURM_CONF}}"\nexec {srun} "$@"\n'
        )
        shim.chmod(0o755)
        (self.conf_dir / "slurm.conf").write_text(slurm_conf(self))
        # Without File= slurmd drops the GPU and the node goes INVAL. Each GPU needs its own
        # character device (a plain file gives no CUDA_VISIBLE_DEVICES); jobs never open it.
        devices = FAKE_GPU_DEVICES[: self.fake_gpus]
        if len(devices) < self.fake_gpus:
            raise ValueError(f"at most {len(FAKE_GPU_DEVICES)} fake GPUs")
        (self.conf_dir / "gres.conf").write_text(
            "".join(f"NodeName={NODE} Name=gpu File={device}\n" for device in devices)
        )
        dbd = self.conf_dir / "slurmdbd.conf"
        dbd.write_text(slurmdbd_conf(self))
        dbd.chmod(0o600)  # slurmdbd refuses a world-readable config with a password

    def _munge_ok(self) -> bool:
        cred = subprocess.run(
            ["munge", "-n", f"--socket={self.munge_socket}"], capture_output=True, check=False
        )
        if cred.returncode != 0:
            return False
        check = subprocess.run(
            ["unmunge", f"--socket={self.munge_socket}"],
            input=cred.stdout,
            capture_output=True,
            check=False,
        )
        return check.returncode == 0

    def start_munge(self) -> None:
        """A private munged with its own key and socket, run as user munge."""
        mdir = self.run_dir / "munge"
        mdir.mkdir(mode=0o700)
        key = mdir / "munge.key"
        subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True)
        shutil.chown(mdir, "munge", "munge")
        shutil.chown(key, "munge", "munge")
        key.chmod(0o400)
        mdir.chmod(0o755)  # clients must reach the socket
        self._spawn(
            "munged",
            [
                "/usr/sbin/munged",
                "--foreground",
                "--force",
                f"--socket={self.munge_socket}",
                f"--key-file={key}",
                f"--pid-file={mdir / 'munged.own.pid'}",
                f"--log-file={mdir / 'munged.log'}",
                f"--seed-file={mdir / 'munged.seed'}",
            ],
            user="munge",
        )
        wait_until("munged", self._munge_ok, 10, mdir / "munged.log")

    def _sql(self, statements: str) -> None:
        subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.db_socket}", "-u", "root"],
            input=statements,
            text=True,
            capture_output=True,
            check=True,
        )

    def start_mariadb(self) -> None:
        """A private MariaDB: datadir and socket under ``base``, TCP on a free local port."""
        datadir = self.base / "mysql"
        datadir.mkdir()
        self.db_socket.parent.mkdir()
        shutil.chown(datadir, "mysql", "mysql")
        shutil.chown(self.db_socket.parent, "mysql", "mysql")
        with open(self.log_dir / "mariadb-install-db.log", "wb") as fh:
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    "--user=mysql",
                    f"--datadir={datadir}",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                    "--skip-name-resolve",
                ],
                stdout=fh,
                stderr=subprocess.STDOUT,
                check=True,
            )
        err_log = datadir / "mariadb.err"
        self._spawn(
            "mariadbd",
            [
                "/usr/sbin/mariadbd",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={datadir}",
                f"--socket={self.db_socket}",
                f"--pid-file={self.run_dir}/mysqld/mysqld.pid",
                "--bind-address=127.0.0.1",
                f"--port={self.ports['mariadbd']}",
                "--skip-name-resolve",
                f"--log-error={err_log}",
                "--innodb-buffer-pool-size=64M",
                "--innodb-log-file-size=16M",
                "--innodb-lock-wait-timeout=900",
                "--skip-log-bin",
                "--innodb-fast-shutdown=2",  # a throwaway database: no clean flush on stop
            ],
        )

        def ready() -> bool:
            self._check_alive("mariadbd")
            try:
                self._sql("SELECT 1;")
            except subprocess.CalledProcessError:
                return False
            return True

        wait_until("mariadbd", ready, 60, err_log)
        self._sql(
            f"""CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASS}';
CREATE USER IF NOT EXISTS '{DB_USER}'@'localhost' IDENTIFIED BY '{DB_PASS}';
GRANT ALL ON slurm_acct_db.* TO '{DB_USER}'@'127.0.0.1';
GRANT ALL ON slurm_acct_db.* TO '{DB_USER}'@'localhost';
FLUSH PRIVILEGES;
"""
        )

    def start_slurm_daemon(self, name: str, args: list[str], timeout: float = 30) -> None:
        """Start ``name`` in the foreground and wait for its port."""
        self._spawn(name, args)
        port = self.ports[name]

        def ready() -> bool:
            self._check_alive(name)
            return port_open(port)

        wait_until(f"{name} on port {port}", ready, timeout, self.log_dir / f"{name}.log")

    def wait_node_idle(self, timeout: float = 60) -> None:
        """Wait until ``sinfo`` shows the node idle (resuming it if it comes up down)."""

        def ready() -> bool:
            self._check_alive("slurmd")
            state = self.node_state()
            if state.startswith(("down", "drain", "inval")):
                self.run(["scontrol", "update", f"NodeName={NODE}", "State=RESUME"], check=False)
            return state in ("idle", "mix", "alloc")

        wait_until(f"node {NODE} idle", ready, timeout, self.log_dir / "slurmd.log")

    def start(self) -> SlurmCluster:
        """Install what is missing, write configs, start the five daemons; wait for idle."""
        t0 = time.monotonic()
        if os.geteuid() != 0:
            raise ClusterUnavailable("the local Slurm cluster needs root")
        ensure_packages(self.base / "log")
        self.cpus = self.cpus or max(os.cpu_count() or 1, 4)
        self.mem_mb = self.mem_mb or _default_mem_mb()
        for sub in ("bin", "etc", "run", "log", "state/ctld", "state/d"):
            (self.base / sub).mkdir(parents=True, exist_ok=True)
        # munge and mysql users must traverse the base folder (mkdtemp makes it 0700)
        for folder in [self.base, *self.base.parents]:
            if folder == Path("/"):
                break
            mode = folder.stat().st_mode
            if not mode & 0o001:
                folder.chmod(mode | 0o011)
        names = ("slurmctld", "slurmd", "slurmdbd", "mariadbd")
        self.ports = dict(zip(names, free_ports(len(names)), strict=True)) | self.ports
        self.write_configs()
        try:
            self.start_munge()
            self.start_mariadb()
            self.start_slurm_daemon("slurmdbd", ["slurmdbd", "-D"])
            self.start_slurm_daemon("slurmctld", ["slurmctld", "-D", "-i"])
            self.start_slurm_daemon("slurmd", ["slurmd", "-D", "-N", NODE])
            self.wait_node_idle()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        log(
            f"ready in {self.start_seconds:.1f} s: partition {self.partition}, {self.cpus} CPUs, "
            f"{self.mem_mb} MB, gpu:{self.fake_gpus}, SLURM_CONF={self.env['SLURM_CONF']}"
        )
        return self

    # stop ------------------------------------------------------------
    def stop(self, timeout: float = 15.0) -> None:
        """Cancel all jobs, then stop every daemon this cluster started, by PID."""
        ctld = self.procs.get("slurmctld")
        if ctld is not None and ctld.poll() is None:
            with contextlib.suppress(Exception):  # stop the daemons whatever happens
                self.run(["scancel", "--full", f"--partition={self.partition}"], check=False)
                wait_until("jobs to end", lambda: not self.run(["squeue", "-h"]).stdout, 15)
        for name in DAEMONS:
            if name in self.procs:
                stop_child(self.procs.pop(name), name, timeout)
                self.pids.pop(name)
            (self.run_dir / f"{name}.pid").unlink(missing_ok=True)
        log("stopped")


def _default_mem_mb() -> int:
    """Node memory: MemTotal minus 1 GB, at least 2 GB."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return max(int(line.split()[1]) // 1024 - 1024, 2048)
    return 4096


@contextlib.contextmanager
def local_slurm(base: Path | None = None, **settings) -> Iterator[SlurmCluster]:
    """Start a private cluster under ``base`` (a new temp folder if None); stop it on exit."""
    owned = base is None
    base = Path(tempfile.mkdtemp(prefix="slurm-")) if owned else Path(base)
    cluster = SlurmCluster(base=base, **settings)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        if owned:
            shutil.rmtree(base, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """``up DIR``: start and leave running; ``down DIR``: stop by the PID files in DIR/run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("base", type=Path)
    parser.add_argument("--cpus", type=int, default=0)
    parser.add_argument("--fake-gpus", type=int, default=1)
    args = parser.parse_args(argv)
    base = args.base.resolve()
    if args.action == "down":
        conf = base / "etc" / "slurm.conf"
        if (base / "run" / "slurmctld.pid").exists() and conf.exists():
            env = dict(os.environ, SLURM_CONF=str(conf))
            subprocess.run(["scancel", "--full", "--partition=debug"], env=env, check=False)
            time.sleep(2)
        stop_by_pid_files(base)
        log("stopped")
        return 0
    base.mkdir(parents=True, exist_ok=True)
    cluster = SlurmCluster(base=base, cpus=args.cpus, fake_gpus=args.fake_gpus)
    try:
        cluster.start()
    except (ClusterUnavailable, ClusterStartError) as err:
        log(f"ERROR: {err}")
        return 1
    env = cluster.env
    for key in ("SLURM_CONF", "LOCAL_SLURM_CONF", "PATH"):
        print(f"export {key}={env[key]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
