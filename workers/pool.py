"""`hookchain worker --processes N`: RQ's `WorkerPool` supervising N hookchain worker processes.

The pool forks its children (after the rules are loaded and checked once), restarts any child
that dies, and on SIGTERM/SIGINT asks every child for a warm shutdown and waits for them.
Each child opens its own Redis connections and HTTP client, after the fork.
"""

from __future__ import annotations

from multiprocessing import get_context
from multiprocessing.process import BaseProcess
from uuid import uuid4

from rq.worker_pool import WorkerData, WorkerPool

from router.connection import sync_client
from router.settings import Settings
from workers.rules import RuleSet
from workers.worker import QUEUES, ConcurrentHookchainWorker, HookchainWorker, run_worker

_fork = get_context("fork")


class HookchainWorkerPool(WorkerPool):
    def __init__(
        self, settings: Settings, rules: RuleSet, *, processes: int, concurrency: int, name_prefix: str | None
    ) -> None:
        assert settings.redis_url is not None
        # The pool itself only reads the connection's settings; children connect after the fork.
        super().__init__(
            list(QUEUES),
            connection=sync_client(settings.redis_url),
            num_workers=processes,
            worker_class=ConcurrentHookchainWorker if concurrency > 1 else HookchainWorker,
        )
        self.settings = settings
        self.rules = rules
        self.concurrency = concurrency
        self.name_prefix = name_prefix
        self._started = 0

    def _next_name(self) -> str:
        """Unique in Redis: the prefix and a count of children started (restarts get new names)."""
        self._started += 1
        return f"{self.name_prefix}-{self._started}" if self.name_prefix else uuid4().hex

    def get_worker_process(
        self, name: str, burst: bool, _sleep: float = 0, logging_level: str = "INFO"
    ) -> BaseProcess:
        return _fork.Process(
            target=_child,
            args=(self.settings, self.rules, name, burst, self.concurrency),
            name=f"hookchain worker {name}",
        )

    def start_worker(
        self, count: int | None = None, burst: bool = True, _sleep: float = 0, logging_level: str = "INFO"
    ) -> None:
        name = self._next_name()
        process = self.get_worker_process(name, burst=burst)
        process.start()
        assert process.pid is not None
        self.worker_dict[name] = WorkerData(name=name, pid=process.pid, process=process)
        self.log.info("started worker process %s (pid %s)", name, process.pid)


def _child(settings: Settings, rules: RuleSet, name: str, burst: bool, concurrency: int) -> None:
    from workers import runtime

    assert settings.redis_url is not None
    connection = sync_client(settings.redis_url)
    runtime.install(runtime.WorkerContext.build(settings, redis=connection, rules=rules))
    run_worker(connection, burst=burst, name=name, concurrency=concurrency)
