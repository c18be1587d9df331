"""A fake GitHub REST v3: repository and organisation webhooks, pings, deliveries, redelivery."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.hooks.fake_state import GITHUB_DOCS, State, api_base, error_response, rate_limit_answer, record

GITHUB_READ_SCOPES = {"read:repo_hook", "write:repo_hook", "admin:repo_hook", "repo"}
GITHUB_WRITE_SCOPES = {"write:repo_hook", "admin:repo_hook", "repo"}
GITHUB_ORG_SCOPES = {"admin:org_hook"}

GITHUB_HOOK_FIELDS = {"name", "config", "events", "active"}
GITHUB_PATCH_FIELDS = {"config", "events", "add_events", "remove_events", "active"}
GITHUB_ORG_PATCH_FIELDS = {"config", "events", "active", "name"}
GITHUB_CONFIG_FIELDS = {"url", "content_type", "secret", "insecure_ssl"}


def _github_auth(request: Request, state: State, needed: set[str]) -> Response | None:
    if request.headers.get("accept") != "application/vnd.github+json":
        return error_response(415, {"message": "Accept must be application/vnd.github+json"})
    if request.headers.get("x-github-api-version") != "2022-11-28":
        return error_response(400, {"message": "Unsupported or missing X-GitHub-Api-Version"})
    auth = request.headers.get("authorization", "")
    token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else None
    if token not in state.github_tokens:
        return error_response(
            401, {"message": "Bad credentials", "documentation_url": GITHUB_DOCS, "status": "401"}
        )
    limited = rate_limit_answer(state, "github")
    if limited is not None:
        return limited
    scopes = state.github_tokens[token]
    if not scopes & needed:
        return error_response(
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
    return error_response(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "Hook", "code": "custom", "message": message}],
        },
    )


def github_handlers(state: State) -> list[Route]:
    def needed(request: Request, write: bool) -> set[str]:
        if "org" in request.path_params:
            return GITHUB_ORG_SCOPES
        return GITHUB_WRITE_SCOPES if write else GITHUB_READ_SCOPES

    async def hooks(request: Request) -> Response:
        body = await record(request, state)
        denied = _github_auth(request, state, needed(request, request.method != "GET"))
        if denied is not None:
            return denied
        found, hooks_path, is_org = _github_scope(request, state)
        if found is None:
            return error_response(
                404, {"message": "Not Found", "documentation_url": GITHUB_DOCS, "status": "404"}
            )
        base = api_base(request)
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
        body = await record(request, state)
        denied = _github_auth(request, state, needed(request, request.method != "GET"))
        if denied is not None:
            return denied
        found, hooks_path, is_org = _github_scope(request, state)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return error_response(
                404, {"message": "Not Found", "documentation_url": GITHUB_DOCS, "status": "404"}
            )
        base = api_base(request)
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
        await record(request, state)
        denied = _github_auth(request, state, needed(request, True))
        if denied is not None:
            return denied
        found, _, _ = _github_scope(request, state)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return error_response(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
        state.pings.append(hook_id)
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        await record(request, state)
        denied = _github_auth(request, state, needed(request, False))
        if denied is not None:
            return denied
        found, hooks_path, _ = _github_scope(request, state)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return error_response(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
        per_page = min(int(request.query_params.get("per_page", 30)), 100)
        items = state.deliveries.get(hook_id, [])
        cursor = request.query_params.get("cursor")
        start = 0
        if cursor:
            start = next((i for i, d in enumerate(items) if f"v1_{d['id']}" == cursor), len(items))
        chunk = items[start : start + per_page]
        headers = {}
        if start + per_page < len(items):
            base = api_base(request)
            nxt = items[start + per_page]["id"]
            headers["Link"] = (
                f'<{base}{hooks_path}/{hook_id}/deliveries?per_page={per_page}&cursor=v1_{nxt}>; rel="next"'
            )
        return JSONResponse(chunk, headers=headers)

    async def attempts(request: Request) -> Response:
        await record(request, state)
        denied = _github_auth(request, state, needed(request, True))
        if denied is not None:
            return denied
        hook_id = request.path_params["hook_id"]
        items = state.deliveries.get(hook_id, [])
        original = next((d for d in items if d["id"] == request.path_params["delivery_id"]), None)
        if original is None:
            return error_response(404, {"message": "Not Found", "documentation_url": GITHUB_DOCS})
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
