"""Dead letters and replay: what `hookchain failed …` and `hookchain replay` do, on Redis.

A dead letter is an action whose attempts ran out (or that could not be rendered). Retrying it
queues the same action for the same event again, with the same Idempotency-Key, so a downstream
API that honours the key still sees one effect. Replaying an event runs the rules again on a
copy of it that belongs to the original chain (same correlation id, caused by the original, one
hop deeper).
"""

from __future__ import annotations

import time
from typing import Any

import orjson
from redis import Redis

from router.events import Event, derived_event_id
from router.operations import replay_call
from router.queue import ACCEPT_SCRIPT, ACTIONS_QUEUE, push_job
from router.settings import Settings
from workers import store

RUN_ACTION = "workers.jobs.run_action"
RETRY_JOB_TIMEOUT = 15 * 6 + 30


class DeadLetterNotFound(LookupError):
    pass


def list_dead(redis: Redis, limit: int = 50) -> list[dict[str, Any]]:
    return [orjson.loads(raw) for raw in redis.lrange(store.DEAD_LETTERS_KEY, 0, limit - 1)]


def find_dead(redis: Redis, dead_id: str) -> tuple[bytes, dict[str, Any]]:
    """The stored entry whose id is `dead_id` or starts with it (unambiguously)."""
    found = []
    for raw in redis.lrange(store.DEAD_LETTERS_KEY, 0, -1):
        record = orjson.loads(raw)
        if str(record.get("id", "")).startswith(dead_id):
            found.append((raw, record))
    if len(found) != 1:
        why = "no dead letter" if not found else f"{len(found)} dead letters"
        raise DeadLetterNotFound(f"{why} with id {dead_id!r}")
    return found[0]


def show_dead(redis: Redis, dead_id: str) -> dict[str, Any]:
    """The dead letter, with the action's recorded attempts and the event it was for."""
    _, record = find_dead(redis, dead_id)
    actions = store.load_action_records(redis, record["event_id"])
    event = store.load_event(redis, record["event_id"])
    return {
        **record,
        "attempts": (actions.get(store.action_field(record["rule"], record["index"])) or {}).get(
            "attempts", []
        ),
        "event": event.to_dict() if event is not None else None,
    }


def retry_dead(redis: Redis, dead_id: str) -> str:
    """Queue the action again (first attempt, same Idempotency-Key); the dead letter goes."""
    raw, record = find_dead(redis, dead_id)
    if store.load_event(redis, record["event_id"]) is None:
        raise DeadLetterNotFound(f"the event {record['event_id']} of dead letter {record['id']} has expired")
    job_id = f"act-{derived_event_id('retry', record['id'], str(time.time_ns()))}-1"
    with redis.pipeline(transaction=True) as pipe:
        push_job(
            pipe,
            job_id,
            RUN_ACTION,
            (record["event_id"], record["rule"], record["index"], 1),
            queue=ACTIONS_QUEUE,
            timeout=RETRY_JOB_TIMEOUT,
        )
        pipe.lrem(store.DEAD_LETTERS_KEY, 0, raw)
        pipe.execute()
    return job_id


def discard_dead(redis: Redis, dead_id: str) -> dict[str, Any]:
    raw, record = find_dead(redis, dead_id)
    redis.lrem(store.DEAD_LETTERS_KEY, 0, raw)
    return record


def replay(redis: Redis, settings: Settings, event_id: str) -> Event:
    """Run the rules again on a stored event: a copy in the same chain, caused by the original."""
    original = store.load_event(redis, event_id)
    if original is None:
        raise LookupError(f"no stored event {event_id!r} (unknown, or expired after its retention)")
    copy, keys, args = replay_call(original, dedupe_ttl=settings.dedupe_ttl, event_ttl=settings.event_ttl)
    redis.register_script(ACCEPT_SCRIPT)(keys=keys, args=args)
    return copy
