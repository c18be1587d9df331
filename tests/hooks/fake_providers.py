"""A local stand-in for the providers' REST APIs, served for real over HTTP on 127.0.0.1.

It implements the endpoints `hookchain hooks` uses with the methods, paths, status codes,
headers and bodies of the published APIs (GitHub REST v3 repository and organisation webhooks
and deliveries, GitLab v4 project and group hooks, CircleCI v2 webhooks, Buildkite v2
notification services), and it is strict: a wrong auth header, a missing API header or an
unexpected body field is refused the way the provider would refuse it, so a client mistake fails
a test instead of passing silently.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

GITHUB_DOCS = "https://docs.github.com/rest"
GITHUB_READ_SCOPES = {"read:repo_hook", "write:repo_hook", "admin:repo_hook", "repo"}
GITHUB_WRITE_SCOPES = {"write:repo_hook", "admin:repo_hook", "repo"}
GITHUB_ORG_SCOPES = {"admin:org_hook"}
GITLAB_FLAGS = (
    "push_events", "tag_push_events", "merge_requests_events", "pipeline_events", "job_events",
    "deployment_events", "releases_events", "issues_events", "note_events", "wiki_page_events",
    "feature_flag_events", "emoji_events", "confidential_issues_events", "confidential_note_events",
)  # fmt: skip
# GitLab's documented test triggers (POST /projects/:id/hooks/:hook_id/test/:trigger).
GITLAB_TEST_TRIGGERS = (
    "push_events", "tag_push_events", "issues_events", "confidential_issues_events", "note_events",
    "merge_requests_events", "job_events", "pipeline_events", "wiki_page_events", "deployment_events",
    "feature_flag_events", "releases_events", "emoji_events", "resource_access_token_events",
)  # fmt: skip
GITLAB_FIELDS = {
    "url",
    "token",
    "enable_ssl_verification",
    "signing_token",
    "name",
    "description",
    *GITLAB_FLAGS,
}


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


def _base(request: Request) -> str:
    """The API root this request came through: the server plus the mount (/api/v3 or nothing)."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


def _error(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _record(request: Request, state: State) -> Any:
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


def _rate_limit(state: State, provider: str) -> Response | None:
    if not state.rate_limited or not state.rate_limited[0].startswith(provider):
        return None
    kind = state.rate_limited.pop(0)
    now = int(time.time())
    if kind == "github-403":
        return _error(
            403,
            {"message": "API rate limit exceeded for user ID 1.", "documentation_url": GITHUB_DOCS},
            {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(now + 1)},
        )
    if kind == "github-far":
        return _error(
            403,
            {"message": "API rate limit exceeded for user ID 1.", "documentation_url": GITHUB_DOCS},
            {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(now + 3600)},
        )
    if kind == "github-429-long":
        return _error(429, {"message": "You have exceeded a secondary rate limit."}, {"Retry-After": "60"})
    if kind == "github-429":
        return _error(
            429,
            {"message": "You have exceeded a secondary rate limit.", "documentation_url": GITHUB_DOCS},
            {"Retry-After": "1"},
        )
    return _error(
        429,
        {"message": "Retry later"},
        {"Retry-After": "1", "RateLimit-Remaining": "0", "RateLimit-Reset": str(now + 1)},
    )


# ---------------------------------------------------------------- GitHub

GITHUB_HOOK_FIELDS = {"name", "config", "events", "active"}
GITHUB_PATCH_FIELDS = {"config", "events", "add_events", "remove_events", "active"}
GITHUB_ORG_PATCH_FIELDS = {"config", "events", "active", "name"}
GITHUB_CONFIG_FIELDS = {"url", "content_type", "secret", "insecure_ssl"}


def _github_auth(request: Request, state: State, needed: set[str]) -> Response | None:
    if request.headers.get("accept") != "application/vnd.github+json":
        return _error(415, {"message": "Accept must be application/vnd.github+json"})
    if request.headers.get("x-github-api-version") != "2022-11-28":
        return _error(400, {"message": "Unsupported or missing X-GitHub-Api-Version"})
    auth = request.headers.get("authorization", "")
    token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
    if token not in state.github_tokens:
        return _error(401, {"message": "Bad credentials", "documentation_url": GITHUB_DOCS, "status": "401"})
    limited = _rate_limit(state, "github")
    if limited is not None:
        return limited
    scopes = state.github_tokens[token]
    if not scopes & needed:
        return _error(
            403,
            {"message": "Resource not accessible by personal access token", "documentation_url": GITHUB_DOCS},
            {
                "X-OAuth-Scopes": ", ".join(sorted(scopes)),
                "X-Accepted-OAuth-Scopes": ", ".join(sorted(needed)),
            },
        )
    return None


def _github_scope(request: Request, state: State) -> tuple[dict[int, dict[str, Any]] | None, str, bool]:
    params = request.path_params
    if "org" in params:
        return state.github_orgs.get(params["org"]), f"/orgs/{params['org']}/hooks", True
    if "repo_id" in params:
        repo = next((name for name, rid in state.repo_ids.items() if rid == params["repo_id"]), None)
    else:
        repo = f"{params['owner']}/{params['repo']}"
    hooks = state.github_repos.get(repo or "")
    return hooks, f"/repos/{repo}/hooks", False


def _github_view(hook: dict[str, Any], base: str, hooks_path: str) -> dict[str, Any]:
    config = dict(hook["config"])
    if "secret" in config:
        config["secret"] = "********"
    url = f"{base}{hooks_path}/{hook['id']}"
    return {
        "type": "Organization" if hooks_path.startswith("/orgs") else "Repository",
        "id": hook["id"],
        "name": "web",
        "active": hook["active"],
        "events": hook["events"],
        "config": config,
        "updated_at": "2026-11-25T17:00:00Z",
        "created_at": "2026-11-25T17:00:00Z",
        "url": url,
        "test_url": f"{url}/test",
        "ping_url": f"{url}/pings",
        "deliveries_url": f"{url}/deliveries",
        "last_response": {"code": None, "status": "unused", "message": None},
    }


def _github_validate(body: Any, allowed: set[str], *, creating: bool) -> str | None:
    if not isinstance(body, dict):
        return "Problems parsing JSON"
    extra = set(body) - allowed
    if extra:
        return f"unexpected field(s): {sorted(extra)}"
    if creating and body.get("name") != "web":
        return "name must be web"
    config = body.get("config")
    if creating and not isinstance(config, dict):
        return "config is required"
    if config is not None:
        if set(config) - GITHUB_CONFIG_FIELDS:
            return f"unexpected config field(s): {sorted(set(config) - GITHUB_CONFIG_FIELDS)}"
        if not str(config.get("url", "")).startswith(("http://", "https://")):
            return "config.url is not a URL"
        if config.get("content_type") not in ("json", "form"):
            return "config.content_type must be json or form"
        if config.get("insecure_ssl") not in ("0", "1", 0, 1):
            return "config.insecure_ssl must be 0 or 1"
    events = body.get("events")
    if events is not None and (not isinstance(events, list) or not all(isinstance(e, str) for e in events)):
        return "events must be a list of strings"
    for event in events or []:
        if event != "*" and not re.fullmatch(r"[a-z_]+", event):
            return f'"{event}" is not a valid event name'
    if "active" in body and not isinstance(body["active"], bool):
        return "active must be a boolean"
    return None


def _unprocessable(message: str) -> JSONResponse:
    return _error(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "Hook", "code": "custom", "message": message}],
        },
    )


def _github_handlers(state: State) -> list[Route]:
    def needed(request: Request, write: bool) -> set[str]:
        if "org" in request.path_params:
            return GITHUB_ORG_SCOPES
        return GITHUB_WRITE_SCOPES if write else GITHUB_READ_SCOPES

    async def hooks(request: Request) -> Response:
        body = await _record(request, state)
        denied = _github_auth(request, state, needed(request, request.method != "GET"))
        if denied is not None:
            return denied
        found, hooks_path, is_org = _github_scope(request, state)
        if found is None:
            return _error(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS, "status": "404"})
        base = _base(request)
        if request.method == "GET":
            per_page = min(int(request.query_params.get("per_page", 30)), 100)
            page = int(request.query_params.get("page", 1))
            ordered = sorted(found.values(), key=lambda h: h["id"])
            chunk = ordered[(page - 1) * per_page : page * per_page]
            headers = {}
            last = max(1, -(-len(ordered) // per_page))
            if page < last:
                # GitHub links a repository's pages by its numeric id, not its name.
                if is_org:
                    link_path = hooks_path
                else:
                    repo = hooks_path.removeprefix("/repos/").removesuffix("/hooks")
                    link_path = f"/repositories/{state.repo_ids[repo]}/hooks"
                headers["Link"] = (
                    f'<{base}{link_path}?per_page={per_page}&page={page + 1}>; rel="next", '
                    f'<{base}{link_path}?per_page={per_page}&page={last}>; rel="last"'
                )
            return JSONResponse([_github_view(h, base, hooks_path) for h in chunk], headers=headers)
        problem = _github_validate(body, GITHUB_HOOK_FIELDS, creating=True)
        if problem:
            return _unprocessable(problem)
        if any(h["config"]["url"] == body["config"]["url"] for h in found.values()):
            return _unprocessable(
                "Hook already exists on this " + ("organization" if is_org else "repository")
            )
        hook_id = next(state.ids)
        found[hook_id] = {
            "id": hook_id,
            "config": dict(body["config"]),
            "events": body.get("events", ["push"]),
            "active": body.get("active", True),
        }
        state.deliveries.setdefault(hook_id, [])
        view = _github_view(found[hook_id], base, hooks_path)
        return JSONResponse(view, status_code=201, headers={"Location": view["url"]})

    async def hook(request: Request) -> Response:
        body = await _record(request, state)
        denied = _github_auth(request, state, needed(request, request.method != "GET"))
        if denied is not None:
            return denied
        found, hooks_path, is_org = _github_scope(request, state)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return _error(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS, "status": "404"})
        base = _base(request)
        if request.method == "DELETE":
            del found[hook_id]
            return Response(status_code=204)
        if request.method == "GET":
            return JSONResponse(_github_view(found[hook_id], base, hooks_path))
        problem = _github_validate(
            body, GITHUB_ORG_PATCH_FIELDS if is_org else GITHUB_PATCH_FIELDS, creating=False
        )
        if problem:
            return _unprocessable(problem)
        current = found[hook_id]
        if "config" in body:
            current["config"] = dict(body["config"])
        if "events" in body:
            current["events"] = body["events"]
        if "active" in body:
            current["active"] = body["active"]
        return JSONResponse(_github_view(current, base, hooks_path))

    async def pings(request: Request) -> Response:
        await _record(request, state)
        denied = _github_auth(request, state, needed(request, True))
        if denied is not None:
            return denied
        found, _, _ = _github_scope(request, state)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return _error(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
        state.pings.append(hook_id)
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        await _record(request, state)
        denied = _github_auth(request, state, needed(request, False))
        if denied is not None:
            return denied
        found, hooks_path, _ = _github_scope(request, state)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return _error(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
        per_page = min(int(request.query_params.get("per_page", 30)), 100)
        items = state.deliveries.get(hook_id, [])
        cursor = request.query_params.get("cursor")
        start = 0
        if cursor:
            start = next((i for i, d in enumerate(items) if f"v1_{d['id']}" == cursor), len(items))
        chunk = items[start : start + per_page]
        headers = {}
        if start + per_page < len(items):
            base = _base(request)
            nxt = items[start + per_page]["id"]
            headers["Link"] = (
                f'<{base}{hooks_path}/{hook_id}/deliveries?per_page={per_page}&cursor=v1_{nxt}>; rel="next"'
            )
        return JSONResponse(chunk, headers=headers)

    async def attempts(request: Request) -> Response:
        await _record(request, state)
        denied = _github_auth(request, state, needed(request, True))
        if denied is not None:
            return denied
        hook_id = request.path_params["hook_id"]
        items = state.deliveries.get(hook_id, [])
        original = next((d for d in items if d["id"] == request.path_params["delivery_id"]), None)
        if original is None:
            return _error(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
        state.redelivered.append(original["id"])
        items.insert(
            0,
            {
                **original,
                "id": next(state.ids),
                "redelivery": True,
                "status": "OK",
                "status_code": 202,
                "delivered_at": "2026-11-25T18:00:00Z",
            },
        )
        return JSONResponse({}, status_code=202)

    routes = []
    for prefix in ("/repos/{owner}/{repo}/hooks", "/orgs/{org}/hooks", "/repositories/{repo_id:int}/hooks"):
        routes += [
            Route(prefix, hooks, methods=["GET", "POST"]),
            Route(prefix + "/{hook_id:int}", hook, methods=["GET", "PATCH", "DELETE"]),
            Route(prefix + "/{hook_id:int}/pings", pings, methods=["POST"]),
            Route(prefix + "/{hook_id:int}/deliveries", deliveries, methods=["GET"]),
            Route(
                prefix + "/{hook_id:int}/deliveries/{delivery_id:int}/attempts", attempts, methods=["POST"]
            ),
        ]
    return routes


def github_delivery(
    delivery_id: int, guid: str, status_code: int, *, event: str = "pull_request", redelivery: bool = False
) -> dict[str, Any]:
    return {
        "id": delivery_id,
        "guid": guid,
        "delivered_at": f"2026-11-25T10:{delivery_id % 60:02d}:00Z",
        "redelivery": redelivery,
        "duration": 0.03,
        "status": "OK" if status_code < 300 else ("failed to connect" if status_code == 0 else "Bad Gateway"),
        "status_code": status_code,
        "event": event,
        "action": "closed",
        "installation_id": None,
        "repository_id": 1,
        "throttled_at": None,
    }


# ---------------------------------------------------------------- GitLab


def _gitlab_handlers(state: State) -> list[Route]:
    def auth(request: Request, write: bool) -> Response | None:
        token = request.headers.get("private-token")
        if token not in state.gitlab_tokens:
            return _error(401, {"message": "401 Unauthorized"})
        limited = _rate_limit(state, "gitlab")
        if limited is not None:
            return limited
        scopes = state.gitlab_tokens[token]
        if "api" not in scopes and (write or "read_api" not in scopes):
            return _error(
                403,
                {
                    "error": "insufficient_scope",
                    "error_description": (
                        "The request requires higher privileges than provided by the access token."
                    ),
                    "scope": "api read_api" if not write else "api",
                },
                {"WWW-Authenticate": 'Bearer realm="", error="insufficient_scope", scope="api"'},
            )
        return None

    def scope(request: Request) -> tuple[dict[int, dict[str, Any]] | None, str]:
        # The id must arrive URL-encoded (acme%2Fapi): check the raw path, as GitLab's router does.
        raw = request.scope["raw_path"].decode()
        kind = "projects" if raw.startswith(request.scope.get("root_path", "") + "/projects/") else "groups"
        ident = raw.removeprefix(request.scope.get("root_path", "")).split("/")[2]
        if "/" in unquote(ident) and "%2F" not in ident.upper():
            return None, kind
        ident = unquote(ident)
        table = state.gitlab_projects if kind == "projects" else state.gitlab_groups
        return table.get(ident), kind

    def not_found(kind: str) -> JSONResponse:
        return _error(404, {"message": f"404 {'Project' if kind == 'projects' else 'Group'} Not Found"})

    def view(hook: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in hook.items() if k not in ("token", "signing_token")}
        shown["token_present"] = bool(hook.get("token"))
        shown["signing_token_present"] = bool(hook.get("signing_token"))
        return shown

    def validate(body: Any, creating: bool) -> Response | None:
        if not isinstance(body, dict):
            return _error(400, {"error": "body must be JSON"})
        extra = set(body) - GITLAB_FIELDS
        if extra:
            return _error(400, {"error": f"{sorted(extra)[0]} does not have a valid value"})
        if creating and not body.get("url"):
            return _error(400, {"error": "url is missing"})
        for flag in GITLAB_FLAGS:
            if flag in body and not isinstance(body[flag], bool):
                return _error(400, {"error": f"{flag} is invalid"})
        signing = body.get("signing_token")
        if signing is not None and not str(signing).startswith("whsec_"):
            return _error(400, {"message": {"signing_token": ["must be in whsec_<base64> format"]}})
        return None

    async def hooks(request: Request) -> Response:
        body = await _record(request, state)
        denied = auth(request, request.method != "GET")
        if denied is not None:
            return denied
        found, kind = scope(request)
        if found is None:
            return not_found(kind)
        if request.method == "GET":
            per_page = min(int(request.query_params.get("per_page", 20)), 100)
            page = int(request.query_params.get("page", 1))
            ordered = sorted(found.values(), key=lambda h: h["id"])
            chunk = ordered[(page - 1) * per_page : page * per_page]
            total_pages = max(1, -(-len(ordered) // per_page))
            headers = {
                "X-Page": str(page),
                "X-Per-Page": str(per_page),
                "X-Total": str(len(ordered)),
                "X-Total-Pages": str(total_pages),
                "X-Next-Page": str(page + 1) if page < total_pages else "",
                "X-Prev-Page": str(page - 1) if page > 1 else "",
            }
            if state.gitlab_link_header and page < total_pages:
                # GitLab's links keep the project id URL-encoded, as it was requested.
                raw_path = request.scope["raw_path"].decode()
                query = request.url.include_query_params(page=page + 1).query
                headers["Link"] = (
                    f'<{request.url.scheme}://{request.url.netloc}{raw_path}?{query}>; rel="next"'
                )
            return JSONResponse([view(h) for h in chunk], headers=headers)
        problem = validate(body, creating=True)
        if problem is not None:
            return problem
        hook_id = next(state.ids)
        found[hook_id] = {
            "id": hook_id,
            "push_events": True,
            **{flag: False for flag in GITLAB_FLAGS if flag != "push_events"},
            "enable_ssl_verification": True,
            "alert_status": "executable",
            "created_at": "2026-11-25T17:00:00.000Z",
            **body,
        }
        return JSONResponse(view(found[hook_id]), status_code=201)

    async def hook(request: Request) -> Response:
        body = await _record(request, state)
        denied = auth(request, request.method != "GET")
        if denied is not None:
            return denied
        found, kind = scope(request)
        hook_id = request.path_params["hook_id"]
        if found is None:
            return not_found(kind)
        if hook_id not in found:
            return _error(404, {"message": "404 Not found"})
        if request.method == "GET":
            return JSONResponse(view(found[hook_id]))
        if request.method == "DELETE":
            del found[hook_id]
            return Response(status_code=204)
        problem = validate(body, creating=False)
        if problem is not None:
            return problem
        found[hook_id].update(body)
        return JSONResponse(view(found[hook_id]))

    async def test(request: Request) -> Response:
        await _record(request, state)
        denied = auth(request, True)
        if denied is not None:
            return denied
        found, kind = scope(request)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return not_found(kind)
        trigger = request.path_params["trigger"]
        if trigger not in GITLAB_TEST_TRIGGERS:
            return _error(400, {"error": "trigger does not have a valid value"})
        state.gitlab_tests.append((hook_id, trigger))
        return JSONResponse({"message": "201 Created"}, status_code=201)

    routes = []
    for kind in ("projects", "groups"):
        routes += [
            Route(f"/{kind}/{{ident:path}}/hooks", hooks, methods=["GET", "POST"]),
            Route(f"/{kind}/{{ident:path}}/hooks/{{hook_id:int}}", hook, methods=["GET", "PUT", "DELETE"]),
            Route(f"/{kind}/{{ident:path}}/hooks/{{hook_id:int}}/test/{{trigger}}", test, methods=["POST"]),
        ]
    return routes


# ---------------------------------------------------------------- CircleCI and Buildkite

CIRCLECI_EVENTS = {"workflow-completed", "job-completed"}


def _circleci_handlers(state: State) -> list[Route]:
    def auth(request: Request) -> Response | None:
        if request.headers.get("circle-token") not in state.circleci_tokens:
            return _error(401, {"message": "You must log in first."})
        return None

    async def project(request: Request) -> Response:
        await _record(request, state)
        denied = auth(request)
        if denied is not None:
            return denied
        slug = request.path_params["slug"]
        if slug not in state.circleci_projects:
            return _error(404, {"message": "Project not found"})
        return JSONResponse({"id": state.circleci_projects[slug], "slug": slug, "name": slug.split("/")[-1]})

    def validate(body: Any, creating: bool) -> Response | None:
        allowed = {"name", "url", "events", "verify-tls", "signing-secret"} | (
            {"scope"} if creating else set()
        )
        if not isinstance(body, dict) or set(body) - allowed:
            return _error(400, {"message": f"unexpected field(s): {sorted(set(body or {}) - allowed)}"})
        required = allowed if creating else set()
        if required - set(body):
            return _error(400, {"message": f"missing field(s): {sorted(required - set(body))}"})
        if "events" in body and not set(body["events"]) <= CIRCLECI_EVENTS:
            return _error(400, {"message": "events must be workflow-completed or job-completed"})
        if creating and (
            body["scope"].get("type") != "project"
            or body["scope"]["id"] not in state.circleci_projects.values()
        ):
            return _error(400, {"message": "invalid scope"})
        return None

    async def webhooks(request: Request) -> Response:
        body = await _record(request, state)
        denied = auth(request)
        if denied is not None:
            return denied
        if request.method == "GET":
            scope_id = request.query_params.get("scope-id")
            if request.query_params.get("scope-type") != "project" or not scope_id:
                return _error(400, {"message": "scope-id and scope-type=project are required"})
            items = [h for h in state.circleci_hooks.values() if h["scope"]["id"] == scope_id]
            return JSONResponse({"items": items, "next_page_token": None})
        problem = validate(body, creating=True)
        if problem is not None:
            return problem
        hook_id = str(uuid.uuid4())
        state.circleci_hooks[hook_id] = {"id": hook_id, **body, "created-at": "2026-11-25T17:00:00Z"}
        return JSONResponse(state.circleci_hooks[hook_id], status_code=201)

    async def webhook(request: Request) -> Response:
        body = await _record(request, state)
        denied = auth(request)
        if denied is not None:
            return denied
        hook_id = request.path_params["hook_id"]
        if hook_id not in state.circleci_hooks:
            return _error(404, {"message": "Webhook not found"})
        if request.method == "DELETE":
            del state.circleci_hooks[hook_id]
            return JSONResponse({"message": "ok"})
        problem = validate(body, creating=False)
        if problem is not None:
            return problem
        state.circleci_hooks[hook_id].update(body)
        return JSONResponse(state.circleci_hooks[hook_id])

    return [
        Route("/project/{slug:path}", project, methods=["GET"]),
        Route("/webhook", webhooks, methods=["GET", "POST"]),
        Route("/webhook/{hook_id}", webhook, methods=["PUT", "DELETE"]),
    ]


def _buildkite_handlers(state: State) -> list[Route]:
    async def services(request: Request) -> Response:
        await _record(request, state)
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in state.buildkite_tokens or not auth.startswith("Bearer "):
            return _error(401, {"message": "Authentication required. Please supply a valid API Access Token"})
        org = request.path_params["org"]
        if org not in state.buildkite_services:
            return _error(404, {"message": "No organization found"})
        return JSONResponse(state.buildkite_services[org])

    return [Route("/organizations/{org}/notification-services", services, methods=["GET"])]


def build_app(state: State) -> Starlette:
    github_routes = _github_handlers(state)
    return Starlette(
        routes=[
            Mount("/api/v3", routes=github_routes),  # GitHub Enterprise Server
            Mount("/api/v4", routes=_gitlab_handlers(state)),
            Mount("/api/v2", routes=_circleci_handlers(state)),
            Mount("/v2", routes=_buildkite_handlers(state)),
            *github_routes,  # api.github.com serves from the root
        ]
    )


class FakeProviders:
    """The fake APIs under uvicorn in a thread on 127.0.0.1; `url` is its root."""

    def __init__(self) -> None:
        self.state = State()
        config = uvicorn.Config(build_app(self.state), host="127.0.0.1", port=0, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def start(self) -> FakeProviders:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not (self.server.started and self.server.servers):
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the fake provider API did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
