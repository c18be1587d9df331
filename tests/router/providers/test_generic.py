"""The generic HMAC source, configured to reproduce other providers' published vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from router.errors import ConfigError
from router.providers.generic import Generic
from tests.router.providers import test_slack
from tests.router.providers.conftest import NOW, headers, hex_hmac, receive, refused


def generic(clock: float = NOW, **options: object) -> Generic:
    p = Generic.configured(options)
    p.clock = lambda: clock
    return p


def test_configured_as_github_it_passes_githubs_vector():
    p = generic(header="X-Hub-Signature-256", prefix="sha256=")
    request = headers(
        x_hub_signature_256="sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    p.verify(request, b"Hello, World!", ["It's a Secret to Everybody"])


def test_configured_as_slack_it_passes_slacks_worked_example():
    p = generic(
        clock=float(test_slack.DOC_TIMESTAMP),
        header="X-Slack-Signature",
        prefix="v0=",
        signed="v0:{timestamp}:{body}",
        timestamp_header="X-Slack-Request-Timestamp",
    )
    request = headers(
        x_slack_signature=test_slack.DOC_SIGNATURE, x_slack_request_timestamp=test_slack.DOC_TIMESTAMP
    )
    p.verify(request, test_slack.DOC_BODY, [test_slack.DOC_SECRET])


def test_configured_as_standard_webhooks_it_passes_the_spec_vector():
    p = generic(
        clock=1614265330,
        header="webhook-signature",
        prefix="v1,",
        encoding="base64",
        signed="{id}.{timestamp}.{body}",
        key="whsec",
        id_header="webhook-id",
        timestamp_header="webhook-timestamp",
    )
    request = headers(
        webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        webhook_timestamp="1614265330",
        webhook_signature="v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    )
    p.verify(request, b'{"test": 2432232314}', ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


STRIPE = {
    "header": "Stripe-Signature",
    "signature_field": "v1",
    "timestamp_field": "t",
    "signed": "{timestamp}.{body}",
}
STRIPE_SECRET = "whsec_test_secret_used_whole"


def stripe_header(body: bytes, secret: str = STRIPE_SECRET, at: float = NOW) -> str:
    # Stripe keys the HMAC with the whole whsec_ string: https://docs.stripe.com/webhooks#verify-manually
    return f"t={int(at)},v1={hex_hmac(secret, f'{int(at)}.'.encode() + body)},v0=ignored"


def test_stripe_style_header_window_tamper_rotation():
    body = json.dumps({"id": "evt_1", "type": "deploy.succeeded", "data": {"repo": "acme/api"}}).encode()
    p = generic(**STRIPE, event_field="type", id_header="Stripe-Delivery")
    event = receive(p, headers(stripe_signature=stripe_header(body)), body, [STRIPE_SECRET])
    assert event.type == "deploy.succeeded" and event.provider_type == "generic.deploy.succeeded"
    assert event.repo == "acme/api"
    assert event.id.startswith("sig-")  # no id header sent: the signature names the delivery
    refused(lambda: p.verify(headers(stripe_signature=stripe_header(body)), body + b" ", [STRIPE_SECRET]))
    refused(
        lambda: p.verify(headers(stripe_signature=stripe_header(body, "whsec_other")), body, [STRIPE_SECRET])
    )
    refused(
        lambda: p.verify(headers(stripe_signature=stripe_header(body, at=NOW - 600)), body, [STRIPE_SECRET]),
        says="replay",
    )
    refused(lambda: p.verify(headers(), body, [STRIPE_SECRET]), says="missing Stripe-Signature")
    p.verify(headers(stripe_signature=stripe_header(body, "whsec_old")), body, [STRIPE_SECRET, "whsec_old"])


def test_defaults_need_no_options_and_sha512_base64_works():
    body = b'{"type": "anything"}'
    generic().verify(headers(x_signature=hex_hmac("s", body)), body, ["s"])
    digest = base64.b64encode(hmac.new(b"s", body, hashlib.sha512).digest()).decode()
    generic(algorithm="sha512", encoding="base64", header="X-Sig").verify(headers(x_sig=digest), body, ["s"])


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"signed": "{timestamp}.{body}"}, "timestamp_header"),
        ({"signed": "body"}, "{body}"),
        ({"signed": "{id}.{body}"}, "id_header"),
        ({"algorithm": "md5"}, "algorithm"),
        ({"heder": "X"}, "heder"),
    ],
)
def test_bad_options_are_config_errors(options, says):
    with pytest.raises(ConfigError, match=says.replace("{", r"\{").replace("}", r"\}")):
        Generic.configured(options)
