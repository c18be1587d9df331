"""CircleCI outbound webhooks (API v2, project scope; CircleCI Server the same on its host).

Endpoints: GET /project/{project-slug} (the project's id), GET /webhook?scope-id=&scope-type=project,
POST /webhook, PUT /webhook/{webhook-id}, DELETE /webhook/{webhook-id}. Events are
`workflow-completed` and `job-completed`; the hook signs with `signing-secret`
(circleci-signature: v1=...). CircleCI has no API to send a test delivery.
"""

from __future__ import annotations

from typing import Any

from hookchain.hooks.api import ApiClient, ApiError
from hookchain.hooks.needed_events import CIRCLECI
from hookchain.hooks.service import Hook, HookService, Registered

DEFAULT_API_URL = "https://circleci.com/api/v2"
HOOK_NAME = "hookchain"


def api_root(api_url: str | None) -> str:
    if not api_url:
        return DEFAULT_API_URL
    root = api_url.rstrip("/")
    return root if root.endswith("/api/v2") else f"{root}/api/v2"


def client(token: str, api_url: str | None, **options: Any) -> ApiClient:
    return ApiClient(
        provider="circleci", base_url=api_root(api_url), auth_headers={"Circle-Token": token}, **options
    )


def _hook(raw: dict[str, Any]) -> Hook:
    return Hook(id=str(raw["id"]), url=str(raw.get("url", "")), events=list(raw.get("events") or []), raw=raw)


class CircleCIHooks(HookService):
    provider = "circleci"

    def __init__(self, api: ApiClient, *, project_slug: str | None) -> None:
        super().__init__(api)
        if not project_slug or project_slug.count("/") < 2:
            raise ApiError(
                f"give a CircleCI project slug such as gh/OWNER/REPO or circleci/ORG-ID/PROJECT-ID "
                f"(got {project_slug!r})"
            )
        self.slug = project_slug
        self.scope = f"project {project_slug}"
        self._project_id: str | None = None

    def project_id(self) -> str:
        if self._project_id is None:
            response = self.api.request("GET", f"/project/{self.slug}", what=f"looking up {self.scope}")
            self._project_id = "<project id>" if response is None else str(response.json()["id"])
        return self._project_id

    def list(self) -> list[Hook]:
        params = {"scope-id": self.project_id(), "scope-type": "project"}
        return [
            _hook(raw)
            for raw in self.api.paginate("/webhook", params, what=f"listing the {self.scope}'s hooks")
        ]

    def register(self, url: str, events: list[str], secret: str) -> Registered:
        unknown = sorted(set(events) - set(CIRCLECI.events))
        if unknown:
            raise ApiError(
                f"unknown CircleCI event(s) {', '.join(unknown)}; known: {', '.join(CIRCLECI.events)}"
            )
        existing = self.find(url)
        body = {"name": HOOK_NAME, "url": url, "events": events, "verify-tls": True, "signing-secret": secret}
        if self.api.dry_run:
            self.api.request(
                "POST", "/webhook", json_body={**body, "scope": {"id": self.project_id(), "type": "project"}}
            )
            self.api.echo(f"  (or, when the list shows a hook at {url}: PUT {self.api.url('/webhook')}/<id>)")
            return Registered("would register", None)
        if existing:
            first, *others = existing
            response = self.api.request(
                "PUT", f"/webhook/{first.id}", json_body=body, what=f"updating hook {first.id}"
            )
            assert response is not None
            return Registered("updated", _hook(response.json()), others)
        response = self.api.request(
            "POST",
            "/webhook",
            json_body={**body, "scope": {"id": self.project_id(), "type": "project"}},
            what=f"creating a hook on the {self.scope}",
        )
        assert response is not None
        return Registered("created", _hook(response.json()))

    def delete(self, hook_id: str) -> None:
        self.api.request("DELETE", f"/webhook/{hook_id}", what=f"deleting hook {hook_id}")

    def ping(self, hook_id: str) -> str:
        raise self.unsupported("ping", "CircleCI's API has no test delivery; re-run a workflow instead")
