"""`hookchain worker --concurrency M --processes N` on real Redis, real processes, a real slow target."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from router.queue import ACTIONS_QUEUE, EVENTS_QUEUE, queue_key
from tests.conftest import GITHUB_FIXTURES, REPO, github_signature
from tests.integration.conftest import SECRET, Process, Stack, free_port, wait_until

RULE = """
rules:
  - name: call-slow-api
    on: pr.opened
    do:
      - http:
          url: "{base}/call"
          json: {{id: "{{{{ event.id }}}}"}}
        timeout: 90
        retry: {{attempts: 1}}
"""


class SlowTarget:
    """bench.target under uvicorn: answers after `delay` s, counts the calls in flight at once."""

    def __init__(self, popen: subprocess.Popen[bytes], url: str) -> None:
        self.popen = popen
        self.url = url

    def state(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/arrivals", timeout=5).json())

    def arrived(self) -> list[str]:
        return [ident for ident, _ in self.state()["arrivals"]]


def start_target(delay: float) -> SlowTarget:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    popen = subprocess.Popen(
        [sys.executable, "-m", "bench.target", "--port", str(port), "--delay", str(delay)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    target = SlowTarget(popen, f"http://127.0.0.1:{port}")

    def up() -> bool:
        try:
            target.state()
            return True
        except httpx.HTTPError:
            return False

    assert wait_until(up), "the slow target did not start"
    return target


@pytest.fixture
def slow_target(request: pytest.FixtureRequest) -> Iterator[SlowTarget]:
    target = start_target(getattr(request, "param", 1.0))
    yield target
    target.popen.kill()  # not terminate: uvicorn would wait for the calls still sleeping
    target.popen.wait(timeout=10)


def send(url: str, delivery: str) -> None:
    body = (GITHUB_FIXTURES / "pull_request.opened.1.json").read_bytes()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github_signature(SECRET, body),
    }
    assert httpx.post(f"{url}/hooks/github", content=body, headers=headers, timeout=10).status_code == 202


def start_worker(stack: Stack, *args: str) -> Process:
    process = stack.start("worker", *args, name="worker")
    ready = wait_until(lambda: "hookchain worker:" in process.output() or process.popen.poll() is not None)
    assert ready and process.popen.poll() is None, process.output()
    return process


def live_workers(client: redis.Redis) -> list[Worker]:
    return [worker for worker in Worker.all(connection=client) if worker.pid]


def action_record(client: redis.Redis, delivery: str) -> bytes:
    return client.hget(f"hookchain:actions:{delivery}", "call-slow-api/0") or b""


@pytest.fixture
def slow_stack(stack: Stack, rules_dir: Path, slow_target: SlowTarget) -> Stack:
    (rules_dir / "slow.yaml").write_text(RULE.format(base=slow_target.url))
    stack.start_web()
    return stack


def test_one_process_keeps_several_slow_calls_in_flight_and_loses_none(
    slow_stack: Stack, slow_target: SlowTarget, real_redis: redis.Redis
):
    worker = start_worker(slow_stack, "--concurrency", "6")
    deliveries = [f"conc-{uuid.uuid4().hex[:8]}-{n}" for n in range(12)]
    for delivery in deliveries:
        send(slow_stack.url, delivery)

    assert wait_until(lambda: len(slow_target.arrived()) >= 12, timeout=60), worker.output()
    state = slow_target.state()
    # One job at a time would never have two calls at the target at once (each takes 1 s).
    assert 2 <= state["most_in_flight"] <= 6
    assert sorted(slow_target.arrived()) == sorted(deliveries)  # each exactly once

    def all_recorded() -> bool:
        return all(b'"succeeded"' in action_record(real_redis, d) for d in deliveries)

    assert wait_until(all_recorded, timeout=30), worker.output()
    for name in (EVENTS_QUEUE, ACTIONS_QUEUE):
        assert real_redis.llen(queue_key(name)) == 0
        assert StartedJobRegistry(name, connection=real_redis).count == 0
        assert FailedJobRegistry(name, connection=real_redis).count == 0


def test_warm_shutdown_finishes_the_jobs_in_flight(
    slow_stack: Stack, slow_target: SlowTarget, real_redis: redis.Redis
):
    worker = start_worker(slow_stack, "--concurrency", "4")
    deliveries = [f"warm-{uuid.uuid4().hex[:8]}-{n}" for n in range(3)]
    for delivery in deliveries:
        send(slow_stack.url, delivery)
    assert wait_until(lambda: len(slow_target.arrived()) == 3, timeout=30)

    worker.popen.send_signal(signal.SIGTERM)  # the calls are still waiting for their answers
    assert worker.popen.wait(timeout=30) == 0, worker.output()
    for delivery in deliveries:
        assert b'"succeeded"' in action_record(real_redis, delivery), worker.output()
    assert StartedJobRegistry(ACTIONS_QUEUE, connection=real_redis).count == 0
    assert Worker.count(connection=real_redis) == 0  # unregistered, as RQ does


@pytest.mark.parametrize("slow_target", [60.0], indirect=True)
def test_a_crash_hands_the_started_jobs_back_to_be_run_again(
    slow_stack: Stack, slow_target: SlowTarget, real_redis: redis.Redis
):
    worker = start_worker(slow_stack, "--concurrency", "4")
    deliveries = [f"crash-{uuid.uuid4().hex[:8]}-{n}" for n in range(3)]
    for delivery in deliveries:
        send(slow_stack.url, delivery)
    assert wait_until(lambda: len(slow_target.arrived()) == 3, timeout=30)

    started = StartedJobRegistry(ACTIONS_QUEUE, connection=real_redis)
    assert len(started.get_job_ids()) == 3  # each registered as started while it runs
    worker.popen.send_signal(signal.SIGKILL)
    worker.popen.wait(timeout=10)

    # RQ's maintenance treats a started job whose execution heartbeat has lapsed as abandoned;
    # run it as if that time had come, as any surviving worker's maintenance would. Every
    # hookchain job carries a crash Retry, so the abandoned jobs are queued again, not failed.
    started.cleanup(timestamp=2**40)
    assert started.count == 0
    assert FailedJobRegistry(ACTIONS_QUEUE, connection=real_redis).get_job_ids() == []
    again = Queue(ACTIONS_QUEUE, connection=real_redis).get_job_ids()
    again += ScheduledJobRegistry(ACTIONS_QUEUE, connection=real_redis).get_job_ids()
    assert len(again) == 3


def test_processes_are_supervised_and_a_dead_one_is_replaced(
    slow_stack: Stack, slow_target: SlowTarget, real_redis: redis.Redis
):
    pool = start_worker(slow_stack, "--processes", "2", "--concurrency", "2")
    assert wait_until(lambda: len(live_workers(real_redis)) == 2, timeout=30), pool.output()
    first = live_workers(real_redis)
    assert pool.popen.pid not in {worker.pid for worker in first}  # children work, the parent watches

    victim = first[0]
    os.kill(victim.pid, signal.SIGKILL)

    def replaced() -> bool:
        others = [w for w in live_workers(real_redis) if w.name != victim.name]
        return len(others) == 2 and victim.pid not in {w.pid for w in others}

    assert wait_until(replaced, timeout=30), pool.output()
    deliveries = [f"pool-{uuid.uuid4().hex[:8]}-{n}" for n in range(4)]
    for delivery in deliveries:
        send(slow_stack.url, delivery)
    assert wait_until(lambda: sorted(slow_target.arrived()) == sorted(deliveries), timeout=30)
    assert slow_target.state()["most_in_flight"] >= 2

    pool.popen.send_signal(signal.SIGTERM)
    assert pool.popen.wait(timeout=30) == 0, pool.output()


@pytest.mark.parametrize("slow_target", [0.5], indirect=True)
def test_rq_per_key_concurrency_limits_still_hold_with_threads(
    stack: Stack, slow_target: SlowTarget, real_redis: redis.Redis
):
    from rq import Queue
    from rq.rate_limit import RateLimit

    queue = Queue(EVENTS_QUEUE, connection=real_redis)
    limited = [f"limited-{n}" for n in range(4)]
    for ident in limited:  # e.g. one repo+branch: one at a time, across every thread and process
        queue.enqueue(
            "bench.jobs.post_once", f"{slow_target.url}/call", ident, rate_limit=RateLimit("repo:main", 1)
        )
    worker = stack.start("worker", "--concurrency", "4", "--burst", name="worker")
    assert worker.popen.wait(timeout=60) == 0, worker.output()
    assert sorted(slow_target.arrived()) == sorted(limited)
    assert slow_target.state()["most_in_flight"] == 1  # the limit, not the 4 threads, decided

    free = [f"free-{n}" for n in range(4)]
    httpx.post(f"{slow_target.url}/reset", timeout=5)
    for ident in free:
        queue.enqueue("bench.jobs.post_once", f"{slow_target.url}/call", ident)
    worker = stack.start("worker", "--concurrency", "4", "--burst", name="worker-free")
    assert worker.popen.wait(timeout=60) == 0, worker.output()
    assert sorted(slow_target.arrived()) == sorted(free)
    assert slow_target.state()["most_in_flight"] >= 2  # without the limit the same jobs overlap


def test_job_timeouts_apply_to_each_job_in_its_thread(stack: Stack, real_redis: redis.Redis):
    from rq import Queue
    from rq.job import Job, JobStatus

    queue = Queue(EVENTS_QUEUE, connection=real_redis)
    slow = queue.enqueue("time.sleep", 3, job_timeout=1)
    quick = queue.enqueue("time.sleep", 0, job_timeout=10)
    worker = stack.start("worker", "--concurrency", "4", "--burst", name="worker")
    assert worker.popen.wait(timeout=60) == 0, worker.output()

    timed_out = Job.fetch(slow.id, connection=real_redis)
    assert timed_out.get_status() == JobStatus.FAILED
    assert "JobTimeoutException" in (timed_out.latest_result().exc_string or "")
    assert Job.fetch(quick.id, connection=real_redis).get_status() == JobStatus.FINISHED
