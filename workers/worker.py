"""The hookchain worker: RQ's in-process worker, tuned for short HTTP jobs.

RQ's default `Worker` forks a process per job (about 14 jobs/s here); `SimpleWorker` runs
jobs in the worker process and keeps the HTTP client's connections warm (about 115 jobs/s
with one POST each). Delayed retries are moved onto the queue by a scheduler thread of the
worker itself, so it also runs where forking is not possible (the embedded Redis of `dev`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from redis import Redis
from rq import SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty, UnixSignalDeathPenalty

from router.queue import ACTIONS_QUEUE, EVENTS_QUEUE
from workers.threaded import ThreadPoolWorker

log = logging.getLogger("hookchain.worker")

QUEUES = (ACTIONS_QUEUE, EVENTS_QUEUE)
"""Actions first: finishing a chain's calls beats starting new chains."""
WORKER_TTL = 60
"""RQ's default (420 s) leaves a crashed worker's job unclaimed for minutes."""
MAINTENANCE_INTERVAL = 30
SCHEDULER_INTERVAL = 1


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


class _StopsCleanly:
    """SIGTERM at any moment means "stop after the jobs in flight", even before work() starts.

    RQ raises StopRequested wherever the signal lands when idle; before the work loop runs
    (start-up, registration) nothing would catch it, so there the signal only asks the loop to stop.
    """

    _looping = False
    _stop_requested: bool

    def _arm_signals(self) -> None:
        self._looping = False
        self._install_signal_handlers()  # type: ignore[attr-defined]

    def request_stop(self, signum: Any, frame: Any) -> None:
        if not self._looping:
            self._stop_requested = True
            return
        super().request_stop(signum, frame)  # type: ignore[misc]

    def dequeue_job_and_maintain_ttl(self, *args: Any, **kwargs: Any) -> Any:
        self._looping = True
        return super().dequeue_job_and_maintain_ttl(*args, **kwargs)  # type: ignore[misc]


class HookchainWorker(_StopsCleanly, SimpleWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        super().__init__(*args, **kwargs)
        # Signal-based job timeouts work only in the main thread; `dev` runs the worker in another.
        self.death_penalty_class = UnixSignalDeathPenalty if _in_main_thread() else TimerDeathPenalty
        self._arm_signals()

    def _install_signal_handlers(self) -> None:
        if _in_main_thread():
            super()._install_signal_handlers()


class SchedulerThread(threading.Thread):
    """Moves due delayed jobs (retries) onto their queues; one holds the lock per queue at a time."""

    def __init__(self, connection: Redis, queues: tuple[str, ...] = QUEUES) -> None:
        super().__init__(name="hookchain-scheduler", daemon=True)
        self.scheduler = RQScheduler(list(queues), connection=connection, interval=SCHEDULER_INTERVAL)
        self.scheduler._connection = connection  # share the worker's client instead of a new pool
        if not log.isEnabledFor(logging.DEBUG):
            logging.getLogger("rq.scheduler").setLevel(logging.WARNING)
        self._stopping = threading.Event()

    def run(self) -> None:
        scheduler = self.scheduler
        scheduler.register_birth()
        try:
            while not self._stopping.is_set():
                try:
                    if scheduler.should_reacquire_locks:
                        scheduler.acquire_locks()
                    if scheduler.acquired_locks:
                        scheduler.heartbeat()
                        scheduler.enqueue_scheduled_jobs()
                except Exception:
                    log.exception("scheduler pass failed; trying again")
                self._stopping.wait(SCHEDULER_INTERVAL)
        finally:
            scheduler.release_locks()
            scheduler.register_death()

    def stop(self) -> None:
        self._stopping.set()


class ConcurrentHookchainWorker(_StopsCleanly, ThreadPoolWorker):
    """Up to `concurrency` hookchain jobs at a time in one process (see workers/threaded.py)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        super().__init__(*args, **kwargs)
        self._arm_signals()


def make_worker(
    connection: Redis, *, concurrency: int = 1, name: str | None = None
) -> HookchainWorker | ConcurrentHookchainWorker:
    """One job at a time on RQ's SimpleWorker, or several on a thread pool."""
    if concurrency == 1:
        return HookchainWorker(list(QUEUES), connection=connection, name=name)
    return ConcurrentHookchainWorker(list(QUEUES), connection=connection, name=name, concurrency=concurrency)


def run_worker(
    connection: Redis,
    *,
    burst: bool = False,
    name: str | None = None,
    stop_event: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
    concurrency: int = 1,
) -> None:
    """Work the hookchain queues until stopped (SIGTERM finishes the jobs in flight first)."""
    worker = make_worker(connection, concurrency=concurrency, name=name)
    if on_ready is not None:
        on_ready()
    scheduler = SchedulerThread(connection)
    scheduler.start()
    if stop_event is not None:
        threading.Thread(target=_stop_when_set, args=(stop_event, worker), daemon=True).start()
    try:
        # RQ logs every job at INFO; hookchain's own lines say what matters.
        rq_level = "DEBUG" if log.isEnabledFor(logging.DEBUG) else "WARNING"
        worker.work(burst=burst, logging_level=rq_level)
    finally:
        scheduler.stop()
        scheduler.join(timeout=5)


def _stop_when_set(event: threading.Event, worker: HookchainWorker | ConcurrentHookchainWorker) -> None:
    event.wait()
    worker._stop_requested = True
