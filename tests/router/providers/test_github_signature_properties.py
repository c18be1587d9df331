"""Property-based: GitHub signature verification accepts exactly the bodies signed with a known secret."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from router.errors import WebhookRejected
from router.providers.github import GitHub
from tests.conftest import github_signature

GITHUB = GitHub()
secrets = st.text(min_size=1, max_size=64).filter(lambda s: s.strip() != "")
bodies = st.binary(max_size=2048)


@given(secret=secrets, body=bodies)
@settings(max_examples=200)
def test_a_body_signed_with_the_secret_verifies(secret: str, body: bytes):
    GITHUB.verify({"x-hub-signature-256": github_signature(secret, body)}, body, [secret])


@given(secret=secrets, body=bodies, data=st.data())
@settings(max_examples=200)
def test_any_change_to_the_body_is_refused(secret: str, body: bytes, data: st.DataObject):
    tampered = data.draw(bodies.filter(lambda other: other != body))
    with pytest.raises(WebhookRejected) as refused:
        GITHUB.verify({"x-hub-signature-256": github_signature(secret, body)}, tampered, [secret])
    assert refused.value.status == 401


@given(secret=secrets, other=secrets, body=bodies)
def test_another_secret_is_refused(secret: str, other: str, body: bytes):
    if other == secret:
        return
    with pytest.raises(WebhookRejected) as refused:
        GITHUB.verify({"x-hub-signature-256": github_signature(other, body)}, body, [secret])
    assert refused.value.status == 401


@given(header=st.text(max_size=200), body=bodies)
def test_any_header_value_is_a_401_never_a_crash(header: str, body: bytes):
    if header == github_signature("s", body):
        return
    with pytest.raises(WebhookRejected) as refused:
        GITHUB.verify({"x-hub-signature-256": header}, body, ["s"])
    assert refused.value.status == 401
