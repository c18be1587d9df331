"""Standard Webhooks: the spec's test vector, and signatures made by the `standardwebhooks` package."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from standardwebhooks import Webhook

from router.providers.standard import StandardWebhooks
from tests.router.providers.conftest import NOW, headers, receive, refused, sample

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + base64.b64encode(b"an older key of thirty-two bytes").decode()


def provider() -> StandardWebhooks:
    return StandardWebhooks(clock=lambda: NOW)


def signed(
    body: bytes, secret: str = SECRET, msg_id: str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at: float = NOW
):
    """Signed by the independent `standardwebhooks` package, not by hookchain."""
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(at, UTC), body.decode())
    return headers(webhook_id=msg_id, webhook_timestamp=str(int(at)), webhook_signature=signature)


def test_the_specs_published_vector_passes():
    # https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
    vector = headers(
        webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        webhook_timestamp="1614265330",
        webhook_signature="v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    )
    StandardWebhooks(clock=lambda: 1614265330).verify(vector, b'{"test": 2432232314}', [SECRET])


def test_signature_from_the_standardwebhooks_package_is_accepted_and_normalised():
    body = sample("standard/deploy.succeeded.json")
    event = receive(provider(), signed(body), body, [SECRET])
    assert event.id == "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
    assert event.type == "deploy.succeeded"
    assert event.provider_type == "standard.deploy.succeeded"
    assert (event.repo, event.branch, event.sha) == (
        "acme/api",
        "main",
        "5779607b49aab1200488439f02372c57b4f75444",
    )
    assert event.subject == "acme/api@5779607b49aab1200488439f02372c57b4f75444"


def test_a_type_that_is_not_semantic_keeps_the_senders_name():
    body = json.dumps({"type": "smoke.finished", "data": {"ok": True}}).encode()
    event = receive(provider(), signed(body), body, [SECRET])
    assert (event.type, event.provider_type) == ("standard.smoke.finished", "standard.smoke.finished")


def test_tampered_body_is_refused():
    body = sample("standard/deploy.succeeded.json")
    refused(
        lambda: provider().verify(signed(body), body.replace(b"main", b"prod"), [SECRET]),
        says="does not match",
    )


def test_wrong_secret_is_refused():
    body = b'{"type": "x"}'
    refused(lambda: provider().verify(signed(body, OLD_SECRET), body, [SECRET]), says="whsec_")


def test_each_missing_header_is_named():
    body = b'{"type": "x"}'
    for missing in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        request = {k: v for k, v in signed(body).items() if k != missing}
        refused(
            lambda request=request: provider().verify(
                headers(**{k.replace("-", "_"): v for k, v in request.items()}), body, [SECRET]
            ),
            says=missing,
        )


def test_timestamp_outside_the_window_is_refused_both_ways():
    body = b'{"type": "x"}'
    refused(lambda: provider().verify(signed(body, at=NOW - 301), body, [SECRET]), says="301 s old")
    refused(lambda: provider().verify(signed(body, at=NOW + 400), body, [SECRET]), says="in the future")
    provider().verify(signed(body, at=NOW - 299), body, [SECRET])


def test_a_source_window_replaces_the_default():
    body = b'{"type": "x"}'
    tight = StandardWebhooks(replay_window=30, clock=lambda: NOW)
    refused(lambda: tight.verify(signed(body, at=NOW - 31), body, [SECRET]), says="30 s replay window")


def test_rotation_either_secret_of_the_source_and_several_signatures_in_the_header():
    body = b'{"type": "x"}'
    p = provider()
    p.verify(signed(body, OLD_SECRET), body, [SECRET, OLD_SECRET])
    p.verify(signed(body, SECRET), body, [SECRET, OLD_SECRET])
    # A sender mid-rotation lists two signatures: one valid is enough.
    old = signed(body, OLD_SECRET)["webhook-signature"]
    new = signed(body, SECRET)["webhook-signature"]
    both = headers(
        webhook_id="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        webhook_timestamp=str(int(NOW)),
        webhook_signature=f"{old} {new}",
    )
    p.verify(both, body, [SECRET])
    refused(lambda: p.verify(signed(body, OLD_SECRET), body, [SECRET]))
