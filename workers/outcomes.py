"""Outcome events: what an action's call returned, put back on the chain as a new event."""

from __future__ import annotations

import logging
from typing import Any

from router.events import Event, derived_event_id
from router.queue import accept_call
from workers.actions.http import Attempt, mask_value
from workers.runtime import WorkerContext

log = logging.getLogger("hookchain.worker")


def outcome_data(
    rule: str, action: str, attempt: Attempt | None, error: str | None, *, secrets: set[str] | None = None
) -> dict[str, Any]:
    """The `data` of an outcome event, as DESIGN.md specifies it; secret values masked throughout."""
    response = None
    if attempt is not None and attempt.status is not None:
        response = {
            "status": attempt.status,
            "headers": attempt.headers,
            "json": attempt.json,
            "text": attempt.text,
        }
    data = {
        "rule": rule,
        "action": action,
        "request": attempt.request if attempt is not None else None,
        "response": response,
        "error": error,
    }
    return mask_value(data, secrets) if secrets else data


def emit(
    ctx: WorkerContext, parent: Event, event_type: str, data: dict[str, Any], *, rule: str, action_index: int
) -> Event:
    """Record the outcome event and queue it when a rule listens for its type.

    Its id is derived from its cause, so a re-run of the same action emits the same event and the
    dedupe mark makes the second one a no-op.
    """
    event_id = derived_event_id(parent.id, rule, str(action_index), event_type)
    event = parent.caused(id=event_id, source=f"rule:{rule}", type=event_type, data=data)
    record(ctx, event, enqueue=ctx.rules.listens_to(event_type))
    return event


def record(ctx: WorkerContext, event: Event, *, enqueue: bool) -> bool:
    """Store (and maybe queue) an event hookchain made; False when it was already there."""
    keys, args = accept_call(
        event,
        dedupe_source="outcome",
        delivery_id=event.id,
        dedupe_ttl=ctx.settings.dedupe_ttl,
        event_ttl=ctx.settings.event_ttl,
        enqueue=enqueue,
    )
    duplicate = ctx.accept_script(keys=keys, args=args)
    if duplicate is None:
        log.info(
            "event %s %s (chain %s, depth %d)%s",
            event.type,
            event.id,
            event.correlation_id,
            event.depth,
            "" if enqueue else ", no rule listens",
            extra={"event_id": event.id, "correlation_id": event.correlation_id, "type": event.type},
        )
    return duplicate is None
