"""GitLab project and group webhooks (REST v4; gitlab.com and self-managed).

Endpoints: GET/POST /projects/:id/hooks, PUT/DELETE /projects/:id/hooks/:hook_id,
POST /projects/:id/hooks/:hook_id/test/:trigger, and the same under /groups/:id/hooks
(group hooks need GitLab Premium). `:id` is the numeric id or the URL-encoded path.
The hook's `token` is the source's secret, sent back in X-Gitlab-Token; a secret in the
`whsec_<base64>` form is also set as the hook's `signing_token` (Standard Webhooks signature,
newer GitLab), which GitLab accepts only in that form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hookchain.hooks.api import ApiClient, ApiError
from hookchain.hooks.needed_events import GITLAB_FLAGS
from hookchain.hooks.service import Hook, HookService, Registered

DEFAULT_API_URL = "https://gitlab.com/api/v4"
PER_PAGE = 100
# Test triggers GitLab accepts, in the order `ping` tries them.
TEST_TRIGGERS = (
    "push_events",
    "tag_push_events",
    "merge_requests_events",
    "pipeline_events",
    "job_events",
    "deployment_events",
    "releases_events",
    "issues_events",
    "confidential_issues_events",
    "note_events",
    "wiki_page_events",
    "feature_flag_events",
    "emoji_events",
    "resource_access_token_events",
)


def api_root(api_url: str | None) -> str:
    """https://gitlab.com/api/v4, or a self-managed instance's https://HOST/api/v4."""
    if not api_url:
        return DEFAULT_API_URL
    root = api_url.rstrip("/")
    return root if root.endswith("/api/v4") else f"{root}/api/v4"


def client(token: str, api_url: str | None, **options: Any) -> ApiClient:
    return ApiClient(
        provider="gitlab", base_url=api_root(api_url), auth_headers={"PRIVATE-TOKEN": token}, **options
    )


def _hook(raw: dict[str, Any]) -> Hook:
    flag_to_event = {flag: event for event, flag in GITLAB_FLAGS.items()}
    events = [flag_to_event[flag] for flag in flag_to_event if raw.get(flag)]
    disabled = raw.get("alert_status") not in (None, "executable")
    return Hook(
        id=str(raw["id"]),
        url=str(raw.get("url", "")),
        events=events,
        active=not disabled,
        last_status=str(raw.get("alert_status") or ""),
        raw=raw,
    )


class GitLabHooks(HookService):
    provider = "gitlab"

    def __init__(self, api: ApiClient, *, project: str | None = None, group: str | None = None) -> None:
        super().__init__(api)
        if not (project or group):
            raise ApiError("give a project as GROUP/PROJECT (or its numeric id), or --group GROUP")
        kind, ident = ("groups", group) if group else ("projects", project)
        self.path = f"/{kind}/{quote(str(ident), safe='')}/hooks"
        self.scope = f"group {group}" if group else f"project {project}"

    def list(self) -> list[Hook]:
        items = self.api.paginate(self.path, {"per_page": PER_PAGE}, what=f"listing the {self.scope}'s hooks")
        return [_hook(raw) for raw in items]

    def body(self, url: str, events: list[str], secret: str) -> dict[str, Any]:
        unknown = sorted(set(events) - set(GITLAB_FLAGS))
        if unknown:
            raise ApiError(
                f"unknown GitLab event(s) {', '.join(unknown)}; known: {', '.join(sorted(GITLAB_FLAGS))}"
            )
        body: dict[str, Any] = {"url": url, "token": secret, "enable_ssl_verification": True}
        body.update({flag: event in events for event, flag in GITLAB_FLAGS.items()})
        if secret.startswith("whsec_"):
            body["signing_token"] = secret
        return body

    def register(self, url: str, events: list[str], secret: str) -> Registered:
        existing = self.find(url)
        body = self.body(url, events, secret)
        if self.api.dry_run:
            self.api.request("POST", self.path, json_body=body)
            self.api.echo(
                f"  (or, when the list shows a hook at {url}: PUT {self.api.url(self.path)}/<id> "
                "with the same body)"
            )
            return Registered("would register", None)
        if existing:
            first, *others = existing
            response = self.api.request(
                "PUT", f"{self.path}/{first.id}", json_body=body, what=f"updating hook {first.id}"
            )
            assert response is not None
            return Registered("updated", _hook(response.json()), others)
        response = self.api.request(
            "POST", self.path, json_body=body, what=f"creating a hook on the {self.scope}"
        )
        assert response is not None
        return Registered("created", _hook(response.json()))

    def delete(self, hook_id: str) -> None:
        self.api.request("DELETE", f"{self.path}/{hook_id}", what=f"deleting hook {hook_id}")

    def ping(self, hook_id: str) -> str:
        if self.api.dry_run:
            self.api.request("GET", f"{self.path}/{hook_id}")
            self.api.request("POST", f"{self.path}/{hook_id}/test/<first subscribed trigger>")
            return "dry run: nothing sent"
        response = self.api.request("GET", f"{self.path}/{hook_id}", what=f"reading hook {hook_id}")
        assert response is not None
        raw = response.json()
        trigger = next((name for name in TEST_TRIGGERS if raw.get(name)), None)
        if trigger is None:
            raise ApiError(f"hook {hook_id} subscribes to no event GitLab can send a test of")
        self.api.request("POST", f"{self.path}/{hook_id}/test/{trigger}", what=f"testing hook {hook_id}")
        return f"test delivery sent: GitLab sent a sample {trigger.removesuffix('_events')} event"
