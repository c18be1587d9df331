"""`hookchain hooks deliveries` and the deliveries client against a local GitHub REST API."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from hookchain.hooks import github
from hookchain.hooks.github_deliveries import DeliveriesClient, Delivery, still_failed
from tests.hooks.conftest import GITHUB_TOKEN, PUBLIC_URL
from tests.hooks.fake_providers import FakeProviders, github_delivery

Run = Callable[..., Result]
HOOK_URL = f"{PUBLIC_URL}/hooks/github"


def hook_with_deliveries(fake: FakeProviders, deliveries: list[dict[str, object]]) -> int:
    hook_id = 42
    fake.state.github_repos["acme/api"][hook_id] = {
        "id": hook_id,
        "config": {"url": HOOK_URL, "content_type": "json", "insecure_ssl": "0"},
        "events": ["pull_request"],
        "active": True,
    }
    fake.state.deliveries[hook_id] = deliveries
    return hook_id


def test_still_failed_keeps_the_latest_attempt_per_guid_when_it_failed() -> None:
    deliveries = [
        Delivery.from_api(github_delivery(5, "guid-a", 200, redelivery=True)),  # recovered
        Delivery.from_api(github_delivery(4, "guid-b", 502)),
        Delivery.from_api(github_delivery(3, "guid-a", 0)),
        Delivery.from_api(github_delivery(2, "guid-c", 200)),
        Delivery.from_api(github_delivery(1, "guid-d", 500)),
    ]
    assert [d.id for d in still_failed(deliveries)] == [1, 4]


def test_deliveries_are_listed_with_status_event_guid_and_redelivery(
    hookchain: Run, fake: FakeProviders
) -> None:
    hook_with_deliveries(
        fake,
        [github_delivery(12, "guid-ok", 200, redelivery=True), github_delivery(11, "guid-bad", 502)],
    )

    result = hookchain(
        "hooks", "deliveries", "github", "acme/api", "--url", PUBLIC_URL, "--api-url", fake.url
    )

    assert result.exit_code == 0, result.output
    assert "hook 42: 2 recent deliveries" in result.stdout
    assert "12  2026-11-25T10:12:00Z  200 OK  pull_request.closed  guid-ok  redelivery" in result.stdout
    assert "11  2026-11-25T10:11:00Z  502 Bad Gateway  pull_request.closed  guid-bad" in result.stdout
    assert fake.state.redelivered == []


def test_redeliver_failed_sends_again_only_what_is_still_failed(hookchain: Run, fake: FakeProviders) -> None:
    hook_with_deliveries(
        fake,
        [
            github_delivery(25, "guid-1", 200, redelivery=True),
            github_delivery(24, "guid-2", 0),
            github_delivery(23, "guid-1", 502),
            github_delivery(22, "guid-3", 200),
            github_delivery(21, "guid-4", 500),
        ],
    )

    result = hookchain(
        "hooks", "deliveries", "github", "acme/api", "--id", "42", "--redeliver-failed", "--api-url", fake.url
    )

    assert result.exit_code == 0, result.output
    assert sorted(fake.state.redelivered) == [21, 24]
    assert "2 failed deliveries redelivered" in result.stdout
    posts = [path for method, path, _, _ in fake.state.calls.log if method == "POST"]
    assert posts == [
        "/api/v3/repos/acme/api/hooks/42/deliveries/21/attempts",
        "/api/v3/repos/acme/api/hooks/42/deliveries/24/attempts",
    ]


def test_the_client_follows_the_cursor_pagination(fake: FakeProviders) -> None:
    hook_id = hook_with_deliveries(fake, [github_delivery(300 - i, f"guid-{i}", 200) for i in range(150)])
    api = github.client(GITHUB_TOKEN, fake.url)
    with api:
        client = DeliveriesClient(api, github.hooks_path(repo="acme/api"), str(hook_id))
        found = client.recent(limit=140)

    assert [d.id for d in found] == [300 - i for i in range(140)]
    gets = [path for method, path, _, _ in fake.state.calls.log if method == "GET"]
    assert gets == [
        "/api/v3/repos/acme/api/hooks/42/deliveries?per_page=100",
        "/api/v3/repos/acme/api/hooks/42/deliveries?per_page=100&cursor=v1_200",
    ]


def test_deliveries_for_an_organisation_hook(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.github_orgs["acme"][7] = {
        "id": 7,
        "config": {"url": HOOK_URL, "content_type": "json", "insecure_ssl": "0"},
        "events": ["push"],
        "active": True,
    }
    fake.state.deliveries[7] = [github_delivery(3, "guid-org", 502, event="push")]

    result = hookchain(
        "hooks",
        "deliveries",
        "github",
        "--org",
        "acme",
        "--id",
        "7",
        "--redeliver-failed",
        "--api-url",
        fake.url,
    )

    assert result.exit_code == 0, result.output
    assert fake.state.redelivered == [3]
    assert fake.state.calls.log[-1][1] == "/api/v3/orgs/acme/hooks/7/deliveries/3/attempts"


def test_deliveries_dry_run_sends_nothing(hookchain: Run, fake: FakeProviders) -> None:
    hook_with_deliveries(fake, [github_delivery(1, "guid", 502)])
    result = hookchain(
        "hooks", "deliveries", "github", "acme/api", "--id", "42", "--redeliver-failed", "--dry-run",
        "--api-url", fake.url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert fake.state.calls.log == []
    assert "would send: POST" in result.stdout and "/deliveries/<delivery id>/attempts" in result.stdout


def test_deliveries_of_a_provider_without_that_api_is_a_usage_error(hookchain: Run) -> None:
    result = hookchain("hooks", "deliveries", "gitlab", "acme/api", "--id", "1")
    assert result.exit_code == 2 and "reads GitHub's deliveries API" in result.output
