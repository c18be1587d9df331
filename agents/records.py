"""Reading the event log from Redis: events, their matches, their actions, their chains, dead letters.

Small functions over the records the receiver and the workers write (`hookchain:event:<id>`,
`hookchain:log`, `hookchain:matches:<id>`, `hookchain:actions:<id>`, `hookchain:children:<id>`,
`hookchain:dead`), so that the event log API can share or replace them.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import orjson
import redis.asyncio

from router.queue import EVENT_LOG_KEY, children_key, event_key
from workers.store import DEAD_LETTERS_KEY, actions_key, matches_key

EVENT_STATUSES = ("pending", "unmatched", "running", "succeeded", "failed")
MAX_TREE_NODES = 500


async def load_event(client: redis.asyncio.Redis, event_id: str) -> dict[str, Any] | None:
    raw = await client.get(event_key(event_id))
    return orjson.loads(raw) if raw is not None else None


def event_status(matches: list[dict[str, Any]] | None, actions: dict[str, dict[str, Any]]) -> str:
    """pending: not matched yet; unmatched: no rule fired; then the state of its actions."""
    if matches is None:
        return "pending"
    if not any(match.get("matched") for match in matches):
        return "unmatched"
    states = {record.get("status") for record in actions.values()}
    if "failed" in states:
        return "failed"
    if not actions or states - {"succeeded"}:
        return "running"
    return "succeeded"


async def _matches_and_actions(
    client: redis.asyncio.Redis, event_ids: list[str]
) -> list[tuple[list[dict[str, Any]] | None, dict[str, dict[str, Any]]]]:
    async with client.pipeline(transaction=False) as pipe:
        for event_id in event_ids:
            pipe.get(matches_key(event_id))
            pipe.hgetall(actions_key(event_id))
        replies = await pipe.execute()
    found = []
    for raw_matches, raw_actions in zip(replies[::2], replies[1::2], strict=True):
        matches = orjson.loads(raw_matches) if raw_matches is not None else None
        actions = {key.decode(): orjson.loads(value) for key, value in raw_actions.items()}
        found.append((matches, actions))
    return found


def summary(event: dict[str, Any], status: str) -> dict[str, Any]:
    keys = ("id", "type", "source", "time", "subject", "repo", "branch", "sha", "pr", "depth")
    return {
        **{key: event.get(key) for key in keys},
        "chain": event.get("correlation_id"),
        "caused_by": event.get("causation_id"),
        "status": status,
    }


async def list_events(
    client: redis.asyncio.Redis,
    *,
    type_pattern: str | None,
    subject_pattern: str | None,
    status: str | None,
    since: float | None,
    limit: int,
    scan: int = 5000,
) -> list[dict[str, Any]]:
    """The newest events first, filtered; looks at the newest `scan` events at most."""
    ids = [
        raw.decode()
        for raw in await client.zrevrangebyscore(
            EVENT_LOG_KEY, "+inf", since if since is not None else "-inf", start=0, num=scan
        )
    ]
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), 200):
        batch = ids[start : start + 200]
        raws = await client.mget([event_key(event_id) for event_id in batch])
        events = [orjson.loads(raw) for raw in raws if raw is not None]
        events = [
            event
            for event in events
            if (type_pattern is None or fnmatchcase(event.get("type", ""), type_pattern))
            and (subject_pattern is None or fnmatchcase(event.get("subject") or "", subject_pattern))
        ]
        details = await _matches_and_actions(client, [event["id"] for event in events])
        for event, (matches, actions) in zip(events, details, strict=True):
            state = event_status(matches, actions)
            if status is None or state == status:
                found.append(summary(event, state))
                if len(found) >= limit:
                    return found
    return found


async def _node(client: redis.asyncio.Redis, event: dict[str, Any]) -> dict[str, Any]:
    ((matches, actions),) = await _matches_and_actions(client, [event["id"]])
    return {
        "event": event,
        "status": event_status(matches, actions),
        "matches": matches or [],
        "actions": [actions[key] for key in sorted(actions)],
        "children": [],
    }


async def chain_tree(client: redis.asyncio.Redis, event_id: str) -> dict[str, Any] | None:
    """The whole chain the event belongs to, from its first event, hop by hop: each node with its
    matches and its actions (every attempt's request and response)."""
    asked = await load_event(client, event_id)
    if asked is None:
        return None
    event = await load_event(client, asked.get("correlation_id") or event_id) or asked
    root = await _node(client, event)
    queue = [root]
    count = 1
    truncated = False
    while queue:
        node = queue.pop(0)
        child_ids = sorted(
            raw.decode() for raw in await client.zrange(children_key(node["event"]["id"]), 0, -1)
        )
        raws = await client.mget([event_key(child) for child in child_ids]) if child_ids else []
        children = sorted((orjson.loads(raw) for raw in raws if raw is not None), key=lambda e: e["time"])
        for child in children:
            if count >= MAX_TREE_NODES:
                truncated = True
                break
            child_node = await _node(client, child)
            node["children"].append(child_node)
            queue.append(child_node)
            count += 1
    return {
        "chain": asked.get("correlation_id"),
        "asked_for": event_id,
        "events": count,
        "truncated": truncated,
        "tree": root,
    }


async def list_failures(client: redis.asyncio.Redis, limit: int) -> list[dict[str, Any]]:
    """Dead-lettered actions, newest first."""
    return [orjson.loads(raw) for raw in await client.lrange(DEAD_LETTERS_KEY, 0, limit - 1)]
