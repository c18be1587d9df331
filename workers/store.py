"""What the workers read and record in Redis about events, matches and action attempts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from redis import Redis

from router.events import Event, derived_event_id
from router.records import (
    DEAD_LETTERS_KEPT,
    DEAD_LETTERS_KEY,
    RULES_FIRED_KEY,
    RULES_KEY,
    action_field,
    actions_key,
    event_key,
    matches_key,
)
from workers.rules.schema import Rule

__all__ = ["action_field", "actions_key", "matches_key"]


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


def publish_rules(redis: Redis, rules: Iterable[Rule]) -> None:
    """Tell the API which rules the workers run (the last worker to start wins)."""
    described = {rule.name: orjson.dumps(describe_rule(rule)) for rule in rules}
    with redis.pipeline(transaction=True) as pipe:
        pipe.delete(RULES_KEY)
        if described:
            pipe.hset(RULES_KEY, mapping=described)
        pipe.execute()


def describe_rule(rule: Rule) -> dict[str, Any]:
    """A rule as the dashboard shows it: templates as written, never rendered (no secret values)."""
    return {
        "name": rule.name,
        "description": rule.description,
        "on": rule.on,
        "match": rule.match,
        "if": rule.if_,
        "enabled": rule.enabled,
        "origin": rule.origin,
        "actions": [describe_action(rule.action_label(i), a) for i, a in enumerate(rule.do)],
    }


def describe_action(label: str, action: Any) -> dict[str, Any]:
    if action.mcp is not None:
        return {
            "name": label,
            "method": "MCP",
            "url": action.mcp.url,
            "tool": action.mcp.tool,
            "emit": action.emit_type,
        }
    return {"name": label, "method": action.http.method, "url": action.http.url, "emit": action.emit_type}


def record_fired(redis: Redis, rule: str, firing: dict[str, Any]) -> None:
    """Remember the rule's last firing: when, for which event, with what result."""
    redis.hset(RULES_FIRED_KEY, rule, orjson.dumps(firing))
