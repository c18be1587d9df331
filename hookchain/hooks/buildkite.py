"""Buildkite webhooks: organisation "notification services" (REST v2), listed read-only.

Buildkite delivers webhooks through an organisation's notification services. Its REST API
lists them (GET /v2/organizations/{org}/notification-services, token scope
`read_notification_services`); hookchain does not create them, because the request shape of a
webhook service's provider-specific `settings` is not one we could confirm. Add the webhook in
Buildkite (Organization Settings -> Notification Services -> Webhook) with hookchain's URL
and the source's secret as its token, then check it with `hookchain hooks list buildkite`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hookchain.hooks.api import ApiClient, ApiError
from hookchain.hooks.service import Hook, HookService

DEFAULT_API_URL = "https://api.buildkite.com/v2"


def client(token: str, api_url: str | None, **options: Any) -> ApiClient:
    return ApiClient(
        provider="buildkite",
        base_url=(api_url or DEFAULT_API_URL).rstrip("/"),
        auth_headers={"Authorization": f"Bearer {token}"},
        **options,
    )


def _hook(raw: dict[str, Any]) -> Hook:
    settings = raw.get("settings") or {}
    states = raw.get("build_states") or {}
    return Hook(
        id=str(raw["id"]),
        url=str(settings.get("url") or settings.get("webhook_url") or ""),
        events=sorted(name for name, enabled in states.items() if enabled)
        if isinstance(states, dict)
        else [],
        active=bool(raw.get("enabled", True)),
        last_status=str((raw.get("provider") or {}).get("name", "")),
        raw=raw,
    )


class BuildkiteHooks(HookService):
    provider = "buildkite"
    registers = False
    why_no_register = (
        "hookchain does not create Buildkite notification services; add a Webhook service in "
        "Organization Settings -> Notification Services with this URL and the source's secret as "
        "its token, then check it with `hookchain hooks list buildkite --org ORG`"
    )

    def __init__(self, api: ApiClient, *, org: str | None) -> None:
        super().__init__(api)
        if not org:
            raise ApiError("give the Buildkite organisation with --org ORG")
        self.path = f"/organizations/{quote(org, safe='')}/notification-services"
        self.scope = f"organisation {org}"

    def list(self) -> list[Hook]:
        items = self.api.paginate(
            self.path, {"per_page": 100}, what=f"listing the {self.scope}'s notification services"
        )
        return [_hook(raw) for raw in items]
