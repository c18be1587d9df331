"""Action kinds by name: what a rule's action does. A kind renders its spec into a request and performs it.

Adding a kind is one module with the three functions of `ActionKind` and one entry in
`ACTION_KINDS` (plus its field on `workers.rules.schema.Action`). Presets are not kinds: they
expand to `http` when the rule loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from workers.actions import http_kind, mcp_kind

if TYPE_CHECKING:
    from workers.actions.http import Attempt
    from workers.rules.schema import Action
    from workers.runtime import WorkerContext


class ActionKind(Protocol):
    def render(self, action: Action, context: dict[str, Any]) -> Any:
        """The exact request for this context; RenderError when a template fails. Pure."""

    def describe(self, request: Any, secrets: set[str]) -> dict[str, Any]:
        """The request as records and `rules test` show it, secret values masked."""

    def perform(
        self,
        ctx: WorkerContext,
        request: Any,
        *,
        number: int,
        timeout: float | None,
        idempotency_key: str,
        secrets: set[str],
    ) -> Attempt:
        """Send it once; every failure comes back as a recorded Attempt, never an exception."""


ACTION_KINDS: dict[str, ActionKind] = {
    "http": http_kind,  # type: ignore[dict-item]  # a module satisfies the protocol structurally
    "mcp": mcp_kind,  # type: ignore[dict-item]
}
