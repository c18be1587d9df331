"""What an agent may put on the chain: a new event, a replay of one, a retry of a failed action.

Each is one atomic write (the receiver's accept script, or one MULTI/EXEC) and queues the same
RQ jobs, by dotted path, that a webhook or the worker itself would.
"""

from __future__ import annotations

import time
from typing import Any

import orjson
import redis.asyncio

from router.events import INHERITED_FACTS, Event, derived_event_id, new_event_id, utc_now
from router.operations import replay_call
from router.queue import ACCEPT_SCRIPT, ACTIONS_QUEUE, accept_call, duplicate_of, event_key, push_job
from router.settings import Settings
from workers.engine import RUN_ACTION, action_job_id
from workers.store import DEAD_LETTERS_KEY, action_field, actions_key

MCP_SOURCE = "mcp"
RETRY_JOB_TIMEOUT = 600
RESERVED_TYPES = frozenset({"action.succeeded", "action.failed", "chain.stopped"})


class ChainRefused(ValueError):
    """The write cannot be done as asked; the message says what to change."""


async def _accept(
    client: redis.asyncio.Redis, settings: Settings, event: Event, *, dedupe_source: str, delivery_id: str
) -> str | None:
    keys, args = accept_call(
        event,
        dedupe_source=dedupe_source,
        delivery_id=delivery_id,
        dedupe_ttl=settings.dedupe_ttl,
        event_ttl=settings.event_ttl,
        enqueue=True,
    )
    return duplicate_of(await client.register_script(ACCEPT_SCRIPT)(keys=keys, args=args))


async def emit_event(
    client: redis.asyncio.Redis,
    settings: Settings,
    *,
    event_type: str,
    facts: dict[str, Any],
    data: Any,
    idempotency_key: str | None,
    caused_by: str | None,
) -> dict[str, Any]:
    """Put an event on the chain as a verified webhook would (source `mcp`); dedupe by the key."""
    if event_type in RESERVED_TYPES:
        raise ChainRefused(f"{event_type!r} is emitted by hookchain itself: choose another type")
    event_id = derived_event_id(MCP_SOURCE, idempotency_key) if idempotency_key else new_event_id()
    event = Event(
        id=event_id,
        source=MCP_SOURCE,
        type=event_type,
        provider_type=f"{MCP_SOURCE}.{event_type}",
        time=utc_now(),
        data=data,
        **{name: value for name, value in facts.items() if value is not None},
    )
    if caused_by is not None:
        raw = await client.get(event_key(caused_by))
        if raw is None:
            raise ChainRefused(f"no event {caused_by!r} (expired, or a typo): give an id from list_events")
        parent = Event.from_json(raw)
        event.correlation_id = parent.correlation_id
        event.causation_id = parent.id
        event.depth = parent.depth + 1
        for name in INHERITED_FACTS:
            if getattr(event, name) is None:
                setattr(event, name, getattr(parent, name))
    duplicate = await _accept(
        client, settings, event, dedupe_source=MCP_SOURCE, delivery_id=idempotency_key or event.id
    )
    if duplicate is not None:
        return {"id": duplicate, "duplicate": True}
    return {"id": event.id, "duplicate": False, "chain": event.correlation_id, "depth": event.depth}


async def replay_event(client: redis.asyncio.Redis, settings: Settings, event_id: str) -> dict[str, Any]:
    """A copy of the event under a new id, matched against today's rules; its chain goes on from it.

    The copy keeps the original's chain and depth and names it as its cause, so the replay shows
    in the original's chain tree. A new id means new idempotency keys: actions fire again.
    """
    raw = await client.get(event_key(event_id))
    if raw is None:
        raise ChainRefused(f"no event {event_id!r} (expired, or a typo): give an id from list_events")
    original = Event.from_json(raw)
    copy, keys, args = replay_call(original, dedupe_ttl=settings.dedupe_ttl, event_ttl=settings.event_ttl)
    await client.register_script(ACCEPT_SCRIPT)(keys=keys, args=args)
    return {"id": copy.id, "replay_of": original.id, "type": copy.type, "chain": copy.correlation_id}


async def retry_failed(
    client: redis.asyncio.Redis, event_id: str, rule: str | None, action: str | None
) -> dict[str, Any]:
    """Queue the dead-lettered actions of an event again (all, or one rule's / one action's)."""
    letters = await client.lrange(DEAD_LETTERS_KEY, 0, -1)
    chosen = []
    for raw in letters:
        letter = orjson.loads(raw)
        if letter.get("event_id") != event_id:
            continue
        if rule is not None and letter.get("rule") != rule:
            continue
        if action is not None and str(letter.get("action")) != action:
            continue
        chosen.append((raw, letter))
    if not chosen:
        raise ChainRefused(
            f"no failed action for event {event_id!r}"
            + (f" and rule {rule!r}" if rule else "")
            + (f" and action {action!r}" if action else "")
            + ": list_failures shows what can be retried"
        )
    actions = {(letter["rule"], int(letter["index"])): letter["action"] for _raw, letter in chosen}
    fields = [action_field(rule_name, index) for rule_name, index in actions]
    stored = await client.hmget(actions_key(event_id), fields)
    stamp = str(int(time.time() * 1000))
    async with client.pipeline(transaction=True) as pipe:
        for field, raw_record in zip(fields, stored, strict=True):
            if raw_record is None:
                continue
            # The retry's tries are numbered from 1 again: keep the earlier ones beside them.
            record = orjson.loads(raw_record)
            record["earlier_attempts"] = [*record.get("earlier_attempts", []), *record.get("attempts", [])]
            record["attempts"] = []
            record["status"] = "queued"
            pipe.hset(actions_key(event_id), field, orjson.dumps(record))
        for (rule_name, index), _label in actions.items():
            push_job(
                pipe,
                f"{action_job_id(event_id, rule_name, index, 1)}-retry-{stamp}",
                RUN_ACTION,
                (event_id, rule_name, index, 1),
                queue=ACTIONS_QUEUE,
                timeout=RETRY_JOB_TIMEOUT,
            )
        for raw, _letter in chosen:
            pipe.lrem(DEAD_LETTERS_KEY, 0, raw)
        await pipe.execute()
    queued = [{"rule": rule_name, "action": label} for (rule_name, _index), label in actions.items()]
    return {"event_id": event_id, "queued": queued}
