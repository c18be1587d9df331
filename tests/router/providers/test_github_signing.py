"""GitHub: the docs' published vector, the legacy SHA-1 header, form bodies, App deliveries, fixtures."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from router.providers.github import GitHub
from tests.conftest import GITHUB_FIXTURES, event_name_of, github_fixture_files
from tests.router.providers.conftest import headers, hex_hmac, receive, refused

SECRET = "webhook-secret"


def signed(body: bytes, event: str, secret: str = SECRET, **extra: str):
    return headers(
        x_github_event=event,
        x_github_delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958",
        x_hub_signature_256="sha256=" + hex_hmac(secret, body),
        **extra,
    )


def test_the_docs_published_vector():
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    request = headers(
        x_hub_signature_256="sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    GitHub().verify(request, b"Hello, World!", ["It's a Secret to Everybody"])
    refused(lambda: GitHub().verify(request, b"Hello, World?", ["It's a Secret to Everybody"]))


def test_legacy_sha1_signature_alone_is_refused_with_a_reason():
    body = b'{"zen": "x"}'
    sha1 = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    request = headers(x_github_event="ping", x_hub_signature=sha1)
    refused(lambda: GitHub().verify(request, body, [SECRET]), says="X-Hub-Signature-256")


def test_tampered_wrong_secret_missing_and_rotation():
    body = (GITHUB_FIXTURES / "push.1.json").read_bytes()
    refused(lambda: GitHub().verify(signed(body, "push"), body[:-2] + b" }", [SECRET]), says="does not match")
    refused(lambda: GitHub().verify(signed(body, "push", "other"), body, [SECRET]))
    refused(lambda: GitHub().verify(headers(x_github_event="push"), body, [SECRET]), says="missing")
    GitHub().verify(signed(body, "push", "previous"), body, [SECRET, "previous"])


def test_form_encoded_body_is_verified_raw_then_decoded():
    payload = json.loads((GITHUB_FIXTURES / "push.1.json").read_text())
    body = urlencode({"payload": json.dumps(payload)}).encode()
    request = signed(body, "push", content_type="application/x-www-form-urlencoded")
    event = receive(GitHub(), request, body, [SECRET])
    assert event.type == "push" and event.data == payload


def test_app_installation_delivery_keeps_its_provider_type():
    body = (GITHUB_FIXTURES / "installation.created.2.json").read_bytes()
    event = receive(GitHub(), signed(body, "installation"), body, [SECRET])
    assert event.type == event.provider_type == "github.installation.created"
    assert event.actor == json.loads(body)["sender"]["login"]


EXPECTED_SEMANTIC = {
    "workflow_run.completed.3.json": "ci.passed",
    "check_suite.completed.1.json": "ci.passed",
    "pull_request.opened.1.json": "pr.opened",
    "pull_request.reopened.1.json": "pr.opened",
    "push.1.json": "push",
    "release.published.1.json": "release.published",
    "ping.1.json": "ping",
}


@pytest.mark.parametrize("fixture", github_fixture_files(), ids=lambda path: path.name)
def test_every_shared_fixture_is_accepted_and_normalised(fixture):
    body = fixture.read_bytes()
    event_name = event_name_of(fixture)
    event = receive(GitHub(), signed(body, event_name), body, [SECRET])
    payload = json.loads(body)
    action = payload.get("action")
    assert event.provider_type == f"github.{event_name}" + (f".{action}" if isinstance(action, str) else "")
    if fixture.name in EXPECTED_SEMANTIC:
        assert event.type == EXPECTED_SEMANTIC[fixture.name]
    assert event.repo == (payload.get("repository") or {}).get("full_name")
    if event.type in ("ci.passed", "ci.failed") and event_name != "status":
        run = payload.get(event_name) or {}
        assert (event.sha, event.branch) == (run.get("head_sha"), run.get("head_branch"))
    if event_name == "status":
        assert event.sha == payload["sha"]
    if event.type == "push":
        assert event.sha == payload["after"]
    if event.type.startswith("pr."):
        assert event.pr == payload["number"]
