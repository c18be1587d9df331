"""A worker that keeps several jobs in flight, so a slow API does not hold up every other event.

RQ's `SimpleWorker` runs one job at a time: with a target that answers in 200 ms a process
does 5 actions/s. `ThreadPoolWorker` is RQ's own `BaseWorker` loop with one change: the main
thread dequeues a job only when one of `concurrency` pool threads is free, and hands it over.
Everything else is RQ's code, unchanged, per job:

- `prepare_execution` (main thread) registers the job as started in the queue's
  `StartedJobRegistry` under an execution of this worker before the job leaves the main thread;
- `perform_job` (pool thread) marks it started, runs it under a per-thread job timeout
  (`TimerDeathPenalty`: signals reach only the main thread), then records success or failure;
- the execution's heartbeat lasts the job's timeout plus a minute, as with `SimpleWorker`: if the
  process dies, RQ's registry clean-up (any worker's maintenance) hands the job back to
  the failed registry, or to its queue when it has retries left.

Warm shutdown (SIGTERM/SIGINT) stops dequeuing and waits for the jobs in flight; a second
signal exits at once and leaves them to that clean-up.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue
from rq.timeouts import TimerDeathPenalty
from rq.worker import BaseWorker, WorkerStatus

log = logging.getLogger("hookchain.worker")

SLOT_WAIT = 1.0
"""How often the main thread looks up (heartbeat, stop request) while every thread is busy."""


class ThreadPoolWorker(BaseWorker):
    death_penalty_class = TimerDeathPenalty

    def __init__(self, *args: Any, concurrency: int = 8, **kwargs: Any) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        super().__init__(*args, **kwargs)
        self.concurrency = concurrency
        self._slots = threading.Semaphore(concurrency)
        self._finished = threading.Condition()
        self._in_flight: dict[str, Job] = {}
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="hookchain-job")
        self._burst = False

    @property
    def in_flight(self) -> int:
        with self._finished:
            return len(self._in_flight)

    def work(self, burst: bool = False, *args: Any, **kwargs: Any) -> bool:
        self._burst = burst
        return super().work(burst, *args, **kwargs)

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is threading.main_thread():
            super()._install_signal_handlers()

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        """As `SimpleWorker`: the execution stays registered for the job's whole timeout."""
        if job.timeout == -1 or not job.timeout:
            return self.worker_ttl + 60
        return int(job.timeout) + 60

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """A job, once a thread is free to run it; None when stopping (or, in burst, all done)."""
        while True:
            if not self._wait_for_slot():
                return None
            result = super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            if result is not None:
                return result
            self._slots.release()
            if not (self._burst and self._wait_for_one_to_finish()):
                return None
            # burst: a job that just finished may have queued follow-up jobs; look again.

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Register the job as started here, run it on a pool thread, return at once."""
        with self._finished:  # before the state says BUSY, so a finishing thread cannot say IDLE
            self._in_flight[job.id] = job
        try:
            execution = self.prepare_execution(job)
        except BaseException:
            self._forget(job)
            raise
        self._pool.submit(self._perform, job, queue, execution)

    def _perform(self, job: Job, queue: Queue, execution: Execution) -> None:
        try:
            self.perform_job(job, queue, execution)
        except BaseException:  # perform_job records failures itself; this is a bug or a lost Redis
            log.exception("job %s: the worker could not record its outcome", job.id)
        finally:
            self._forget(job)

    def _forget(self, job: Job) -> None:
        with self._finished:
            self._in_flight.pop(job.id, None)
            if not self._in_flight:
                self.set_state(WorkerStatus.IDLE)
            self._finished.notify_all()
        self._slots.release()

    def _wait_for_slot(self) -> bool:
        while not self._slots.acquire(timeout=SLOT_WAIT):
            if self._stop_requested:
                return False
            self.heartbeat()
        if self._stop_requested:
            self._slots.release()
            return False
        return True

    def _wait_for_one_to_finish(self) -> bool:
        """False when nothing is in flight (a burst is over)."""
        with self._finished:
            if not self._in_flight:
                return False
            self._finished.wait(timeout=SLOT_WAIT)
            return True

    def request_force_stop(self, signum: int, frame: Any) -> None:
        try:
            super().request_force_stop(signum, frame)
        except SystemExit:
            pending = self.in_flight
            if pending:
                log.warning(
                    "cold shutdown: %d job(s) in flight are left to RQ's clean-up of abandoned jobs", pending
                )
            os._exit(1)

    def teardown(self) -> None:
        """Let the jobs in flight finish (warm shutdown), then unregister as RQ does."""
        pending = self.in_flight
        if pending:
            log.info("waiting for %d job(s) in flight to finish", pending)
        self._pool.shutdown(wait=True)
        super().teardown()
