"""`hookchain hooks` against a local GitLab v4 API: project and group hooks."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result

from tests.hooks.conftest import GITLAB_TOKEN, PUBLIC_URL, SECRET
from tests.hooks.fake_providers import GITLAB_FLAGS, FakeProviders

Run = Callable[..., Result]
HOOK_URL = f"{PUBLIC_URL}/hooks/gitlab"
SIGNING = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def register(
    hookchain: Run, fake: FakeProviders, *extra: str, env: dict[str, str | None] | None = None
) -> Result:
    return hookchain(
        "hooks", "register", "gitlab", *extra, "--url", PUBLIC_URL, "--api-url", fake.url, env=env
    )


def seed_hook(fake: FakeProviders, url: str, table: str = "projects", key: str = "acme/api") -> int:
    hook_id = next(fake.state.ids)
    hooks = fake.state.gitlab_projects if table == "projects" else fake.state.gitlab_groups
    hooks[key][hook_id] = {
        "id": hook_id,
        "url": url,
        "token": "old",
        **{flag: flag == "push_events" for flag in GITLAB_FLAGS},
        "alert_status": "executable",
    }
    return hook_id


def test_register_a_project_hook_with_the_token_and_the_rules_events(
    hookchain: Run, fake: FakeProviders
) -> None:
    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 0, result.output
    (hook,) = fake.state.gitlab_projects["acme/api"].values()
    assert hook["url"] == HOOK_URL
    assert hook["token"] == SECRET
    assert "signing_token" not in hook  # the secret is not in whsec_ form
    assert hook["enable_ssl_verification"] is True
    on = sorted(flag for flag in GITLAB_FLAGS if hook.get(flag))
    assert on == ["merge_requests_events", "pipeline_events"]  # ci.passed, pr.merged
    method, path, headers, _ = fake.state.calls.log[-1]
    assert (method, path) == ("POST", "/api/v4/projects/acme%2Fapi/hooks")
    assert headers["private-token"] == GITLAB_TOKEN
    assert SECRET not in result.output


def test_register_twice_leaves_one_hook_and_updates_in_place(hookchain: Run, fake: FakeProviders) -> None:
    existing = seed_hook(fake, HOOK_URL)

    first = register(hookchain, fake, "acme/api")
    second = register(hookchain, fake, "acme/api", "--events", "push,release")

    assert first.exit_code == 0 and second.exit_code == 0, second.output
    hooks = fake.state.gitlab_projects["acme/api"]
    assert list(hooks) == [existing]
    assert hooks[existing]["token"] == SECRET
    assert sorted(flag for flag in GITLAB_FLAGS if hooks[existing][flag]) == [
        "push_events",
        "releases_events",
    ]
    assert fake.state.calls.count("PUT") == 2 and fake.state.calls.count("POST") == 0
    assert "updated in place" in second.stdout


def test_a_whsec_secret_is_also_the_signing_token(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme/api", env={"HOOKCHAIN_GITLAB_SECRET": SIGNING})

    assert result.exit_code == 0, result.output
    (hook,) = fake.state.gitlab_projects["acme/api"].values()
    assert hook["token"] == SIGNING and hook["signing_token"] == SIGNING
    assert SIGNING not in result.output


def test_group_hooks(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "--group", "acme")

    assert result.exit_code == 0, result.output
    assert len(fake.state.gitlab_groups["acme"]) == 1
    assert fake.state.calls.log[-1][1] == "/api/v4/groups/acme/hooks"


def test_pagination_by_x_next_page_and_by_link(hookchain: Run, fake: FakeProviders) -> None:
    for index in range(120):
        seed_hook(fake, f"https://other-{index}.example.com/hook")
    ours = seed_hook(fake, HOOK_URL)

    fake.state.gitlab_link_header = False  # only X-Next-Page to go by
    by_header = register(hookchain, fake, "acme/api")
    fake.state.gitlab_link_header = True
    by_link = register(hookchain, fake, "acme/api")

    assert by_header.exit_code == 0 and by_link.exit_code == 0, by_link.output
    assert len(fake.state.gitlab_projects["acme/api"]) == 121
    assert fake.state.calls.count("PUT", f"/hooks/{ours}") == 2
    gets = [path for method, path, _, _ in fake.state.calls.log if method == "GET"]
    assert gets[:2] == [
        "/api/v4/projects/acme%2Fapi/hooks?per_page=100",
        "/api/v4/projects/acme%2Fapi/hooks?per_page=100&page=2",
    ]


def test_list_ping_and_delete_by_url(hookchain: Run, fake: FakeProviders) -> None:
    register(hookchain, fake, "acme/api")
    (hook_id,) = fake.state.gitlab_projects["acme/api"]
    common = ("gitlab", "acme/api", "--api-url", fake.url)

    listed = hookchain("hooks", "list", *common)
    pinged = hookchain("hooks", "ping", *common, "--id", str(hook_id))
    deleted = hookchain("hooks", "delete", *common, "--url", PUBLIC_URL)

    assert f"{hook_id}  active  {HOOK_URL}  events: merge_request,pipeline" in listed.stdout
    assert pinged.exit_code == 0 and fake.state.gitlab_tests == [(hook_id, "merge_requests_events")]
    assert deleted.exit_code == 0 and fake.state.gitlab_projects["acme/api"] == {}


def test_a_missing_scope_names_the_scope_gitlab_asks_for(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.gitlab_tokens["glpat-read"] = {"read_api"}

    result = register(hookchain, fake, "acme/api", "--token", "glpat-read")

    assert result.exit_code == 1
    assert "forbidden (403 insufficient_scope" in result.stderr
    assert "needs scope: api" in result.stderr


def test_an_unknown_project_and_a_bad_token(hookchain: Run, fake: FakeProviders) -> None:
    unknown = register(hookchain, fake, "acme/nope")
    bad = register(hookchain, fake, "acme/api", env={"GITLAB_TOKEN": "wrong"})

    assert unknown.exit_code == 1 and "not found (404 404 Project Not Found)" in unknown.stderr
    assert bad.exit_code == 1 and "refused the token (401 401 Unauthorized)" in bad.stderr


def test_a_rate_limit_is_waited_out(hookchain: Run, fake: FakeProviders) -> None:
    fake.state.rate_limited = ["gitlab-429"]

    result = register(hookchain, fake, "acme/api")

    assert result.exit_code == 0, result.output
    assert "gitlab API rate limit reached (429): waiting 1 s before retry 1/3" in result.stderr
    assert len(fake.state.gitlab_projects["acme/api"]) == 1


def test_dry_run_masks_the_token_and_sends_nothing(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme/api", "--dry-run", env={"GITLAB_TOKEN": None})

    assert result.exit_code == 0, result.output
    assert fake.state.calls.log == []
    assert f"would send: POST {fake.url}/api/v4/projects/acme%2Fapi/hooks" in result.stdout
    assert '"token": "********"' in result.stdout and SECRET not in result.output


def test_unknown_gitlab_events_are_refused_before_any_write(hookchain: Run, fake: FakeProviders) -> None:
    result = register(hookchain, fake, "acme/api", "--events", "pipeline,pull_request")
    assert result.exit_code == 1 and "unknown GitLab event(s) pull_request" in result.stderr
    assert fake.state.calls.count("POST") == 0
