"""Helpers for provider tests: samples, an HMAC signer of the tests' own, and the receive path."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Headers

from router.errors import WebhookRejected
from router.events import Event
from router.providers.base import Provider

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
NOW = 1_764_000_000.0
"""The clock every provider under test reads (2025-11-24T16:00:00Z)."""


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def hex_hmac(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def headers(**values: str) -> Headers:
    """Request headers as the receiver sees them: case-insensitive. `x_gitlab_token` -> X-Gitlab-Token.

    JSON unless `content_type` says otherwise."""
    values = {"content_type": "application/json", **values}
    return Headers(headers={name.replace("_", "-"): value for name, value in values.items()})


def refused(call: Callable[[], Any], *, status: int = 401, says: str = "") -> WebhookRejected:
    with pytest.raises(WebhookRejected) as caught:
        call()
    assert caught.value.status == status, caught.value.reason
    assert says in caught.value.reason
    return caught.value


def receive(provider: Provider, request_headers: Headers, body: bytes, secrets: list[str]) -> Event:
    """What the endpoint does with a request, minus Redis: verify, parse, name, normalise."""
    provider.verify(request_headers, body, secrets)
    payload = provider.parse(request_headers, body)
    delivery = provider.delivery_id(request_headers, payload)
    return provider.to_event(
        request_headers,
        payload,
        event_id=delivery or "generated",
        received_at="2025-11-24T16:00:00Z",
        source="t",
    )
