"""CircleCI: `circleci-signature: v1=<hex>` (several versions, comma-separated) and workflow-completed."""

from __future__ import annotations

from router.providers.circleci import CircleCI
from tests.router.providers.conftest import headers, hex_hmac, receive, refused, sample

SECRET = "circleci-secret"


def signed(body: bytes, secret: str = SECRET, extra_versions: str = ""):
    return headers(
        circleci_event_type="workflow-completed",
        circleci_signature=extra_versions + "v1=" + hex_hmac(secret, body),
    )


def test_oauth_project_workflow_success_is_ci_passed():
    body = sample("circleci/workflow-completed.oauth.json")
    event = receive(CircleCI(), signed(body), body, [SECRET])
    assert event.type == "ci.passed" and event.provider_type == "circleci.workflow-completed"
    assert event.id == "3888f21b-eaa7-38e3-8f3d-75a63bba8895"
    assert (event.repo, event.branch, event.sha) == (
        "circleci/webhook-service",
        "main",
        "1dc6aa69429bff4806ad6afe58d3d8f57e25973e",
    )
    assert event.url.endswith("/workflows/fda08377-fe7e-46b1-8992-3a7aaecac9c3")


def test_gitlab_project_reads_trigger_parameters_and_failed_is_ci_failed():
    body = sample("circleci/workflow-completed.gitlab.json")
    event = receive(CircleCI(), signed(body), body, [SECRET])
    assert event.type == "ci.failed"
    assert (event.repo, event.branch, event.sha, event.actor) == (
        "acme-docs/docs-test",
        "main",
        "a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9",
        "docwriter",
    )


def test_v1_is_found_among_other_versions():
    body = sample("circleci/workflow-completed.oauth.json")
    CircleCI().verify(signed(body, extra_versions="v2=abcdef,"), body, [SECRET])


def test_tampered_wrong_secret_missing_rotation():
    body = sample("circleci/workflow-completed.oauth.json")
    refused(
        lambda: CircleCI().verify(signed(body), body.replace(b"success", b"failed"), [SECRET]),
        says="does not match",
    )
    refused(lambda: CircleCI().verify(signed(body, "other"), body, [SECRET]))
    refused(lambda: CircleCI().verify(headers(), body, [SECRET]), says="circleci-signature")
    refused(lambda: CircleCI().verify(headers(circleci_signature="v2=00"), body, [SECRET]), says="no v1")
    CircleCI().verify(signed(body, "old"), body, [SECRET, "old"])
