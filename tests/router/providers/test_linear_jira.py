"""Linear (`Linear-Signature`, 60 s `webhookTimestamp` window) and Jira Cloud (`X-Hub-Signature`)."""

from __future__ import annotations

import json

from router.providers.jira import Jira
from router.providers.linear import Linear
from tests.router.providers.conftest import NOW, headers, hex_hmac, receive, refused, sample

SECRET = "lin_wh_secret"


def linear_body(at_ms: float = NOW * 1000) -> bytes:
    payload = json.loads(sample("linear/issue.create.json"))
    payload["webhookTimestamp"] = int(at_ms)
    return json.dumps(payload).encode()


def linear_signed(body: bytes, secret: str = SECRET):
    return headers(
        linear_delivery="234d1a4e-b617-4388-90fe-adc3633d6b72",
        linear_event="Issue",
        linear_signature=hex_hmac(secret, body),
    )


def test_linear_issue_create():
    body = linear_body()
    event = receive(Linear(clock=lambda: NOW), linear_signed(body), body, [SECRET])
    assert event.type == event.provider_type == "linear.Issue.create"
    assert event.id == "234d1a4e-b617-4388-90fe-adc3633d6b72"
    assert event.subject == "ENG-2" and event.actor == "Linear User"


def test_linear_window_is_60_seconds():
    linear = Linear(clock=lambda: NOW)
    assert linear.replay_window == 60
    body = linear_body(NOW * 1000 - 61_000)
    refused(lambda: linear.verify(linear_signed(body), body, [SECRET]), says="60 s replay window")
    body = linear_body(NOW * 1000 - 59_000)
    linear.verify(linear_signed(body), body, [SECRET])


def test_linear_refusals_and_rotation():
    linear = Linear(clock=lambda: NOW)
    body = linear_body()
    refused(
        lambda: linear.verify(linear_signed(body), body.replace(b"Bug", b"Bog"), [SECRET]),
        says="does not match",
    )
    refused(lambda: linear.verify(linear_signed(body, "other"), body, [SECRET]))
    refused(lambda: linear.verify(headers(linear_event="Issue"), body, [SECRET]), says="Linear-Signature")
    no_timestamp = b'{"type": "Issue"}'
    refused(
        lambda: linear.verify(linear_signed(no_timestamp), no_timestamp, [SECRET]), says="webhookTimestamp"
    )
    linear.verify(linear_signed(body, "old"), body, [SECRET, "old"])


def jira_signed(body: bytes, secret: str = SECRET):
    return headers(
        x_atlassian_webhook_identifier="a1b2c3d4-0000-4000-8000-000000000001",
        x_hub_signature="sha256=" + hex_hmac(secret, body),
    )


def test_jira_issue_updated():
    body = sample("jira/issue_updated.json")
    event = receive(Jira(), jira_signed(body), body, [SECRET])
    assert event.type == event.provider_type == "jira.issue_updated"
    assert event.subject == "JRA-20002" and event.actor == "Mia Krystof"
    assert event.id == "a1b2c3d4-0000-4000-8000-000000000001"


def test_jira_refusals_and_rotation():
    body = sample("jira/issue_updated.json")
    refused(
        lambda: Jira().verify(jira_signed(body), body.replace(b"speed", b"sleep"), [SECRET]),
        says="does not match",
    )
    refused(lambda: Jira().verify(jira_signed(body, "other"), body, [SECRET]))
    refused(lambda: Jira().verify(headers(), body, [SECRET]), says="X-Hub-Signature")
    Jira().verify(jira_signed(body, "old"), body, [SECRET, "old"])
