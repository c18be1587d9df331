"""`hookchain failed list | show | retry | discard` and `hookchain replay`, on real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import redis

from tests.conftest import GITHUB_FIXTURES
from tests.faults.conftest import delivery_id
from tests.faults.target import Target
from tests.faults.test_worker_crashes import post_push
from tests.integration.conftest import Stack, wait_until
from workers.store import DEAD_LETTERS_KEY

RULES = """
name: deploy
on: push
do:
  - http:
      url: "{base}/flaky"
      json: {{event: "{{{{ event.id }}}}"}}
    retry: {{attempts: 1}}
"""


def hookchain(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookchain", *args],
        env=stack.env,
        cwd=stack.tmp,
        capture_output=True,
        text=True,
        timeout=30,
    )


def push(stack: Stack) -> str:
    delivery = delivery_id()
    with httpx.Client(timeout=10) as client:
        assert post_push(client, stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), delivery) == 202
    return delivery


def test_dead_letters_can_be_listed_shown_retried_and_discarded(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(RULES.format(base=fault_target.base))
    stack.start_web()
    stack.start_worker()
    first = push(stack)
    assert wait_until(lambda: real_redis.llen(DEAD_LETTERS_KEY) == 1)

    listed = hookchain(stack, "failed", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (dead,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert dead["event_id"] == first and dead["rule"] == "deploy" and dead["error"] == "HTTP 500"

    shown = hookchain(stack, "failed", "show", dead["id"][:10])
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert [a["status"] for a in detail["attempts"]] == [500] and detail["event"]["id"] == first

    fault_target.flaky_failing = False
    retried = hookchain(stack, "failed", "retry", dead["id"])
    assert retried.returncode == 0 and "queued again" in retried.stdout, retried.stderr
    assert wait_until(lambda: len(fault_target.calls_to("/flaky")) == 2)
    calls = fault_target.calls_to("/flaky")
    assert calls[0].idempotency_key == calls[1].idempotency_key  # the same action for the same event
    assert real_redis.llen(DEAD_LETTERS_KEY) == 0
    assert hookchain(stack, "failed", "retry", dead["id"]).returncode == 1  # gone: a clear error

    fault_target.flaky_failing = True
    push(stack)
    assert wait_until(lambda: real_redis.llen(DEAD_LETTERS_KEY) == 1)
    (second,) = [
        json.loads(line) for line in hookchain(stack, "failed", "list", "--json").stdout.splitlines()
    ]
    discarded = hookchain(stack, "failed", "discard", second["id"])
    assert discarded.returncode == 0 and "discarded" in discarded.stdout
    assert real_redis.llen(DEAD_LETTERS_KEY) == 0
    missing = hookchain(stack, "failed", "show", "nope")
    assert missing.returncode == 1 and "no dead letter" in missing.stderr


def test_replay_runs_the_rules_again_in_the_original_chain(
    stack: Stack, rules_dir: Path, fault_target: Target, real_redis: redis.Redis
):
    fault_target.flaky_failing = False
    (rules_dir / "rules.yaml").write_text(RULES.format(base=fault_target.base))
    stack.start_web()
    stack.start_worker()
    original = push(stack)
    assert wait_until(lambda: len(fault_target.calls_to("/flaky")) == 1)

    replayed = hookchain(stack, "replay", original)
    assert replayed.returncode == 0, replayed.stderr
    copy_id = replayed.stdout.split(" as ", 1)[1].split()[0]
    assert wait_until(lambda: len(fault_target.calls_to("/flaky")) == 2)
    copy = orjson.loads(real_redis.get(f"hookchain:event:{copy_id}"))
    assert copy["correlation_id"] == original and copy["causation_id"] == original
    assert copy["type"] == "push" and copy["depth"] == 0  # a replay is the same hop again, not a deeper one
    assert fault_target.calls_to("/flaky")[1].body == {"event": copy_id}
    unknown = hookchain(stack, "replay", "no-such-event")
    assert unknown.returncode == 1 and "no stored event" in unknown.stderr
