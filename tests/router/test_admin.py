"""The admin API against the real Redis: records written the way the receiver and workers write them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis
from rq import Worker
from rq.job import Job
from starlette.testclient import TestClient

from router.app import create_app
from router.eventlog import stopped_event_id
from router.events import Event
from router.queue import ACCEPT_SCRIPT, ACTIONS_QUEUE, EVENTS_QUEUE, accept_call, queue_key
from router.records import DEAD_LETTERS_KEY, actions_key, event_key, matches_key
from router.settings import Settings
from tests.conftest import test_redis_url
from workers import store
from workers.rules import RuleSet, load_rules_text

TOKEN = "test-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_event(event_id: str, **fields: Any) -> Event:
    values: dict[str, Any] = {
        "id": event_id,
        "source": "github",
        "type": "pr.merged",
        "provider_type": "github.pull_request.closed",
        "time": "2026-11-25T10:00:00.000Z",
        "subject": "acme/api#42",
        "repo": "acme/api",
        "pr": 42,
        "data": {"n": event_id},
    }
    values.update(fields)
    return Event(**values)


def accept(client: redis.Redis, event: Event, *, enqueue: bool = True, now: float | None = None) -> None:
    keys, args = accept_call(
        event, dedupe_source="test", delivery_id=event.id, dedupe_ttl=60, event_ttl=3600, enqueue=enqueue
    )
    if now is not None:
        args[4] = f"{now:.6f}"
    assert client.register_script(ACCEPT_SCRIPT)(keys=keys, args=args) is None


def record_matches(client: redis.Redis, event_id: str, matches: list[dict[str, Any]]) -> None:
    client.set(matches_key(event_id), orjson.dumps(matches))


def record_action(client: redis.Redis, event_id: str, rule: str, index: int, **record: Any) -> None:
    client.hset(actions_key(event_id), f"{rule}/{index}", orjson.dumps({"rule": rule, **record}))


@pytest.fixture
def api(real_redis: redis.Redis) -> Iterator[TestClient]:
    settings = Settings(redis_url=test_redis_url(), admin_token=TOKEN)
    with TestClient(create_app(settings)) as client:
        yield client


def test_no_token_is_401_and_a_wrong_one_too(api: TestClient):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = api.get("/api/events", headers=headers)
        assert answer.status_code == 401
        assert "HOOKCHAIN_ADMIN_TOKEN" in answer.json()["error"]
    assert api.get("/api/events", headers=AUTH).status_code == 200


def test_without_a_configured_token_the_api_is_off_and_says_so(real_redis: redis.Redis):
    with TestClient(create_app(Settings(redis_url=test_redis_url()))) as client:
        answer = client.get("/api/events", headers=AUTH)
    assert answer.status_code == 403
    assert answer.json()["error"] == "the admin API is off: set HOOKCHAIN_ADMIN_TOKEN to use it"


def test_list_filters_by_type_source_subject_status_and_time(api: TestClient, real_redis: redis.Redis):
    accept(real_redis, make_event("a1"), now=1000.0)
    accept(real_redis, make_event("a2", type="ci.failed", subject="acme/api@abc", pr=None), now=1001.0)
    accept(real_redis, make_event("a3", source="gitlab", type="ci.passed", subject=None, pr=None), now=1002.0)
    record_matches(real_redis, "a1", [{"rule": "r", "matched": True, "reason": None}])
    record_action(real_redis, "a1", "r", 0, status="failed", attempts=[])
    record_matches(real_redis, "a2", [{"rule": "r", "matched": False, "reason": "on: no"}])

    def ids(**query: str) -> list[str]:
        answer = api.get("/api/events", params=query, headers=AUTH)
        assert answer.status_code == 200, answer.text
        return [event["id"] for event in answer.json()["events"]]

    assert ids() == ["a3", "a2", "a1"]
    assert ids(type="ci.*") == ["a3", "a2"]
    assert ids(type="pr.merged") == ["a1"]
    assert ids(source="gitlab") == ["a3"]
    assert ids(subject="acme/api#42") == ["a1"]
    assert ids(status="failed") == ["a1"]
    assert ids(status="ignored") == ["a2"]
    assert ids(status="pending") == ["a3"]
    assert ids(since="1000.5", until="1001.5") == ["a2"]
    assert ids(since="1970-01-01T00:16:41Z") == ["a3", "a2"]


def test_pages_follow_the_cursor_to_the_end(api: TestClient, real_redis: redis.Redis):
    for n in range(7):
        accept(real_redis, make_event(f"p{n}"), now=2000.0 + n)
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/events", params=params, headers=AUTH).json()
        seen += [event["id"] for event in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"p{n}" for n in range(6, -1, -1)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "exploded"}, "status must be one of"),
        ({"limit": "0"}, "limit must be a whole number from 1 to 200"),
        ({"since": "yesterday"}, "since: 'yesterday' is neither"),
    ],
)
def test_bad_filters_are_400_with_a_reason(api: TestClient, query: dict[str, str], expected: str):
    answer = api.get("/api/events", params=query, headers=AUTH)
    assert answer.status_code == 400
    assert expected in answer.json()["error"]


def test_one_event_comes_with_its_whole_chain_as_a_tree(api: TestClient, real_redis: redis.Redis):
    root = make_event("root")
    outcome = root.caused(id="out1", source="rule:changelog", type="changelog.recorded", data={})
    outcome.data = {"rule": "changelog", "action": "post"}
    done = outcome.caused(id="done1", source="rule:chat", type="action.succeeded", data={})
    done.data = {"rule": "chat", "action": "0"}
    accept(real_redis, root, now=3000.0)
    accept(real_redis, outcome, now=3000.25)
    accept(real_redis, done, enqueue=False, now=3000.5)
    record_matches(
        real_redis,
        "root",
        [
            {"rule": "changelog", "matched": True, "reason": None},
            {"rule": "deploy", "matched": False, "reason": "match: branch is 'dev', not 'main'"},
        ],
    )
    attempt = {"number": 1, "status": 201, "duration_ms": 12.5, "request": {"method": "POST", "url": "u"}}
    record_action(real_redis, "root", "changelog", 0, action="post", status="succeeded", attempts=[attempt])
    record_matches(real_redis, "out1", [{"rule": "chat", "matched": True, "reason": None}])
    record_action(real_redis, "out1", "chat", 0, action="0", status="succeeded", attempts=[attempt])
    # An event about the same subject in another chain (a deploy tool calling back later).
    accept(real_redis, make_event("later", type="deploy.succeeded"), now=3100.0)

    detail = api.get("/api/events/out1", headers=AUTH).json()
    assert detail["id"] == "out1" and detail["status"] == "succeeded"
    assert detail["event"]["data"] == {"rule": "changelog", "action": "post"}
    assert detail["parent"]["id"] == "root"
    assert [child["id"] for child in detail["children"]] == ["done1"]
    assert detail["chain"]["size"] == 3
    [tree] = detail["chain"]["roots"]
    assert tree["id"] == "root" and tree["offset_ms"] == 0
    assert tree["matches"][1]["reason"] == "match: branch is 'dev', not 'main'"
    [call] = tree["actions"]
    assert call["attempts"][0]["status"] == 201
    [emitted] = call["children"]
    assert emitted["id"] == "out1" and emitted["offset_ms"] == 250.0
    [grandchild] = emitted["actions"][0]["children"]
    assert grandchild["id"] == "done1" and grandchild["status"] == "ignored"
    assert [event["id"] for event in detail["related"]] == ["later"]


def test_an_unknown_event_is_404(api: TestClient):
    answer = api.get("/api/events/nope", headers=AUTH)
    assert answer.status_code == 404
    assert "no event 'nope'" in answer.json()["error"]


def test_replay_queues_a_new_event_on_the_same_chain(api: TestClient, real_redis: redis.Redis):
    original = make_event("orig")
    accept(real_redis, original)
    real_redis.delete(queue_key(EVENTS_QUEUE))
    answer = api.post("/api/events/orig/replay", headers=AUTH)
    assert answer.status_code == 202
    new_id = answer.json()["id"]
    assert answer.json() == {"id": new_id, "replay_of": "orig", "correlation_id": "orig"}
    stored = orjson.loads(real_redis.get(event_key(new_id)))
    assert stored["data"] == original.data and stored["type"] == "pr.merged"
    assert stored["causation_id"] == "orig" and stored["correlation_id"] == "orig"
    [job_id] = real_redis.lrange(queue_key(EVENTS_QUEUE), 0, -1)
    job = Job.fetch(job_id.decode(), connection=real_redis)
    assert job.func_name == "workers.jobs.process_event" and job.args == (new_id,)
    tree = api.get(f"/api/events/{new_id}", headers=AUTH).json()["chain"]["roots"][0]
    [replayed] = tree["children"]
    assert replayed["id"] == new_id and replayed["replay_of"] == "orig"
    assert api.post("/api/events/gone/replay", headers=AUTH).status_code == 404


def test_a_dead_letter_is_retried_once(api: TestClient, real_redis: redis.Redis):
    accept(real_redis, make_event("ev1"))
    attempts = [{"number": n, "status": 503} for n in (1, 2)]
    record_action(real_redis, "ev1", "deploy", 0, action="go", status="failed", attempts=attempts)
    letter = {"event_id": "ev1", "rule": "deploy", "action": "go", "index": 0, "error": "HTTP 503"}
    store.dead_letter(real_redis, letter)
    [listed] = api.get("/api/dead-letters", headers=AUTH).json()["dead_letters"]
    assert listed["error"] == "HTTP 503" and len(listed["id"]) == 32  # the id the worker gave it

    answer = api.post(f"/api/dead-letters/{listed['id']}/retry", headers=AUTH)
    assert answer.status_code == 202, answer.text
    job = Job.fetch(answer.json()["queued"], connection=real_redis)
    assert job.func_name == "workers.jobs.run_action"
    assert job.args == ("ev1", "deploy", 0, 3)
    assert real_redis.lrange(queue_key(ACTIONS_QUEUE), 0, -1) == [job.id.encode()]
    assert real_redis.llen(DEAD_LETTERS_KEY) == 0
    record = orjson.loads(real_redis.hget(actions_key("ev1"), "deploy/0"))
    assert record["status"] == "retrying"
    again = api.post(f"/api/dead-letters/{listed['id']}/retry", headers=AUTH)
    assert again.status_code == 404


def test_rules_come_with_their_last_firing(api: TestClient, real_redis: redis.Redis):
    rules, problems = load_rules_text(
        "name: notify\non: ci.failed\ndo:\n  - http: {url: 'https://chat.example/x'}\n", "r.yaml"
    )
    assert problems == []
    store.publish_rules(real_redis, RuleSet(rules).rules.values())
    store.record_fired(real_redis, "notify", {"time": "t", "event_id": "e1", "status": 200, "error": None})
    store.record_fired(real_redis, "retired", {"time": "t0", "event_id": "e0", "status": 200, "error": None})
    listed = api.get("/api/rules", headers=AUTH).json()["rules"]
    assert [(r["name"], r["loaded"]) for r in listed] == [("notify", True), ("retired", False)]
    assert listed[0]["on"] == ["ci.failed"]
    assert listed[0]["actions"] == [
        {"name": "0", "method": "POST", "url": "https://chat.example/x", "emit": None}
    ]
    assert listed[0]["last_fired"]["event_id"] == "e1"


def test_status_counts_queues_workers_and_dead_letters(api: TestClient, real_redis: redis.Redis):
    accept(real_redis, make_event("q1"))
    store.dead_letter(real_redis, {"event_id": "x", "rule": "r", "action": "0", "index": 0})
    worker = Worker([EVENTS_QUEUE, ACTIONS_QUEUE], connection=real_redis, name="status-test-worker")
    worker.register_birth()
    try:
        status = api.get("/api/status", headers=AUTH).json()
    finally:
        worker.register_death()
    assert status["queues"][EVENTS_QUEUE]["queued"] == 1
    assert status["queues"][ACTIONS_QUEUE]["queued"] == 0
    assert status["dead_letters"] == 1 and status["events"] == 1
    assert [w["name"] for w in status["workers"]] == ["status-test-worker"]


def test_openapi_describes_every_api_route(api: TestClient):
    document = api.get("/api/openapi.json").json()
    assert document["openapi"].startswith("3.")
    api_paths = {route.path for route in api.app.routes if getattr(route, "path", "").startswith("/api/")}
    assert api_paths <= set(document["paths"])
    refs = orjson.dumps(document).decode().count('"$ref"')
    assert refs > 10
    for ref in {
        part.split('"')[0] for part in orjson.dumps(document).decode().split("#/components/schemas/")[1:]
    }:
        assert ref in document["components"]["schemas"], ref


def test_the_dashboard_is_served_without_anything_from_outside(api: TestClient):
    assert api.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
    page = api.get("/ui/")
    assert page.status_code == 200 and "<title>hookchain</title>" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    for asset in ("app.js", "style.css"):
        text = api.get(f"/ui/{asset}").text
        assert "http://" not in text and "https://" not in text, asset
    assert "https://" not in page.text and "http://" not in page.text


def test_a_replayed_outcome_event_is_marked_as_a_replay_not_as_a_second_outcome(
    api: TestClient, real_redis: redis.Redis
):
    root = make_event("w1")
    outcome = root.caused(
        id="o1", source="rule:rec", type="changelog.recorded", data={"rule": "rec", "action": "0"}
    )
    accept(real_redis, root)
    accept(real_redis, outcome)
    record_matches(real_redis, "w1", [{"rule": "rec", "matched": True, "reason": None}])
    record_action(real_redis, "w1", "rec", 0, action="0", status="succeeded", attempts=[])
    new_id = api.post("/api/events/o1/replay", headers=AUTH).json()["id"]
    [tree] = api.get(f"/api/events/{new_id}", headers=AUTH).json()["chain"]["roots"]
    [emitted] = tree["actions"][0]["children"]
    assert emitted["id"] == "o1" and emitted["replay_of"] is None
    [replayed] = emitted["children"]
    assert replayed["id"] == new_id and replayed["replay_of"] == "o1"


def test_a_commit_is_found_across_chains_by_repo_and_sha(api: TestClient, real_redis: redis.Redis):
    merged = make_event("pr-merged", sha="abc123")
    callback = make_event(
        "deploy-done",
        source="generic",
        type="deploy.succeeded",
        subject="acme/api@abc123",
        pr=None,
        sha="abc123",
    )
    other = make_event("other-commit", subject="acme/api@fff", pr=None, sha="fff")
    for n, event in enumerate((merged, callback, other)):
        accept(real_redis, event, now=4000.0 + n)
    found = api.get("/api/events", params={"subject": "acme/api@abc123"}, headers=AUTH).json()["events"]
    assert [event["id"] for event in found] == ["deploy-done", "pr-merged"]
    related = api.get("/api/events/pr-merged", headers=AUTH).json()["related"]
    assert [event["id"] for event in related] == ["deploy-done"]


def test_an_event_the_depth_limit_stopped_says_so(api: TestClient, real_redis: redis.Redis):
    deep = make_event("deep", depth=10)
    accept(real_redis, deep)
    record_matches(real_redis, "deep", [{"rule": "loop", "matched": True, "reason": None}])
    assert api.get("/api/events/deep", headers=AUTH).json()["status"] == "running"
    stop = deep.caused(id=stopped_event_id("deep"), source="hookchain", type="chain.stopped", data={})
    accept(real_redis, stop, enqueue=False)
    detail = api.get("/api/events/deep", headers=AUTH).json()
    assert detail["status"] == "stopped"
    assert [(c["type"], c["status"]) for c in detail["children"]] == [("chain.stopped", "ignored")]
