"""What the workers report about each action: metrics, the rule's last firing, and a log line.

One call per step from the engine, so the engine reads as the data flow and this module
holds the bookkeeping.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from router.events import Event
from router.metrics import (
    ACTION_SECONDS,
    ACTIONS,
    ATTEMPTS,
    DEAD_LETTERS,
    RECEIPT_TO_ACTION_SECONDS,
    RETRIES,
)
from router.records import EVENT_LOG_KEY
from workers import store
from workers.actions.http import Attempt
from workers.runtime import WorkerContext

log = logging.getLogger("hookchain.worker")


def ids(event: Event, **more: object) -> dict[str, object]:
    """The `extra` of a log line about this event: its id and its chain's."""
    return {"event_id": event.id, "correlation_id": event.correlation_id, **more}


def attempt_made(ctx: WorkerContext, event: Event, rule: str, action: str, attempt: Attempt) -> None:
    ATTEMPTS.labels(rule).inc()
    ACTION_SECONDS.labels(rule).observe(attempt.duration_ms / 1000)
    store.record_fired(
        ctx.redis,
        rule,
        {
            "time": attempt.started_at,
            "event_id": event.id,
            "correlation_id": event.correlation_id,
            "action": action,
            "attempt": attempt.number,
            "status": attempt.status,
            "error": attempt.error,
        },
    )
    log.info(
        "action %s/%s for %s: attempt %d, %s in %.0f ms",
        rule,
        action,
        event.id,
        attempt.number,
        attempt.error or f"HTTP {attempt.status}",
        attempt.duration_ms,
        extra=ids(
            event,
            rule=rule,
            action=action,
            attempt=attempt.number,
            http_status=attempt.status,
            duration_ms=attempt.duration_ms,
        ),
    )


def retry_scheduled(rule: str) -> None:
    RETRIES.labels(rule).inc()


def action_finished(ctx: WorkerContext, event: Event, rule: str, outcome: str) -> None:
    ACTIONS.labels(rule, outcome).inc()
    if outcome == "failed":
        DEAD_LETTERS.labels(rule).inc()
    received = _chain_receipt(ctx, event)
    if received is not None:
        RECEIPT_TO_ACTION_SECONDS.labels(rule).observe(max(0.0, time.time() - received))


def _chain_receipt(ctx: WorkerContext, event: Event) -> float | None:
    """When the chain's webhook was received (its score in the log), else this event's own time."""
    score = ctx.redis.zscore(EVENT_LOG_KEY, event.correlation_id)
    if score is not None:
        return float(score)
    try:
        return datetime.fromisoformat(event.time.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
