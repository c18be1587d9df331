"""Firing one HTTP call of an action and describing what came back, as data."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from router.events import utc_now
from workers.actions.guard import AllowList, Resolver, TargetRefused, check_target, system_resolver

USER_AGENT = "hookchain/0.1"
RESPONSE_TEXT_CAP = 64 * 1024
MAX_REDIRECTS = 5
CONNECT_TIMEOUT = 5.0
TOTAL_TIMEOUT = 15.0
MASK = "***"
ALWAYS_MASKED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "x-api-key"})


@dataclass(frozen=True)
class OutgoingRequest:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, Any] | None = None
    content: str | None = None
    follow_redirects: bool = False


@dataclass
class Attempt:
    """One try of one action: what was sent (secrets masked) and what came back."""

    number: int
    started_at: str
    request: dict[str, Any]
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    text: str = ""
    error: str | None = None
    duration_ms: float = 0.0
    retryable: bool = False
    retry_after: float | None = None
    accepted: bool | None = None
    """The verdict of the action's `success_if`; None means the default, any 2xx."""

    @property
    def succeeded(self) -> bool:
        if self.error is not None or self.status is None:
            return False
        return self.accepted if self.accepted is not None else 200 <= self.status < 300

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def mask(text: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, MASK)
    return text


def mask_value(value: Any, secrets: set[str]) -> Any:
    """`mask` applied to every string value inside a JSON-like value (keys are left as they are)."""
    if isinstance(value, str):
        return mask(value, secrets)
    if isinstance(value, dict):
        return {k: mask_value(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_value(item, secrets) for item in value]
    return value


def masked_headers(headers: dict[str, str], secrets: set[str]) -> dict[str, str]:
    """Credential headers masked whole, secret values masked wherever they appear in the others."""
    return {
        name: MASK if name.lower() in ALWAYS_MASKED_HEADERS else mask(value, secrets)
        for name, value in headers.items()
    }


def described_request(request: OutgoingRequest, secrets: set[str]) -> dict[str, Any]:
    headers = masked_headers(request.headers, secrets)
    url = str(httpx.URL(request.url, params=request.params or None)) if request.params else request.url
    return {
        "method": request.method,
        "url": mask(url, secrets),
        "headers": headers,
        "body": mask(request_body_text(request), secrets)[:RESPONSE_TEXT_CAP] or None,
    }


def request_body_text(request: OutgoingRequest) -> str:
    """The body as sent, for the record: JSON, form fields or raw text."""
    if request.json is not None:
        return orjson.dumps(request.json).decode()
    if request.form is not None:
        return str(httpx.QueryParams(request.form))
    return request.content or ""


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _decode(response: httpx.Response) -> tuple[Any, str]:
    raw = response.content
    text = raw[:RESPONSE_TEXT_CAP].decode(response.encoding or "utf-8", errors="replace")
    body: Any = None
    if raw and "json" in response.headers.get("content-type", ""):
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
    return body, text


def sent_headers(headers: dict[str, str], idempotency_key: str) -> dict[str, str]:
    """The headers every outgoing call carries, under the action's own."""
    return {"User-Agent": USER_AGENT, "Idempotency-Key": idempotency_key, **headers}


def send(
    client: httpx.Client,
    request: OutgoingRequest,
    *,
    number: int,
    timeout: float | None,
    allowed: AllowList,
    idempotency_key: str,
    secrets: set[str],
    resolver: Resolver = system_resolver,
) -> Attempt:
    """Send the request once; every failure comes back as a recorded Attempt, never an exception."""
    request = OutgoingRequest(
        **{**asdict(request), "headers": sent_headers(request.headers, idempotency_key)}
    )
    attempt = Attempt(number=number, started_at=utc_now(), request=described_request(request, secrets))
    total = timeout or TOTAL_TIMEOUT
    limits = httpx.Timeout(total, connect=min(CONNECT_TIMEOUT, total))
    started = time.perf_counter()
    url = str(httpx.URL(request.url, params=request.params)) if request.params else request.url
    try:
        for _hop in range(MAX_REDIRECTS + 1):
            response = _send_pinned(client, request, url, limits, allowed, resolver)
            if not (request.follow_redirects and response.is_redirect):
                break
            url = str(httpx.URL(url).join(response.headers["location"]))
            if response.status_code in (301, 302, 303) and request.method != "HEAD":
                request = OutgoingRequest(method="GET", url=url, headers=request.headers)
            response.close()
        else:
            raise TargetRefused(f"more than {MAX_REDIRECTS} redirects")
    except TargetRefused as exc:
        attempt.error = f"refused: {exc}"
    except httpx.TimeoutException as exc:
        attempt.error = f"timeout after {total:g}s: {type(exc).__name__}"
        attempt.retryable = True
    except httpx.TransportError as exc:
        attempt.error = f"connection error: {type(exc).__name__}: {mask(str(exc), secrets)}"
        attempt.retryable = True
    else:
        attempt.status = response.status_code
        attempt.headers = dict(response.headers)
        attempt.json, attempt.text = _decode(response)
        attempt.retryable = response.status_code == 429 or response.status_code >= 500
        attempt.retry_after = parse_retry_after(response.headers.get("retry-after"))
        if not attempt.succeeded:
            attempt.error = f"HTTP {response.status_code}"
    attempt.duration_ms = round((time.perf_counter() - started) * 1000, 2)
    return attempt


def _send_pinned(
    client: httpx.Client,
    request: OutgoingRequest,
    url: str,
    limits: httpx.Timeout,
    allowed: AllowList,
    resolver: Resolver,
) -> httpx.Response:
    target = check_target(url, allowed, resolver)
    headers: Mapping[str, str] = {**request.headers, "Host": target.host_header}
    outgoing = client.build_request(
        request.method,
        target.url,
        headers=headers,
        json=request.json,
        data=request.form,
        content=request.content,
        timeout=limits,
        extensions={"sni_hostname": target.server_name},
    )
    return client.send(outgoing, follow_redirects=False)
