"""What the workers read and record in Redis about events, matches and action attempts."""

from __future__ import annotations

from typing import Any

import orjson
from redis import Redis

from router.events import Event, derived_event_id
from router.queue import KEY_PREFIX, event_key

DEAD_LETTERS_KEY = f"{KEY_PREFIX}:dead"
DEAD_LETTERS_KEPT = 10_000


def matches_key(event_id: str) -> str:
    return f"{KEY_PREFIX}:matches:{event_id}"


def actions_key(event_id: str) -> str:
    return f"{KEY_PREFIX}:actions:{event_id}"


def action_field(rule: str, index: int) -> str:
    return f"{rule}/{index}"


def load_event(redis: Redis, event_id: str) -> Event | None:
    raw = redis.get(event_key(event_id))
    return Event.from_json(raw) if raw is not None else None


def load_action_records(redis: Redis, event_id: str) -> dict[str, dict[str, Any]]:
    raw = redis.hgetall(actions_key(event_id))
    return {key.decode(): orjson.loads(value) for key, value in raw.items()}


def save_action_record(
    redis: Redis, event_id: str, rule: str, index: int, record: dict[str, Any], ttl: int
) -> None:
    with redis.pipeline(transaction=True) as pipe:
        pipe.hset(actions_key(event_id), action_field(rule, index), orjson.dumps(record))
        pipe.expire(actions_key(event_id), ttl)
        pipe.execute()


def dead_letter_id(event_id: str, rule: str, index: int) -> str:
    return derived_event_id("dead", event_id, rule, str(index))


def dead_letter(redis: Redis, record: dict[str, Any]) -> None:
    """Newest first, the oldest dropped past DEAD_LETTERS_KEPT; one entry per action and event."""
    record = {"id": dead_letter_id(record["event_id"], record["rule"], record["index"]), **record}
    with redis.pipeline(transaction=True) as pipe:
        for raw in redis.lrange(DEAD_LETTERS_KEY, 0, -1):
            if orjson.loads(raw).get("id") == record["id"]:
                pipe.lrem(DEAD_LETTERS_KEY, 0, raw)
        pipe.lpush(DEAD_LETTERS_KEY, orjson.dumps(record))
        pipe.ltrim(DEAD_LETTERS_KEY, 0, DEAD_LETTERS_KEPT - 1)
        pipe.execute()
