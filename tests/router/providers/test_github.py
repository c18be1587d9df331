"""GitHub adapter: signature checks on the raw body, and the semantic mapping of DESIGN.md."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from router.errors import WebhookRejected
from router.providers.github import GitHub
from tests.conftest import GITHUB_FIXTURES, event_name_of, github_fixture_files, github_signature

GITHUB = GitHub()


def fixture(name: str) -> dict[str, Any]:
    return json.loads((GITHUB_FIXTURES / name).read_text())


def to_event(event_name: str, payload: dict[str, Any]):
    return GITHUB.to_event(
        {"x-github-event": event_name},
        payload,
        event_id="d-1",
        received_at="2026-01-01T00:00:00Z",
        source="github",
    )


def test_published_test_vector_verifies():
    # docs.github.com "Validating webhook deliveries": the worked example.
    body = b"Hello, World!"
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    GITHUB.verify({"x-hub-signature-256": signature}, body, ["It's a Secret to Everybody"])
    assert github_signature("It's a Secret to Everybody", body) == signature


@pytest.mark.parametrize(
    ("headers", "body", "secrets"),
    [
        ({"x-hub-signature-256": github_signature("s", b"{}")}, b"{} ", ["s"]),  # tampered body
        ({"x-hub-signature-256": github_signature("other", b"{}")}, b"{}", ["s"]),  # wrong secret
        ({}, b"{}", ["s"]),  # missing header
        ({"x-hub-signature": "sha1=" + "0" * 40}, b"{}", ["s"]),  # legacy SHA-1 alone is not enough
        ({"x-hub-signature-256": "sha256=zz"}, b"{}", ["s"]),  # garbage
    ],
)
def test_bad_signatures_are_401(headers, body, secrets):
    with pytest.raises(WebhookRejected) as refused:
        GITHUB.verify(headers, body, secrets)
    assert refused.value.status == 401


def test_any_of_several_secrets_verifies_during_rotation():
    body = b'{"zen": "x"}'
    GITHUB.verify({"x-hub-signature-256": github_signature("new", body)}, body, ["old", "new"])


def test_form_encoded_payload_is_decoded_after_verification():
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps({"zen": "Keep it logically awesome."})}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert GITHUB.parse(headers, body) == {"zen": "Keep it logically awesome."}


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"payload=%7Bbroken", "application/x-www-form-urlencoded", 400),
        (b"a=1", "application/x-www-form-urlencoded", 400),
        (b"{}", "text/plain", 415),
        (b"{}", "", 415),
        (b"[" * 5000 + b"]" * 5000, "application/json", 400),
    ],
)
def test_unparseable_bodies(body, content_type, status):
    with pytest.raises(WebhookRejected) as refused:
        GITHUB.parse({"content-type": content_type}, body)
    assert refused.value.status == status


def test_merged_pull_request():
    payload = fixture("pull_request.closed.2.json")
    payload["pull_request"]["merged"] = True
    event = to_event("pull_request", payload)
    assert event.type == "pr.merged"
    assert event.provider_type == "github.pull_request.closed"
    assert (event.repo, event.branch, event.pr, event.actor) == (
        "Codertocat/Hello-World",
        "master",
        2,
        "Codertocat",
    )
    assert event.sha == payload["pull_request"]["merge_commit_sha"]
    assert event.subject == "Codertocat/Hello-World#2"
    assert event.url == payload["pull_request"]["html_url"]
    assert event.correlation_id == event.id and event.causation_id is None and event.depth == 0


def test_closed_unmerged_and_opened_pull_requests():
    closed = to_event("pull_request", fixture("pull_request.closed.2.json"))
    assert closed.type == "pr.closed"
    opened = to_event("pull_request", fixture("pull_request.opened.1.json"))
    assert opened.type == "pr.opened"
    assert opened.sha == fixture("pull_request.opened.1.json")["pull_request"]["head"]["sha"]
    reopened = to_event("pull_request", fixture("pull_request.reopened.1.json"))
    assert reopened.type == "pr.opened"


@pytest.mark.parametrize("event_name", ["check_suite", "workflow_run"])
@pytest.mark.parametrize(
    ("conclusion", "expected"),
    [("success", "ci.passed"), ("failure", "ci.failed"), ("timed_out", "ci.failed"), ("cancelled", None)],
)
def test_ci_results(event_name, conclusion, expected):
    name = "check_suite.completed.1.json" if event_name == "check_suite" else "workflow_run.completed.1.json"
    payload = copy.deepcopy(fixture(name))
    payload[event_name]["conclusion"] = conclusion
    event = to_event(event_name, payload)
    assert event.type == (expected or f"github.{event_name}.completed")
    assert event.sha == payload[event_name]["head_sha"]
    assert event.branch == payload[event_name]["head_branch"]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("success", "ci.passed"),
        ("failure", "ci.failed"),
        ("error", "ci.failed"),
        ("pending", "github.status"),
    ],
)
def test_commit_status(state, expected):
    payload = fixture("status.1.json")
    payload["state"] = state
    event = to_event("status", payload)
    assert event.type == expected
    assert event.sha == payload["sha"]


def test_push_branch_and_tag():
    payload = fixture("push.1.json")
    payload["ref"] = "refs/heads/main"
    event = to_event("push", payload)
    assert event.type == "push"
    assert event.sha == payload["after"]
    assert event.branch == "main"
    assert event.subject == f"{payload['repository']['full_name']}@{payload['after']}"
    payload["ref"] = "refs/tags/v1.0"
    assert to_event("push", payload).branch is None


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("success", "deploy.succeeded"),
        ("failure", "deploy.failed"),
        ("error", "deploy.failed"),
        ("pending", None),
    ],
)
def test_deployment_status(state, expected):
    payload = fixture("deployment_status.created.1.json")
    payload["deployment_status"]["state"] = state
    event = to_event("deployment_status", payload)
    assert event.type == (expected or "github.deployment_status.created")
    assert event.sha == payload["deployment"]["sha"]
    assert event.branch == payload["deployment"]["ref"]


def test_release_published_and_ping():
    assert to_event("release", fixture("release.published.1.json")).type == "release.published"
    assert to_event("release", fixture("release.created.2.json")).type == "github.release.created"
    ping = to_event("ping", fixture("ping.1.json"))
    assert ping.type == "ping"
    assert GITHUB.handshake(ping)["ping"] is True


def test_missing_event_header_is_400():
    with pytest.raises(WebhookRejected) as refused:
        GITHUB.to_event({}, {}, event_id="x", received_at="t", source="github")
    assert refused.value.status == 400


@pytest.mark.parametrize("path", github_fixture_files(), ids=lambda p: p.name)
def test_every_fixture_normalises(path):
    payload = json.loads(path.read_text())
    event = to_event(event_name_of(path), payload)
    envelope = json.loads(event.to_json())
    assert envelope["provider_type"].startswith(f"github.{event_name_of(path)}")
    assert envelope["data"] == payload
    for fact in ("repo", "branch", "sha", "actor", "url", "subject"):
        assert envelope[fact] is None or isinstance(envelope[fact], str), fact
    assert envelope["pr"] is None or isinstance(envelope["pr"], int)
