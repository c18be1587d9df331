"""The receiver's answers, per DESIGN.md, on the embedded Redis (and a dead one for 503)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import urlencode

import fakeredis
import orjson
import pytest
import redis.asyncio
from starlette.testclient import TestClient

from router.app import create_app
from router.queue import EVENTS_QUEUE, event_key, queue_key
from router.settings import Settings
from tests.conftest import GITHUB_FIXTURES, github_signature

SECRET = "endpoint-secret"


def settings(**overrides) -> Settings:
    return Settings.load(
        {"redis_url": "redis://unused", **overrides}, environ={"HOOKCHAIN_GITHUB_SECRET": SECRET}
    )


@pytest.fixture
def server() -> fakeredis.FakeServer:
    return fakeredis.FakeServer()


@pytest.fixture
def client(server: fakeredis.FakeServer) -> Iterator[TestClient]:
    app = create_app(settings(max_body_bytes=64 * 1024), redis_client=fakeredis.FakeAsyncRedis(server=server))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def stored(server: fakeredis.FakeServer) -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(server=server)


def signed(body: bytes, event: str = "pull_request", delivery: str = "d-1", **extra: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": github_signature(SECRET, body),
        **extra,
    }


PR_BODY = (GITHUB_FIXTURES / "pull_request.opened.1.json").read_bytes()


def test_accepted_event_is_stored_and_queued(client: TestClient, stored: fakeredis.FakeRedis):
    answer = client.post("/hooks/github", content=PR_BODY, headers=signed(PR_BODY))
    assert answer.status_code == 202
    assert answer.json() == {"id": "d-1"}
    event = orjson.loads(stored.get(event_key("d-1")))
    assert event["type"] == "pr.opened"
    assert stored.lrange(queue_key(EVENTS_QUEUE), 0, -1) == [b"ev-d-1"]


def test_redelivery_is_answered_as_duplicate(client: TestClient, stored: fakeredis.FakeRedis):
    client.post("/hooks/github", content=PR_BODY, headers=signed(PR_BODY))
    again = client.post("/hooks/github", content=PR_BODY, headers=signed(PR_BODY))
    assert again.status_code == 200
    assert again.json() == {"id": "d-1", "duplicate": True}
    assert stored.llen(queue_key(EVENTS_QUEUE)) == 1


def test_form_encoded_delivery(client: TestClient, stored: fakeredis.FakeRedis):
    body = urlencode({"payload": PR_BODY.decode()}).encode()
    headers = signed(body, **{"Content-Type": "application/x-www-form-urlencoded"})
    answer = client.post("/hooks/github", content=body, headers=headers)
    assert answer.status_code == 202
    assert orjson.loads(stored.get(event_key("d-1")))["data"] == json.loads(PR_BODY)


def test_ping_is_answered_200_and_recorded(client: TestClient, stored: fakeredis.FakeRedis):
    body = (GITHUB_FIXTURES / "ping.1.json").read_bytes()
    answer = client.post("/hooks/github", content=body, headers=signed(body, event="ping", delivery="p-1"))
    assert answer.status_code == 200
    assert answer.json()["ping"] is True
    assert orjson.loads(stored.get(event_key("p-1")))["type"] == "ping"


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "reason"),
    [
        ("/hooks/nowhere", PR_BODY, signed(PR_BODY), 404, "unknown source"),
        (
            "/hooks/github",
            PR_BODY,
            {**signed(PR_BODY), "X-Hub-Signature-256": "sha256=00"},
            401,
            "does not match",
        ),
        (
            "/hooks/github",
            PR_BODY,
            {"Content-Type": "application/json", "X-GitHub-Event": "push"},
            401,
            "missing",
        ),
        ("/hooks/github", b"not json", signed(b"not json"), 400, "not valid JSON"),
        (
            "/hooks/github",
            b"<a/>",
            signed(b"<a/>", **{"Content-Type": "application/xml"}),
            415,
            "content type",
        ),
        (
            "/hooks/github",
            b"{}",
            {k: v for k, v in signed(b"{}").items() if k != "X-GitHub-Event"},
            400,
            "X-GitHub-Event",
        ),
        ("/hooks/github", b"x" * (64 * 1024 + 1), signed(b"x" * (64 * 1024 + 1)), 413, "limit"),
    ],
)
def test_refusals(client: TestClient, stored: fakeredis.FakeRedis, path, body, headers, status, reason):
    answer = client.post(path, content=body, headers=headers)
    assert answer.status_code == status
    assert reason in answer.json()["error"]
    assert stored.llen(queue_key(EVENTS_QUEUE)) == 0


def test_wrongly_signed_garbage_is_401_not_400(client: TestClient):
    answer = client.post(
        "/hooks/github", content=b"\xff\xfe not json", headers={**signed(b"{}"), "Content-Type": "text/plain"}
    )
    assert answer.status_code == 401


def test_body_over_limit_without_content_length_is_413(client: TestClient):
    def chunks() -> Iterator[bytes]:
        for _ in range(70):
            yield b"x" * 1024

    answer = client.post("/hooks/github", content=chunks(), headers=signed(b""))
    assert answer.status_code == 413


def test_source_without_secret_is_refused():
    app = create_app(
        Settings.load({"redis_url": "redis://unused"}, environ={}), redis_client=fakeredis.FakeAsyncRedis()
    )
    with TestClient(app) as test_client:
        answer = test_client.post("/hooks/github", content=PR_BODY, headers=signed(PR_BODY))
    assert answer.status_code == 404
    assert "HOOKCHAIN_GITHUB_SECRET" in answer.json()["error"]


def test_unreachable_redis_is_503_and_health_says_so():
    from tests.integration.conftest import free_port

    dead = redis.asyncio.Redis(port=free_port(), socket_timeout=0.5, socket_connect_timeout=0.5)
    with TestClient(create_app(settings(redis_timeout=1.0), redis_client=dead)) as test_client:
        answer = test_client.post("/hooks/github", content=PR_BODY, headers=signed(PR_BODY))
        assert answer.status_code == 503
        assert "nothing was accepted" in answer.json()["error"]
        assert test_client.get("/health").status_code == 503


def test_health_ok(client: TestClient):
    assert client.get("/health").json() == {"status": "ok", "redis": "ok"}


def test_starlette_refusals_are_json_too(client: TestClient):
    wrong_method = client.get("/hooks/github")
    assert wrong_method.status_code == 405
    assert "GET is not allowed" in wrong_method.json()["error"]
    nowhere = client.post("/webhooks")
    assert nowhere.status_code == 404
    assert "POST /hooks/<source>" in nowhere.json()["error"]


def test_large_body_is_decoded_off_the_event_loop_and_accepted(server: fakeredis.FakeServer):
    from router.endpoints import INLINE_DECODE_BYTES

    payload = json.loads(PR_BODY)
    payload["pull_request"]["body"] = "x" * (INLINE_DECODE_BYTES + 1)
    body = json.dumps(payload).encode()
    app = create_app(settings(), redis_client=fakeredis.FakeAsyncRedis(server=server))
    with TestClient(app) as test_client:
        answer = test_client.post("/hooks/github", content=body, headers=signed(body, delivery="big-1"))
        tampered = test_client.post(
            "/hooks/github", content=body + b" ", headers=signed(body, delivery="big-2")
        )
    assert answer.status_code == 202
    assert tampered.status_code == 401
    stored = orjson.loads(fakeredis.FakeRedis(server=server).get(event_key("big-1")))
    assert stored["data"]["pull_request"]["body"] == payload["pull_request"]["body"]
