"""The CLI's way into a running hookchain: its admin API over HTTP (works with `dev`'s embedded Redis too)."""

from __future__ import annotations

from typing import Any

import httpx

from router.errors import HookchainError

DEV_ADMIN_TOKEN = "dev-admin"
"""`hookchain dev`'s admin token when HOOKCHAIN_ADMIN_TOKEN is unset (it listens on loopback)."""


class AdminAPIError(HookchainError):
    """The admin API could not be reached, or refused the request."""


class AdminClient:
    def __init__(self, url: str, token: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, **params: Any) -> Any:
        return self._call("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str) -> Any:
        return self._call("POST", path)

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, params=params)
        except httpx.HTTPError as exc:
            raise AdminAPIError(f"cannot reach hookchain at {self.url}: {exc}") from None
        if response.status_code >= 400:
            try:
                reason = response.json().get("error", response.text)
            except ValueError:
                reason = response.text[:200]
            raise AdminAPIError(f"{method} {path}: {response.status_code} {reason}")
        return response.json()
