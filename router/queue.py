"""Redis key layout and the one-round-trip write that makes an event durable and queued.

Shared by the receiver (async client) and the workers (sync client). Jobs are named by dotted
path, so the receiver never imports the code that runs them. The RQ job hash is built by RQ's
own `Job` (no I/O), so the worker reads exactly what `Queue.enqueue` would have written.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from redis import Redis
from rq import Queue, Retry
from rq.job import Job, JobStatus

from router.events import Event, derived_event_id
from router.records import EVENT_LOG_KEY, KEY_PREFIX, event_key, index_key, matches_key, subjects_of

WAKE_KEY = f"{KEY_PREFIX}:wake"
"""A list of wake-up tokens: one per job pushed, so an idle worker blocked on it starts at once."""
WAKE_TOKENS_KEPT = 64

EVENTS_QUEUE = "hookchain-events"
ACTIONS_QUEUE = "hookchain-actions"
PROCESS_EVENT = "workers.jobs.process_event"

EVENT_JOB_TIMEOUT = 120
FAILED_JOB_TTL = 7 * 24 * 3600
CRASH_RETRIES = 5
"""RQ re-runs a job this many times when its worker died under it (or it raised unexpectedly)."""


def crash_retry() -> Retry:
    return Retry(max=CRASH_RETRIES)


_JOB_ID = re.compile(r"[A-Za-z0-9_-]+")


def dedupe_key(source: str, delivery_id: str) -> str:
    return f"{KEY_PREFIX}:dedupe:{source}:{delivery_id}"


def queue_key(name: str) -> str:
    return f"{Queue.redis_queue_namespace_prefix}{name}"


QUEUES_SET_KEY = Queue.redis_queues_keys


def event_job_id(event_id: str) -> str:
    return f"ev-{event_id}" if _JOB_ID.fullmatch(event_id) else f"ev-{derived_event_id('job', event_id)}"


# KEYS: dedupe, event record, event log, job hash, queue list, queue set, matches, wake list, index keys...
# ARGV: event id, dedupe ttl, event json, event ttl, now (s), job id ("" = record only),
#       the job hash's field/value pairs packed into one string (see pack_fields)
# An event recorded without a job (no rule listens) gets an empty match list at once: it is settled.
ACCEPT_SCRIPT = """
local existing = redis.call('GET', KEYS[1])
if existing then return existing end
local ttl = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - ttl)
for i = 9, #KEYS do
  redis.call('ZADD', KEYS[i], now, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - ttl)
  redis.call('EXPIRE', KEYS[i], ttl)
end
if ARGV[6] ~= '' then
  local fields, blob, pos = {}, ARGV[7], 1
  while pos <= #blob do
    local colon = string.find(blob, ':', pos, true)
    local size = tonumber(string.sub(blob, pos, colon - 1))
    fields[#fields + 1] = string.sub(blob, colon + 1, colon + size)
    pos = colon + size + 1
  end
  redis.call('HSET', KEYS[4], unpack(fields))
  redis.call('RPUSH', KEYS[5], ARGV[6])
  redis.call('SADD', KEYS[6], KEYS[5])
  redis.call('LPUSH', KEYS[8], 1)
  redis.call('LTRIM', KEYS[8], 0, 63)
else
  redis.call('SET', KEYS[7], '[]', 'EX', ttl)
end
return false
"""


def job_hash_fields(job_id: str, func: str, args: Sequence[Any], *, queue: str, timeout: int) -> list[Any]:
    """The field/value pairs RQ stores for a queued job, built by RQ itself without I/O."""
    job = Job.create(
        func,
        args=tuple(args),
        connection=_NO_IO_CONNECTION,
        id=job_id,
        origin=queue,
        timeout=timeout,
        result_ttl=0,
        failure_ttl=FAILED_JOB_TTL,
        retry=crash_retry(),
    )
    job._status = JobStatus.QUEUED
    job.enqueued_at = datetime.now(UTC)
    fields: list[Any] = []
    for name, value in job.to_dict().items():
        if value is None:
            continue
        fields.append(name)
        fields.append(value if isinstance(value, bytes | str) else str(value))
    return fields


# Job.create wants a connection object but performs no I/O with it.
_NO_IO_CONNECTION = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.001)


def accept_call(
    event: Event,
    *,
    dedupe_source: str,
    delivery_id: str,
    dedupe_ttl: int,
    event_ttl: int,
    enqueue: bool,
    indexes: Sequence[str] = (),
) -> tuple[list[str], list[Any]]:
    """Keys and arguments of ACCEPT_SCRIPT for this event; `indexes` lists it in more indexes."""
    job_id = event_job_id(event.id) if enqueue else ""
    keys = [
        dedupe_key(dedupe_source, delivery_id),
        event_key(event.id),
        EVENT_LOG_KEY,
        Job.key_for(job_id) if enqueue else event_key(event.id),
        queue_key(EVENTS_QUEUE),
        QUEUES_SET_KEY,
        matches_key(event.id),
        WAKE_KEY,
        *event_index_keys(event),
        *indexes,
    ]
    args: list[Any] = [event.id, dedupe_ttl, event.to_json(), event_ttl, f"{time.time():.6f}", job_id]
    if enqueue:
        args.append(
            pack_fields(
                job_hash_fields(
                    job_id, PROCESS_EVENT, (event.id,), queue=EVENTS_QUEUE, timeout=EVENT_JOB_TIMEOUT
                )
            )
        )
    return keys, args


def children_key(event_id: str) -> str:
    """Index of the events this one caused (outcome events, replays, agents' follow-ups)."""
    return index_key("children", event_id)


def event_index_keys(event: Event) -> list[str]:
    """The indexes an event is listed in: its chain, type, source, and every subject it is about."""
    keys = [
        index_key("chain", event.correlation_id),
        index_key("type", event.type),
        index_key("source", event.source),
    ]
    keys += [index_key("subject", name) for name in subjects_of(event.to_dict())]
    if event.causation_id:
        keys.append(children_key(event.causation_id))
    return keys


def pack_fields(values: Sequence[Any]) -> bytes:
    """`len:bytes` for each value, as one argument: a client packs one argument much faster than
    thirty (redis-py's asyncio packer is pure Python, ~1.5 µs an argument)."""
    parts: list[bytes] = []
    for value in values:
        if isinstance(value, bytes):
            raw = value
        elif isinstance(value, str):  # str.encode, not str(): a str enum's value, not its name
            raw = value.encode()
        else:
            raw = str(value).encode()
        parts.append(b"%d:" % len(raw))
        parts.append(raw)
    return b"".join(parts)


def duplicate_of(result: Any) -> str | None:
    """ACCEPT_SCRIPT's answer: None when the event was new, else the id it was first accepted as."""
    if result is None:
        return None
    return result.decode() if isinstance(result, bytes) else str(result)


def push_job(pipe: Any, job_id: str, func: str, args: Sequence[Any], *, queue: str, timeout: int) -> None:
    """Queue an RQ job on a (transactional) pipeline: its hash, its place in the queue list."""
    pipe.hset(
        Job.key_for(job_id),
        mapping=dict(_pairs(job_hash_fields(job_id, func, args, queue=queue, timeout=timeout))),
    )
    pipe.rpush(queue_key(queue), job_id)
    pipe.sadd(QUEUES_SET_KEY, queue_key(queue))
    wake_workers(pipe)


def wake_workers(pipe: Any) -> None:
    """Leave a token that wakes one idle worker at once (see workers/dequeue.py)."""
    pipe.lpush(WAKE_KEY, 1)
    pipe.ltrim(WAKE_KEY, 0, WAKE_TOKENS_KEPT - 1)


def _pairs(flat: list[Any]) -> list[tuple[Any, Any]]:
    return list(zip(flat[::2], flat[1::2], strict=True))
