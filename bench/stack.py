"""A hookchain deployment for a scenario: a loopback target, one rule calling it, the processes."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import redis
from rq import Queue
from starlette.datastructures import Headers

from bench.context import SECRET, Context, run_id
from bench.procs import Processes, free_port, python_env, wait_http, wait_until
from router.events import utc_now
from router.providers import PROVIDERS
from router.queue import ACCEPT_SCRIPT, EVENTS_QUEUE, accept_call

RULE = """\
rules:
  - name: bench-call-target
    on: pr.opened
    do:
      - name: call
        http:
          url: "{url}/call"
          json:
            id: "{{{{ event.id }}}}"
            repo: "{{{{ event.repo }}}}"
        timeout: 10
        retry:
          attempts: 1
"""
OPENED = "pull_request.opened.1.json"


def start_target(procs: Processes, delay: float = 0.0) -> str:
    port = free_port()
    proc = procs.start_python("target", ["-m", "bench.target", "--port", str(port), "--delay", str(delay)])
    url = f"http://127.0.0.1:{port}"
    wait_http(proc, f"{url}/arrivals")
    return url


def write_rules(procs: Processes, target_url: str) -> Path:
    folder = procs.workdir / f"rules-{run_id()}"
    folder.mkdir()
    (folder / "bench.yaml").write_text(RULE.format(url=target_url))
    return folder


def hookchain_env(ctx: Context, rules: Path, *, redis_url: str | None = "") -> dict[str, str]:
    extra = {
        "HOOKCHAIN_GITHUB_SECRET": SECRET,
        "HOOKCHAIN_RULES": str(rules),
        "HOOKCHAIN_ALLOWED_TARGETS": "127.0.0.1",
        "HOOKCHAIN_LOG_LEVEL": "WARNING",
    }
    url = ctx.redis_url if redis_url == "" else redis_url
    if url:
        extra["REDIS_URL"] = url
    return python_env(extra)


def arrivals(target_url: str) -> list[tuple[str, float]]:
    found = httpx.get(f"{target_url}/arrivals", timeout=10).json()
    return [(ident, float(at)) for ident, at in found["arrivals"]]


def most_in_flight(target_url: str) -> int:
    return int(httpx.get(f"{target_url}/arrivals", timeout=10).json()["most_in_flight"])


def reset(target_url: str) -> None:
    httpx.post(f"{target_url}/reset", timeout=10)


def wait_for_arrivals(target_url: str, count: int, timeout: float) -> list[tuple[str, float]]:
    found: list[tuple[str, float]] = []

    def enough() -> bool:
        nonlocal found
        found = arrivals(target_url)
        return len(found) >= count

    wait_until(enough, timeout=timeout, interval=0.25)
    return found


def opened_body(ctx: Context) -> bytes:
    return (ctx.fixtures / OPENED).read_bytes()


def prefill_events(ctx: Context, count: int, prefix: str) -> None:
    """Queue `count` pull_request.opened events exactly as the receiver would (same script)."""
    body = opened_body(ctx)
    provider = PROVIDERS["github"]()
    headers = Headers({"x-github-event": "pull_request", "content-type": "application/json"})
    payload = provider.parse(headers, body)
    client = redis.Redis.from_url(ctx.redis_url)
    script = client.register_script(ACCEPT_SCRIPT)
    with client.pipeline(transaction=False) as pipe:
        for index in range(count):
            event_id = f"{prefix}-{index}"
            event = provider.to_event(
                headers, payload, event_id=event_id, received_at=utc_now(), source="github"
            )
            keys, args = accept_call(
                event,
                dedupe_source="github",
                delivery_id=event_id,
                dedupe_ttl=3600,
                event_ttl=3600,
                enqueue=True,
            )
            script(keys=keys, args=args, client=pipe)
        pipe.execute()
    client.close()


def prefill_bare_jobs(ctx: Context, count: int, target_url: str, prefix: str) -> None:
    """The baseline: `count` RQ jobs, each one httpx POST, on the queue hookchain's worker reads."""
    client = redis.Redis.from_url(ctx.redis_url)
    queue = Queue(EVENTS_QUEUE, connection=client)
    jobs = [
        Queue.prepare_data(
            "bench.jobs.post_once", args=(f"{target_url}/call", f"{prefix}-{index}"), result_ttl=0
        )
        for index in range(count)
    ]
    for start in range(0, count, 500):
        queue.enqueue_many(jobs[start : start + 500])
    client.close()


def send_signed(client: httpx.Client, url: str, body: bytes, delivery: str) -> int:
    from bench.context import sign

    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(body),
    }
    return client.post(f"{url}/hooks/github", content=body, headers=headers).status_code


def sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
