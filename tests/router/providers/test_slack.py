"""Slack: the worked example of "Verifying requests from Slack", the window, url_verification, retries."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from router.providers.slack import Slack
from tests.router.providers.conftest import NOW, headers, hex_hmac, receive, refused, sample

# https://api.slack.com/authentication/verifying-requests-from-slack (worked example)
DOC_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DOC_TIMESTAMP = "1531420618"
DOC_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
DOC_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
SECRET = "slack-signing-secret"


def signed(body: bytes, secret: str = SECRET, at: float = NOW, **extra: str):
    timestamp = str(int(at))
    signature = "v0=" + hex_hmac(secret, f"v0:{timestamp}:".encode() + body)
    return headers(x_slack_request_timestamp=timestamp, x_slack_signature=signature, **extra)


def test_the_docs_worked_example_is_a_slash_command():
    request = headers(
        content_type="application/x-www-form-urlencoded",
        x_slack_request_timestamp=DOC_TIMESTAMP,
        x_slack_signature=DOC_SIGNATURE,
    )
    slack = Slack(clock=lambda: float(DOC_TIMESTAMP) + 10)
    event = receive(slack, request, DOC_BODY, [DOC_SECRET])
    assert event.provider_type == "slack.command"
    assert event.data["command"] == "/webhook-collect"
    assert event.actor == "U2CERLKJA"
    assert event.id == "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"


def test_the_docs_example_is_expired_five_minutes_later():
    request = headers(x_slack_request_timestamp=DOC_TIMESTAMP, x_slack_signature=DOC_SIGNATURE)
    late = Slack(clock=lambda: float(DOC_TIMESTAMP) + 301)
    refused(lambda: late.verify(request, DOC_BODY, [DOC_SECRET]), says="replay window")


def test_url_verification_is_a_ping_answered_with_its_challenge():
    body = sample("slack/url_verification.json")
    slack = Slack(clock=lambda: NOW)
    event = receive(slack, signed(body), body, [SECRET])
    assert event.type == "ping" and event.provider_type == "slack.url_verification"
    assert slack.handshake(event) == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_event_callback_and_its_retry_share_the_event_id():
    body = sample("slack/event_callback.app_mention.json")
    slack = Slack(clock=lambda: NOW)
    first = receive(slack, signed(body), body, [SECRET])
    retry = receive(slack, signed(body, at=NOW + 60, x_slack_retry_num="1"), body, [SECRET])
    assert first.id == retry.id == "Ev123ABC456"
    assert first.provider_type == "slack.app_mention" and first.actor == "U123ABC456"
    assert slack.handshake(first) is None


def test_tampered_wrong_secret_missing_rotation():
    body = sample("slack/event_callback.app_mention.json")
    slack = Slack(clock=lambda: NOW)
    refused(
        lambda: slack.verify(signed(body), body.replace(b"pearl", b"perl"), [SECRET]), says="does not match"
    )
    refused(lambda: slack.verify(signed(body, "other"), body, [SECRET]))
    refused(
        lambda: slack.verify(headers(x_slack_signature="v0=00"), body, [SECRET]),
        says="X-Slack-Request-Timestamp",
    )
    refused(
        lambda: slack.verify(headers(x_slack_request_timestamp="1"), body, [SECRET]), says="X-Slack-Signature"
    )
    slack.verify(signed(body, "old"), body, [SECRET, "old"])


def test_interactivity_payload_arrives_form_encoded():
    # https://api.slack.com/interactivity/handling#payloads: JSON in a `payload` form field
    interaction = {
        "type": "block_actions",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
        "user": {"id": "U0CA5"},
    }
    body = urlencode({"payload": json.dumps(interaction)}).encode()
    slack = Slack(clock=lambda: NOW)
    event = receive(slack, signed(body, content_type="application/x-www-form-urlencoded"), body, [SECRET])
    assert event.provider_type == "slack.block_actions" and event.actor == "U0CA5"
    assert event.id == "13345224609.738474920.8088930838d88f008e0"
