"""Nothing grows without bound: after real chains, every key either expires or is capped."""

from __future__ import annotations

from pathlib import Path

import redis

from tests.conftest import GITHUB_FIXTURES
from tests.faults.conftest import delivery_id
from tests.faults.target import Target
from tests.faults.test_worker_crashes import post_push
from tests.integration.conftest import Stack, wait_until
from workers.store import DEAD_LETTERS_KEY

RULES = """
rules:
  - name: ok
    on: push
    rate: 100/minute
    do:
      - http: {{url: "{base}/ok"}}
        emit: ok.done
  - name: failing
    on: push
    do:
      - http: {{url: "{base}/fail"}}
        retry: {{attempts: 2, backoff: 0.1}}
  - name: echo
    on: [ok.done, echo.done]
    do:
      - http: {{url: "{base}/ok"}}
        emit: echo.done
"""

# Keys without a TTL that are bounded some other way (trimmed, capped, or drained by RQ).
BOUNDED = {
    "hookchain:log": "sorted set trimmed by age on every write",
    DEAD_LETTERS_KEY: "list capped at 10,000",
    "rq:queues": "set of queue names",
    "rq:workers": "set of live workers, cleaned by RQ's sweep",
    "hookchain:rules": "hash of the loaded rules, rewritten whole when a worker (re)loads them",
    "hookchain:rules:fired": "hash of one last firing per rule",
    "hookchain:wake": "list of wake-up tokens, trimmed to 64",
}
BOUNDED_PREFIXES = ("rq:workers:", "rq:wip:", "rq:failed:", "rq:scheduled:", "rq:finished:", "rq:deferred:")


def test_every_key_expires_or_is_bounded(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(RULES.format(base=fault_target.base))
    stack.start_web()
    stack.start_worker()
    import httpx

    with httpx.Client(timeout=10) as client:
        for _ in range(3):
            assert (
                post_push(client, stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), delivery_id())
                == 202
            )
    assert wait_until(
        lambda: real_redis.llen(DEAD_LETTERS_KEY) == 3 and len(fault_target.calls_to("/ok")) == 6
    )
    assert wait_until(lambda: real_redis.llen("rq:queue:hookchain-actions") == 0)
    unbounded = []
    for key in real_redis.scan_iter(count=1000):
        name = key.decode()
        if real_redis.ttl(key) > 0 or name in BOUNDED or name.startswith(BOUNDED_PREFIXES):
            continue
        if name.startswith("rq:queue:") and real_redis.llen(key) == 0:
            continue
        unbounded.append((name, real_redis.type(key).decode()))
    assert unbounded == []
