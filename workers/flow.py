"""Timing and flow control of one action: delay, debounce, throttle and a concurrency key.

Throttle and debounce are one Redis key each; delays are RQ's scheduled jobs (`enqueue_in`);
concurrency is RQ 3's own `RateLimit` (a key and how many jobs may hold it at once).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq import RateLimit

from router.queue import KEY_PREFIX
from workers.actions.templating import render_string
from workers.rules.schema import Action

KEY_MARGIN = 3600
"""A debounce mark outlives its wait by this much, so a late job still finds it."""


@dataclass(frozen=True)
class Plan:
    """How to queue an action, or why it is not queued at all."""

    delay: float = 0.0
    rate_limit: RateLimit | None = None
    skipped: str | None = None


def _key(kind: str, rule: str, index: int, template: str, context: dict[str, Any]) -> str:
    return f"{KEY_PREFIX}:{kind}:{rule}/{index}:{render_string(template, context)}"


def concurrency_limit(action: Action, context: dict[str, Any]) -> RateLimit | None:
    if action.concurrency is None:
        return None
    key = f"hookchain:{render_string(action.concurrency.key, context)}"
    return RateLimit(key, action.concurrency.limit)


def plan(redis: Redis, action: Action, rule: str, index: int, event_id: str, context: dict[str, Any]) -> Plan:
    """Decide, as the action becomes due, when it runs (RenderError when a key template fails)."""
    delay = action.delay or 0.0
    if action.throttle is not None:
        key = _key("throttle", rule, index, action.throttle.key, context)
        admitted = redis.set(key, event_id, nx=True, ex=max(1, math.ceil(action.throttle.per)))
        holder = None if admitted else redis.get(key)
        # The same event processed again (a redelivered job) is the one that holds the key.
        if not admitted and (holder is None or holder.decode() != event_id):
            where = key.split(":", 3)[-1]
            return Plan(
                skipped=f"throttled: key {where!r} already fired in the last {action.throttle.per:g}s"
            )
    if action.debounce is not None:
        key = _key("debounce", rule, index, action.debounce.key, context)
        redis.set(key, event_id, ex=math.ceil(action.debounce.wait) + KEY_MARGIN)
        delay = max(delay, action.debounce.wait)
    return Plan(delay=delay, rate_limit=concurrency_limit(action, context))


def superseded(
    redis: Redis, action: Action, rule: str, index: int, event_id: str, context: dict[str, Any]
) -> str | None:
    """For a debounced action about to run: why a later event replaced it, or None."""
    if action.debounce is None:
        return None
    key = _key("debounce", rule, index, action.debounce.key, context)
    latest = redis.get(key)
    if latest is not None and latest.decode() != event_id:
        replacement = latest.decode()
        return f"debounced: a later event ({replacement}) with key {key.split(':', 3)[-1]!r} replaces it"
    return None
