"""Loop and storm protection: a rule runs once per subject along a chain; a rule fires at a capped rate.

A chain that comes back to a rule it already ran for the same subject, along one path of cause
and effect, is going round in circles (a self-triggering rule, two rules answering each other):
the engine stops it with a recorded `chain.stopped` instead of waiting for the depth limit.

The rate cap is a fixed window per rule: past `limit` actions in the window, an action waits
for the next window instead of firing, so a burst of events reaches a downstream API spread out.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from redis import Redis

from router.events import Event
from router.queue import KEY_PREFIX
from workers import store

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day|\d+\s*s)\s*$")
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def rules_on_the_path(redis: Redis, event: Event, max_hops: int) -> set[str]:
    """Rules that already ran for this event's subject on the way to it (its causal ancestry).

    An outcome event's source is `rule:<name>`: that rule ran on its parent. Siblings (two
    actions of one event failing, each raising `action.failed`) are not on each other's path,
    so a rule reacting to both is not a loop. Read from the stored events: a re-run of the same
    event after a crash gives the same answer.
    """
    found: set[str] = set()
    current: Event | None = event
    for _ in range(max_hops + 2):
        if current is None:
            break
        if current.source.startswith("rule:") and current.subject == event.subject:
            found.add(current.source.removeprefix("rule:"))
        current = store.load_event(redis, current.causation_id) if current.causation_id else None
    return found


def revisited_rules(redis: Redis, event: Event, rules: list[str], max_hops: int) -> list[str]:
    """The matched rules that would run a second time for the same subject on one causal path."""
    if not rules:
        return []
    seen = rules_on_the_path(redis, event, max_hops)
    return [rule for rule in rules if rule in seen]


@dataclass(frozen=True)
class RateCap:
    limit: int
    window: int

    @classmethod
    def parse(cls, text: str) -> RateCap:
        """`60/minute`, `10/second`, `1000/hour`, `5/30s`."""
        found = _RATE.match(text)
        if found is None or int(found.group(1)) < 1:
            raise ValueError(f"rate {text!r} is not like 60/minute, 10/second or 5/30s")
        unit = found.group(2)
        window = _UNITS[unit] if unit in _UNITS else int(unit.rstrip("s").strip())
        if window < 1:
            raise ValueError(f"rate {text!r} has an empty window: write it like 60/minute")
        return cls(int(found.group(1)), window)


def rate_key(rule: str, window_start: int) -> str:
    return f"{KEY_PREFIX}:rate:{rule}:{window_start}"


def wait_for_slot(redis: Redis, rule: str, cap: RateCap, now: float | None = None) -> float:
    """0 when the rule may fire now (the slot is taken); else seconds until its next window."""
    current = time.time() if now is None else now
    start = int(current // cap.window) * cap.window
    key = rate_key(rule, start)
    with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, cap.window * 2)
        used, _ = pipe.execute()
    if int(used) <= cap.limit:
        return 0.0
    return start + cap.window - current
