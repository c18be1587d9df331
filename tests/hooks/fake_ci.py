"""A fake CircleCI v2 (project webhooks) and Buildkite v2 (notification services)."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.hooks.fake_state import State, error_response, record

CIRCLECI_EVENTS = {"workflow-completed", "job-completed"}


def circleci_handlers(state: State) -> list[Route]:
    def auth(request: Request) -> Response | None:
        if request.headers.get("circle-token") not in state.circleci_tokens:
            return error_response(401, {"message": "You must log in first."})
        return None

    async def project(request: Request) -> Response:
        await record(request, state)
        denied = auth(request)
        if denied is not None:
            return denied
        slug = request.path_params["slug"]
        if slug not in state.circleci_projects:
            return error_response(404, {"message": "Project not found"})
        return JSONResponse({"id": state.circleci_projects[slug], "slug": slug, "name": slug.split("/")[-1]})

    def validate(body: Any, creating: bool) -> Response | None:
        allowed = {"name", "url", "events", "verify-tls", "signing-secret"} | (
            {"scope"} if creating else set()
        )
        if not isinstance(body, dict) or set(body) - allowed:
            return error_response(
                400, {"message": f"unexpected field(s): {sorted(set(body or {}) - allowed)}"}
            )
        required = allowed if creating else set()
        if required - set(body):
            return error_response(400, {"message": f"missing field(s): {sorted(required - set(body))}"})
        if "events" in body and not set(body["events"]) <= CIRCLECI_EVENTS:
            return error_response(400, {"message": "events must be workflow-completed or job-completed"})
        if creating and (
            body["scope"].get("type") != "project"
            or body["scope"]["id"] not in state.circleci_projects.values()
        ):
            return error_response(400, {"message": "invalid scope"})
        return None

    async def webhooks(request: Request) -> Response:
        body = await record(request, state)
        denied = auth(request)
        if denied is not None:
            return denied
        if request.method == "GET":
            scope_id = request.query_params.get("scope-id")
            if request.query_params.get("scope-type") != "project" or not scope_id:
                return error_response(400, {"message": "scope-id and scope-type=project are required"})
            items = [h for h in state.circleci_hooks.values() if h["scope"]["id"] == scope_id]
            return JSONResponse({"items": items, "next_page_token": None})
        problem = validate(body, creating=True)
        if problem is not None:
            return problem
        hook_id = str(uuid.uuid4())
        state.circleci_hooks[hook_id] = {"id": hook_id, **body, "created-at": "2026-11-25T17:00:00Z"}
        return JSONResponse(state.circleci_hooks[hook_id], status_code=201)

    async def webhook(request: Request) -> Response:
        body = await record(request, state)
        denied = auth(request)
        if denied is not None:
            return denied
        hook_id = request.path_params["hook_id"]
        if hook_id not in state.circleci_hooks:
            return error_response(404, {"message": "Webhook not found"})
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


def buildkite_handlers(state: State) -> list[Route]:
    async def services(request: Request) -> Response:
        await record(request, state)
        auth = request.headers.get("authorization", "")
        if auth.removeprefix("Bearer ") not in state.buildkite_tokens or not auth.startswith("Bearer "):
            return error_response(
                401, {"message": "Authentication required. Please supply a valid API Access Token"}
            )
        org = request.path_params["org"]
        if org not in state.buildkite_services:
            return error_response(404, {"message": "No organization found"})
        return JSONResponse(state.buildkite_services[org])

    return [Route("/organizations/{org}/notification-services", services, methods=["GET"])]
