"""Redis killed and restarted under load: 503 while it is down, no 2xx without a durable write."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import GITHUB_FIXTURES
from tests.faults.conftest import FAST_RECOVERY, Figures, delivery_id
from tests.faults.own_redis import OwnRedis
from tests.faults.target import Target
from tests.faults.test_worker_crashes import post_push
from tests.integration.conftest import Stack, wait_until

RULES = """
name: call-on-push
on: push
do:
  - http:
      url: "{base}/ok"
      json: {{event: "{{{{ event.id }}}}"}}
"""


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = OwnRedis(folder)
    server.start()
    yield server
    server.stop()


def test_redis_restart_under_load_loses_nothing_acknowledged(
    stack: Stack, rules_dir: Path, fault_target: Target, own_redis: OwnRedis
):
    (rules_dir / "rules.yaml").write_text(RULES.format(base=fault_target.base))
    stack.env.update(FAST_RECOVERY, REDIS_URL=own_redis.url, HOOKCHAIN_REDIS_TIMEOUT="1")
    web = stack.start_web()
    stack.start_worker("w0")
    stack.start_worker("w1")
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    answers: list[tuple[str, int, str]] = []  # delivery, status, phase
    phase = {"now": "before"}
    done = threading.Event()

    def send() -> None:
        with httpx.Client(timeout=10) as client:
            while not done.is_set():
                delivery, during = delivery_id(), phase["now"]  # the phase the request was sent in
                answers.append((delivery, post_push(client, stack.url, body, delivery), during))
                time.sleep(0.02)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(2)
    own_redis.kill()
    phase["now"] = "down"
    time.sleep(3)
    phase["now"] = "restarting"
    own_redis.start()
    phase["now"] = "after"
    time.sleep(3)
    done.set()
    sender.join()

    figures = Figures("redis kill -9 and restart")
    figures.sent = len(answers)
    acked = {d for d, status, _ in answers if status == 202}
    figures.acknowledged = len(acked)
    figures.refused = sum(1 for _, status, _ in answers if status == 503)
    by_phase = {p: [s for _, s, ph in answers if ph == p] for p in ("before", "down", "after")}
    figures.extra["503_while_down"] = by_phase["down"].count(503)
    figures.extra["202_after_restart"] = by_phase["after"].count(202)

    client = own_redis.client()
    assert wait_until(
        lambda: {c.body["event"] for c in fault_target.calls_to("/ok")} >= acked, timeout=60, interval=0.5
    ), (figures.report(), [p.output()[-2000:] for p in stack.processes])
    stored = {d for d in acked if client.exists(f"hookchain:event:{d}")}
    grouped = figures.count_calls(fault_target.calls_to("/ok"), acked, lambda c: c.body["event"])
    figures.extra["acked_but_not_stored"] = len(acked - stored)
    figures.report()

    assert {status for _, status, _ in answers} <= {202, 503}  # never a 500, never a hang
    assert by_phase["down"] and set(by_phase["down"]) == {503}
    assert by_phase["before"].count(202) > 0 and by_phase["after"].count(202) > 0  # resumed by itself
    assert stored == acked and figures.lost == 0
    assert all(len({c.idempotency_key for c in calls}) == 1 for calls in grouped.values())
    assert "durability:" not in web.output()  # AOF on, noeviction: nothing to warn about
