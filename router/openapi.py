"""The OpenAPI 3.1 description of hookchain's HTTP API, served at /api/openapi.json."""

from __future__ import annotations

from typing import Any

_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _admin(summary: str, ok: str, ok_status: str = "200", **extra: Any) -> dict[str, Any]:
    responses: dict[str, Any] = {
        ok_status: {"description": "OK", "content": _json(ok)},
        "401": {"description": "missing or wrong admin token", "content": _ERROR},
        "403": {"description": "no admin token is configured (HOOKCHAIN_ADMIN_TOKEN)", "content": _ERROR},
        "503": {"description": "Redis unavailable", "content": _ERROR},
    }
    responses.update(extra.pop("responses", {}))
    return {"summary": summary, "security": [{"adminToken": []}], "responses": responses, **extra}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema or {"type": "string"},
    }


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_TIME = {
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "pattern": "^[0-9]{1,12}(\\.[0-9]{1,6})?$"},
        {"type": "string", "maxLength": 0, "description": "empty: not given"},
    ]
}
_NOT_FOUND = {"404": {"description": "not in the log", "content": _ERROR}}
_STATUS = {"type": "string", "enum": ["pending", "ignored", "running", "succeeded", "failed", "stopped"]}

OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "hookchain",
        "version": "0.1.0",
        "description": "Verified webhooks in, reaction rules, chained API calls out. The /api endpoints "
        "read and act on the event log; they need `Authorization: Bearer $HOOKCHAIN_ADMIN_TOKEN`.",
    },
    "paths": {
        "/hooks/{source}": {
            "post": {
                "summary": "Receive a provider webhook (signature or token checked on the raw body)",
                "parameters": [_path("source")],
                "responses": {
                    "202": {"description": "accepted", "content": _json("Accepted")},
                    "200": {"description": "a redelivery already accepted, or a handshake answered"},
                    "400": {"description": "malformed body", "content": _ERROR},
                    "401": {"description": "missing or wrong signature or token", "content": _ERROR},
                    "404": {"description": "unknown or unconfigured source", "content": _ERROR},
                    "413": {"description": "body over the limit", "content": _ERROR},
                    "415": {"description": "unsupported content type", "content": _ERROR},
                    "503": {"description": "queue unavailable: nothing accepted", "content": _ERROR},
                },
            }
        },
        "/health": {
            "get": {
                "summary": "Process up and Redis reachable",
                "responses": {"200": {"description": "ok"}, "503": {"description": "Redis unreachable"}},
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (text exposition format)",
                "responses": {"200": {"description": "metrics", "content": {"text/plain": {}}}},
            }
        },
        "/api/events": {
            "get": _admin(
                "List events, newest first",
                "EventPage",
                parameters=[
                    _query("type", "event type; * ? [] globs work"),
                    _query("source", "e.g. github, rule:<name>"),
                    _query("subject", "e.g. acme/api#42 or acme/api@<sha>: every chain about it"),
                    _query("status", "the event's status", _STATUS),
                    _query("chain", "correlation id: every event of one chain"),
                    _query("since", "RFC 3339 time or epoch seconds (inclusive)", _TIME),
                    _query("until", "RFC 3339 time or epoch seconds (inclusive)", _TIME),
                    _query(
                        "limit",
                        "page size, 1-200 (default 50)",
                        {"type": "integer", "minimum": 1, "maximum": 200},
                    ),
                    _query(
                        "cursor",
                        "next_cursor of the previous page (a receipt time)",
                        {"type": "string", "pattern": "^([0-9]{1,12}(\\.[0-9]{1,6})?)?$"},
                    ),
                ],
                responses={"400": {"description": "a bad filter", "content": _ERROR}},
            )
        },
        "/api/events/{event_id}": {
            "get": _admin(
                "One event with its whole chain as a tree",
                "EventDetail",
                parameters=[_path("event_id")],
                responses=_NOT_FOUND,
            )
        },
        "/api/events/{event_id}/replay": {
            "post": _admin(
                "Queue the stored event again as a new event on the same chain",
                "Replayed",
                "202",
                parameters=[_path("event_id")],
                responses=_NOT_FOUND,
            )
        },
        "/api/dead-letters": {
            "get": _admin(
                "Actions that failed after all their attempts, newest first",
                "DeadLetters",
                parameters=[
                    _query(
                        "limit",
                        "at most this many (default 100)",
                        {"type": "integer", "minimum": 1, "maximum": 10000},
                    )
                ],
                responses={"400": {"description": "a bad limit", "content": _ERROR}},
            )
        },
        "/api/dead-letters/{letter_id}/retry": {
            "post": _admin(
                "Run the dead action once more (it leaves the dead letters)",
                "Retried",
                "202",
                parameters=[_path("letter_id")],
                responses={
                    "404": {"description": "no such dead letter (already retried?)", "content": _ERROR},
                    "409": {"description": "its event has expired", "content": _ERROR},
                },
            )
        },
        "/api/rules": {"get": _admin("The rules the workers run, with their last firing", "Rules")},
        "/api/status": {"get": _admin("Queue depths, workers, dead letters", "Status")},
        "/api/openapi.json": {
            "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
        },
        "/ui/": {
            "get": {
                "summary": "The dashboard (asks for the admin token, keeps it in sessionStorage)",
                "responses": {"200": {"description": "HTML"}},
            }
        },
    },
    "components": {
        "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "Accepted": {
                "type": "object",
                "properties": {"id": {"type": "string"}, "duplicate": {"type": "boolean"}},
            },
            "EventSummary": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string"},
                    "source": {"type": "string"},
                    "provider_type": {"type": "string"},
                    "time": {"type": "string", "format": "date-time"},
                    "received_at": {"type": "number", "description": "epoch seconds"},
                    "subject": {"type": ["string", "null"]},
                    "repo": {"type": ["string", "null"]},
                    "branch": {"type": ["string", "null"]},
                    "sha": {"type": ["string", "null"]},
                    "pr": {"type": ["integer", "null"]},
                    "actor": {"type": ["string", "null"]},
                    "correlation_id": {"type": "string"},
                    "causation_id": {"type": ["string", "null"]},
                    "depth": {"type": "integer"},
                    "status": _STATUS,
                    "replay_of": {"type": ["string", "null"]},
                    "rules_matched": {"type": "array", "items": {"type": "string"}},
                    "actions": {"type": "integer"},
                },
            },
            "EventPage": {
                "type": "object",
                "properties": {
                    "events": {"type": "array", "items": {"$ref": "#/components/schemas/EventSummary"}},
                    "next_cursor": {"type": ["string", "null"]},
                },
            },
            "Match": {
                "type": "object",
                "properties": {
                    "rule": {"type": "string"},
                    "matched": {"type": "boolean"},
                    "reason": {"type": ["string", "null"]},
                },
            },
            "Attempt": {
                "type": "object",
                "properties": {
                    "number": {"type": "integer"},
                    "started_at": {"type": "string"},
                    "request": {"type": "object", "description": "method, url, headers (secrets masked)"},
                    "status": {"type": ["integer", "null"]},
                    "headers": {"type": "object"},
                    "json": {},
                    "text": {"type": "string", "description": "response body, capped"},
                    "error": {"type": ["string", "null"]},
                    "duration_ms": {"type": "number"},
                    "retryable": {"type": "boolean"},
                    "retry_after": {"type": ["number", "null"]},
                },
            },
            "Action": {
                "type": "object",
                "properties": {
                    "key": {"type": "string", "description": "<rule>/<index>"},
                    "rule": {"type": "string"},
                    "action": {"type": "string"},
                    "status": {"type": "string", "enum": ["running", "retrying", "succeeded", "failed"]},
                    "attempts": {"type": "array", "items": {"$ref": "#/components/schemas/Attempt"}},
                    "outcome": {"type": "object", "description": "the data of the outcome event"},
                },
            },
            "ChainNode": {
                "allOf": [{"$ref": "#/components/schemas/EventSummary"}],
                "type": "object",
                "properties": {
                    "offset_ms": {"type": "number", "description": "since the chain's first event"},
                    "matches": {"type": "array", "items": {"$ref": "#/components/schemas/Match"}},
                    "actions": {
                        "type": "array",
                        "description": "each with `children`: the events it emitted",
                        "items": {"$ref": "#/components/schemas/Action"},
                    },
                    "children": {
                        "type": "array",
                        "description": "replays and chain.stopped",
                        "items": {"$ref": "#/components/schemas/ChainNode"},
                    },
                },
            },
            "EventDetail": {
                "allOf": [{"$ref": "#/components/schemas/EventSummary"}],
                "type": "object",
                "properties": {
                    "event": {"type": "object", "description": "the whole envelope, data included"},
                    "matches": {"type": "array", "items": {"$ref": "#/components/schemas/Match"}},
                    "actions": {"type": "array", "items": {"$ref": "#/components/schemas/Action"}},
                    "parent": {"oneOf": [{"$ref": "#/components/schemas/EventSummary"}, {"type": "null"}]},
                    "children": {"type": "array", "items": {"$ref": "#/components/schemas/EventSummary"}},
                    "chain": {
                        "type": "object",
                        "properties": {
                            "correlation_id": {"type": "string"},
                            "size": {"type": "integer"},
                            "roots": {"type": "array", "items": {"$ref": "#/components/schemas/ChainNode"}},
                        },
                    },
                    "related": {
                        "type": "array",
                        "description": "same subject, other chains",
                        "items": {"$ref": "#/components/schemas/EventSummary"},
                    },
                },
            },
            "Replayed": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "replay_of": {"type": "string"},
                    "correlation_id": {"type": "string"},
                },
            },
            "DeadLetter": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "event_id": {"type": "string"},
                    "rule": {"type": "string"},
                    "action": {"type": "string"},
                    "index": {"type": "integer"},
                    "error": {"type": ["string", "null"]},
                    "time": {"type": "string"},
                    "correlation_id": {"type": "string"},
                },
            },
            "DeadLetters": {
                "type": "object",
                "properties": {
                    "dead_letters": {"type": "array", "items": {"$ref": "#/components/schemas/DeadLetter"}}
                },
            },
            "Retried": {
                "allOf": [{"$ref": "#/components/schemas/DeadLetter"}],
                "type": "object",
                "properties": {"queued": {"type": "string", "description": "the job id"}},
            },
            "Rules": {
                "type": "object",
                "properties": {
                    "rules": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "on": {"type": "array", "items": {"type": "string"}},
                                "loaded": {
                                    "type": "boolean",
                                    "description": "false: fired once, no longer loaded",
                                },
                                "actions": {"type": "array", "items": {"type": "object"}},
                                "last_fired": {
                                    "type": ["object", "null"],
                                    "description": "time, event_id, correlation_id, action, status",
                                },
                            },
                        },
                    }
                },
            },
            "Status": {
                "type": "object",
                "properties": {
                    "queues": {
                        "type": "object",
                        "description": "per queue: queued, scheduled, started, failed",
                    },
                    "workers": {"type": "array", "items": {"type": "object"}},
                    "dead_letters": {"type": "integer"},
                    "events": {"type": "integer", "description": "events in the log"},
                    "time": {"type": "string"},
                },
            },
        },
    },
}
