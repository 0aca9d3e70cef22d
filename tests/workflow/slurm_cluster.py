"""Start and stop a real one-node SLURM (slurmctld + slurmd + munged) on localhost for tests.

Needs root and Debian's slurm-wlm + munge (the test script installs them in CI). Facts that
shape this: the config must be at /etc/slurm/slurm.conf (SLURM_CONF is not seen inside jobs);
without slurmdbd the executor must poll with squeue, and MinJobAge must outlast the first
status check; proctrack/linuxproc + task/none work without cgroups. Two partitions on the one node,
``cpu`` (the default) and ``gpu`` (no GPUs: it tests where jobs are sent, not CUDA), and
jobcomp/filetxt keep a controller-side record of every finished job (partition, time limit, TRES)
where a real cluster has sacct.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

CONF = Path("/etc/slurm/slurm.conf")


def available() -> str | None:
    """None when a cluster can be started here, else the reason it cannot."""
    if os.geteuid() != 0:
        return "needs root to start slurmctld/slurmd/munged"
    for exe in ("slurmctld", "slurmd", "munged", "sbatch", "squeue"):
        if shutil.which(exe) is None and not Path(f"/usr/sbin/{exe}").exists():
            return f"{exe} not installed (apt install slurm-wlm munge)"
    return None


def _conf(state: Path, cpus: int, mem_mb: int) -> str:
    return f"""ClusterName=reproflow
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/d
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=60
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={state}/jobcomp.log
MpiDefault=none
NodeName=localhost CPUs={cpus} RealMemory={mem_mb} State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=localhost Default=NO MaxTime=INFINITE State=UP
"""


class LocalSlurm:
    """Context manager: writes /etc/slurm/slurm.conf, starts the daemons, stops them by PID."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.procs: list[subprocess.Popen] = []
        self.old_conf: str | None = None

    def __enter__(self) -> LocalSlurm:
        for sub in ("ctld", "d"):
            (self.state / sub).mkdir(parents=True, exist_ok=True)
        cpus = os.cpu_count() or 2
        mem = int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.8)
        CONF.parent.mkdir(parents=True, exist_ok=True)
        if CONF.exists():
            self.old_conf = CONF.read_text()
        CONF.write_text(_conf(self.state, cpus, mem))
        # munged runs as user munge with /run/munge owned by it.
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            subprocess.run(["/usr/sbin/mungekey", "--create", "--force"], check=True)
            shutil.chown(key, "munge", "munge")
            key.chmod(0o400)
        Path("/run/munge").mkdir(parents=True, exist_ok=True)
        shutil.chown("/run/munge", "munge", "munge")
        self._start(["runuser", "-u", "munge", "--", "/usr/sbin/munged", "--foreground", "--force"])
        time.sleep(1)
        self._start(["/usr/sbin/slurmctld", "-D", "-i"])
        self._start(["/usr/sbin/slurmd", "-D", "-N", "localhost"])
        deadline = time.time() + 60
        while time.time() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip() in ("idle", "mixed", "allocated"):
                return self
            time.sleep(1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"SLURM did not come up: sinfo says {out.stdout!r} {out.stderr!r}; logs in {self.state}")

    def _start(self, cmd: list[str]) -> None:
        log = open(self.state / (Path(cmd[-1] if cmd[0] == "runuser" else cmd[0]).name + ".out"), "w")
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT))

    def ctld_log(self) -> str:
        p = self.state / "slurmctld.log"
        return p.read_text() if p.exists() else ""

    def finished_jobs(self) -> dict[str, dict[str, str]]:
        """JobId -> the controller's record of each finished job (jobcomp/filetxt: Partition,
        TimeLimit, JobState, Tres, ...); the one-node stand-in for ``sacct``."""
        p = self.state / "jobcomp.log"
        out: dict[str, dict[str, str]] = {}
        for line in (p.read_text() if p.exists() else "").splitlines():
            rec = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
            if "JobId" in rec:
                out[rec["JobId"]] = rec
        return out

    def __exit__(self, *exc) -> None:
        for p in reversed(self.procs):
            p.terminate()
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.old_conf is not None:
            CONF.write_text(self.old_conf)
        elif CONF.exists():
            CONF.unlink()


def hostname() -> str:
    return socket.gethostname()
