"""``sweep --launcher slurm`` on a real single-node Slurm cluster that this file starts.

The cluster: a munge daemon with a fresh key, ``slurmctld`` and ``slurmd`` on this machine
(Debian's ``slurm-wlm`` and ``munge``, installed by scripts/setup.sh), free ports, all state in
a temporary folder, stopped by their pid files at the end. It needs root (slurmd runs the jobs
as their user); without the programs or root the tests FAIL, on purpose.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from test_faults import assert_exact, running_trial, sweep
from test_storage_pg import env

from regnet_space.search.optuna.launch_slurm import slurm_parameters
from optuna.trial import TrialState

N_TRIALS, N_TASKS = 6, 4
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "scancel", "squeue")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _which(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not found:
        pytest.fail(f"{name} is not installed: apt-get install slurm-wlm munge "
                    f"(scripts/setup.sh does it when run as root)")
    return found


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _wait_for(what: str, ok, timeout: float = 60, log: Path | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ok():
            return
        time.sleep(0.3)
    text = log.read_text()[-1500:] if log is not None and log.exists() else ""
    pytest.fail(f"{what} did not come up in {timeout:.0f} s: {text}")


class Slurm:
    def __init__(self, folder: Path):
        self.folder = folder
        self.conf = folder / "slurm.conf"

    def env(self) -> dict:
        e = env()
        e["SLURM_CONF"] = str(self.conf)
        e["PATH"] = os.pathsep.join([e.get("PATH", ""), "/usr/sbin", "/sbin"])
        return e

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), env=self.env(), capture_output=True, text=True,
                              timeout=60)

    def jobs(self, array: str) -> list[str]:
        r = self.run(_which("squeue"), "-h", "-r", "-j", array, "-o", "%i %T")
        return [line for line in r.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def slurm():
    if os.geteuid() != 0:
        pytest.fail("the single-node Slurm cluster of these tests runs as root (slurmd starts "
                    "jobs as their user)")
    for name in PROGRAMS:
        _which(name)
    folder = Path(tempfile.mkdtemp(prefix="regnet-slurm-"))
    for sub in ("state", "spool", "munge"):
        (folder / sub).mkdir()
    os.chmod(folder, 0o755)                   # munged wants its socket's folders open to all
    os.chmod(folder / "munge", 0o755)
    (folder / "key").mkdir(mode=0o700)
    key = folder / "key" / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o400)
    sock = folder / "munge" / "munge.socket"
    host = socket.gethostname().split(".")[0]
    cpus = os.cpu_count() or 1
    mem = max(256, int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20 * 0.5))
    (folder / "slurm.conf").write_text(f"""\
ClusterName=regnettest
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={sock}
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={folder}/state
SlurmdSpoolDir={folder}/spool
SlurmctldPidFile={folder}/slurmctld.pid
SlurmdPidFile={folder}/slurmd.pid
SlurmctldLogFile={folder}/slurmctld.log
SlurmdLogFile={folder}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=10
NodeName={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
    c = Slurm(folder)
    started: list[Path] = []
    try:
        r = subprocess.run([_which("munged"), "--key-file", str(key), "--socket", str(sock),
                            "--pid-file", str(folder / "munge" / "munged.pid"), "--log-file",
                            str(folder / "munge" / "munged.log"), "--seed-file",
                            str(folder / "munge" / "munged.seed")], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, f"munged: {r.stderr}"
        started.append(folder / "munge" / "munged.pid")
        for daemon in ("slurmctld", "slurmd"):
            r = subprocess.run([_which(daemon), "-f", str(c.conf)], env=c.env(),
                               capture_output=True, text=True, timeout=60)
            assert r.returncode == 0, f"{daemon}: {r.stderr}"
            started.append(folder / f"{daemon}.pid")
        _wait_for("the Slurm node", lambda: "idle" in c.run(_which("sinfo"), "-h", "-o",
                                                                    "%T").stdout,
                  log=folder / "slurmd.log")
        yield c
    finally:
        for pidfile in reversed(started):
            pid = _pid(pidfile)
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        time.sleep(1)
        for pid in _our_steps(c.conf):          # a cancelled job's slurmstepd can linger
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(folder, ignore_errors=True)


def _our_steps(conf: Path) -> list[int]:
    """Pids of slurmstepd processes of this cluster (their environment names its slurm.conf)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if b"slurmstepd" in (d / "cmdline").read_bytes() and \
                    f"SLURM_CONF={conf}".encode() in (d / "environ").read_bytes():
                out.append(int(d.name))
        except OSError:
            continue
    return out


def _task_of(pid: int) -> str | None:
    """``ARRAY_TASK`` of the Slurm array task a worker process runs in."""
    try:
        items = dict(x.split(b"=", 1) for x in (Path(f"/proc/{pid}/environ").read_bytes()
                                                .split(b"\0")) if b"=" in x)
    except OSError:
        return None
    job, task = items.get(b"SLURM_ARRAY_JOB_ID"), items.get(b"SLURM_ARRAY_TASK_ID")
    return f"{job.decode()}_{task.decode()}" if job and task else None


def test_slurm_parameters_pass_partition_time_gpus_cpus_memory():
    p = slurm_parameters(partition="gpu", time_min=90, gpus=2, cpus=8, mem_gb=32, parallel=3)
    assert (p["partition"], p["time"], p["gpus_per_node"], p["cpus_per_task"], p["mem"],
            p["array_parallelism"]) == ("gpu", 90, 2, 8, "32GB", 3)
    assert "gpus_per_node" not in slurm_parameters(gpus=0)


@pytest.mark.slow
def test_a_slurm_job_array_ends_the_study_exactly_after_a_task_is_cancelled(slurm, tmp_path):
    """4 array tasks share one journal study; one is ``scancel``ed in the middle of a trial.
    The study ends with exactly n trials, the design sequence's first samples each once, and
    the cancelled trial is retried by another task."""
    url = f"journal:{tmp_path / 's.journal'}"
    folder = tmp_path / "logs" / "%j"
    r = subprocess.run(sweep(url, N_TRIALS, "--launcher", "slurm", "--workers", str(N_TASKS),
                             "--slurm-partition", "debug", "--slurm-time", "15", "--slurm-cpus",
                             "1", "--slurm-folder", str(folder), train=1024),
                       cwd=tmp_path, env=slurm.env(), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    head = r.stdout.splitlines()
    assert head[0].startswith("submitted Slurm job array "), r.stdout
    array = head[0].split()[4]
    assert f"({N_TASKS} tasks: " + ", ".join(f"{array}_{i}" for i in range(N_TASKS)) in head[0]
    assert any(line.startswith("export: regnet-space export --storage ") for line in head), r.stdout
    script = (tmp_path / "logs" / array / f"{array}_submission.sh")
    if not script.exists():
        script = next((tmp_path / "logs").rglob("*submission.sh"))
    sbatch = script.read_text()
    for opt in ("--partition=debug", "--time=15", "--cpus-per-task=1", f"--array=0-{N_TASKS - 1}"):
        assert opt in sbatch, sbatch

    found = running_trial(url, lambda pid: _task_of(pid) is not None)
    assert found is not None, slurm.jobs(array)
    victim, task = found[0], _task_of(found[1])
    assert slurm.run(_which("scancel"), task).returncode == 0
    deadline = time.time() + 400
    while slurm.jobs(array) and time.time() < deadline:
        time.sleep(1)
    assert not slurm.jobs(array), slurm.jobs(array)
    study = assert_exact(url, N_TRIALS)
    assert study.trials[victim].state == TrialState.FAIL
    assert [t.number for t in study.trials if t.user_attrs.get("retry_of") == victim and
            t.state == TrialState.COMPLETE], study.trials[victim]
    logs = "".join(p.read_text() for p in (tmp_path / "logs").rglob(f"{task}_*.err"))
    assert "stopped by SIGTERM" in logs, logs[-2000:]


def test_slurm_refuses_a_sqlite_storage_before_submitting(tmp_path):
    r = subprocess.run(sweep(f"sqlite:///{tmp_path / 'x.db'}", 2, "--launcher", "slurm",
                             "--workers", "2"), cwd=tmp_path, env=env(), capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "needs a storage every node reaches" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.db").exists()


@pytest.mark.parametrize("launcher, extra", [("slurm", "slurm"), ("ray", "ray")])
def test_a_missing_launcher_package_is_one_line_naming_the_extra(launcher, extra, monkeypatch,
                                                                 capsys, tmp_path):
    import regnet_space.cli as cli

    real = cli._installed
    monkeypatch.setattr(cli, "_installed", lambda m: m not in ("submitit", "ray") and real(m))
    rc = cli.main(["sweep", "--storage", f"journal:{tmp_path / 'j.journal'}", "--launcher",
                   launcher, "--data", "synthetic"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1, err
    assert f"pip install 'regnet-space[{extra}]'" in err[0], err
    assert not (tmp_path / "j.journal").exists()
