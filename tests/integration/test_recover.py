"""`hookchain recover` against a local stand-in of GitHub's hook deliveries API and a real receiver."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from router.queue import dedupe_key
from tests.conftest import GITHUB_FIXTURES
from tests.integration.conftest import SECRET, Stack, wait_until
from tests.integration.github_standin import GitHubStandIn, StoredDelivery
from tests.integration.test_chain import post_github


@pytest.fixture
def github_api() -> Iterator[GitHubStandIn]:
    api = GitHubStandIn(secret=SECRET)
    yield api
    api.stop()


def recover(stack: Stack, api: GitHubStandIn, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hookchain", "recover", "--since", "2h", "--repo", "acme/api", *extra],
        env={**stack.env, "GITHUB_TOKEN": "ghp-test-token", "GITHUB_API_URL": api.url},
        cwd=stack.tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_recover_redelivers_only_what_was_never_accepted_and_is_needed(
    stack: Stack, rules_dir: Path, github_api: GitHubStandIn, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(
        "name: on-push\non: push\ndo:\n  - http: {url: 'http://127.0.0.1:9/'}\n"
    )
    stack.start_web()
    push = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    pull = (GITHUB_FIXTURES / "pull_request.closed.2.json").read_bytes()
    assert post_github(stack.url, push, "push", delivery="accepted-1").status_code == 202
    now = datetime.now(UTC)
    github_api.hooks["acme/api"] = [
        {"id": 1, "config": {"url": f"{stack.url}/hooks/github"}},
        {"id": 2, "config": {"url": "https://ci.example.invalid/hook"}},  # not hookchain's: never looked at
    ]
    github_api.deliveries[1] = [
        StoredDelivery(1, "too-old", now - timedelta(hours=5), "push", 503, push),
        StoredDelivery(2, "accepted-1", now - timedelta(minutes=90), "push", 202, push),
        StoredDelivery(3, "missed-1", now - timedelta(minutes=60), "push", 503, push),
        StoredDelivery(4, "unneeded", now - timedelta(minutes=50), "pull_request", 0, pull, "closed"),
        StoredDelivery(5, "missed-1", now - timedelta(minutes=40), "push", 503, push),  # a failed retry
        StoredDelivery(6, "missed-2", now - timedelta(minutes=1), "push", 0, push),
    ]
    github_api.deliveries[2] = [StoredDelivery(7, "elsewhere", now, "push", 500, push)]

    first = recover(stack, github_api)
    assert first.returncode == 0, first.stderr
    assert sorted(github_api.redeliveries) == ["missed-1", "missed-2"]
    assert all(real_redis.exists(dedupe_key("github", guid)) for guid in ("missed-1", "missed-2"))
    assert "5 deliveries listed: 1 already accepted, 1 not needed by any rule, 2 redelivery requested" in (
        first.stdout
    )
    assert github_api.authorizations == {"Bearer ghp-test-token"}

    again = recover(stack, github_api)  # safe to run any number of times
    assert again.returncode == 0, again.stderr
    assert sorted(github_api.redeliveries) == ["missed-1", "missed-2"]
    assert "0 redelivery requested" in again.stdout


def test_recover_dry_run_asks_for_nothing_and_bad_input_is_a_clear_error(
    stack: Stack, rules_dir: Path, github_api: GitHubStandIn, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(
        "name: on-push\non: push\ndo:\n  - http: {url: 'http://127.0.0.1:9/'}\n"
    )
    push = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    github_api.hooks["acme/api"] = [{"id": 1, "config": {"url": "http://127.0.0.1:9/hooks/github"}}]
    github_api.deliveries[1] = [StoredDelivery(1, "missed", datetime.now(UTC), "push", 503, push)]
    dry = recover(stack, github_api, "--dry-run")
    assert dry.returncode == 0 and "would redeliver: missed" in dry.stdout
    assert github_api.redeliveries == []
    bad = recover(stack, github_api, "--since", "soon")
    assert bad.returncode == 1 and "--since 'soon'" in bad.stderr
    github_api.hooks.clear()
    unknown = subprocess.run(
        [sys.executable, "-m", "hookchain", "recover", "--repo", "acme/nope"],
        env={**stack.env, "GITHUB_TOKEN": "t", "GITHUB_API_URL": github_api.url + "/missing"},
        cwd=stack.tmp,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert unknown.returncode == 1 and "HTTP 404" in unknown.stderr


def test_workers_recover_by_themselves_when_told_to(
    stack: Stack, rules_dir: Path, github_api: GitHubStandIn, real_redis: redis.Redis
):
    (rules_dir / "rules.yaml").write_text(
        "name: on-push\non: push\ndo:\n  - http: {url: 'http://127.0.0.1:9/'}\n"
    )
    stack.start_web()
    push = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    github_api.hooks["acme/api"] = [{"id": 1, "config": {"url": f"{stack.url}/hooks/github"}}]
    github_api.deliveries[1] = [StoredDelivery(1, "missed", datetime.now(UTC), "push", 503, push)]
    stack.env.update(
        HOOKCHAIN_RECOVER_REPOS="acme/api",
        HOOKCHAIN_RECOVER_EVERY="1",
        GITHUB_TOKEN="ghp-test-token",
        GITHUB_API_URL=github_api.url,
    )
    stack.start_worker("w0")
    stack.start_worker("w1")
    assert wait_until(lambda: real_redis.exists(dedupe_key("github", "missed")))
    time.sleep(2.5)  # further runs, on both workers, find it accepted
    assert github_api.redeliveries == ["missed"]
