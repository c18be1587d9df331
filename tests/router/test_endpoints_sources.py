"""The hook endpoint on real Redis: status codes and JSON reasons per source, handshakes, duplicates."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from starlette.testclient import TestClient

from router.app import create_app
from router.queue import EVENTS_QUEUE, queue_key
from router.settings import Settings
from tests.conftest import test_redis_url
from tests.router.providers.conftest import hex_hmac, sample

CONFIG = """
sources:
  - {name: ci, provider: buildkite, secrets: [new-token, old-token]}
  - {name: chat, provider: slack, secrets: [slack-secret]}
  - {name: lab, provider: gitlab, secrets: [lab-token]}
  - {name: unsigned, provider: standard}
  - {name: trusted, provider: generic, insecure: true, options: {event_field: type}}
"""


@pytest.fixture
def client(tmp_path: Path, real_redis: redis.Redis) -> Iterator[TestClient]:
    config = tmp_path / "hookchain.yaml"
    config.write_text(CONFIG)
    settings = Settings.load(
        {"config_file": config},
        environ={"REDIS_URL": test_redis_url(), "HOOKCHAIN_GITHUB_SECRET": "gh-secret"},
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(client: TestClient, source: str, body: bytes, **headers: str):
    headers.setdefault("content_type", "application/json")
    return client.post(
        f"/hooks/{source}", content=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def test_unknown_and_unconfigured_sources_are_404_with_a_reason(client: TestClient):
    answer = post(client, "nope", b"{}")
    assert answer.status_code == 404
    assert "unknown source 'nope': declare it under sources: in hookchain.yaml" in answer.json()["error"]
    assert "chat" not in answer.json()["error"]  # configured names are not told to strangers
    answer = post(client, "circleci", b"{}")
    assert answer.status_code == 404 and "HOOKCHAIN_CIRCLECI_SECRET" in answer.json()["error"]


def test_rotated_tokens_are_both_accepted_and_a_wrong_one_refused(client: TestClient, real_redis):
    body = sample("buildkite/build.finished.json")
    for number, token in enumerate(("new-token", "old-token")):
        answer = post(client, "ci", body, x_buildkite_token=token, x_buildkite_request=f"req-{number}")
        assert answer.status_code == 202, answer.text
    answer = post(client, "ci", body, x_buildkite_token="stolen", x_buildkite_request="req-9")
    assert answer.status_code == 401 and "X-Buildkite-Token" in answer.json()["error"]
    assert real_redis.llen(queue_key(EVENTS_QUEUE)) == 2


def test_slack_url_verification_is_answered_with_the_challenge(client: TestClient):
    body = sample("slack/url_verification.json")
    timestamp = str(int(time.time()))
    signature = "v0=" + hex_hmac("slack-secret", f"v0:{timestamp}:".encode() + body)
    answer = post(client, "chat", body, x_slack_request_timestamp=timestamp, x_slack_signature=signature)
    assert answer.status_code == 200
    assert answer.json() == {"challenge": json.loads(body)["challenge"]}


def test_slack_retry_is_a_duplicate(client: TestClient):
    body = sample("slack/event_callback.app_mention.json")

    def send(**extra: str):
        timestamp = str(int(time.time()))
        signature = "v0=" + hex_hmac("slack-secret", f"v0:{timestamp}:".encode() + body)
        return post(
            client, "chat", body, x_slack_request_timestamp=timestamp, x_slack_signature=signature, **extra
        )

    first = send()
    assert first.status_code == 202 and first.json() == {"id": "Ev123ABC456"}
    retry = send(x_slack_retry_num="1", x_slack_retry_reason="http_timeout")
    assert retry.status_code == 200 and retry.json() == {"id": "Ev123ABC456", "duplicate": True}


def test_gitlab_resend_with_the_same_idempotency_key_is_a_duplicate(client: TestClient):
    body = sample("gitlab/pipeline.success.json")
    common = {"x_gitlab_token": "lab-token", "x_gitlab_event": "Pipeline Hook", "idempotency_key": "idem-42"}
    first = post(client, "lab", body, x_gitlab_event_uuid="uuid-1", **common)
    again = post(client, "lab", body, x_gitlab_event_uuid="uuid-2", **common)
    assert first.status_code == 202
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_a_source_without_secret_refuses_and_an_insecure_one_accepts(client: TestClient):
    answer = post(client, "unsigned", b'{"type": "x"}')
    assert answer.status_code == 401 and "has no secret" in answer.json()["error"]
    answer = post(client, "trusted", b'{"type": "deploy.succeeded", "data": {"repo": "acme/api"}}')
    assert answer.status_code == 202


def test_unknown_event_type_is_accepted_only_unverifiable_is_refused(client: TestClient, real_redis):
    body = b'{"object_kind": "vulnerability", "project": {"path_with_namespace": "a/b"}}'
    answer = post(client, "lab", body, x_gitlab_token="lab-token", x_gitlab_event="Vulnerability Hook")
    assert answer.status_code == 202
    stored = json.loads(real_redis.get(f"hookchain:event:{answer.json()['id']}"))
    assert stored["type"] == stored["provider_type"] == "gitlab.vulnerability"
    answer = post(client, "lab", body, x_gitlab_event="Vulnerability Hook")
    assert answer.status_code == 401 and "X-Gitlab-Token" in answer.json()["error"]


def test_signed_but_malformed_is_400_and_wrong_type_415(client: TestClient):
    answer = post(client, "lab", b"not json", x_gitlab_token="lab-token")
    assert answer.status_code == 400 and "JSON" in answer.json()["error"]
    answer = post(client, "lab", b"{}", x_gitlab_token="lab-token", content_type="text/plain")
    assert answer.status_code == 415 and "application/json" in answer.json()["error"]
    answer = post(client, "lab", b"not json", x_gitlab_token="wrong")
    assert answer.status_code == 401
