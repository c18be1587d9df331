"""A burst of events against a rule with `rate:` reaches the target spread out, and nothing is dropped."""

from __future__ import annotations

from pathlib import Path

import httpx
import redis

from tests.conftest import GITHUB_FIXTURES
from tests.faults.conftest import Figures, delivery_id
from tests.faults.target import Target
from tests.faults.test_worker_crashes import post_push
from tests.integration.conftest import Stack, wait_until

BURST = 12

RULES = """
name: capped
on: push
rate: 5/2s
do:
  - http: {{url: "{base}/ok", json: {{event: "{{{{ event.id }}}}"}}}}
"""


def test_a_burst_is_spread_over_rate_windows(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(RULES.format(base=fault_target.base))
    stack.start_web()
    stack.start_worker("w0")
    stack.start_worker("w1")
    sent = set()
    with httpx.Client(timeout=10) as client:
        for _ in range(BURST):
            delivery = delivery_id()
            assert (
                post_push(client, stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), delivery) == 202
            )
            sent.add(delivery)
    assert wait_until(lambda: len(fault_target.calls_to("/ok")) >= BURST, timeout=60)
    calls = fault_target.calls_to("/ok")
    figures = Figures("rate cap 5/2s", sent=BURST, acknowledged=BURST)
    figures.count_calls(calls, sent, lambda c: c.body["event"])
    figures.extra["spread_s"] = round(calls[-1].at - calls[0].at, 1)
    figures.report()
    assert figures.lost == 0
    # 12 calls at 5 per 2-second window need at least three windows: more than 2 s from first to last.
    assert calls[-1].at - calls[0].at > 2.0
