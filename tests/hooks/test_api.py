"""The provider API client's pure parts: masking secrets, pagination links, rate-limit waits."""

from __future__ import annotations

import httpx
import pytest

from hookchain.hooks import github
from hookchain.hooks.api import MASK, ApiClient, masked, next_link, same_origin
from tests.hooks.fake_providers import FakeProviders


def test_masked_hides_every_secret_field_at_any_depth() -> None:
    body = {
        "config": {"url": "https://x", "secret": "s3cret"},
        "token": "t",
        "signing-secret": "c",
        "signing_token": "whsec_x",
        "events": ["push"],
        "hooks": [{"password": "p"}],
    }
    assert masked(body) == {
        "config": {"url": "https://x", "secret": MASK},
        "token": MASK,
        "signing-secret": MASK,
        "signing_token": MASK,
        "events": ["push"],
        "hooks": [{"password": MASK}],
    }
    assert body["config"]["secret"] == "s3cret"  # the original is untouched


def test_next_link_reads_githubs_link_header() -> None:
    response = httpx.Response(
        200,
        headers={
            "Link": '<https://api.github.com/repositories/1/hooks?page=2>; rel="next", '
            '<https://api.github.com/repositories/1/hooks?page=5>; rel="last"'
        },
    )
    assert next_link(response) == "https://api.github.com/repositories/1/hooks?page=2"
    assert next_link(httpx.Response(200, headers={"Link": '<https://x/?page=1>; rel="prev"'})) is None
    assert next_link(httpx.Response(200)) is None


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1030"}, 31.0),
        (403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "900"}, 1.0),
        (429, {"Retry-After": "7"}, 7.0),
        (429, {"RateLimit-Remaining": "0", "RateLimit-Reset": "1010"}, 11.0),
        (429, {}, 60.0),
        (403, {"Retry-After": "5"}, 5.0),  # GitHub's secondary rate limit
        (403, {"X-RateLimit-Remaining": "12"}, None),  # a real 403: missing permission
        (403, {}, None),
        (500, {"Retry-After": "3"}, None),
    ],
)
def test_rate_limit_wait(status: int, headers: dict[str, str], wait: float | None) -> None:
    client = ApiClient("github", "https://api.github.com", {}, clock=lambda: 1000.0)
    assert client._rate_limit_wait(httpx.Response(status, headers=headers)) == wait


def test_a_long_wait_reports_how_long_is_left(fake: FakeProviders) -> None:
    """A rate limit of a minute is waited out in steps, each announced (sleep recorded, not slept)."""
    fake.state.github_tokens["t"] = {"repo"}
    fake.state.github_repos["acme/api"] = {}
    fake.state.rate_limited = ["github-429-long"]
    slept: list[float] = []
    said: list[str] = []
    api = github.client("t", fake.url, sleep=slept.append, progress=said.append)
    with api:
        response = api.request("GET", "/repos/acme/api/hooks")

    assert response is not None and response.status_code == 200
    assert slept == [15.0, 15.0, 15.0, 15.0]
    assert said == [
        "github API rate limit reached (429): waiting 60 s before retry 1/3",
        "  45 s left",
        "  30 s left",
        "  15 s left",
    ]


def test_pagination_links_are_followed_only_on_the_apis_own_server() -> None:
    base = "https://ghe.example.com/api/v3"
    assert same_origin("https://ghe.example.com/api/v3/repositories/1/hooks?page=2", base)
    assert not same_origin("https://evil.example.com/api/v3/repositories/1/hooks?page=2", base)
    assert not same_origin("http://ghe.example.com/api/v3/hooks?page=2", base)
    assert not same_origin("https://ghe.example.com:8443/api/v3/hooks?page=2", base)


def test_api_roots_for_self_hosted_instances() -> None:
    from hookchain.hooks import circleci, gitlab

    assert github.api_root(None) == "https://api.github.com"
    assert github.api_root("https://ghe.example.com") == "https://ghe.example.com/api/v3"
    assert github.api_root("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/v3"
    assert gitlab.api_root(None) == "https://gitlab.com/api/v4"
    assert gitlab.api_root("https://git.example.com") == "https://git.example.com/api/v4"
    assert gitlab.api_root("https://git.example.com/api/v4") == "https://git.example.com/api/v4"
    assert circleci.api_root("https://circleci.example.com") == "https://circleci.example.com/api/v2"
