"""GitHub repository and organisation webhooks (REST v3; GitHub Enterprise Server the same).

Endpoints: GET/POST /repos/{owner}/{repo}/hooks, PATCH/DELETE .../hooks/{hook_id},
POST .../hooks/{hook_id}/pings, and the same under /orgs/{org}/hooks.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hookchain.hooks.api import ApiClient, ApiError
from hookchain.hooks.service import Hook, HookService, Registered

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PER_PAGE = 100


def api_root(api_url: str | None) -> str:
    """https://api.github.com, or a GitHub Enterprise Server's https://HOST/api/v3."""
    if not api_url:
        return DEFAULT_API_URL
    root = api_url.rstrip("/")
    if "://" in root and root.split("://", 1)[1].count("/") == 0 and "api.github.com" not in root:
        root += "/api/v3"  # given just the GHES host
    return root


def client(token: str, api_url: str | None, **options: Any) -> ApiClient:
    return ApiClient(
        provider="github",
        base_url=api_root(api_url),
        auth_headers={"Authorization": f"Bearer {token}"},
        extra_headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
        **options,
    )


def hooks_path(repo: str | None = None, org: str | None = None) -> str:
    if org:
        return f"/orgs/{quote(org, safe='')}/hooks"
    if not repo or repo.count("/") != 1 or not all(repo.split("/")):
        raise ApiError(f"give a repository as OWNER/REPO (got {repo!r}), or --org ORG")
    owner, name = repo.split("/")
    return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/hooks"


def _hook(raw: dict[str, Any]) -> Hook:
    last = raw.get("last_response") or {}
    code = last.get("code")
    return Hook(
        id=str(raw["id"]),
        url=(raw.get("config") or {}).get("url", ""),
        events=list(raw.get("events") or []),
        active=bool(raw.get("active", True)),
        last_status=f"{code} {last.get('status', '')}".strip() if code else str(last.get("status") or ""),
        raw=raw,
    )


class GitHubHooks(HookService):
    provider = "github"

    def __init__(self, api: ApiClient, *, repo: str | None = None, org: str | None = None) -> None:
        super().__init__(api)
        self.path = hooks_path(repo, org)
        self.scope = f"organisation {org}" if org else f"repository {repo}"

    def list(self) -> list[Hook]:
        items = self.api.paginate(self.path, {"per_page": PER_PAGE}, what=f"listing the {self.scope}'s hooks")
        return [_hook(raw) for raw in items if raw.get("name", "web") == "web"]

    def body(self, url: str, events: list[str], secret: str) -> dict[str, Any]:
        return {
            "active": True,
            "events": events,
            "config": {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"},
        }

    def register(self, url: str, events: list[str], secret: str) -> Registered:
        existing = self.find(url)
        body = self.body(url, events, secret)
        if self.api.dry_run:
            self.api.request("POST", self.path, json_body={"name": "web", **body})
            self.api.echo(
                f"  (or, when the list shows a hook at {url}: PATCH {self.api.url(self.path)}/<id> "
                "with the same body but no name)"
            )
            return Registered("would register", None)
        if existing:
            first, *others = existing
            response = self.api.request(
                "PATCH", f"{self.path}/{first.id}", json_body=body, what=f"updating hook {first.id}"
            )
            assert response is not None
            return Registered("updated", _hook(response.json()), others)
        response = self.api.request(
            "POST", self.path, json_body={"name": "web", **body}, what=f"creating a hook on the {self.scope}"
        )
        assert response is not None
        return Registered("created", _hook(response.json()))

    def delete(self, hook_id: str) -> None:
        self.api.request("DELETE", f"{self.path}/{hook_id}", what=f"deleting hook {hook_id}")

    def ping(self, hook_id: str) -> str:
        self.api.request("POST", f"{self.path}/{hook_id}/pings", what=f"pinging hook {hook_id}")
        return "ping sent: GitHub delivers a `ping` event to the hook's URL"
