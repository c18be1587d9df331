"""Prometheus metrics: counters and histograms of every process, and live gauges read at scrape.

With several processes (`web --processes N`, many workers) set `PROMETHEUS_MULTIPROC_DIR` to one
empty folder for all of them on the host, before they start: each writes its samples there and
/metrics adds them up. Without it, /metrics shows the serving process's own samples (which is
everything in `hookchain dev`). Queue depth, workers and dead letters are read from Redis when
scraped, so they are right whatever process answers.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import Response

from router.errors import ConfigError
from router.operations import system_status

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

WEBHOOKS = Counter(
    "hookchain_webhooks_received",
    "Webhook requests answered, by source, event type and HTTP status.",
    ["source", "type", "status"],
)
ACTIONS = Counter(
    "hookchain_actions", "Actions finished, by rule and outcome (succeeded, failed).", ["rule", "outcome"]
)
ATTEMPTS = Counter("hookchain_action_attempts", "HTTP calls made by actions, retries included.", ["rule"])
RETRIES = Counter("hookchain_action_retries", "Retries scheduled after a failed attempt.", ["rule"])
DEAD_LETTERS = Counter("hookchain_dead_letters", "Actions dead-lettered after their last attempt.", ["rule"])
ACTION_SECONDS = Histogram(
    "hookchain_action_duration_seconds",
    "Duration of one HTTP call of an action.",
    ["rule"],
    buckets=LATENCY_BUCKETS,
)
RECEIPT_TO_ACTION_SECONDS = Histogram(
    "hookchain_receipt_to_action_seconds",
    "From the receipt of the chain's webhook to the end of each action (retries included).",
    ["rule"],
    buckets=LATENCY_BUCKETS,
)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def check_multiprocess_dir() -> None:
    """Fail at start, not at the first webhook, when the multi-process folder is unusable."""
    folder = multiprocess_dir()
    if folder is not None and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
        raise ConfigError(f"PROMETHEUS_MULTIPROC_DIR={folder!r} is not a writable folder: create it first")


class LiveGauges:
    """Gauges read from Redis at scrape time: right whatever process serves /metrics."""

    def __init__(self, status: dict[str, object]) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily(
            "hookchain_queue_depth", "Jobs in each queue, by state.", labels=["queue", "state"]
        )
        queues = self.status["queues"]
        assert isinstance(queues, dict)
        for name, counts in queues.items():
            for state, value in counts.items():
                depth.add_metric([name, state], value)
        yield depth
        workers = self.status["workers"]
        assert isinstance(workers, list)
        yield GaugeMetricFamily("hookchain_workers", "Workers alive on the queues.", value=len(workers))
        dead = self.status["dead_letters"]
        yield GaugeMetricFamily("hookchain_dead_letters_waiting", "Dead letters not retried.", value=dead)
        logged = self.status["events"]
        yield GaugeMetricFamily("hookchain_events_logged", "Events in the event log.", value=logged)


def exposition(status: dict[str, object] | None) -> bytes:
    if multiprocess_dir():
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    if status is not None:
        live = CollectorRegistry()
        live.register(LiveGauges(status))
        text += generate_latest(live)
    return text


async def metrics_endpoint(request: Request) -> Response:
    status: dict[str, object] | None
    try:
        async with asyncio.timeout(request.app.state.settings.redis_timeout):
            status = await system_status(request.app.state.redis)
    except (RedisError, OSError, TimeoutError):
        status = None  # the counters still answer; the live gauges are left out
    body = await asyncio.to_thread(exposition, status)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
