"""/mcp on the web app: the admin token is checked before the MCP server sees a byte."""

from __future__ import annotations

import fakeredis
from starlette.testclient import TestClient

from agents.http import mount_mcp
from router.app import create_app
from router.settings import Settings

LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
ACCEPT = {"Accept": "application/json, text/event-stream"}


def app_with(token: str | None) -> TestClient:
    settings = Settings.load({"redis_url": "redis://unused", "admin_token": token}, environ={})
    app = create_app(settings, redis_client=fakeredis.FakeAsyncRedis())
    mount_mcp(app, settings)
    return TestClient(app)


def test_without_a_configured_token_mcp_is_off():
    with app_with(None) as client:
        answer = client.post("/mcp", json=LIST_TOOLS, headers={**ACCEPT, "Authorization": "Bearer x"})
    assert answer.status_code == 404
    assert "HOOKCHAIN_ADMIN_TOKEN" in answer.json()["error"]


def test_a_wrong_or_missing_token_is_401_and_the_right_one_lists_the_tools():
    with app_with("s3cret") as client:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic s3cret"}):
            answer = client.post("/mcp", json=LIST_TOOLS, headers={**ACCEPT, **headers})
            assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
        answer = client.post("/mcp", json=LIST_TOOLS, headers={**ACCEPT, "Authorization": "Bearer s3cret"})
    assert answer.status_code == 200, answer.text
    assert "emit_event" in answer.text
