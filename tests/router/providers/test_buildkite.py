"""Buildkite: token mode, signature mode (timestamp window), build.finished mapping."""

from __future__ import annotations

import json

import pytest

from router.errors import ConfigError
from router.providers.buildkite import Buildkite
from tests.router.providers.conftest import NOW, headers, hex_hmac, receive, refused, sample

SECRET = "buildkite-token"
REQUEST_ID = "98c11d1e-d181-45dc-a60f-64d0fc89f6a3"


def provider(**options: str) -> Buildkite:
    p = Buildkite.configured(options)
    p.clock = lambda: NOW
    return p


def with_token(token: str = SECRET):
    return headers(
        x_buildkite_event="build.finished", x_buildkite_request=REQUEST_ID, x_buildkite_token=token
    )


def with_signature(body: bytes, secret: str = SECRET, at: float = NOW):
    timestamp = str(int(at))
    signature = hex_hmac(secret, f"{timestamp}.".encode() + body)
    return headers(
        x_buildkite_event="build.finished",
        x_buildkite_request=REQUEST_ID,
        x_buildkite_signature=f"timestamp={timestamp},signature={signature}",
    )


def test_passed_build_is_ci_passed_in_both_modes():
    body = sample("buildkite/build.finished.json")
    for request in (with_token(), with_signature(body)):
        event = receive(provider(), request, body, [SECRET])
        assert event.type == "ci.passed" and event.provider_type == "buildkite.build.finished"
        assert event.id == REQUEST_ID
        assert (event.repo, event.branch, event.sha) == (
            "acme-inc/api",
            "main",
            "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        )


def test_failed_blocked_and_running_builds():
    payload = json.loads(sample("buildkite/build.finished.json"))
    payload["build"]["state"] = "failed"
    assert receive(provider(), with_token(), json.dumps(payload).encode(), [SECRET]).type == "ci.failed"
    payload["build"].update(state="passed", blocked=True)
    assert (
        receive(provider(), with_token(), json.dumps(payload).encode(), [SECRET]).type
        == "buildkite.build.finished"
    )


def test_token_mode_refusals_and_rotation():
    body = sample("buildkite/build.finished.json")
    refused(lambda: provider().verify(with_token("nope"), body, [SECRET]), says="X-Buildkite-Token")
    refused(lambda: provider().verify(headers(x_buildkite_event="ping"), body, [SECRET]), says="missing")
    provider().verify(with_token("old"), body, [SECRET, "old"])


def test_signature_mode_refusals_and_rotation():
    body = sample("buildkite/build.finished.json")
    refused(lambda: provider().verify(with_signature(body), body + b" ", [SECRET]), says="does not match")
    refused(lambda: provider().verify(with_signature(body, "other"), body, [SECRET]))
    refused(
        lambda: provider().verify(with_signature(body, at=NOW - 301), body, [SECRET]), says="replay window"
    )
    garbled = headers(x_buildkite_signature="signature=abc")
    refused(lambda: provider().verify(garbled, body, [SECRET]), says="timestamp=<unix>")
    provider().verify(with_signature(body, "old"), body, [SECRET, "old"])


def test_require_signature_refuses_a_token():
    body = sample("buildkite/build.finished.json")
    refused(
        lambda: provider(require="signature").verify(with_token(), body, [SECRET]),
        says="X-Buildkite-Signature",
    )
    with pytest.raises(ConfigError):
        Buildkite.configured({"mode": "token"})
