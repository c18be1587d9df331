"""kill -9 workers while events flow: nothing acknowledged is lost, re-runs share the idempotency key."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

import httpx
import redis

from tests.conftest import GITHUB_FIXTURES, github_signature
from tests.faults.conftest import FAST_RECOVERY, Figures, delivery_id
from tests.faults.target import Call, Target
from tests.integration.conftest import SECRET, Process, Stack, wait_until

RULES = """
rules:
  - name: first-hop
    on: push
    do:
      - http:
          url: "{base}/slow"
          json: {{event: "{{{{ event.id }}}}", hop: 1}}
        emit: hop.done
  - name: second-hop
    on: hop.done
    do:
      - http:
          url: "{base}/ok"
          json: {{event: "{{{{ event.causation_id }}}}", hop: 2}}
"""

EVENTS = 300
KILLS = 22
WORKERS = 3


def post_push(client: httpx.Client, url: str, body: bytes, delivery: str) -> int:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github_signature(SECRET, body),
    }
    try:
        return client.post(f"{url}/hooks/github", content=body, headers=headers).status_code
    except httpx.HTTPError:
        return 0


def diagnose(client: redis.Redis, missing: list[str]) -> list[object]:
    """What Redis still knows about the calls that never arrived, for the failure message."""
    found: list[object] = []
    for item in missing[:5]:
        event_id = item.rsplit("/", 1)[0]
        jobs = [k.decode() for k in client.keys("rq:job:*") if event_id[:8] in k.decode()]
        found.append(
            {
                "missing": item,
                "actions": client.hgetall(f"hookchain:actions:{event_id}"),
                "matches": client.get(f"hookchain:matches:{event_id}"),
                "job_keys": client.keys(f"rq:job:ev-{event_id}*"),
                "jobs": jobs,
            }
        )
    found.append({k.decode(): client.type(k) for k in client.keys("rq:*") if b":job:" not in k})
    for key in client.keys("rq:failed:*"):
        for job_id in client.zrange(key, 0, -1):
            found.append({"failed": job_id, "job": client.hgetall(b"rq:job:" + job_id)})
    for key in client.keys("rq:results:*")[:5]:
        found.append({"result": key, "entries": client.xrange(key)})
    print(found)
    return found


def spawn_worker(stack: Stack) -> Process:
    """A worker started without waiting for it: kills keep coming while replacements boot."""
    return stack.start("worker", "--name", f"crash-{len(stack.processes)}-{time.time_ns()}", name="worker")


def test_killing_workers_loses_nothing_acknowledged(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(RULES.format(base=fault_target.base))
    stack.env.update(FAST_RECOVERY)
    stack.start_web()
    workers = [stack.start_worker(f"w{i}") for i in range(WORKERS)]
    figures = Figures("kill -9 workers")
    acknowledged: set[str] = set()
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()

    def send_all() -> None:
        with httpx.Client(timeout=10) as client:
            for _ in range(EVENTS):
                delivery = delivery_id()
                figures.sent += 1
                if post_push(client, stack.url, body, delivery) == 202:
                    acknowledged.add(delivery)
                time.sleep(0.05)

    sender = threading.Thread(target=send_all)
    sender.start()
    kills = 0
    rng = random.Random(6)
    while kills < KILLS:
        time.sleep(rng.uniform(0.3, 0.9))
        alive = [w for w in workers if w.popen.poll() is None]
        victim = rng.choice(alive)
        victim.popen.send_signal(signal.SIGKILL)
        victim.popen.wait()
        kills += 1
        workers.remove(victim)
        workers.append(spawn_worker(stack))
    sender.join()
    figures.acknowledged = len(acknowledged)

    def every_call_arrived() -> bool:
        hops = {(c.body["event"], c.path) for c in fault_target.calls if isinstance(c.body, dict)}
        return all((e, "/slow") in hops and (e, "/ok") in hops for e in acknowledged)

    started = time.monotonic()
    arrived = wait_until(every_call_arrived, timeout=150, interval=0.5)
    figures.extra["kills"] = kills
    figures.extra["settled_after_s"] = round(time.monotonic() - started, 1)

    expected = {f"{e}{path}" for e in acknowledged for path in ("/slow", "/ok")}
    grouped = figures.count_calls(
        [c for c in fault_target.calls if isinstance(c.body, dict)],
        expected,
        lambda c: f"{c.body['event']}{c.path}",
    )
    figures.report()
    assert figures.sent == EVENTS and figures.acknowledged == EVENTS  # the receiver never stopped
    missing = sorted(expected - set(grouped))
    assert arrived and figures.lost == 0, (figures.report(), diagnose(real_redis, missing))
    for key, calls in grouped.items():
        keys = {call.idempotency_key for call in calls}
        assert len(keys) == 1 and None not in keys, (key, keys)
    assert kills >= 20


def test_a_killed_workers_job_runs_again_within_two_minutes_with_default_settings(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    """Default lease (30 s) and sweep (15 s): the job of a worker killed mid-call is re-run < 2 min."""
    fault_target.hang_seconds = 3.0
    (rules_dir / "rules.yaml").write_text(
        "name: slow\non: push\ndo:\n  - http:\n      url: " + fault_target.base + "/hang\n    timeout: 10\n"
    )
    stack.start_web()
    victim = stack.start_worker("victim")
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    with httpx.Client(timeout=10) as client:
        assert post_push(client, stack.url, body, delivery_id()) == 202
    assert wait_until(lambda: len(fault_target.calls_to("/hang")) == 1, timeout=30)
    victim.popen.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.popen.wait()
    stack.start_worker("rescuer")
    rescued = wait_until(lambda: len(fault_target.calls_to("/hang")) >= 2, timeout=120, interval=0.5)
    assert rescued, [p.output()[-3000:] for p in stack.processes]
    rerun: Call = fault_target.calls_to("/hang")[1]
    first: Call = fault_target.calls_to("/hang")[0]
    figures = Figures("kill -9 one worker, default settings", sent=1, acknowledged=1, fired=2, duplicates=1)
    figures.extra["rerun_after_s"] = round(rerun.at - killed_at, 1)
    figures.report()
    assert rerun.at - killed_at < 120
    assert rerun.idempotency_key == first.idempotency_key
