"""What every provider's hook manager offers, and the results the commands print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hookchain.hooks.api import ApiClient, ApiError


@dataclass(frozen=True)
class Hook:
    """A webhook as the provider reports it, reduced to what the commands show."""

    id: str
    url: str
    events: list[str]
    active: bool = True
    last_status: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Registered:
    action: str
    """"created", "updated" or "would register" (dry run)"""
    hook: Hook | None
    duplicates: list[Hook] = field(default_factory=list)
    """other hooks that already pointed at the same URL (left alone, reported)"""


def same_url(left: str, right: str) -> bool:
    return left.strip().rstrip("/") == right.strip().rstrip("/")


class HookService:
    """One webhook scope (a repository, organisation, project, group...) at one provider.

    Subclasses implement the verbs their provider's API has; the others say so.
    """

    provider = ""
    scope = ""
    registers = True
    """False when hookchain cannot create this provider's webhooks; `why_no_register` says why"""
    why_no_register = "its API cannot create webhooks"

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def unsupported(self, verb: str, why: str) -> ApiError:
        return ApiError(f"`hooks {verb}` is not available for {self.provider}: {why}")

    def list(self) -> list[Hook]:
        raise self.unsupported("list", "its API has no way to list webhooks")

    def register(self, url: str, events: list[str], secret: str) -> Registered:
        raise self.unsupported("register", self.why_no_register)

    def delete(self, hook_id: str) -> None:
        raise self.unsupported("delete", "its API cannot delete webhooks (use its settings page)")

    def ping(self, hook_id: str) -> str:
        raise self.unsupported("ping", "its API has no test delivery")

    def find(self, url: str) -> list[Hook]:
        """Every hook of this scope pointing at `url` (empty in a dry run: nothing is read)."""
        return [hook for hook in self.list() if same_url(hook.url, url)]
