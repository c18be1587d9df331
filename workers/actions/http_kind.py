"""The `http` action kind: render an action's request from its templates, describe it, send it."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from workers.actions.http import Attempt, OutgoingRequest, described_request, mask_value, send
from workers.actions.templating import OMIT, render_string, render_value

if TYPE_CHECKING:
    from workers.rules.schema import Action
    from workers.runtime import WorkerContext


def _text(value: Any) -> str:
    return "" if value is None or value is OMIT else str(value)


def render(action: Action, context: dict[str, Any]) -> OutgoingRequest:
    """The exact request an action sends for this context (RenderError when a template fails)."""
    spec = action.http
    assert spec is not None
    if action.with_ is not None:
        context = {**context, "params": render_value(action.with_, context), "omit": OMIT}
    headers = {str(k): _text(v) for k, v in render_value(spec.headers, context).items()}
    if spec.auth is not None and spec.auth.bearer is not None:
        headers["Authorization"] = f"Bearer {_text(render_string(spec.auth.bearer, context))}"
    elif spec.auth is not None and spec.auth.basic is not None:
        user = _text(render_string(spec.auth.basic.username, context))
        password = _text(render_string(spec.auth.basic.password, context))
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    return OutgoingRequest(
        method=spec.method,
        url=_text(render_string(spec.url, context)),
        headers=headers,
        params=render_value(spec.query, context),
        json=render_value(spec.json_body, context),
        form=render_value(spec.form, context),
        content=None if spec.body is None else _text(render_string(spec.body, context)),
        follow_redirects=spec.follow_redirects,
    )


def describe(request: OutgoingRequest, secrets: set[str]) -> dict[str, Any]:
    """The request as `rules test` shows it: method, URL, headers and body, secrets masked."""
    described = described_request(request, secrets)
    if request.json is not None or request.form is not None:
        described.pop("body", None)  # shown below as json / form, not as its encoded bytes
    if request.json is not None:
        described["json"] = mask_value(request.json, secrets)
    if request.form is not None:
        described["form"] = mask_value(request.form, secrets)
    if request.content is not None:
        described["body"] = mask_value(request.content, secrets)
    return described


def perform(
    ctx: WorkerContext,
    request: OutgoingRequest,
    *,
    number: int,
    timeout: float | None,
    idempotency_key: str,
    secrets: set[str],
) -> Attempt:
    return send(
        ctx.http,
        request,
        number=number,
        timeout=timeout,
        allowed=ctx.allowed,
        idempotency_key=idempotency_key,
        secrets=secrets,
        resolver=ctx.resolver,
    )
