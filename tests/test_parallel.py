"""decide.parallel: the three backends agree, retry, keep finished work, resume and stop cleanly.

Task functions live at module level so spawned processes and dask workers can import them; their
state across attempts is kept in marker files under ``tmp_path``, which every process sees.
"""

from __future__ import annotations

import math
import os
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from decide import parallel
from decide.errors import DecideError, UsageError
from decide.parallel import Backend, TaskError, TaskResults, chunks, run


def noisy_sum(seed: int) -> float:
    return float(np.random.default_rng(seed).normal(size=7).sum())


def fail_once(arg: tuple[str, str, int]) -> int:
    """Doubles ``value``; a task named ``flaky*`` raises on its first attempt."""
    folder, name, value = arg
    marker = Path(folder) / f"{name}.tried"
    if name.startswith("flaky") and not marker.exists():
        marker.touch()
        raise RuntimeError(f"first attempt of {name}")
    return 2 * value


def touch(arg: tuple[str, str]) -> str:
    folder, name = arg
    (Path(folder) / name).touch()
    return name


def die_once(arg: tuple[str, str, int]) -> int:
    """Kills its own process on the first attempt of ``victim`` and on every attempt of
    ``doomed``; otherwise returns ``value``."""
    folder, name, value = arg
    marker = Path(folder) / f"{name}.died"
    if name == "doomed" or (name == "victim" and not marker.exists()):
        marker.touch()
        os._exit(1)
    return value


def slow_touch(arg: tuple[str, str]) -> str:
    if arg[1] != "fast":
        time.sleep(0.6)
    return touch(arg)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    local = LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = Client(local, set_as_default=False)
    yield local, client
    client.close()
    local.close()


BACKENDS = ["serial", "processes", "dask-client", "dask-address"]


def make_backend(kind: str, cluster, retries: int = 1) -> Backend:
    if kind == "serial":
        return Backend(retries=retries)
    if kind == "processes":
        return Backend(workers=2, retries=retries)
    local, client = cluster
    if kind == "dask-client":
        return Backend(client=client, retries=retries)
    return Backend(scheduler=local.scheduler_address, retries=retries)


@pytest.fixture(params=BACKENDS)
def backend_kind(request):
    return request.param


@pytest.fixture
def dask_cluster(request, backend_kind):
    """The shared cluster, started only when a dask backend is asked for."""
    return request.getfixturevalue("cluster") if backend_kind.startswith("dask") else None


def test_backend_kind():
    assert Backend().kind == "serial"
    assert Backend(workers=1).kind == "serial"
    assert Backend(workers=0).kind == "serial"
    assert Backend(workers=4).kind == "processes"
    assert Backend(workers=4, scheduler="tcp://127.0.0.1:8786").kind == "dask"
    assert Backend(client=object()).kind == "dask"
    with pytest.raises(UsageError, match="retries"):
        Backend(retries=-1)
    with pytest.raises(UsageError, match="workers"):
        Backend(workers=-2)


def test_backends_give_identical_results(backend_kind, dask_cluster):
    tasks = {f"seed{seed}": seed for seed in range(12)}
    expected = {
        name: float(np.random.default_rng(seed).normal(size=7).sum())
        for name, seed in tasks.items()
    }
    got = run(noisy_sum, tasks, backend=make_backend(backend_kind, dask_cluster))
    assert got.failures == {}
    assert list(got.results) == list(tasks)  # input order, whatever the completion order
    assert got.results == expected


@pytest.mark.parametrize("retries", [0, 1])
def test_failing_task_is_retried_or_reported(backend_kind, dask_cluster, retries, tmp_path):
    folder = str(tmp_path)
    names = ["a", "flaky", "b", "c"]
    tasks = {name: (folder, name, value) for value, name in enumerate(names)}
    delivered: list[tuple[str, int]] = []
    backend = make_backend(backend_kind, dask_cluster, retries=retries)
    got = run(fail_once, tasks, backend=backend, on_result=lambda *nv: delivered.append(nv))

    survivors = names if retries else ["a", "b", "c"]
    assert got.results == {name: 2 * names.index(name) for name in survivors}
    assert sorted(delivered) == sorted(got.results.items())  # each success exactly once
    if retries:
        assert got.failures == {}
        got.raise_failures()
    else:
        assert got.failures == {"flaky": "RuntimeError: first attempt of flaky"}
        with pytest.raises(TaskError, match=r"flaky.*RuntimeError: first attempt of flaky") as info:
            got.raise_failures()
        assert isinstance(info.value, DecideError)
        assert info.value.failures == got.failures


def test_skip_does_not_run_the_task(backend_kind, dask_cluster, tmp_path):
    folder = str(tmp_path)
    tasks = {name: (folder, name) for name in ["a", "b", "c"]}
    delivered: list[str] = []
    got = run(
        touch,
        tasks,
        backend=make_backend(backend_kind, dask_cluster),
        skip={"b"},
        on_result=lambda name, value: delivered.append(name),
    )
    assert got.results == {"a": "a", "c": "c"}
    assert sorted(delivered) == ["a", "c"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a", "c"]


def test_nothing_to_do():
    got = run(noisy_sum, {"a": 1}, backend=Backend(scheduler="tcp://127.0.0.1:1"), skip=["a"])
    assert got == TaskResults({}, {})


def test_killed_worker_keeps_finished_results(tmp_path):
    folder = str(tmp_path)
    tasks = {name: (folder, name, value) for value, name in enumerate(["a", "victim", "b", "c"])}
    got = run(die_once, tasks, backend=Backend(workers=2, retries=0))
    assert got.results == {"a": 0, "victim": 1, "b": 2, "c": 3}
    assert got.failures == {}


def test_task_that_always_kills_its_worker_fails_after_death_retries(tmp_path):
    folder = str(tmp_path)
    tasks = {name: (folder, name, value) for value, name in enumerate(["a", "doomed", "b"])}
    got = run(die_once, tasks, backend=Backend(workers=2, retries=0))
    assert got.results == {"a": 0, "b": 2}
    assert list(got.failures) == ["doomed"]
    assert got.failures["doomed"].startswith("BrokenProcessPool")


def test_dask_reschedules_the_task_of_a_dead_worker(cluster, tmp_path):
    folder = str(tmp_path)
    tasks = {name: (folder, name, value) for value, name in enumerate(["a", "victim", "b"])}
    got = run(die_once, tasks, backend=Backend(client=cluster[1], retries=0))
    assert got.results == {"a": 0, "victim": 1, "b": 2}
    assert (tmp_path / "victim.died").exists()  # it did die once


def test_interrupt_cancels_pending_processes(tmp_path):
    folder = str(tmp_path)
    tasks = {name: (folder, name) for name in ["fast", "s1", "s2", "s3", "s4"]}
    delivered: list[str] = []

    def stop(name, value):
        delivered.append(name)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(slow_touch, tasks, backend=Backend(workers=2), on_result=stop)
    time.sleep(1.0)  # long enough for a surviving slow task to have touched its marker
    assert delivered == ["fast"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["fast"]


def test_interrupt_cancels_pending_dask_tasks(cluster, tmp_path):
    folder = str(tmp_path)
    slow = [f"s{i}" for i in range(6)]
    tasks = {name: (folder, name) for name in ["fast", *slow]}

    def stop(name, value):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(slow_touch, tasks, backend=Backend(client=cluster[1]), on_result=stop)
    time.sleep(1.5)  # what was not cancelled would have finished by now
    touched = {path.name for path in tmp_path.iterdir()}
    assert "fast" in touched
    assert len(touched & set(slow)) <= 2  # at most the tasks already running on the 2 workers


def test_interrupt_serial_keeps_delivered(tmp_path):
    folder = str(tmp_path)
    tasks = {name: (folder, name) for name in ["a", "b", "c"]}
    delivered: list[str] = []

    def stop_after_b(name, value):
        delivered.append(name)
        if name == "b":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(touch, tasks, on_result=stop_after_b)
    assert delivered == ["a", "b"]
    assert not (tmp_path / "c").exists()


def test_a_callback_that_returns_true_cancels_what_has_not_finished(
    backend_kind, dask_cluster, tmp_path
):
    folder = str(tmp_path)
    tasks = {name: (folder, name) for name in ["a", "b", "c", "d"]}
    seen = []
    got = run(
        touch,
        tasks,
        backend=make_backend(backend_kind, dask_cluster),
        callback=lambda p: seen.append(p) or p.done == 2,
    )
    assert got.stopped and len(got.results) == 2 and got.results.keys() <= tasks.keys()
    assert [(p.done, p.total) for p in seen] == [(1, 4), (2, 4)] and seen[0].method is None
    first = run(touch, tasks, callback=lambda p: True)
    assert first.stopped and list(first.results) == ["a"]
    last = run(touch, {"a": (folder, "a")}, callback=lambda p: True)  # nothing left to stop
    assert not last.stopped and list(last.results) == ["a"]


def test_unpicklable_function_for_processes():
    with pytest.raises(UsageError, match="picklable"):
        run(lambda x: x, {"a": 1}, backend=Backend(workers=2))


def test_unreachable_scheduler_is_a_usage_error(monkeypatch):
    with socket.socket() as probe:  # a port that nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 0.5)
    start = time.perf_counter()
    with pytest.raises(UsageError, match=address):
        run(noisy_sum, {"a": 1}, backend=Backend(scheduler=address))
    assert time.perf_counter() - start < 5


@given(n=st.integers(0, 500), size=st.integers(1, 60))
def test_chunks_cover_rows_in_order(n, size):
    parts = chunks(n, size)
    assert len(parts) == math.ceil(n / size)
    assert [row for part in parts for row in range(n)[part]] == list(range(n))
    assert all(0 < part.stop - part.start <= size for part in parts)


def test_chunks_rejects_bad_sizes():
    with pytest.raises(UsageError, match="size"):
        chunks(10, 0)
    with pytest.raises(UsageError, match="n"):
        chunks(-1, 3)


def _worker_pid(_: object) -> int:
    return os.getpid()


def test_a_session_keeps_its_worker_processes_across_runs():
    with parallel.session(Backend(workers=2)) as backend:
        first = set(run(_worker_pid, {"a": 0, "b": 1}, backend=backend).results.values())
        second = set(run(_worker_pid, {"c": 0, "d": 1}, backend=backend).results.values())
    assert first == second and os.getpid() not in first
    assert all(pool is None for pool in backend.pools)  # released at the end


def test_a_session_connects_to_the_scheduler_once(cluster):
    local, _ = cluster
    with parallel.session(Backend(scheduler=local.scheduler_address)) as backend:
        client = backend.client
        assert client is not None
        assert run(_worker_pid, {"a": 0}, backend=backend).results
        assert run(_worker_pid, {"b": 0}, backend=backend).results
        assert backend.client is client
    assert client.status == "closed"
