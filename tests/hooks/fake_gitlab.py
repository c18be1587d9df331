"""A fake GitLab v4: project and group hooks, test triggers, offset pagination."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.hooks.fake_state import State, error_response, rate_limit_answer, record

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


def gitlab_handlers(state: State) -> list[Route]:
    def auth(request: Request, write: bool) -> Response | None:
        token = request.headers.get("private-token")
        if token not in state.gitlab_tokens:
            return error_response(401, {"message": "401 Unauthorized"})
        limited = rate_limit_answer(state, "gitlab")
        if limited is not None:
            return limited
        scopes = state.gitlab_tokens[token]
        if "api" not in scopes and (write or "read_api" not in scopes):
            return error_response(
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
        return error_response(
            404, {"message": f"404 {'Project' if kind == 'projects' else 'Group'} Not Found"}
        )

    def view(hook: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in hook.items() if k not in ("token", "signing_token")}
        shown["token_present"] = bool(hook.get("token"))
        shown["signing_token_present"] = bool(hook.get("signing_token"))
        return shown

    def validate(body: Any, creating: bool) -> Response | None:
        if not isinstance(body, dict):
            return error_response(400, {"error": "body must be JSON"})
        extra = set(body) - GITLAB_FIELDS
        if extra:
            return error_response(400, {"error": f"{sorted(extra)[0]} does not have a valid value"})
        if creating and not body.get("url"):
            return error_response(400, {"error": "url is missing"})
        for flag in GITLAB_FLAGS:
            if flag in body and not isinstance(body[flag], bool):
                return error_response(400, {"error": f"{flag} is invalid"})
        signing = body.get("signing_token")
        if signing is not None and not str(signing).startswith("whsec_"):
            return error_response(400, {"message": {"signing_token": ["must be in whsec_<base64> format"]}})
        return None

    async def hooks(request: Request) -> Response:
        body = await record(request, state)
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
        body = await record(request, state)
        denied = auth(request, request.method != "GET")
        if denied is not None:
            return denied
        found, kind = scope(request)
        hook_id = request.path_params["hook_id"]
        if found is None:
            return not_found(kind)
        if hook_id not in found:
            return error_response(404, {"message": "404 Not found"})
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
        await record(request, state)
        denied = auth(request, True)
        if denied is not None:
            return denied
        found, kind = scope(request)
        hook_id = request.path_params["hook_id"]
        if found is None or hook_id not in found:
            return not_found(kind)
        trigger = request.path_params["trigger"]
        if trigger not in GITLAB_TEST_TRIGGERS:
            return error_response(400, {"error": "trigger does not have a valid value"})
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
