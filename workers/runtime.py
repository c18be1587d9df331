"""What a job needs from the process it runs in: settings, Redis, rules, an HTTP client.

RQ calls jobs by dotted path with plain arguments, so the worker installs one context per
process at start and jobs look it up here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis import Redis
from rq import Queue

from router.connection import sync_client
from router.errors import ConfigError
from router.queue import ACCEPT_SCRIPT, ACTIONS_QUEUE, EVENTS_QUEUE
from router.settings import Settings
from workers import store
from workers.actions.guard import AllowList, Resolver, system_resolver
from workers.rules import RuleSet, load_rules
from workers.rules.reload import RulesReloader

log = logging.getLogger("hookchain.worker")


class Secrets(Mapping[str, str]):
    """`secrets.NAME` in templates: the environment, remembering which values a render used."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)
        self.used: set[str] = set()

    def __getitem__(self, name: str) -> str:
        value = self._values[name]
        self.used.add(value)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(())  # never enumerate the environment into a template

    def __len__(self) -> int:
        return 0

    def fork(self) -> Secrets:
        return Secrets(self._values)


@dataclass
class WorkerContext:
    settings: Settings
    redis: Redis
    rules: RuleSet
    http: httpx.Client
    allowed: AllowList
    secrets: Secrets
    resolver: Resolver = system_resolver
    queues: dict[str, Queue] = field(default_factory=dict)
    accept_script: Any = None
    reloader: RulesReloader | None = None

    def __post_init__(self) -> None:
        self.accept_script = self.redis.register_script(ACCEPT_SCRIPT)

    def refresh_rules(self) -> None:
        """Pick up edited rule files (called before each job; cheap when nothing changed)."""
        if self.reloader is not None:
            fresh = self.reloader.poll()
            if fresh is not None:
                self.rules = fresh
                store.publish_rules(self.redis, fresh.rules.values())

    def watch_rules(self) -> None:
        """Also look at the rule files every second while idle, so an edit shows up without a job."""
        reloader = self.reloader
        if reloader is None:
            return

        def loop() -> None:
            while True:
                time.sleep(reloader.interval)
                try:
                    self.refresh_rules()
                except Exception:  # a watcher that dies silently would be worse than a logged error
                    log.exception("watching the rule files failed; trying again")

        threading.Thread(target=loop, name="hookchain-rules-watch", daemon=True).start()

    @classmethod
    def build(
        cls,
        settings: Settings,
        redis: Redis | None = None,
        rules: RuleSet | None = None,
        resolver: Resolver = system_resolver,
    ) -> WorkerContext:
        if redis is None:
            if settings.redis_url is None:
                raise ConfigError("REDIS_URL is not set: the worker needs Redis (or run `hookchain dev`)")
            redis = sync_client(settings.redis_url)
        reloader = RulesReloader(Path(settings.rules_dir))
        if rules is None:
            rules = RuleSet(load_rules(Path(settings.rules_dir)))
        http = httpx.Client(
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
        )
        return cls(
            settings=settings,
            redis=redis,
            rules=rules,
            http=http,
            allowed=AllowList.parse(settings.allowed_targets),
            secrets=Secrets(os.environ),
            resolver=resolver,
            queues={name: Queue(name, connection=redis) for name in (EVENTS_QUEUE, ACTIONS_QUEUE)},
            reloader=reloader,
        )

    def close(self) -> None:
        self.http.close()


_lock = threading.Lock()
_context: WorkerContext | None = None


def install(context: WorkerContext | None) -> None:
    global _context
    with _lock:
        _context = context
    if context is not None:
        store.publish_rules(context.redis, context.rules.rules.values())


def current() -> WorkerContext:
    """The installed context; a job run by a plain `rq worker` builds one from the environment."""
    global _context
    with _lock:
        if _context is None:
            _context = WorkerContext.build(Settings.load())
            store.publish_rules(_context.redis, _context.rules.rules.values())
        return _context
