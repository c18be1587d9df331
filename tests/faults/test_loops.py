"""A self-triggering rule and a two-rule ping-pong are stopped with a recorded chain.stopped."""

from __future__ import annotations

from pathlib import Path

import httpx
import orjson
import redis

from tests.conftest import GITHUB_FIXTURES
from tests.faults.conftest import Figures, delivery_id
from tests.faults.target import Target
from tests.faults.test_worker_crashes import post_push
from tests.integration.conftest import Stack, wait_until

SELF_TRIGGER = """
name: echo
on: [push, echo.done]
do:
  - http: {{url: "{base}/ok", json: {{rule: echo, depth: "{{{{ event.depth }}}}"}}}}
    emit: echo.done
"""

PING_PONG = """
rules:
  - name: ping
    on: [push, pong.done]
    do:
      - http: {{url: "{base}/ok", json: {{rule: ping, depth: "{{{{ event.depth }}}}"}}}}
        emit: ping.done
  - name: pong
    on: ping.done
    do:
      - http: {{url: "{base}/ok", json: {{rule: pong, depth: "{{{{ event.depth }}}}"}}}}
        emit: pong.done
"""


def stops(real_redis: redis.Redis) -> list[dict]:
    found = [orjson.loads(real_redis.get(k)) for k in real_redis.keys("hookchain:event:*")]
    return [e for e in found if e["type"] == "chain.stopped"]


def run(stack: Stack, rules_dir: Path, rules: str, target: Target, real_redis: redis.Redis) -> dict:
    (rules_dir / "rules.yaml").write_text(rules.format(base=target.base))
    stack.start_web()
    stack.start_worker()
    with httpx.Client(timeout=10) as client:
        assert (
            post_push(client, stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), delivery_id()) == 202
        )
    assert wait_until(lambda: len(stops(real_redis)) == 1), stack.processes[-1].output()
    (stop,) = stops(real_redis)
    return stop


def test_a_self_triggering_rule_runs_once_per_subject(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    stop = run(stack, rules_dir, SELF_TRIGGER, fault_target, real_redis)
    assert [c.body for c in fault_target.calls] == [{"rule": "echo", "depth": 0}]
    assert stop["data"]["cause"] == "loop" and stop["data"]["rules"] == ["echo"]
    Figures("self-trigger", sent=1, acknowledged=1, fired=len(fault_target.calls)).report()


def test_two_rules_answering_each_other_stop_after_one_round(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    stop = run(stack, rules_dir, PING_PONG, fault_target, real_redis)
    assert [c.body for c in fault_target.calls] == [
        {"rule": "ping", "depth": 0},
        {"rule": "pong", "depth": 1},
    ]
    assert stop["data"]["cause"] == "loop" and stop["data"]["rules"] == ["ping"]
    assert stop["depth"] == 3  # recorded on the event that would have looped (depth 2), one hop deeper
    Figures("ping-pong", sent=1, acknowledged=1, fired=len(fault_target.calls)).report()
