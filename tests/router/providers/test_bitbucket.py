"""Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>` and the documented event payloads."""

from __future__ import annotations

import json

import pytest

from router.providers.bitbucket import Bitbucket
from tests.router.providers.conftest import headers, hex_hmac, receive, refused, sample

SECRET = "bitbucket-secret"


def signed(body: bytes, event_key: str, secret: str = SECRET):
    return headers(
        x_event_key=event_key,
        x_request_uuid="afe7a2f3-7f52-4a56-9a9b-8e2c2bd6b6c1",
        x_hook_uuid="2e8ad0e5-8b3d-4c6b-9f44-7d0d6b8b1a7e",
        x_hub_signature="sha256=" + hex_hmac(secret, body),
    )


@pytest.mark.parametrize(
    ("name", "event_key", "semantic", "facts"),
    [
        (
            "pullrequest.fulfilled.json",
            "pullrequest:fulfilled",
            "pr.merged",
            {"pr": 1, "branch": "main", "sha": "764413d85e29"},
        ),
        (
            "repo.push.json",
            "repo:push",
            "push",
            {"branch": "main", "sha": "709d658dc5b6d6afcd46049c2f332ee3f515a67d"},
        ),
        (
            "repo.commit_status_updated.json",
            "repo:commit_status_updated",
            "ci.passed",
            {"branch": "main", "sha": "9fec847784abb10b2fa567ee63b85bd238955d0e"},
        ),
    ],
)
def test_documented_payloads(name, event_key, semantic, facts):
    body = sample(f"bitbucket/{name}")
    event = receive(Bitbucket(), signed(body, event_key), body, [SECRET])
    assert event.type == semantic and event.provider_type == f"bitbucket.{event_key}"
    assert event.repo == "team_name/repo_name" and event.actor == "emmap1"
    assert event.id == "afe7a2f3-7f52-4a56-9a9b-8e2c2bd6b6c1"
    for fact, value in facts.items():
        assert getattr(event, fact) == value, fact


def test_created_rejected_failed_and_unknown():
    pull = json.loads(sample("bitbucket/pullrequest.fulfilled.json"))
    for key, semantic in (("pullrequest:created", "pr.opened"), ("pullrequest:rejected", "pr.closed")):
        body = json.dumps(pull).encode()
        assert receive(Bitbucket(), signed(body, key), body, [SECRET]).type == semantic
    status = json.loads(sample("bitbucket/repo.commit_status_updated.json"))
    status["commit_status"]["state"] = "FAILED"
    body = json.dumps(status).encode()
    assert (
        receive(Bitbucket(), signed(body, "repo:commit_status_updated"), body, [SECRET]).type == "ci.failed"
    )
    body = json.dumps({"repository": {"full_name": "a/b"}}).encode()
    assert receive(Bitbucket(), signed(body, "repo:fork"), body, [SECRET]).type == "bitbucket.repo:fork"


def test_tampered_wrong_secret_missing_rotation():
    body = sample("bitbucket/repo.push.json")
    refused(
        lambda: Bitbucket().verify(signed(body, "repo:push"), body + b"\n", [SECRET]), says="does not match"
    )
    refused(lambda: Bitbucket().verify(signed(body, "repo:push", "other"), body, [SECRET]))
    refused(
        lambda: Bitbucket().verify(headers(x_event_key="repo:push"), body, [SECRET]), says="X-Hub-Signature"
    )
    Bitbucket().verify(signed(body, "repo:push", "old"), body, [SECRET, "old"])
