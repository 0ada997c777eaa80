"""CPU thread sharing between the training runs of one machine (regnet_space.training.cpu)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys

import pytest

from regnet_space.training import cpu
from regnet_space.training.cpu import SLOTS, available_cpus, cpu_share


@pytest.fixture(autouse=True)
def private_slots(tmp_path, monkeypatch):
    """A slot folder of this test's own, so runs elsewhere on the machine do not count."""
    monkeypatch.setattr(cpu, "_slot_dir", lambda: tmp_path)
    monkeypatch.setenv("REGNET_SPACE_TEST_SLOTS", str(tmp_path))


def _hold(n: int) -> list[int]:
    """Hold ``n`` free slots from separate open files, as other runs' processes would."""
    fds = []
    for i in range(SLOTS):
        if len(fds) == n:
            break
        fd = os.open(cpu._slot_dir() / f"slot-{i}", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fds.append(fd)
        except OSError:
            os.close(fd)
    return fds


def test_explicit_threads_win_and_count_as_a_run():
    held = _hold(3)
    try:
        with cpu_share(5) as n:
            assert n == 5
    finally:
        for fd in held:
            os.close(fd)
    with cpu_share(1):
        with cpu_share(None) as n:
            assert n == max(1, available_cpus() // 2)


def test_share_divides_cores_between_runs():
    cpus = available_cpus()
    with cpu_share(None) as alone:
        assert alone == cpus
        with cpu_share(None) as second:  # a second run while the first holds its slot
            assert second == max(1, cpus // 2)
    held = _hold(2 * cpus)
    try:
        with cpu_share(None) as crowded:
            assert crowded == 1  # never 0
    finally:
        for fd in held:
            os.close(fd)
    with cpu_share(None) as again:  # released slots count no more
        assert again == cpus


def test_slot_released_when_process_is_killed():
    cpus = available_cpus()
    code = ("import os, pathlib, time\nfrom regnet_space.training import cpu\n"
            "cpu._slot_dir = lambda: pathlib.Path(os.environ['REGNET_SPACE_TEST_SLOTS'])\n"
            "with cpu.cpu_share(None):\n    print('in', flush=True)\n    time.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "in"
        with cpu_share(None) as n:
            assert n == max(1, cpus // 2)
    finally:
        p.kill()
        p.wait()
    with cpu_share(None) as n:
        assert n == cpus


def test_evaluate_reports_its_threads():
    from regnet_space.config import NetConfig
    from regnet_space.training import evaluate, load_data

    cfg = NetConfig.from_lists([1], [8], gs=8, stem="small", stem_w=8, resolution=28,
                               in_channels=1, num_classes=10)
    data = load_data("synthetic", train_size=64, test_size=32)
    r = evaluate(cfg, data, epochs=1, progress=False)
    assert r.threads == available_cpus()
    assert "threads)" in r.summary()
    r = evaluate(cfg, data, epochs=1, threads=1, progress=False)
    assert r.threads == 1 and "(1 thread)" in r.summary()
