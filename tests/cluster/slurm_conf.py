"""Text of the config files of the private test cluster (slurm.conf, slurmdbd.conf)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from local_slurm import SlurmCluster

NODE = "localhost"
CLUSTER_NAME = "localcluster"
DB_USER = "slurm"
DB_PASS = "slurmdbpass"


def slurm_conf(c: SlurmCluster) -> str:
    """slurm.conf: one node named localhost, munge auth, slurmdbd accounting, fake GPUs."""
    gres_types = "GresTypes=gpu" if c.fake_gpus else ""
    gres = f" Gres=gpu:{c.fake_gpus}" if c.fake_gpus else ""
    return f"""# written by tests/cluster/local_slurm.py
ClusterName={CLUSTER_NAME}
SlurmctldHost={NODE}
AuthType=auth/munge
AuthInfo=socket={c.munge_socket}
CryptoType=crypto/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort={c.ports["slurmctld"]}
SlurmdPort={c.ports["slurmd"]}
StateSaveLocation={c.base}/state/ctld
SlurmdSpoolDir={c.base}/state/d
SlurmctldPidFile={c.run_dir}/slurmctld.own.pid
SlurmdPidFile={c.run_dir}/slurmd.own.pid
SlurmctldLogFile={c.log_dir}/slurmctld.log
SlurmdLogFile={c.log_dir}/slurmd.log
MailProg=/bin/true
# no cgroups: works in containers without a writable cgroup tree
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without DefMemPerCPU every job gets the whole node and jobs run one at a time
DefMemPerCPU=1000
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost={NODE}
AccountingStoragePort={c.ports["slurmdbd"]}
# with slurmdbd this "password" is the munge socket slurmctld uses to talk to slurmdbd
AccountingStoragePass={c.munge_socket}
# the executor plugin writes rule_<name>_wildcards_<...> into --comment: keep it for sacct
AccountingStoreFlags=job_comment
AccountingStorageTRES=gres/gpu
JobCompType=jobcomp/none
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
Waittime=0
{gres_types}
SlurmdParameters=config_overrides
NodeName={NODE} NodeAddr=127.0.0.1 CPUs={c.cpus} Sockets=1 CoresPerSocket={c.cpus} \
ThreadsPerCore=1 RealMemory={c.mem_mb}{gres} State=UNKNOWN
PartitionName={c.partition} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""


def slurmdbd_conf(c: SlurmCluster) -> str:
    """slurmdbd.conf: accounting in the private MariaDB on its own port."""
    return f"""# written by tests/cluster/local_slurm.py
AuthType=auth/munge
AuthInfo=socket={c.munge_socket}
DbdHost={NODE}
DbdPort={c.ports["slurmdbd"]}
SlurmUser=root
LogFile={c.log_dir}/slurmdbd.log
PidFile={c.run_dir}/slurmdbd.own.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={c.ports["mariadbd"]}
StorageUser={DB_USER}
StoragePass={DB_PASS}
StorageLoc=slurm_acct_db
"""
