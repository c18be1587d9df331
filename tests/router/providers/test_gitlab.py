"""GitLab: secret token, signing token (Standard Webhooks headers), dedupe key and the mappings.

Samples follow GitLab's "Webhook events" documentation (see tests/samples/README.md).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from router.errors import ConfigError
from router.providers.gitlab import GitLab
from tests.router.providers.conftest import NOW, headers, receive, refused, sample

TOKEN = "gitlab-secret-token"
SIGNING = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def provider(**options: str) -> GitLab:
    p = GitLab.configured(options)
    p.clock = lambda: NOW
    return p


def token_request(event: str = "Pipeline Hook", token: str = TOKEN, **extra: str):
    return headers(
        x_gitlab_event=event,
        x_gitlab_token=token,
        x_gitlab_event_uuid="13792a34-cac6-4fda-95a8-c58e00a3954e",
        **extra,
    )


def signed_request(body: bytes, secret: str = SIGNING, at: float = NOW, **extra: str):
    msg_id = "0f6a5ab6-4b8c-4e53-a2df-4c8b6f3a9d10"
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body.decode())
    return headers(
        x_gitlab_event="Pipeline Hook",
        webhook_id=msg_id,
        webhook_timestamp=str(int(at)),
        webhook_signature=signature,
        idempotency_key=msg_id,
        **extra,
    )


def test_secret_token_is_accepted_and_a_successful_pipeline_is_ci_passed():
    body = sample("gitlab/pipeline.success.json")
    event = receive(provider(), token_request(), body, [TOKEN])
    assert event.type == "ci.passed"
    assert event.provider_type == "gitlab.pipeline"
    assert (event.repo, event.branch, event.sha, event.actor) == (
        "gitlab-org/gitlab-test",
        "main",
        "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
        "root",
    )
    assert event.url == "http://192.168.64.1:3005/gitlab-org/gitlab-test/-/pipelines/31"


def test_failed_pipeline_is_ci_failed_and_running_keeps_the_provider_type():
    payload = json.loads(sample("gitlab/pipeline.success.json"))
    payload["object_attributes"]["status"] = "failed"
    body = json.dumps(payload).encode()
    assert receive(provider(), token_request(), body, [TOKEN]).type == "ci.failed"
    payload["object_attributes"]["status"] = "running"
    body = json.dumps(payload).encode()
    assert receive(provider(), token_request(), body, [TOKEN]).type == "gitlab.pipeline"


@pytest.mark.parametrize(
    ("name", "event_header", "semantic", "provider_type", "facts"),
    [
        (
            "merge_request.merge.json",
            "Merge Request Hook",
            "pr.merged",
            "gitlab.merge_request.merge",
            {
                "repo": "gitlabhq/gitlab-test",
                "pr": 1,
                "branch": "master",
                "sha": "6fc4a2c7b6a2a2c2b9e5b3c0e0d9a7b8f1c2d3e4",
            },
        ),
        (
            "push.json",
            "Push Hook",
            "push",
            "gitlab.push",
            {
                "repo": "mike/diaspora",
                "branch": "master",
                "sha": "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
                "actor": "jsmith",
            },
        ),
        (
            "deployment.success.json",
            "Deployment Hook",
            "deploy.succeeded",
            "gitlab.deployment",
            {
                "repo": "root/test-deployment-webhooks",
                "branch": "master",
                "sha": "279484c09fbe69ededfced8c1bb6e6d24616b468",
            },
        ),
        (
            "release.create.json",
            "Release Hook",
            "release.published",
            "gitlab.release.create",
            {"repo": "gitlab-org/release-webhook-example", "sha": "ee0f691e2d1ac5e6a2b7fbe04bd4ec2b4d7b5b6d"},
        ),
    ],
)
def test_documented_payloads_map_to_semantic_types(name, event_header, semantic, provider_type, facts):
    event = receive(provider(), token_request(event_header), sample(f"gitlab/{name}"), [TOKEN])
    assert (event.type, event.provider_type) == (semantic, provider_type)
    for fact, value in facts.items():
        assert getattr(event, fact) == value, fact


@pytest.mark.parametrize(
    ("action", "semantic"),
    [
        ("open", "pr.opened"),
        ("reopen", "pr.opened"),
        ("close", "pr.closed"),
        ("update", "gitlab.merge_request.update"),
    ],
)
def test_merge_request_actions(action, semantic):
    payload = json.loads(sample("gitlab/merge_request.merge.json"))
    payload["object_attributes"].update(action=action, state="opened")
    event = receive(provider(), token_request("Merge Request Hook"), json.dumps(payload).encode(), [TOKEN])
    assert event.type == semantic
    assert event.subject == "gitlabhq/gitlab-test#1"


def test_unknown_event_is_accepted_with_its_provider_type():
    body = json.dumps(
        {"object_kind": "emoji", "event_type": "award", "project": {"path_with_namespace": "a/b"}}
    ).encode()
    event = receive(provider(), token_request("Emoji Hook"), body, [TOKEN])
    assert (event.type, event.repo) == ("gitlab.emoji", "a/b")


def test_wrong_token_missing_token_and_rotation():
    body = sample("gitlab/pipeline.success.json")
    refused(lambda: provider().verify(token_request(token="nope"), body, [TOKEN]), says="X-Gitlab-Token")
    refused(
        lambda: provider().verify(headers(x_gitlab_event="Pipeline Hook"), body, [TOKEN]),
        says="missing X-Gitlab-Token",
    )
    provider().verify(token_request(token="old-token"), body, [TOKEN, "old-token"])


def test_signing_token_signed_by_the_standardwebhooks_package():
    body = sample("gitlab/pipeline.success.json")
    event = receive(provider(), signed_request(body), body, [SIGNING])
    assert event.id == "0f6a5ab6-4b8c-4e53-a2df-4c8b6f3a9d10"  # Idempotency-Key, stable across resends
    refused(lambda: provider().verify(signed_request(body), body + b" ", [SIGNING]), says="does not match")
    other = "whsec_" + base64.b64encode(b"another key entirely, 32 bytes!!").decode()
    refused(lambda: provider().verify(signed_request(body, other), body, [SIGNING]))
    refused(
        lambda: provider().verify(signed_request(body, at=NOW - 600), body, [SIGNING]), says="replay window"
    )
    provider().verify(signed_request(body, other), body, [SIGNING, other])  # rotation


def test_both_credentials_present_must_both_hold():
    body = sample("gitlab/pipeline.success.json")
    request = signed_request(body, x_gitlab_token="wrong")
    refused(lambda: provider().verify(request, body, [TOKEN, SIGNING]), says="X-Gitlab-Token")
    provider().verify(signed_request(body, x_gitlab_token=TOKEN), body, [TOKEN, SIGNING])


def test_require_option():
    body = sample("gitlab/pipeline.success.json")
    refused(
        lambda: provider(require="signature").verify(token_request(), body, [TOKEN]), says="webhook-signature"
    )
    refused(
        lambda: provider(require="token").verify(signed_request(body), body, [SIGNING]), says="X-Gitlab-Token"
    )
    refused(lambda: provider(require="both").verify(token_request(), body, [TOKEN]), says="webhook-signature")
    provider(require="both").verify(signed_request(body, x_gitlab_token=TOKEN), body, [TOKEN, SIGNING])
    with pytest.raises(ConfigError, match="require"):
        GitLab.configured({"require": "sometimes"})


def test_dedupe_prefers_idempotency_key_over_event_uuid():
    p = provider()
    assert p.delivery_id(token_request(idempotency_key="idem-1"), {}) == "idem-1"
    assert p.delivery_id(token_request(), {}) == "13792a34-cac6-4fda-95a8-c58e00a3954e"
