"""Embarrassingly parallel work: one function applied to named tasks, serially or in parallel.

``run(func, tasks)`` calls ``func(arg)`` for every ``name -> arg`` of ``tasks`` and returns the
values by name. Three backends give the same results, since each task depends only on its own
argument (seeds included):

- serial: in this process, one task after another (the default);
- processes: ``workers`` local processes started with "spawn" (numba and fork do not mix);
- dask: a running ``dask.distributed`` scheduler, by address or through a ``Client``.

A task that raises runs again up to ``retries`` times; after that its error is recorded and the
other tasks carry on. A task whose process dies (killed, out of memory) is rescheduled up to
``DEATH_RETRIES`` times, like dask's ``allowed-failures``. Local processes are therefore kept one
per one-worker pool, so a death is charged to the one task that was running in it and finished
results are never lost. Every value reaches ``on_result`` in this process as soon as it is
known, so a caller can keep a partial store that a later run resumes with ``skip``. After every
finished task ``callback`` sees a :class:`TaskProgress`; returning True cancels the tasks not
yet finished, as Ctrl-C does, and the run returns what has finished.
``session(backend)`` keeps the worker processes (or the scheduler connection) for several runs.
"""

from __future__ import annotations

import multiprocessing
import pickle
import uuid
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from decide.contract import Callback, StopRequestedError, stop_requested
from decide.errors import DecideError, UsageError

#: Seconds allowed to reach a dask scheduler before giving up.
CONNECT_TIMEOUT = 10.0
#: Extra attempts for a task whose worker process died while running it (dask's default).
DEATH_RETRIES = 3


class TaskError(DecideError):
    """Tasks that still failed after their retries; ``failures`` maps name -> error."""

    def __init__(self, failures: Mapping[str, str]):
        self.failures = dict(failures)
        listed = "; ".join(f"{name} ({error})" for name, error in self.failures.items())
        super().__init__(f"{len(self.failures)} task(s) failed: {listed}")


@dataclass(frozen=True)
class Backend:
    """Where tasks run: serial, ``workers`` local processes, or a dask cluster.

    A ``client`` (a ``dask.distributed.Client``) wins over a ``scheduler`` address, which wins
    over ``workers``; ``workers`` of None, 0 or 1 means serial.
    """

    workers: int | None = None
    scheduler: str | None = None
    client: Any = None
    retries: int = 1
    pools: list | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self.workers is not None and self.workers < 0:
            raise UsageError(f"workers: expected a count >= 0, got {self.workers}")
        if self.retries < 0:
            raise UsageError(f"retries: expected a count >= 0, got {self.retries}")

    @property
    def kind(self) -> Literal["serial", "processes", "dask"]:
        if self.client is not None or self.scheduler:
            return "dask"
        return "processes" if self.workers and self.workers > 1 else "serial"


@dataclass(frozen=True)
class TaskProgress:
    """``done`` of ``total`` tasks finished; ``task`` is the one this record is about. A study
    also passes on, as ``method``, the progress of the method running inside a task (serial
    runs only); ``method`` is None when the record reports a finished task."""

    done: int
    total: int
    task: str
    method: Any = None


@dataclass
class TaskResults:
    """Values of the tasks that succeeded and errors of those that failed, in input order;
    ``stopped`` when the callback cancelled the tasks that had not finished."""

    results: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    stopped: bool = False

    @property
    def stop_reason(self) -> str:
        """``callback`` when the callback cancelled tasks, else ``iteration limit`` (all ran)."""
        return "callback" if self.stopped else "iteration limit"

    def raise_failures(self) -> None:
        """Raise :class:`TaskError` naming every failed task, if any failed."""
        if self.failures:
            raise TaskError(self.failures)


def chunks(n: int, size: int) -> list[slice]:
    """Split rows ``0..n-1`` into contiguous slices of at most ``size`` rows."""
    if n < 0 or size < 1:
        raise UsageError(f"chunks: expected n >= 0 and size >= 1, got n={n}, size={size}")
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def describe(error: BaseException) -> str:
    """``"ExceptionType: message"`` on one line."""
    message = " ".join(str(error).split())
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


class Reporter:
    """A study's one callback, split between :func:`run` (``tasks``, after each finished task)
    and the method running inside each task (``inside(task)``; only where the method runs in
    this process). Once the callback has returned True every later report asks to stop too,
    so the running method stops and no further task starts."""

    def __init__(self, callback: Callback | None, total: int, *, inside: bool) -> None:
        self.callback, self.total, self.in_process = callback, total, inside
        self.done, self.stopped = 0, False

    def tasks(self, progress: TaskProgress) -> bool:
        self.done = progress.done
        self.stopped |= stop_requested(self.callback, progress)
        return self.stopped

    def inside(self, task: str) -> Callable[[Any], bool] | None:
        """The callback for the method running ``task`` (None where it would run elsewhere)."""
        if self.callback is None or not self.in_process:
            return None
        return lambda progress: self._method(task, progress)

    def _method(self, task: str, progress: Any) -> bool:
        report = TaskProgress(self.done, self.total, task, progress)
        self.stopped |= stop_requested(self.callback, report)
        return self.stopped

    @property
    def stop_reason(self) -> str:
        """``callback`` once the callback stopped the study, else ``iteration limit``."""
        return "callback" if self.stopped else "iteration limit"


class _Outcomes:
    """Collects what the tasks give, hands each value to ``on_result`` and reports progress."""

    def __init__(self, on_result, callback: Callback | None, total: int):
        self.results: dict[str, Any] = {}
        self.failures: dict[str, str] = {}
        self.on_result, self.callback, self.total = on_result, callback, total

    def success(self, name: str, value: Any) -> None:
        self.results[name] = value
        if self.on_result is not None:
            self.on_result(name, value)
        self._report(name)

    def failure(self, name: str, error: str) -> None:
        self.failures[name] = error
        self._report(name)

    def _report(self, name: str) -> None:
        done = len(self.results) + len(self.failures)
        if (
            stop_requested(self.callback, TaskProgress(done, self.total, name))
            and done < self.total
        ):
            raise StopRequestedError  # through the runner, which cancels what is left


def run(
    func: Callable[[Any], Any],
    tasks: Mapping[str, Any],
    *,
    backend: Backend | None = None,
    callback: Callback | None = None,
    on_result: Callable[[str, Any], None] | None = None,
    skip: Collection[str] = (),
) -> TaskResults:
    """Call ``func(arg)`` for every ``name -> arg`` in ``tasks`` except the names in ``skip``.

    ``func`` must be picklable (a module-level function) for processes and dask. Failed tasks
    are reported in the result, not raised (see :meth:`TaskResults.raise_failures`). On Ctrl-C
    pending tasks are cancelled and ``KeyboardInterrupt`` propagates; the values already given
    to ``on_result`` are the ones kept.
    """
    backend = backend or Backend()
    skipped = set(skip)
    todo = {name: arg for name, arg in tasks.items() if name not in skipped}
    runner = {"serial": _run_serial, "processes": _run_processes, "dask": _run_dask}[backend.kind]
    outcomes = _Outcomes(on_result, callback, len(todo))
    stopped = False
    try:
        if todo:
            runner(func, todo, backend, outcomes)
    except StopRequestedError:
        stopped = True
    return TaskResults(
        {name: outcomes.results[name] for name in tasks if name in outcomes.results},
        {name: outcomes.failures[name] for name in tasks if name in outcomes.failures},
        stopped,
    )


def _run_serial(func, todo: dict[str, Any], backend: Backend, outcomes: _Outcomes) -> None:
    for name, arg in todo.items():
        for _attempt in range(backend.retries + 1):
            try:
                value = func(arg)
            except Exception as error:
                last_error = error
                continue
            outcomes.success(name, value)
            break
        else:
            outcomes.failure(name, describe(last_error))


def _run_processes(func, todo: dict[str, Any], backend: Backend, outcomes: _Outcomes) -> None:
    try:
        pickle.dumps(func)
    except Exception as error:
        raise UsageError(f"func: must be picklable (a module-level function): {error}") from None
    context = multiprocessing.get_context("spawn")
    kept = backend.pools is not None  # a session's pools outlive this run
    pools: list[ProcessPoolExecutor | None] = backend.pools if kept else [None] * backend.workers
    idle = list(range(backend.workers))
    queue = deque(todo)
    running: dict[Future, tuple[str, int]] = {}
    errors, deaths = Counter(), Counter()
    try:
        while queue or running:
            while queue and idle:
                slot = idle.pop()
                pools[slot] = pools[slot] or ProcessPoolExecutor(1, mp_context=context)
                name = queue.popleft()
                running[pools[slot].submit(func, todo[name])] = (name, slot)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name, slot = running.pop(future)
                idle.append(slot)
                error = future.exception()
                if error is None:
                    outcomes.success(name, future.result())
                    continue
                died = isinstance(error, BrokenProcessPool)
                if died:  # only this pool's one worker died: replace it
                    pools[slot].shutdown(wait=False)
                    pools[slot] = None
                count = deaths if died else errors
                count[name] += 1
                if count[name] > (DEATH_RETRIES if died else backend.retries):
                    outcomes.failure(name, describe(error))
                else:
                    queue.append(name)
    except BaseException:
        for slot, pool in enumerate(pools):
            if pool is not None:
                _stop(pool)
                pools[slot] = None
        raise
    if not kept:
        _close(pools)


def _close(pools: list) -> None:
    for slot, pool in enumerate(pools):
        if pool is not None:
            pool.shutdown()
            pools[slot] = None


@contextmanager
def session(backend: Backend | None) -> Iterator[Backend]:
    """A backend for several :func:`run` calls in a row (e.g. the levels of a subdivision):
    local worker processes are started once and a scheduler is connected once, then both are
    released at the end."""
    backend = backend or Backend()
    if backend.kind == "processes" and backend.pools is None:
        pools: list = [None] * backend.workers
        try:
            yield replace(backend, pools=pools)
        finally:
            _close(pools)
    elif backend.kind == "dask" and backend.client is None:
        client, _ = _connect(backend)
        try:
            yield replace(backend, client=client)
        finally:
            client.close()
    else:
        yield backend


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what is queued and end the worker now rather than after its current task."""
    terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    # before shutdown(), which forgets the processes; older Pythons have no public way
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def _connect(backend: Backend):
    """The backend's client, or a new one to its scheduler; True when we must close it."""
    if backend.client is not None:
        return backend.client, False
    from distributed import Client

    try:
        client = Client(backend.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(
            f"scheduler: cannot reach the dask scheduler at {backend.scheduler!r} "
            f"within {CONNECT_TIMEOUT:g} s ({describe(error)})"
        ) from None
    return client, True


def _run_dask(func, todo: dict[str, Any], backend: Backend, outcomes: _Outcomes) -> None:
    from distributed import as_completed

    client, owned = _connect(backend)
    token = uuid.uuid4().hex  # keys unique to this run, so no stale result is ever reused
    futures: dict[Any, str] = {}
    try:
        for name, arg in todo.items():
            key = f"{name}-{token}"
            future = client.submit(func, arg, key=key, pure=False, retries=backend.retries)
            futures[future] = name
        for future in as_completed(list(futures), loop=client.loop):
            name = futures.pop(future)
            if future.status == "finished":
                outcomes.success(name, future.result())
            elif future.status == "error":
                outcomes.failure(name, describe(future.exception()))
            else:
                outcomes.failure(name, f"{future.status}: the scheduler gave no result")
    except BaseException:
        if futures:
            client.cancel(list(futures))
        raise
    finally:
        if owned:
            client.close()
