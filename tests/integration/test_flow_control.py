"""Timing and flow control on real Redis with real workers: delay, debounce, throttle, concurrency,
and several actions in order reading each other's responses through `steps`."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.conftest import GITHUB_FIXTURES
from tests.integration.conftest import Stack, wait_until
from tests.integration.test_chain import post_github
from tests.integration.test_retries import events_of_type
from workers.store import actions_key


def push(stack: Stack) -> str:
    answer = post_github(stack.url, (GITHUB_FIXTURES / "push.1.json").read_bytes(), "push")
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def action_status(real_redis: redis.Redis, event_id: str, field: str) -> str | None:
    raw = real_redis.hget(actions_key(event_id), field)
    return orjson.loads(raw)["status"] if raw else None


def start(stack: Stack, rules_dir: Path, rules: str, target: HTTPServer, workers: int = 1) -> None:
    (rules_dir / "rules.yaml").write_text(rules.replace("BASE", target.url_for("").rstrip("/")))
    stack.start_web()
    for number in range(workers):
        stack.start_worker(f"worker-{number}")


def test_actions_run_in_order_and_read_earlier_responses(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    rules = """
name: two-steps
on: push
do:
  - name: create
    http:
      url: BASE/create
      auth: {basic: {username: bot, password: "{{ secrets.API_PASSWORD }}"}}
      json: {sha: "{{ event.sha }}"}
  - name: label
    http:
      method: PUT
      url: "BASE/items/{{ steps.create.response.json.id }}"
      query: {via: hookchain}
      form: {label: "{{ steps.create.response.json.kind }}"}
    emit: labelled
"""
    stack.env["API_PASSWORD"] = "pw-789"
    target.expect_request("/create", method="POST").respond_with_json({"id": "i-5", "kind": "release"})
    target.expect_request("/items/i-5", method="PUT", query_string="via=hookchain").respond_with_data("ok")
    start(stack, rules_dir, rules, target)
    push(stack)
    assert wait_until(lambda: any(r.path == "/items/i-5" for r, _ in target.log)), stack.processes[
        -1
    ].output()
    create, label = (request for request, _ in target.log)
    assert create.headers["Authorization"] == "Basic Ym90OnB3LTc4OQ=="  # bot:pw-789
    assert label.form["label"] == "release"
    # The emitted event carries the earlier action's outcome too.
    assert wait_until(lambda: events_of_type(real_redis, "labelled"))
    (labelled,) = events_of_type(real_redis, "labelled")
    assert labelled["data"]["steps"]["create"]["response"]["json"] == {"id": "i-5", "kind": "release"}
    assert labelled["data"]["response"]["status"] == 200


def test_throttle_fires_once_per_key_and_period(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    rules = """
name: deploy-once
on: push
do:
  - name: deploy
    http: {url: BASE/deploy}
    throttle: {key: "{{ event.branch }}", per: 5m}
"""
    target.expect_request("/deploy").respond_with_data("ok")
    start(stack, rules_dir, rules, target)
    ids = [push(stack) for _ in range(3)]
    assert wait_until(
        lambda: all(action_status(real_redis, i, "deploy-once/0") in ("succeeded", "skipped") for i in ids)
    )
    statuses = sorted(action_status(real_redis, i, "deploy-once/0") for i in ids)
    assert statuses == ["skipped", "skipped", "succeeded"]
    assert len(target.log) == 1


def test_debounce_fires_only_for_the_last_event_of_a_burst(
    stack: Stack, rules_dir: Path, target: HTTPServer, real_redis: redis.Redis
):
    rules = """
name: settle
on: push
do:
  - name: deploy
    http: {url: BASE/deploy}
    debounce: {key: "{{ event.repo }}/{{ event.branch }}", wait: 2s}
"""
    target.expect_request("/deploy").respond_with_data("ok")
    start(stack, rules_dir, rules, target)
    ids = [push(stack) for _ in range(3)]
    assert wait_until(
        lambda: all(action_status(real_redis, i, "settle/0") in ("succeeded", "skipped") for i in ids),
        timeout=30,
    )
    assert [action_status(real_redis, i, "settle/0") for i in ids] == ["skipped", "skipped", "succeeded"]
    assert len(target.log) == 1


def test_delay_fires_no_earlier_than_asked(stack: Stack, rules_dir: Path, target: HTTPServer):
    rules = """
name: later
on: push
do:
  - http: {url: BASE/later}
    delay: 2s
"""
    target.expect_request("/later").respond_with_data("ok")
    start(stack, rules_dir, rules, target)
    sent = time.monotonic()
    push(stack)
    assert wait_until(lambda: len(target.log) == 1, timeout=30)
    assert time.monotonic() - sent >= 2.0


@pytest.fixture
def slow_target() -> Iterator[tuple[HTTPServer, list[tuple[float, float]]]]:
    """A threaded loopback server whose /deploy takes 0.5 s and records when each call ran."""
    server = HTTPServer(threaded=True)
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def deploy(request: Request) -> Response:
        began = time.monotonic()
        time.sleep(0.5)
        with lock:
            spans.append((began, time.monotonic()))
        return Response("ok")

    server.expect_request("/deploy").respond_with_handler(deploy)
    server.start()
    yield server, spans
    server.clear()
    server.stop()


def test_concurrency_key_serialises_actions_sharing_it(
    stack: Stack, rules_dir: Path, slow_target: tuple[HTTPServer, list[tuple[float, float]]]
):
    server, spans = slow_target
    rules = """
rules:
  - name: deploy-a
    on: push
    do:
      - http: {url: BASE/deploy}
        concurrency: "deploy-{{ event.repo }}"
  - name: deploy-b
    on: push
    do:
      - http: {url: BASE/deploy}
        concurrency: "deploy-{{ event.repo }}"
"""
    start(stack, rules_dir, rules, server, workers=2)
    for _ in range(2):
        push(stack)
    assert wait_until(lambda: len(spans) == 4, timeout=30), [p.output() for p in stack.processes]
    ordered = sorted(spans)
    for (_, end), (begin, _) in itertools.pairwise(ordered):
        assert begin >= end, f"two deploys overlapped: {ordered}"


def test_throttle_admits_the_same_event_again_and_refuses_others(real_redis: redis.Redis):
    from workers import flow
    from workers.rules import load_rules_text

    rules, errors = load_rules_text(
        "name: t\non: push\ndo:\n  - http: {url: 'https://x.example'}\n"
        "    throttle: {key: '{{ event.branch }}', per: 1m}\n",
        "t.yaml",
    )
    assert errors == []
    action = rules[0].do[0]
    context = {"event": {"branch": "main"}}
    assert flow.plan(real_redis, action, "t", 0, "e1", context).skipped is None
    assert flow.plan(real_redis, action, "t", 0, "e1", context).skipped is None
    refused = flow.plan(real_redis, action, "t", 0, "e2", context).skipped
    assert refused == "throttled: key 'main' already fired in the last 60s"
    assert flow.plan(real_redis, action, "t", 0, "e3", {"event": {"branch": "dev"}}).skipped is None
