"""GitHub's webhook deliveries API: what was sent to a hook, and sending failed ones again.

GitHub never retries a failed delivery by itself; it keeps deliveries for 3 days and
redelivers on request. This client is shared by `hookchain hooks deliveries` and recovery
(`hookchain recover`): list with cursor pagination
(GET {hooks_path}/{hook_id}/deliveries), redeliver (POST .../deliveries/{id}/attempts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hookchain.hooks.api import ApiClient

PER_PAGE = 100


@dataclass(frozen=True)
class Delivery:
    id: int
    guid: str
    event: str
    action: str | None
    status: str
    status_code: int
    delivered_at: str
    redelivery: bool

    @classmethod
    def from_api(cls, raw: dict[str, Any]) -> Delivery:
        return cls(
            id=int(raw["id"]),
            guid=str(raw.get("guid", "")),
            event=str(raw.get("event", "")),
            action=raw.get("action"),
            status=str(raw.get("status", "")),
            status_code=int(raw.get("status_code") or 0),
            delivered_at=str(raw.get("delivered_at", "")),
            redelivery=bool(raw.get("redelivery", False)),
        )

    @property
    def ok(self) -> bool:
        """Delivered and answered 2xx (GitHub's status "OK")."""
        return 200 <= self.status_code < 300


def still_failed(deliveries: list[Delivery]) -> list[Delivery]:
    """Per GUID, the latest attempt when it failed: what recovery must send again.

    A delivery that failed and was later redelivered successfully is not failed any more.
    """
    latest: dict[str, Delivery] = {}
    for delivery in deliveries:
        known = latest.get(delivery.guid)
        if known is None or (delivery.delivered_at, delivery.id) > (known.delivered_at, known.id):
            latest[delivery.guid] = delivery
    return sorted((d for d in latest.values() if not d.ok), key=lambda d: (d.delivered_at, d.id))


class DeliveriesClient:
    """Deliveries of one hook under `hooks_path` (/repos/{owner}/{repo}/hooks or /orgs/{org}/hooks)."""

    def __init__(self, api: ApiClient, hooks_path: str, hook_id: str) -> None:
        self.api = api
        self.path = f"{hooks_path}/{hook_id}/deliveries"
        self.hook_id = hook_id

    def iter(self) -> Iterator[Delivery]:
        """Newest first, following the Link header's cursor."""
        for raw in self.api.paginate(
            self.path, {"per_page": PER_PAGE}, what=f"listing deliveries of hook {self.hook_id}"
        ):
            yield Delivery.from_api(raw)

    def recent(self, limit: int) -> list[Delivery]:
        found: list[Delivery] = []
        for delivery in self.iter():
            found.append(delivery)
            if len(found) >= limit:
                break
        return found

    def redeliver(self, delivery_id: int) -> None:
        """Ask GitHub to send the delivery again (202 Accepted)."""
        self.api.request(
            "POST", f"{self.path}/{delivery_id}/attempts", what=f"redelivering delivery {delivery_id}"
        )
