"""The hookchain worker: RQ's in-process worker, tuned for short HTTP jobs.

RQ's default `Worker` forks a process per job (about 14 jobs/s here). `SimpleWorker` runs
jobs in the worker process and keeps the HTTP client's connections warm (about 115 jobs/s with
one POST each); `ConcurrentHookchainWorker` runs several at once on a thread pool, so a slow API
does not hold up every other event. Delayed retries are moved onto the queue by a scheduler thread of the
worker itself, so it also runs where forking is not possible (the embedded Redis of `dev`).

Crash recovery (a worker killed with `kill -9` mid-job): RQ's `SimpleWorker` claims a job in
the started-job registry for `job.timeout + 60` s and never renews the claim while the job runs;
RQ's maintenance (every 10 min by default, behind a 15-min lock) then finds the expired claim and
retries the job only if it was queued with a `Retry`. hookchain queues every job with
`Retry(max=CRASH_RETRIES)` (router/queue.py), keeps a short claim (the *lease*, default 30 s)
alive from a heartbeat thread while the job runs, sweeps every `maintenance_interval` (15 s)
behind a lock that lasts one interval, and never blocks on an empty queue longer than that:
a killed worker's job runs again on another worker within lease + interval (< 1 min).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import redis
from redis import Redis
from rq import SimpleWorker, worker_registration
from rq.executions import Execution, ExecutionRegistry
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.registry import clean_registries
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty, UnixSignalDeathPenalty
from rq.utils import as_text, now
from rq.worker import WorkerStatus

from router.queue import ACTIONS_QUEUE, EVENTS_QUEUE
from workers.dequeue import HookchainQueue
from workers.threaded import ThreadPoolWorker

log = logging.getLogger("hookchain.worker")

QUEUES = (ACTIONS_QUEUE, EVENTS_QUEUE)
"""Actions first: finishing a chain's calls beats starting new chains."""
WORKER_TTL = 60
"""RQ's default (420 s) leaves a crashed worker registered for minutes."""
REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
JOB_LEASE = 30
MAINTENANCE_INTERVAL = 15
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


class _CrashSafe:
    """A killed worker's jobs run again elsewhere within lease + sweep interval (module docstring)."""

    job_lease: int = JOB_LEASE
    connection: Redis
    maintenance_interval: int
    worker_ttl: int
    queues: list[Queue]
    _stop_requested: bool
    _exc_handlers: list[Any]

    @property
    def dequeue_timeout(self) -> int:
        # An idle worker wakes up at least once per maintenance interval to sweep.
        return max(1, min(self.worker_ttl - 15, int(self.maintenance_interval)))

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return self.job_lease

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        # RQ takes a job off the intermediate list only for one-queue workers; ours take from two.
        super().prepare_job_execution(job, remove_from_intermediate_queue=True)

    def run_maintenance_tasks(self) -> None:
        try:
            super().run_maintenance_tasks()
        except REDIS_DOWN as exc:
            log.warning("Redis went away during the sweep (%s)", exc)
            self._wait_for_redis()

    def heartbeat(self, *args: Any, **kwargs: Any) -> None:
        try:
            super().heartbeat(*args, **kwargs)
        except REDIS_DOWN as exc:
            log.warning("Redis went away (%s)", exc)
            self._wait_for_redis()

    def _wait_for_redis(self) -> None:
        delay = 0.5
        while not self._stop_requested:
            try:
                self.connection.ping()
            except REDIS_DOWN:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.warning("Redis is back: worker %s carries on", self.name)
            return

    def clean_registries(self) -> None:
        """RQ's sweep, behind a lock that expires after one interval instead of 15 minutes.

        The lock is not released: whichever worker takes it sweeps for everyone this interval,
        and a worker killed mid-sweep holds it for one interval only.
        """
        lock_for = max(int(self.maintenance_interval) - 1, 1)
        for queue in self.queues:
            if self.connection.set(queue.registry_cleaning_key, 1, nx=True, ex=lock_for):
                clean_registries(queue, self._exc_handlers)
                worker_registration.clean_worker_registry(queue)
                self._requeue_stranded(queue)
        self.last_cleaned_at = now()

    def _requeue_stranded(self, queue: Queue) -> None:
        """Jobs a dead worker took off the queue but never claimed: failed (so retried) after a lease.

        RQ's own `IntermediateQueue.cleanup` does the same after one minute.
        """
        stranded = queue.intermediate_queue
        for job_id in stranded.get_job_ids():
            if job_id in queue.started_job_registry:
                continue
            job = queue.fetch_job(job_id)
            if job is None or job.get_status(refresh=False) != JobStatus.QUEUED:
                stranded.remove(job_id)  # done, failed or claimed since: not stranded
                continue
            if stranded.set_first_seen(job_id):
                continue
            first_seen = stranded.get_first_seen(job_id)
            if first_seen is not None and now() - first_seen > timedelta(seconds=self.job_lease):
                log.warning("job %s was taken by a worker that died before running it: queued again", job_id)
                self.handle_job_failure(  # type: ignore[attr-defined]
                    job, queue, exc_string="taken by a worker that died before running it"
                )
                stranded.remove(job_id)


class HookchainWorker(_StopsCleanly, _CrashSafe, SimpleWorker):
    """One job at a time, in the worker process (RQ's SimpleWorker)."""

    def __init__(self, *args: Any, job_lease: int = JOB_LEASE, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        kwargs.setdefault("queue_class", HookchainQueue)
        super().__init__(*args, **kwargs)
        self.job_lease = job_lease
        # Signal-based job timeouts work only in the main thread; `dev` runs the worker in another.
        self.death_penalty_class = UnixSignalDeathPenalty if _in_main_thread() else TimerDeathPenalty
        self._arm_signals()

    def _install_signal_handlers(self) -> None:
        if _in_main_thread():
            super()._install_signal_handlers()

    def execute_job(self, job: Job, queue: Queue) -> None:
        try:
            forget_dead_executions(self.connection, job)
            execution = self.prepare_execution(job)
            with LeaseKeeper(self, job, execution):
                self.perform_job(job, queue, execution)
            self.set_state(WorkerStatus.IDLE)
        except REDIS_DOWN as exc:
            # RQ would quit the worker. The job's claim lapses and the sweep runs it again.
            log.warning(
                "Redis went away while job %s ran (%s): it runs again once Redis is back", job.id, exc
            )
            self._wait_for_redis()


def forget_dead_executions(connection: Redis, job: Job) -> None:
    """Drop a killed worker's execution of this job from the job's execution registry.

    RQ keeps the entry 60 s longer than the execution itself; a re-run finishing inside that
    window fails in RQ's clean-up (`Execution ... not found`) and would be retried for nothing.
    """
    registry = ExecutionRegistry(job_id=job.id, connection=connection)
    execution_ids = connection.zrange(registry.key, 0, -1)
    gone = [eid for eid in execution_ids if not connection.exists(f"rq:execution:{job.id}:{as_text(eid)}")]
    if gone:
        connection.zrem(registry.key, *gone)


class LeaseKeeper(threading.Thread):
    """Renews a running job's claim (and the worker's registration) until the job ends."""

    def __init__(self, worker: Any, job: Job, execution: Execution) -> None:
        super().__init__(name=f"hookchain-lease-{job.id}", daemon=True)
        self.worker = worker
        self.job = job
        self.execution = execution
        self._done = threading.Event()

    def run(self) -> None:
        every = max(self.worker.job_lease / 3, 1.0)
        while not self._done.wait(every):
            try:
                with self.worker.connection.pipeline() as pipe:
                    self.execution.heartbeat(self.job.started_job_registry, self.worker.job_lease, pipe)
                    pipe.expire(self.worker.key, self.worker.worker_ttl)
                    pipe.execute()
            except Exception as exc:  # Redis away for a moment: the next beat tries again
                log.warning("could not renew the claim on job %s: %s", self.job.id, exc)

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=5)

    def __enter__(self) -> LeaseKeeper:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


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


class ConcurrentHookchainWorker(_StopsCleanly, _CrashSafe, ThreadPoolWorker):
    """Up to `concurrency` hookchain jobs at a time in one process (see workers/threaded.py)."""

    def __init__(self, *args: Any, job_lease: int = JOB_LEASE, **kwargs: Any) -> None:
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        kwargs.setdefault("maintenance_interval", MAINTENANCE_INTERVAL)
        kwargs.setdefault("queue_class", HookchainQueue)
        super().__init__(*args, **kwargs)
        self.job_lease = job_lease
        self._arm_signals()

    def execute_job(self, job: Job, queue: Queue) -> None:
        forget_dead_executions(self.connection, job)
        super().execute_job(job, queue)

    def _perform(self, job: Job, queue: Queue, execution: Execution) -> None:
        with LeaseKeeper(self, job, execution):
            super()._perform(job, queue, execution)


def make_worker(
    connection: Redis,
    *,
    concurrency: int = 1,
    name: str | None = None,
    job_lease: int = JOB_LEASE,
    maintenance_interval: int = MAINTENANCE_INTERVAL,
) -> HookchainWorker | ConcurrentHookchainWorker:
    """One job at a time on RQ's SimpleWorker, or several on a thread pool."""
    options: dict[str, Any] = {
        "connection": connection,
        "name": name,
        "job_lease": job_lease,
        "maintenance_interval": maintenance_interval,
    }
    if concurrency == 1:
        return HookchainWorker(list(QUEUES), **options)
    return ConcurrentHookchainWorker(list(QUEUES), concurrency=concurrency, **options)


def run_worker(
    connection: Redis,
    *,
    burst: bool = False,
    name: str | None = None,
    stop_event: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
    concurrency: int = 1,
    job_lease: int = JOB_LEASE,
    maintenance_interval: int = MAINTENANCE_INTERVAL,
) -> None:
    """Work the hookchain queues until stopped (SIGTERM finishes the jobs in flight first)."""
    worker = make_worker(
        connection,
        concurrency=concurrency,
        name=name,
        job_lease=job_lease,
        maintenance_interval=maintenance_interval,
    )
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
