"""What an operator can do and see besides reading events: replay, retry, rules, queues, workers."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from typing import Any

import orjson
import redis.asyncio
from rq.job import Job

from router.events import Event, new_event_id, utc_now
from router.queue import (
    ACTIONS_QUEUE,
    EVENTS_QUEUE,
    QUEUES_SET_KEY,
    accept_call,
    job_hash_fields,
    queue_key,
)
from router.records import (
    DEAD_LETTERS_KEY,
    EVENT_LOG_KEY,
    REPLAYS_KEY,
    RULES_FIRED_KEY,
    RULES_KEY,
    action_field,
    actions_key,
    event_key,
)

RUN_ACTION = "workers.jobs.run_action"
RETRY_JOB_TIMEOUT = 15 * 6 + 30
WORKER_PREFIX = "rq:worker:"
WORKERS_KEY = "rq:workers"

# KEYS: dead letters, job hash, queue list, queue set. ARGV: the dead letter as stored, job id, hset pairs...
# Taking the letter off the list and queueing its retry happen together, so a retry runs once.
RETRY_SCRIPT = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('SADD', KEYS[4], KEYS[3])
return 1
"""


def replay_event(original: Event) -> Event:
    """The original's content as a new event on the same chain, caused by the original."""
    return replace(
        original,
        id=new_event_id(),
        time=utc_now(),
        causation_id=original.id,
        correlation_id=original.correlation_id,
    )


def replay_call(original: Event, *, dedupe_ttl: int, event_ttl: int) -> tuple[Event, list[str], list[Any]]:
    event = replay_event(original)
    keys, args = accept_call(
        event,
        dedupe_source="replay",
        delivery_id=event.id,
        dedupe_ttl=dedupe_ttl,
        event_ttl=event_ttl,
        enqueue=True,
        indexes=[REPLAYS_KEY],
    )
    return event, keys, args


def dead_letter_id(raw: bytes) -> str:
    """The id a worker gave the letter (one per action and event), else a hash of the entry."""
    given = orjson.loads(raw).get("id")
    return str(given) if given else hashlib.sha256(raw).hexdigest()[:16]


async def dead_letters(
    client: redis.asyncio.Redis, limit: int = 10_000
) -> list[tuple[bytes, dict[str, Any]]]:
    raw = await client.lrange(DEAD_LETTERS_KEY, 0, limit - 1)
    return [(item, {"id": dead_letter_id(item), **orjson.loads(item)}) for item in raw]


async def retry_dead_letter(
    client: redis.asyncio.Redis, script: Any, raw: bytes, letter: dict[str, Any]
) -> str | None:
    """Queue the dead action again (one more attempt); None when someone retried it already."""
    event_id, rule, index = letter["event_id"], letter["rule"], int(letter["index"])
    record_raw = await client.hget(actions_key(event_id), action_field(rule, index))
    record = orjson.loads(record_raw) if record_raw else {}
    number = len(record.get("attempts", ())) + 1
    job_id = f"retry-{new_event_id()}"
    fields = job_hash_fields(
        job_id, RUN_ACTION, (event_id, rule, index, number), queue=ACTIONS_QUEUE, timeout=RETRY_JOB_TIMEOUT
    )
    keys = [DEAD_LETTERS_KEY, Job.key_for(job_id), queue_key(ACTIONS_QUEUE), QUEUES_SET_KEY]
    if not await script(keys=keys, args=[raw, job_id, *fields]):
        return None
    if record:
        record["status"] = "retrying"
        await client.hset(actions_key(event_id), action_field(rule, index), orjson.dumps(record))
    return job_id


async def event_exists(client: redis.asyncio.Redis, event_id: str) -> bool:
    return bool(await client.exists(event_key(event_id)))


async def rules_with_firings(client: redis.asyncio.Redis) -> list[dict[str, Any]]:
    """The rules the workers published, each with its last firing (rules that fired but are gone too)."""
    published = {_text(k): orjson.loads(v) for k, v in (await client.hgetall(RULES_KEY)).items()}
    fired = {_text(k): orjson.loads(v) for k, v in (await client.hgetall(RULES_FIRED_KEY)).items()}
    rules = []
    for name in sorted(set(published) | set(fired)):
        rule = published.get(name) or {"name": name, "loaded": False}
        rules.append({"loaded": name in published, **rule, "last_fired": fired.get(name)})
    return rules


async def system_status(client: redis.asyncio.Redis) -> dict[str, Any]:
    """Queue depths, live workers, dead letters and the size of the event log, in two round trips."""
    names = (EVENTS_QUEUE, ACTIONS_QUEUE)
    async with client.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.llen(queue_key(name))
            pipe.zcard(f"rq:scheduled:{name}")
            pipe.zcard(f"rq:wip:{name}")
            pipe.zcard(f"rq:failed:{name}")
        pipe.llen(DEAD_LETTERS_KEY)
        pipe.zcard(EVENT_LOG_KEY)
        pipe.smembers(WORKERS_KEY)
        replies = await pipe.execute()
    queues = {
        name: dict(zip(("queued", "scheduled", "started", "failed"), replies[i * 4 : i * 4 + 4], strict=True))
        for i, name in enumerate(names)
    }
    dead, logged, worker_keys = replies[len(names) * 4 :]
    return {
        "queues": queues,
        "workers": await _workers(client, sorted(_text(k) for k in worker_keys)),
        "dead_letters": dead,
        "events": logged,
        "time": utc_now(),
    }


async def _workers(client: redis.asyncio.Redis, keys: list[str]) -> list[dict[str, Any]]:
    hookchain_queues = {EVENTS_QUEUE, ACTIONS_QUEUE}
    async with client.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.hgetall(key)
        replies = await pipe.execute()
    workers = []
    for key, values in zip(keys, replies, strict=True):
        if not values:
            continue  # the worker's key expired: it died without saying so
        fields = {_text(k): _text(v) for k, v in values.items()}
        queues = [q for q in fields.get("queues", "").split(",") if q]
        if not hookchain_queues & set(queues):
            continue
        workers.append(
            {
                "name": key.removeprefix(WORKER_PREFIX),
                "state": fields.get("state"),
                "queues": queues,
                "hostname": fields.get("hostname"),
                "pid": int(fields["pid"]) if fields.get("pid", "").isdigit() else None,
                "last_heartbeat": fields.get("last_heartbeat"),
                "current_job": fields.get("current_job") or None,
                "successful_jobs": int(fields.get("successful_job_count") or 0),
                "failed_jobs": int(fields.get("failed_job_count") or 0),
            }
        )
    return workers


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
