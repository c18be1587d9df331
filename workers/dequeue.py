"""Taking a job off several queues without a window in which a crash loses it.

RQ 3 moves a job atomically onto a per-queue "intermediate" list (LMOVE) only when a worker
listens on exactly one queue; with two it uses BLPOP, and a worker killed between the pop and
the job's claim loses the job for good. hookchain's workers listen on two queues, so they take
jobs with LMOVE from each queue in turn: a job is always on a list or claimed, and RQ's sweep
re-queues one left on the intermediate list by a dead worker. An idle worker blocks on a list
of wake-up tokens that producers push with every job, not on one of the queues, so a job on
either queue starts at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from redis import Redis
from rq import Queue
from rq.exceptions import DequeueTimeout
from rq.job import Job
from rq.utils import as_text

from router.queue import WAKE_KEY

WAKE_WAIT = 1
"""Seconds an idle worker waits for a wake-up token before looking at the queues again.

Producers leave a token for every job they push (router/queue.py), so a worker starts within
milliseconds; jobs pushed without one (RQ's scheduler moving a due retry) wait at most this long.
"""


class HookchainQueue(Queue):
    @classmethod
    def dequeue_any(
        cls,
        queues: Iterable[Queue],
        timeout: int | None,
        connection: Redis,
        job_class: type[Job] | None = None,
        serializer: Any = None,
        death_penalty_class: Any = None,
    ) -> tuple[Job, Queue] | None:
        keys = [queue.key for queue in queues]
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            found = None
            for key in keys:
                found = cls.lmove(connection, key, None)
                if found is not None:
                    break
            if found is None:
                if deadline is None:
                    return None
                if time.monotonic() >= deadline:
                    raise DequeueTimeout(timeout, keys)
                wait = min(WAKE_WAIT, max(deadline - time.monotonic(), 0.01))
                connection.blpop([WAKE_KEY], wait)
                continue
            queue_key, job_id = (as_text(part) for part in found)
            fetched = cls._fetch_dequeued_job(
                connection,
                queue_key,
                job_id,
                job_class=job_class,
                serializer=serializer,
                death_penalty_class=death_penalty_class,
            )
            if fetched is not None:
                return fetched

    @staticmethod
    def intermediate_key(queue_key: str) -> str:
        return f"{queue_key}:intermediate"
