"""One attempt of an action against a real HTTP server on loopback: what is sent, what is recorded."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.integration.conftest import free_port, wait_until
from workers.actions.guard import AllowList
from workers.actions.http import OutgoingRequest, parse_retry_after, send

LOOPBACK = AllowList.parse(["127.0.0.1"])


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as http:
        yield http


def fire(
    client: httpx.Client,
    url: str,
    *,
    secrets: set[str] | None = None,
    timeout: float | None = None,
    allowed: AllowList = LOOPBACK,
    **fields,
):
    request = OutgoingRequest(
        method=fields.pop("method", "POST"), url=url, headers=fields.pop("headers", {}), **fields
    )
    return send(
        client,
        request,
        number=1,
        timeout=timeout,
        allowed=allowed,
        idempotency_key="key-1",
        secrets=secrets or set(),
    )


def test_success_is_recorded_with_response_and_idempotency_key(client, httpserver: HTTPServer):
    httpserver.expect_request(
        "/deploy", method="POST", json={"ref": "abc"}, headers={"Idempotency-Key": "key-1"}
    ).respond_with_json({"id": 7}, status=201)
    attempt = fire(
        client,
        httpserver.url_for("/deploy"),
        json={"ref": "abc"},
        headers={"Authorization": "Bearer tok-123", "X-Note": "uses tok-123"},
        secrets={"tok-123"},
    )
    assert attempt.succeeded, attempt.error
    assert (attempt.status, attempt.json, attempt.error) == (201, {"id": 7}, None)
    assert attempt.request["headers"]["Authorization"] == "***"
    assert attempt.request["headers"]["X-Note"] == "uses ***"
    ((request, _),) = httpserver.log
    assert request.headers["Authorization"] == "Bearer tok-123"
    assert request.headers["Host"] == f"localhost:{httpserver.port}"  # the name, though 127.0.0.1 was dialled


def test_query_and_form_bodies(client, httpserver: HTTPServer):
    httpserver.expect_request("/f", method="POST", query_string={"a": "1"}, data="x=y").respond_with_data(
        "ok"
    )
    attempt = fire(client, httpserver.url_for("/f"), params={"a": "1"}, form={"x": "y"})
    assert attempt.succeeded and attempt.text == "ok" and attempt.json is None
    assert attempt.request["url"].endswith("/f?a=1")


@pytest.mark.parametrize(
    ("status", "retryable"), [(500, True), (503, True), (429, True), (404, False), (400, False), (422, False)]
)
def test_failures_and_whether_they_are_retried(client, httpserver: HTTPServer, status, retryable):
    httpserver.expect_request("/x").respond_with_json({"error": "no"}, status=status)
    attempt = fire(client, httpserver.url_for("/x"))
    assert not attempt.succeeded
    assert attempt.error == f"HTTP {status}"
    assert attempt.retryable is retryable
    assert attempt.json == {"error": "no"}


def test_retry_after_is_read(client, httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_data("slow down", status=429, headers={"Retry-After": "7"})
    attempt = fire(client, httpserver.url_for("/x"))
    assert attempt.retry_after == 7.0 and attempt.retryable


def test_retry_after_http_date():
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("120") == 120.0


def test_timeout_is_a_retryable_failure(client, httpserver: HTTPServer):
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(5)
        return Response("late")

    httpserver.expect_request("/slow").respond_with_handler(slow)
    attempt = fire(client, httpserver.url_for("/slow"), timeout=0.2)
    release.set()
    assert attempt.retryable
    assert attempt.error.startswith("timeout after 0.2s")
    assert wait_until(lambda: len(httpserver.log) == 1)  # let the server finish before the next test


def test_connection_refused_is_a_retryable_failure(client):
    attempt = fire(client, f"http://127.0.0.1:{free_port()}/")
    assert attempt.retryable
    assert attempt.error.startswith("connection error")


def test_internal_target_is_refused_before_any_connection(client, httpserver: HTTPServer):
    httpserver.expect_request("/x").respond_with_data("should not be reached")
    attempt = fire(client, httpserver.url_for("/x"), allowed=AllowList.parse([]))
    assert attempt.error.startswith("refused:") and not attempt.retryable
    assert httpserver.log == []


def test_redirects_are_not_followed_unless_asked_and_each_hop_is_checked(client, httpserver: HTTPServer):
    httpserver.expect_request("/hop").respond_with_data("", status=302, headers={"Location": "/final"})
    httpserver.expect_request("/final").respond_with_json({"done": True})
    httpserver.expect_request("/away").respond_with_data(
        "", status=307, headers={"Location": f"http://127.0.0.2:{httpserver.port}/final"}
    )

    not_followed = fire(client, httpserver.url_for("/hop"))
    assert not_followed.status == 302 and not not_followed.succeeded

    followed = fire(client, httpserver.url_for("/hop"), follow_redirects=True)
    assert followed.succeeded and followed.json == {"done": True}

    refused = fire(client, httpserver.url_for("/away"), follow_redirects=True)
    assert refused.error.startswith("refused:") and "127.0.0.2" in refused.error
    assert [r.path for r, _ in httpserver.log] == ["/hop", "/hop", "/final", "/away"]
