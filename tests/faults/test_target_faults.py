"""A misbehaving target: 500s, 429 with Retry-After, hangs past the timeout, reset connections."""

from __future__ import annotations

import itertools
from pathlib import Path

import httpx
import orjson
import redis

from tests.conftest import GITHUB_FIXTURES
from tests.faults.conftest import Figures, delivery_id
from tests.faults.target import Target
from tests.faults.test_worker_crashes import post_push
from tests.integration.conftest import Stack, wait_until
from workers.store import DEAD_LETTERS_KEY

FAULTS = ("fail", "busy", "hang", "reset")

RULES = """
rules:
{calls}
  - name: alert
    on: action.failed
    do:
      - http:
          url: "{base}/ok"
          json: {{rule: "{{{{ event.data.rule }}}}", error: "{{{{ event.data.error }}}}"}}
"""

CALL = """
  - name: call-{fault}
    on: push
    do:
      - http:
          url: "{base}/{fault}"
          json: {{event: "{{{{ event.id }}}}"}}
        timeout: 1
        retry: {{attempts: 3, backoff: 0.2}}
"""


def test_retries_then_dead_letter_and_action_failed(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    fault_target.hang_seconds = 3
    calls = "".join(CALL.format(fault=f, base=fault_target.base) for f in FAULTS)
    (rules_dir / "rules.yaml").write_text(RULES.format(calls=calls, base=fault_target.base))
    stack.start_web()
    stack.start_worker()
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    with httpx.Client(timeout=10) as client:
        assert post_push(client, stack.url, body, delivery_id()) == 202

    assert wait_until(lambda: len(fault_target.calls_to("/ok")) == len(FAULTS), timeout=60), stack.processes[
        -1
    ].output()
    figures = Figures("target faults", sent=1, acknowledged=1)
    figures.fired = len(fault_target.calls)
    for fault in FAULTS:
        tries = fault_target.calls_to(f"/{fault}")
        figures.extra[fault] = len(tries)
        assert len(tries) == 3, fault  # retried as specified, then given up
        assert len({t.idempotency_key for t in tries}) == 1
    busy = fault_target.calls_to("/busy")
    assert all(later.at - earlier.at >= 0.95 for earlier, later in itertools.pairwise(busy))
    figures.report()
    dead = {d["rule"]: d for d in (orjson.loads(x) for x in real_redis.lrange(DEAD_LETTERS_KEY, 0, -1))}
    assert set(dead) == {f"call-{f}" for f in FAULTS}
    assert dead["call-fail"]["error"] == "HTTP 500" and dead["call-busy"]["error"] == "HTTP 429"
    alerts = {c.body["rule"]: c.body["error"] for c in fault_target.calls_to("/ok")}
    assert set(alerts) == set(dead)
    assert "timed out" in alerts["call-hang"].lower() or "timeout" in alerts["call-hang"].lower()
