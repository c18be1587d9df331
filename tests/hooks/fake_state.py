"""What the fake provider APIs remember and answer in common: calls, state, errors, rate limits."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

GITHUB_DOCS = "https://docs.github.com/rest"


@dataclass
class Calls:
    """Every request the fake received: (method, raw path with query, headers, body)."""

    log: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def count(self, method: str, fragment: str = "") -> int:
        return sum(1 for m, path, _, _ in self.log if m == method and fragment in path)


@dataclass
class State:
    github_tokens: dict[str, set[str]] = field(default_factory=dict)
    """token -> its classic OAuth scopes"""
    github_repos: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    """"owner/repo" -> hook id -> hook"""
    github_orgs: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    repo_ids: dict[str, int] = field(default_factory=dict)
    deliveries: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    """hook id -> deliveries, newest first"""
    pings: list[int] = field(default_factory=list)
    redelivered: list[int] = field(default_factory=list)

    gitlab_tokens: dict[str, set[str]] = field(default_factory=dict)
    gitlab_projects: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    gitlab_groups: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    gitlab_link_header: bool = True
    gitlab_tests: list[tuple[int, str]] = field(default_factory=list)

    circleci_tokens: set[str] = field(default_factory=set)
    circleci_projects: dict[str, str] = field(default_factory=dict)
    """slug -> project id"""
    circleci_hooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    buildkite_tokens: set[str] = field(default_factory=set)
    buildkite_services: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    rate_limited: list[str] = field(default_factory=list)
    """answers to give before serving normally: "github-403", "github-429", "gitlab-429", "github-far" """

    calls: Calls = field(default_factory=Calls)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))


def api_base(request: Request) -> str:
    """The API root this request came through: the server plus the mount (/api/v3 or nothing)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def record(request: Request, state: State) -> Any:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode(errors="replace")
    path = request.scope.get("raw_path", request.url.path.encode()).decode()
    query = request.url.query
    state.calls.log.append(
        (request.method, path + (f"?{query}" if query else ""), dict(request.headers), body)
    )
    return body


def rate_limit_answer(state: State, provider: str) -> Response | None:
    if not state.rate_limited or not state.rate_limited[0].startswith(provider):
        return None
    kind = state.rate_limited.pop(0)
    now = int(time.time())
    if kind == "github-403":
        return error_response(
            403,
            {"message": "API rate limit exceeded for user ID 1.", "documentation_url": GITHUB_DOCS},
            {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(now + 1)},
        )
    if kind == "github-far":
        return error_response(
            403,
            {"message": "API rate limit exceeded for user ID 1.", "documentation_url": GITHUB_DOCS},
            {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(now + 3600)},
        )
    if kind == "github-429-long":
        return error_response(
            429, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "60"}
        )
    if kind == "github-429":
        return error_response(
            429,
            {"message": "You have exceeded a secondary rate limit.", "documentation_url": GITHUB_DOCS},
            {"Retry-After": "1"},
        )
    return error_response(
        429,
        {"message": "Retry later"},
        {"Retry-After": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": str(now + 1)},
    )
