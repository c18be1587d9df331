"""The bare RQ job of the worker baselines: one httpx POST with a client reused across jobs."""

from __future__ import annotations

import httpx

_client: httpx.Client | None = None


def post_once(url: str, ident: str) -> int:
    global _client
    if _client is None:
        _client = httpx.Client(trust_env=False, timeout=10)
    return _client.post(url, json={"id": ident}).status_code
