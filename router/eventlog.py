"""Reading the event log back: filtered pages of events, and one event's whole chain as a tree.

Reads only the Redis records the receiver and the workers write (see `router.records`); the
shaping of those records into summaries and trees is pure and tested without Redis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import orjson
import redis.asyncio

from router.events import derived_event_id
from router.records import (
    EVENT_LOG_KEY,
    REPLAYS_KEY,
    action_field,
    actions_key,
    event_key,
    index_key,
    matches_key,
    subjects_of,
)

STATUSES = ("pending", "ignored", "running", "succeeded", "failed", "stopped")
SCAN_BATCH = 200
SCAN_LIMIT = 2000
"""A filtered page reads at most this many candidates; the cursor lets the caller go on."""
CHAIN_LIMIT = 500
RELATED_LIMIT = 20
RELATED_SCAN = 200
SUMMARY_FIELDS = (
    "id",
    "type",
    "source",
    "provider_type",
    "time",
    "subject",
    "repo",
    "branch",
    "sha",
    "pr",
    "actor",
    "url",
    "correlation_id",
    "causation_id",
    "depth",
)


@dataclass(frozen=True)
class EventFilter:
    type: str | None = None
    source: str | None = None
    subject: str | None = None
    status: str | None = None
    chain: str | None = None
    since: float | None = None
    until: float | None = None

    def index(self) -> str:
        """The narrowest index that holds every event this filter can return."""
        if self.chain:
            return index_key("chain", self.chain)
        if self.subject:
            return index_key("subject", self.subject)
        if self.type and not any(c in self.type for c in "*?["):
            return index_key("type", self.type)
        if self.source:
            return index_key("source", self.source)
        return EVENT_LOG_KEY

    def keeps(self, summary: dict[str, Any]) -> bool:
        if self.type and not fnmatchcase(summary["type"] or "", self.type):
            return False
        if self.source and summary["source"] != self.source:
            return False
        if self.subject and self.subject not in subjects_of(summary):
            return False
        if self.chain and summary["correlation_id"] != self.chain:
            return False
        return not (self.status and summary["status"] != self.status)


@dataclass
class EventRecord:
    """What the log holds about one event: envelope, rule verdicts, actions, and whether it was stopped."""

    envelope: dict[str, Any]
    score: float
    matches: list[dict[str, Any]] | None
    actions: dict[str, dict[str, Any]]
    stopped: bool
    replay: bool = False

    @property
    def status(self) -> str:
        return event_status(self.matches, self.actions, self.stopped)

    def summary(self) -> dict[str, Any]:
        found = {name: self.envelope.get(name) for name in SUMMARY_FIELDS}
        found["status"] = self.status
        found["received_at"] = self.score
        found["replay_of"] = self.envelope.get("causation_id") if self.replay else None
        found["rules_matched"] = [m["rule"] for m in self.matches or () if m.get("matched")]
        found["actions"] = len(self.actions)
        return found

    def action_list(self) -> list[dict[str, Any]]:
        return sorted(
            ({"key": key, **record} for key, record in self.actions.items()),
            key=lambda a: (a.get("rule", ""), _action_index(a["key"])),
        )


def _action_index(key: str) -> int:
    tail = key.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def event_status(
    matches: list[dict[str, Any]] | None, actions: dict[str, dict[str, Any]], stopped: bool = False
) -> str:
    """pending (not matched yet), ignored (no rule matched), running, succeeded, failed, or stopped."""
    if matches is None:
        return "pending"
    if stopped:
        return "stopped"
    if not any(m.get("matched") for m in matches):
        return "ignored"
    statuses = [record.get("status") for record in actions.values()]
    if "failed" in statuses:
        return "failed"
    if not statuses or any(status != "succeeded" for status in statuses):
        return "running"
    return "succeeded"


def stopped_event_id(event_id: str) -> str:
    """The id the workers give the `chain.stopped` event recorded for this event."""
    return derived_event_id(event_id, "chain.stopped")


async def load_records(client: redis.asyncio.Redis, scored: Iterable[tuple[str, float]]) -> list[EventRecord]:
    """Every record of these events in one round trip; events that expired are left out."""
    pairs = list(scored)
    if not pairs:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for event_id, _ in pairs:
            pipe.get(event_key(event_id))
            pipe.get(matches_key(event_id))
            pipe.hgetall(actions_key(event_id))
            pipe.exists(event_key(stopped_event_id(event_id)))
            pipe.zscore(REPLAYS_KEY, event_id)
        replies = await pipe.execute()
    records = []
    for position, (_, score) in enumerate(pairs):
        raw, matches, actions, stopped, replay = replies[position * 5 : position * 5 + 5]
        if raw is None:
            continue
        records.append(
            EventRecord(
                envelope=orjson.loads(raw),
                score=score,
                matches=orjson.loads(matches) if matches is not None else None,
                actions={_text(k): orjson.loads(v) for k, v in actions.items()},
                stopped=bool(stopped),
                replay=replay is not None,
            )
        )
    return records


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def list_events(
    client: redis.asyncio.Redis, wanted: EventFilter, *, limit: int, before: float | None
) -> tuple[list[dict[str, Any]], float | None]:
    """Newest first: up to `limit` summaries, and the cursor of the next page (None at the end)."""
    index = wanted.index()
    high: float | str = f"({before}" if before is not None else (wanted.until or "+inf")
    if before is not None and wanted.until is not None:
        high = f"({min(before, wanted.until)}"
    low: float | str = wanted.since if wanted.since is not None else "-inf"
    found: list[dict[str, Any]] = []
    read = 0
    while True:
        batch = await client.zrevrangebyscore(index, high, low, start=0, num=SCAN_BATCH, withscores=True)
        if not batch:
            return found, None
        read += len(batch)
        for record in await load_records(client, ((_text(m), s) for m, s in batch)):
            summary = record.summary()
            if wanted.keeps(summary):
                found.append(summary)
                if len(found) == limit:
                    return found, record.score
        last_score = float(batch[-1][1])
        if len(batch) < SCAN_BATCH:
            return found, None
        high = f"({last_score}"
        if read >= SCAN_LIMIT:
            return found, last_score


async def load_one(client: redis.asyncio.Redis, event_id: str) -> EventRecord | None:
    score = await client.zscore(EVENT_LOG_KEY, event_id)
    records = await load_records(client, [(event_id, float(score or 0.0))])
    return records[0] if records else None


async def chain_of(client: redis.asyncio.Redis, record: EventRecord) -> list[EventRecord]:
    """Every event of the record's chain (by correlation id), oldest first."""
    chain_id = record.envelope.get("correlation_id") or record.envelope["id"]
    members = await client.zrange(index_key("chain", chain_id), 0, CHAIN_LIMIT - 1, withscores=True)
    scored = [(_text(m), float(s)) for m, s in members]
    if record.envelope["id"] not in {event_id for event_id, _ in scored}:
        scored.append((record.envelope["id"], record.score))
    return await load_records(client, scored)


async def related_to(client: redis.asyncio.Redis, record: EventRecord) -> list[dict[str, Any]]:
    """Events about the same subject, commit or pull request in other chains (e.g. a deploy tool
    calling back later about the merge commit)."""
    names = subjects_of(record.envelope)
    if not names:
        return []
    async with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.zrevrange(index_key("subject", name), 0, RELATED_SCAN - 1, withscores=True)
        replies = await pipe.execute()
    scored = {_text(m): float(s) for reply in replies for m, s in reply}
    newest = sorted(scored.items(), key=lambda item: item[1], reverse=True)[:RELATED_SCAN]
    chain_id = record.envelope.get("correlation_id")
    others = []
    for found in await load_records(client, newest):
        if found.envelope.get("correlation_id") != chain_id:
            others.append(found.summary())
            if len(others) == RELATED_LIMIT:
                break
    return others


def chain_tree(records: list[EventRecord]) -> list[dict[str, Any]]:
    """The chain as trees from each root: event → its actions → the events each action emitted.

    Children that no action emitted (replays, `chain.stopped`) hang from the event itself. An event
    whose parent has expired becomes a root of its own.
    """
    by_id = {record.envelope["id"]: record for record in records}
    origin = min((record.score for record in records), default=0.0)
    nodes: dict[str, dict[str, Any]] = {}
    for event_id, record in by_id.items():
        node = record.summary()
        node["offset_ms"] = round((record.score - origin) * 1000, 1)
        node["matches"] = record.matches or []
        node["actions"] = [{**action, "children": []} for action in record.action_list()]
        node["children"] = []
        nodes[event_id] = node
    roots = []
    for record in sorted(records, key=lambda r: r.score):
        node = nodes[record.envelope["id"]]
        parent = nodes.get(record.envelope.get("causation_id") or "")
        if parent is None:
            roots.append(node)
            continue
        data = record.envelope.get("data") if node["replay_of"] is None else None
        slot = _emitting_action(parent, data) if isinstance(data, dict) else None
        (slot["children"] if slot is not None else parent["children"]).append(node)
    return roots


def _emitting_action(parent: dict[str, Any], data: dict[str, Any]) -> dict[str, Any] | None:
    for action in parent["actions"]:
        if action.get("rule") == data.get("rule") and str(action.get("action")) == str(data.get("action")):
            return action
    return None


def action_of(record: EventRecord, rule: str, index: int) -> dict[str, Any] | None:
    return record.actions.get(action_field(rule, index))
