"""One HTTP client for the providers' REST APIs: auth, dry runs, rate limits and clear errors.

Every call goes through `ApiClient.request`, which
- in a dry run prints the call (method, URL, body with secrets masked) and sends nothing;
- waits and retries when the provider says it is rate limited (429, or 403 with
  X-RateLimit-Remaining: 0 / RateLimit-Remaining: 0 or with Retry-After), honouring
  Retry-After or the reset time, announcing each wait, and giving up when the wait would exceed `max_wait`;
- turns 401, 403, 404, other 4xx/5xx and an unreachable API into `ApiError` with a message
  that says what to do.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from router.errors import HookchainError

MASK = "********"
SECRET_KEYS = frozenset({"secret", "token", "signing_token", "signing-secret", "password"})
TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_RATE_LIMIT_RETRIES = 3
PROGRESS_EVERY = 15.0


class ApiError(HookchainError):
    """A provider API call failed; `message` says why and what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DryRunResponse:
    """What a dry run gets back instead of a response: nothing."""


def masked(body: Any) -> Any:
    """A copy of a request body with every secret value replaced by ********."""
    if isinstance(body, Mapping):
        return {key: (MASK if key in SECRET_KEYS and value else masked(value)) for key, value in body.items()}
    if isinstance(body, list):
        return [masked(item) for item in body]
    return body


def next_link(response: httpx.Response) -> str | None:
    """The `rel="next"` URL of a Link header (GitHub's pagination), or None."""
    for part in response.headers.get("link", "").split(","):
        match = re.match(r'\s*<([^>]+)>\s*;\s*rel="?next"?', part)
        if match:
            return match.group(1)
    return None


def same_origin(url: str, base_url: str) -> bool:
    """Whether `url` is on the same scheme, host and port as the API: only there goes the token."""
    left, right = httpx.URL(url), httpx.URL(base_url)
    return (left.scheme, left.host, left.port) == (right.scheme, right.host, right.port)


@dataclass
class ApiClient:
    """Calls one provider's API at `base_url` with `auth_headers`; see the module docstring."""

    provider: str
    base_url: str
    auth_headers: Mapping[str, str]
    dry_run: bool = False
    max_wait: float = 300.0
    echo: Callable[[str], None] = print
    """where a dry run prints its calls"""
    progress: Callable[[str], None] = print
    """where waits for a rate limit are announced"""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    token_source: str = "the token"
    """where the token came from (`GITHUB_TOKEN`, `--token`), named when it is refused"""
    _client: httpx.Client | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else f"{self.base_url}{path}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=TIMEOUT,
                headers={"User-Agent": "hookchain", **self.extra_headers, **self.auth_headers},
                follow_redirects=False,
            )
        return self._client

    def describe(self, method: str, url: str, params: Mapping[str, Any] | None, body: Any) -> str:
        target = str(httpx.URL(url, params=params)) if params else url
        line = f"{method} {target}"
        if body is not None:
            line += "\n  " + json.dumps(masked(body), sort_keys=True)
        return line

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        what: str = "",
    ) -> httpx.Response | None:
        """Send one call (None in a dry run, after printing it); raise ApiError on failure."""
        url = self.url(path)
        if self.dry_run:
            self.echo("would send: " + self.describe(method, url, params, json_body))
            return None
        for attempt in range(1, MAX_RATE_LIMIT_RETRIES + 2):
            try:
                response = self.client.request(method, url, json=json_body, params=params)
            except httpx.TimeoutException as exc:
                raise ApiError(
                    f"{self.provider} API at {self.base_url} timed out ({exc!r}); try again"
                ) from None
            except httpx.HTTPError as exc:
                raise ApiError(
                    f"cannot reach the {self.provider} API at {self.base_url}: {exc} "
                    "(check --api-url and the network)"
                ) from None
            wait = self._rate_limit_wait(response)
            if wait is None:
                break
            if attempt > MAX_RATE_LIMIT_RETRIES:
                raise ApiError(
                    f"{self.provider} API still rate limited after {MAX_RATE_LIMIT_RETRIES} waits; try later",
                    response.status_code,
                )
            if wait > self.max_wait:
                raise ApiError(
                    f"{self.provider} API rate limit: it asks to wait {wait:.0f} s, more than --max-wait "
                    f"{self.max_wait:.0f} s; run again later",
                    response.status_code,
                )
            self.progress(
                f"{self.provider} API rate limit reached ({response.status_code}): "
                f"waiting {wait:.0f} s before retry {attempt}/{MAX_RATE_LIMIT_RETRIES}"
            )
            self._wait(wait)
        if response.status_code >= 400:
            raise self.error_for(response, what or f"{method} {url}")
        return response

    def paginate(self, path: str, params: Mapping[str, Any], *, what: str) -> Iterator[Any]:
        """Every item of a list endpoint, following Link rel="next" or X-Next-Page."""
        url: str | None = path
        page_params: dict[str, Any] | None = dict(params)
        while url is not None:
            response = self.request("GET", url, params=page_params, what=what)
            if response is None:
                return
            body = response.json()
            yield from body if isinstance(body, list) else body.get("items", [])
            link = next_link(response)
            next_page = response.headers.get("x-next-page", "").strip()
            if link:
                if not same_origin(link, self.base_url):
                    raise ApiError(
                        f"{what}: the {self.provider} API's next page is on another server ({link}); "
                        "not following it with the token"
                    )
                url, page_params = link, None
            elif next_page:
                page_params = {**(page_params or dict(params)), "page": next_page}
            else:
                url = None

    def _wait(self, seconds: float) -> None:
        """Sleep, saying every PROGRESS_EVERY seconds how long is left."""
        left = seconds
        while left > PROGRESS_EVERY:
            self.sleep(PROGRESS_EVERY)
            left -= PROGRESS_EVERY
            self.progress(f"  {left:.0f} s left")
        self.sleep(left)

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds to wait when this response says "rate limited", else None."""
        headers = response.headers
        remaining = headers.get("x-ratelimit-remaining", headers.get("ratelimit-remaining"))
        # 403 with nothing remaining is GitHub's primary limit; 403 with Retry-After its secondary one.
        limited = response.status_code == 429 or (
            response.status_code == 403 and (remaining == "0" or "retry-after" in headers)
        )
        if not limited:
            return None
        retry_after = headers.get("retry-after", "").strip()
        if retry_after.isdigit():
            return float(retry_after)
        reset = headers.get("x-ratelimit-reset", headers.get("ratelimit-reset", "")).strip()
        if reset.isdigit():
            return max(0.0, float(reset) - self.clock()) + 1.0
        return 60.0

    def error_for(self, response: httpx.Response, what: str) -> ApiError:
        status = response.status_code
        detail = _error_detail(response)
        if status == 401:
            return ApiError(
                f"{what}: the {self.provider} API refused the token (401 {detail}); "
                f"check {self.token_source}",
                status,
            )
        if status == 403:
            needs = [
                f"{label} {response.headers[header]}"
                for header, label in (
                    ("x-accepted-oauth-scopes", "needs scope(s):"),
                    ("x-accepted-github-permissions", "needs permission(s):"),
                )
                if response.headers.get(header)
            ]
            if response.headers.get("x-oauth-scopes") is not None:
                needs.append(f"token has: {response.headers['x-oauth-scopes'] or '(no scopes)'}")
            scope = _json_field(response, "scope")
            if scope:
                needs.append(f"needs scope: {scope}")
            hint = "; ".join(needs) or "the token lacks the permission or scope this needs"
            return ApiError(f"{what}: forbidden (403 {detail}): {hint}", status)
        if status == 404:
            return ApiError(
                f"{what}: not found (404 {detail}): no such repository, project or organisation, "
                "or the token cannot see it",
                status,
            )
        return ApiError(f"{what}: {self.provider} API answered {status}: {detail}", status)


def _json_field(response: httpx.Response, name: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


def _error_detail(response: httpx.Response) -> str:
    """The provider's own words: GitHub's message and errors, GitLab's message or error."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if not isinstance(body, dict):
        return str(body)[:200]
    parts = [str(body[key]) for key in ("message", "error", "error_description") if body.get(key) is not None]
    for error in body.get("errors") or []:
        parts.append(error.get("message") or json.dumps(error) if isinstance(error, dict) else str(error))
    return "; ".join(parts) or response.reason_phrase
